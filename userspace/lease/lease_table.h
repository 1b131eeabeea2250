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

#include "lease/address_pool.h"
#include "lease/lease.h"
#include "pxed/net.h"

namespace pxed::lease {

// A dynamic range and the reserved addresses the allocator leaves out of it.
struct PoolSpec {
    Ipv4 first, last;
    std::vector<Ipv4> reserved;
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

    // The dynamic ranges, from the configuration: the pools pick() uses
    // (built from the leases already held; O(range + leases)).
    void set_pools(const std::vector<PoolSpec>& pools);

    // Picks an address for `client` in the pool [first, last]: its previous
    // address when still its own to take, else a free one (never leased or
    // released), else the lease that expired first, else the address of
    // another client's oldest pending offer. nullopt when every address is
    // leased (or declined). Reserved addresses are never picked. The work
    // does not depend on the pool's size or occupancy (address_pool.h).
    // A range set_pools() did not name gets a pool with no reservations.
    std::optional<Ipv4> pick(const ClientKey& client, Ipv4 first, Ipv4 last, int64_t now);
    // The allocator's work so far, summed over the pools (unit tests).
    uint64_t pick_steps() const;

    // Inserts or replaces the lease on l.ip; drops the client's other lease.
    void put(const Lease& l);
    // put() of every lease of a store at start-up, the pools built once at
    // the end rather than kept up to date lease by lease: put() between
    // begin_load() and end_load(), or load() a vector.
    void begin_load();
    void end_load();
    void load(const std::vector<Lease>& leases);
    void erase(Ipv4 ip);

    // A row another daemon sharing the store wrote: put() without marking
    // the address dirty (it is in the store already). Applied only when it
    // is newer than what the table holds (Lease::version); returns whether
    // it was.
    bool apply_remote(const Lease& l);
    // Another daemon won `ip` (its row applied with apply_remote()): this
    // one's picks in that pool move elsewhere (AddressPool::part_ways).
    void lost_to_other(Ipv4 ip);
    // The store's version of the row just written for `ip` (not dirty).
    void set_version(Ipv4 ip, int64_t version);

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
    AddressPool* pool_of(Ipv4 ip);
    AddressPool& add_pool(const PoolSpec& spec);  // replaces the pools it overlaps
    void changed(Ipv4 ip);  // tells the address's pool, marks it dirty
    std::vector<Ipv4> dirty_;
    bool mark_dirty_ = true;  // false while apply_remote() puts
    std::vector<AddressPool> pools_;  // by first address; ranges do not overlap
    std::vector<PoolSpec> specs_;     // what set_pools() was given
    uint32_t seq_ = 0;
};

}  // namespace pxed::lease
