#pragma once
// DHCPv6 leases (IA_NA addresses) and their in-memory table. Pure: time is
// a parameter. The table is what the DHCPv6 engine decides from; what must
// survive a crash goes to the LeaseStore with the v4 leases, in the same
// group commit (daemon/commit_pipeline.h).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "lease/lease.h"
#include "pxed/net.h"

namespace pxed::lease {

struct Lease6 {
    Ipv6 ip;
    std::vector<uint8_t> duid;  // the client's DUID (option 1)
    uint32_t iaid = 0;
    std::optional<Mac> mac;     // when the request showed one (option 79, DUID-LL/LLT, EUI-64)
    std::string hostname;
    int64_t start = 0;
    int64_t preferred_until = 0;
    int64_t expires = 0;  // end of the valid lifetime, seconds since the epoch
    State state = State::Offered;
    bool is_static = false;
    // The client's key in the table: DUID and IAID.
    std::string key() const;
    static std::string key_of(const std::vector<uint8_t>& duid, uint32_t iaid);
};

// A dynamic range of one /64 (the low 64 bits vary) and the addresses
// reserved in it, which the pool never picks.
struct Pool6 {
    Ipv6 first, last;
    const std::unordered_set<std::string>* reserved = nullptr;  // Ipv6 bytes as keys
};

class LeaseTable6 {
public:
    // Probes a pick makes at most before the pool counts as full: pools of
    // up to this size are searched whole, larger ones (a /64 range) from a
    // point set by the client's DUID and IAID, where a free address is
    // almost always near.
    static constexpr uint64_t kMaxProbes = 65536;

    const Lease6* by_ip(const Ipv6& ip) const;
    const Lease6* by_client(const std::string& key) const;
    // Free at `now` for client `key`: no lease, its own, expired, released,
    // or another client's offer that ran out. Declined addresses stay held
    // until their lease's end.
    bool is_free(const Ipv6& ip, const std::string& key, int64_t now) const;
    // The client's address in `pool` if it still holds one, else a free
    // one, starting at a hash of `key`. nullopt when none is found.
    std::optional<Ipv6> pick(const std::string& key, const Pool6& pool, int64_t now) const;

    // Inserts or replaces the lease on l.ip; drops the client's other lease
    // (one address per IA).
    void put(const Lease6& l);
    void erase(const Ipv6& ip);
    // Addresses whose lease changed since the last take_dirty().
    std::vector<Ipv6> take_dirty();
    void load(const Lease6& l);  // put() of a stored lease: not dirty
    size_t size() const { return by_ip_.size(); }
    const std::map<Ipv6, Lease6>& all() const { return by_ip_; }

private:
    std::map<Ipv6, Lease6> by_ip_;
    std::unordered_map<std::string, Ipv6> by_client_;
    std::vector<Ipv6> dirty_;
};

}  // namespace pxed::lease
