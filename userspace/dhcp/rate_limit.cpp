#include "dhcp/rate_limit.h"

#include <algorithm>

namespace pxed::dhcp {

void RateLimiter::configure(uint32_t per_second, uint32_t burst) {
    rate_ = per_second;
    burst_ = burst ? burst : per_second;
    buckets_.clear();
}

void RateLimiter::refill(Bucket& b, int64_t now_ms) const {
    if (now_ms > b.last_ms) {
        b.tokens = std::min<double>(burst_, b.tokens + double(now_ms - b.last_ms) * rate_ / 1000.0);
        b.last_ms = now_ms;
    }
}

void RateLimiter::make_room(int64_t now_ms) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
        refill(it->second, now_ms);
        it = it->second.tokens >= burst_ ? buckets_.erase(it) : std::next(it);
    }
    // Keep the scan amortized: unless it freed a quarter, start over.
    if (buckets_.size() > capacity_ - capacity_ / 4) buckets_.clear();
}

bool RateLimiter::allow(uint64_t key, int64_t now_ms) {
    if (!rate_) return true;
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
        if (buckets_.size() >= capacity_) make_room(now_ms);
        it = buckets_.emplace(key, Bucket{double(burst_), now_ms}).first;
    }
    Bucket& b = it->second;
    refill(b, now_ms);
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
}

}  // namespace pxed::dhcp
