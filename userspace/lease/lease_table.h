#pragma once
// Lease bookkeeping and address allocation. Pure: time is a parameter.
// This table is the in-memory state the engine decides from; what must
// survive a crash goes to a LeaseStore (lease_store.h) through the daemon's
// commit pipeline.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "pxed/net.h"

namespace pxed::lease {

enum class State : uint8_t { Offered, Bound, Released, Declined };
std::string_view to_string(State s);

// Client identity: option 61 when present, else htype + chaddr (as RFC 2132 9.14).
using ClientKey = std::string;

struct Lease {
    Ipv4 ip;
    Mac mac;
    ClientKey client;
    std::string hostname;
    std::vector<uint8_t> guid;  // option 97, client machine identifier
    int64_t start = 0;
    int64_t expires = 0;  // seconds since the epoch; INT64_MAX for infinite
    State state = State::Offered;
    bool is_static = false;
};

class LeaseTable {
public:
    const Lease* by_ip(Ipv4 ip) const;
    const Lease* by_client(const ClientKey& c) const;
    // A lease of `mac` that was taken with a client id (option 61), if any:
    // how a request without option 61 finds the lease its client took with
    // one (dnsmasq's rule). O(1): an index kept by put() and erase().
    const Lease* with_client_id_of(const Mac& mac) const;

    // An address is free at `now` when no lease holds it, or its lease
    // expired, or it was released. Declined addresses stay quarantined until
    // their expiry.
    bool is_free(Ipv4 ip, int64_t now) const;

    // The lease that keeps `owner` from using `ip` (its reserved address) at
    // `now`: another MAC's bound lease that has not ended, or a declined
    // address still held off. nullptr when the address is free for `owner`
    // (no lease, its own, released, expired, or only another client's offer,
    // which is a short hold that the reservation overrides).
    const Lease* held_against(Ipv4 ip, const Mac& owner, int64_t now) const;

    // Picks an address for `client` in [first, last], skipping `exclude`
    // (reserved addresses): its previous address when still free, else the
    // next free one, else the address of another client's oldest pending
    // offer. nullopt when every address is leased (or declined).
    std::optional<Ipv4> pick(const ClientKey& client, Ipv4 first, Ipv4 last, int64_t now,
                             const std::vector<Ipv4>& exclude);

    // Inserts or replaces the lease on l.ip; drops the client's other lease.
    void put(const Lease& l);
    void erase(Ipv4 ip);

    // Addresses whose lease changed since the last take_dirty(): the daemon
    // writes them to the LeaseStore before any reply about them leaves.
    std::vector<Ipv4> take_dirty();
    size_t size() const { return by_ip_.size(); }
    const std::map<Ipv4, Lease>& all() const { return by_ip_; }

private:
    std::map<Ipv4, Lease> by_ip_;
    std::unordered_map<ClientKey, Ipv4> by_client_;
    std::unordered_map<uint64_t, Ipv4> id_lease_by_mac_;  // leases whose client key is a client id
    void index(const Lease& l);
    void unindex(const Lease& l);
    std::vector<Ipv4> dirty_;
    uint32_t cursor_ = 0;
};

}  // namespace pxed::lease
