#include "lease/free_set.h"

#include <bit>

namespace pxed::lease {

FreeSet::FreeSet(uint32_t n, bool full) : n_(n) {
    size_t bits = n;
    do {
        size_t words = (bits + 63) / 64;
        levels_.emplace_back(words, 0);
        bits = words;
    } while (levels_.back().size() > 1);
    if (!full || n == 0) return;
    // Every word full below the top bit, the last one up to n; then each
    // summary level from the one below.
    bits = n;
    for (auto& level : levels_) {
        for (size_t w = 0; w < level.size(); w++) {
            size_t left = bits - w * 64;
            level[w] = left >= 64 ? ~uint64_t(0) : (uint64_t(1) << left) - 1;
        }
        bits = level.size();
    }
    count_ = n;
}

void FreeSet::insert(uint32_t i) {
    if (contains(i)) return;
    count_++;
    uint64_t idx = i;
    for (auto& level : levels_) {
        uint64_t& w = level[idx >> 6];
        bool was_zero = w == 0;
        w |= uint64_t(1) << (idx & 63);
        if (!was_zero) break;  // the summary above already has this word's bit
        idx >>= 6;
    }
}

void FreeSet::erase(uint32_t i) {
    if (!contains(i)) return;
    count_--;
    uint64_t idx = i;
    for (auto& level : levels_) {
        uint64_t& w = level[idx >> 6];
        w &= ~(uint64_t(1) << (idx & 63));
        if (w != 0) break;  // the word still has members: the summary stays
        idx >>= 6;
    }
}

std::optional<uint32_t> FreeSet::next(uint32_t from, uint64_t* steps) const {
    if (count_ == 0) return std::nullopt;
    if (from >= n_) from = 0;
    if (auto r = next_from(from, steps)) return r;
    return next_from(0, steps);
}

// Climbs while the rest of the current word is empty, then descends along
// the first set bits: at most two reads per level.
std::optional<uint32_t> FreeSet::next_from(uint32_t from, uint64_t* steps) const {
    uint64_t idx = from;
    size_t k = 0;
    for (;; k++) {
        if (steps) ++*steps;
        uint64_t w = levels_[k][idx >> 6] & (~uint64_t(0) << (idx & 63));
        if (w) {
            idx = (idx & ~uint64_t(63)) | uint64_t(std::countr_zero(w));
            break;
        }
        // Nothing left in this word: go on from the next word, which is a
        // bit of the level above (level k has as many words as level k+1 bits).
        idx = (idx >> 6) + 1;
        if (k + 1 == levels_.size() || idx >= levels_[k].size()) return std::nullopt;
    }
    while (k > 0) {
        k--;
        if (steps) ++*steps;
        uint64_t w = levels_[k][idx];
        idx = idx * 64 + uint64_t(std::countr_zero(w));
    }
    return uint32_t(idx);
}

}  // namespace pxed::lease
