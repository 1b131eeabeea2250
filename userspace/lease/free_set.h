#pragma once
// A set of indexes in [0, n) that finds the next member at or after any
// index in a constant number of steps: a bitmap with one summary level per
// factor of 64 above it (a word of level k+1 has bit j set when word j of
// level k is not zero). 1,048,576 indexes take 4 levels and 131 KiB; the
// largest pool pxed accepts (2^24 addresses) 5 levels and 2.1 MiB.
// The address pools' free-address index (address_pool.h).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace pxed::lease {

class FreeSet {
public:
    // n indexes, all members (full) or none.
    explicit FreeSet(uint32_t n = 0, bool full = false);

    uint32_t capacity() const { return n_; }
    size_t count() const { return count_; }
    bool contains(uint32_t i) const { return (levels_[0][i >> 6] >> (i & 63)) & 1; }
    void insert(uint32_t i);
    void erase(uint32_t i);

    // The first member at or after `from`, wrapping round to 0; nullopt when
    // the set is empty. Adds the words it read to *steps (the unit tests
    // check that this does not grow with n).
    std::optional<uint32_t> next(uint32_t from, uint64_t* steps = nullptr) const;

private:
    std::optional<uint32_t> next_from(uint32_t from, uint64_t* steps) const;
    uint32_t n_ = 0;
    size_t count_ = 0;
    std::vector<std::vector<uint64_t>> levels_;  // [0]: one bit per index; the last has one word
};

}  // namespace pxed::lease
