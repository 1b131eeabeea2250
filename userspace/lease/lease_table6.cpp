#include <functional>
#include <utility>

#include "lease/lease6.h"

namespace pxed::lease {

std::string Lease6::key_of(const std::vector<uint8_t>& duid, uint32_t iaid) {
    std::string k(duid.begin(), duid.end());
    k.push_back(char(iaid >> 24));
    k.push_back(char(iaid >> 16));
    k.push_back(char(iaid >> 8));
    k.push_back(char(iaid));
    return k;
}

std::string Lease6::key() const { return key_of(duid, iaid); }

const Lease6* LeaseTable6::by_ip(const Ipv6& ip) const {
    auto it = by_ip_.find(ip);
    return it == by_ip_.end() ? nullptr : &it->second;
}

const Lease6* LeaseTable6::by_client(const std::string& key) const {
    auto it = by_client_.find(key);
    return it == by_client_.end() ? nullptr : by_ip(it->second);
}

bool LeaseTable6::is_free(const Ipv6& ip, const std::string& key, int64_t now) const {
    auto* l = by_ip(ip);
    if (!l) return true;
    if (l->key() == key && l->state != State::Declined) return true;
    if (l->state == State::Released) return true;
    return l->expires <= now;
}

std::optional<Ipv6> LeaseTable6::pick(const std::string& key, const Pool6& pool, int64_t now) const {
    uint64_t lo = pool.first.low64(), hi = pool.last.low64();
    auto usable = [&](const Ipv6& a) {
        if (pool.reserved && pool.reserved->count(std::string(a.b.begin(), a.b.end()))) return false;
        return is_free(a, key, now);
    };
    if (auto* l = by_client(key); l && l->ip.high64() == pool.first.high64() && l->ip.low64() >= lo &&
                                  l->ip.low64() <= hi && usable(l->ip))
        return l->ip;
    uint64_t size = hi - lo;  // one less than the count (a whole /64 overflows otherwise)
    uint64_t start = size == UINT64_MAX ? std::hash<std::string>{}(key) : std::hash<std::string>{}(key) % (size + 1);
    uint64_t probes = size >= kMaxProbes ? kMaxProbes : size + 1;
    for (uint64_t i = 0; i < probes; i++) {
        uint64_t off = start + i;
        if (size != UINT64_MAX && off > size) off -= size + 1;
        Ipv6 a = pool.first.with_low64(lo + off);
        if (usable(a)) return a;
    }
    return std::nullopt;
}

void LeaseTable6::put(const Lease6& l) {
    auto k = l.key();
    if (auto it = by_client_.find(k); it != by_client_.end() && it->second != l.ip) {
        Ipv6 old = it->second;
        by_ip_.erase(old);
        dirty_.push_back(old);
    }
    if (auto it = by_ip_.find(l.ip); it != by_ip_.end()) {
        auto ok = it->second.key();
        if (ok != k) by_client_.erase(ok);
    }
    by_ip_[l.ip] = l;
    by_client_[k] = l.ip;
    dirty_.push_back(l.ip);
}

void LeaseTable6::load(const Lease6& l) {
    put(l);
    dirty_.clear();
}

void LeaseTable6::erase(const Ipv6& ip) {
    auto it = by_ip_.find(ip);
    if (it == by_ip_.end()) return;
    by_client_.erase(it->second.key());
    by_ip_.erase(it);
    dirty_.push_back(ip);
}

std::vector<Ipv6> LeaseTable6::take_dirty() { return std::exchange(dirty_, {}); }

}  // namespace pxed::lease
