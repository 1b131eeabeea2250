#pragma once
// Token buckets keyed by a 64-bit key (a client's MAC, a relay's address):
// the daemon's per-client and per-relay request limits. Pure: time is a
// parameter. Memory is bounded: at capacity, idle buckets (full again) are
// forgotten; if that frees less than a quarter, the table starts over, which
// fails open (a flood of distinct keys cannot make pxed remember more).
#include <cstddef>
#include <cstdint>
#include <unordered_map>

namespace pxed::dhcp {

class RateLimiter {
public:
    // `per_second` 0 disables the limit.
    RateLimiter(uint32_t per_second, uint32_t burst, size_t capacity = 65536)
        : rate_(per_second), burst_(burst ? burst : per_second), capacity_(capacity ? capacity : 1) {}

    void configure(uint32_t per_second, uint32_t burst);
    bool enabled() const { return rate_ != 0; }

    // Takes one token from `key`'s bucket at `now_ms` (a monotonic clock);
    // false when the bucket is empty.
    bool allow(uint64_t key, int64_t now_ms);
    size_t size() const { return buckets_.size(); }

private:
    struct Bucket {
        double tokens;
        int64_t last_ms;
    };
    void refill(Bucket& b, int64_t now_ms) const;
    void make_room(int64_t now_ms);

    uint32_t rate_;
    uint32_t burst_;
    size_t capacity_;
    std::unordered_map<uint64_t, Bucket> buckets_;
};

}  // namespace pxed::dhcp
