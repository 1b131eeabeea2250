#pragma once
// One dynamic range's allocator: which of its addresses a new client can
// be given, found without a scan whatever the range's size or occupancy.
//
//   free      no lease, or a released one (FreeSet: O(1) find-next from a
//             cursor that goes round the range, so a just-released address
//             is the last one given out again)
//   expiry    every other lease of the range by expiry time (a min-heap):
//             the one that expired first is reclaimed, once nothing is free
//   offers    other clients' pending offers by age (a queue): the oldest
//             yields, once nothing is free or expired
//
// Reserved addresses are left out of all three when the pool is built from
// the configuration. The table (lease_table.h) tells the pool of every
// change of one of its addresses; the heap and the queue are not searched
// for a lease that changed: their entries carry the lease's seq and the
// ones that no longer match are dropped when they reach the top (and the
// heap is compacted when stale entries outnumber live ones).
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "lease/free_set.h"
#include "lease/lease.h"

namespace pxed::lease {

class AddressPool {
public:
    using Leases = std::map<Ipv4, Lease>;

    // [first, last] holding at most 2^24 addresses (config::kMaxPoolAddresses);
    // `reserved` may hold addresses outside it.
    AddressPool(Ipv4 first, Ipv4 last, std::vector<Ipv4> reserved);

    Ipv4 first() const { return Ipv4(first_); }
    Ipv4 last() const { return Ipv4(first_ + (n_ - 1)); }
    bool contains(Ipv4 ip) const { return ip.v - first_ < n_; }
    bool is_reserved(Ipv4 ip) const;
    size_t free_count() const { return free_.count(); }

    // Address `ip` of this pool now holds `l` (nullptr: nothing).
    void update(Ipv4 ip, const Lease* l, const Leases& leases);
    // Room in the expiry heap for n leases (a pool built from a full table).
    void reserve(size_t n) { expiry_.reserve(n); }

    // The next free address after the last one given; nullopt when none.
    std::optional<Ipv4> next_free();
    // Another server sharing the store took `lost` first: the cursor moves
    // to a place in the range hashed from that address. Two servers start
    // at the same cursor, so without this they keep picking the same next
    // address and one of them loses nearly every commit.
    void part_ways(Ipv4 lost);
    // The lease that expired first, if it has expired at `now`.
    std::optional<Ipv4> first_expired(const Leases& leases, int64_t now);
    // The oldest pending offer of a client other than `client`.
    std::optional<Ipv4> oldest_offer(const Leases& leases, const ClientKey& client);

    // Words, heap and queue entries read so far (the allocator's unit tests
    // check that the work per pick does not grow with the pool).
    uint64_t steps() const { return steps_; }

private:
    struct Entry {
        int64_t t;  // expiry (heap) or start (queue)
        uint32_t ip;
        uint32_t seq;
    };
    static bool later(const Entry& a, const Entry& b) { return a.t > b.t; }
    const Lease* live(const Entry& e, const Leases& leases) const;
    void push_expiry(const Entry& e, const Leases& leases);
    void trim_offers(const Leases& leases, int64_t now);

    uint32_t first_;
    uint32_t n_;
    std::vector<uint32_t> reserved_;  // sorted
    FreeSet free_;
    uint32_t cursor_ = 0;  // index of the next address to try
    std::vector<Entry> expiry_;  // min-heap on t
    std::deque<Entry> offers_;   // in the order offered
    uint64_t steps_ = 0;
};

}  // namespace pxed::lease
