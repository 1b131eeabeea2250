// The dynamic-lease allocator: FreeSet (lease/free_set.h), AddressPool
// (lease/address_pool.h) and LeaseTable::pick: which address a new client
// gets, and that finding it costs the same on a pool of a thousand or a
// million addresses, empty or full.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <set>

#include "lease/free_set.h"
#include "lease/lease_table.h"

using namespace pxed;
using namespace pxed::lease;

namespace {

Mac mac_of(uint32_t i) {
    Mac m;
    m.b = {0x02, 0x00, uint8_t(i >> 24), uint8_t(i >> 16), uint8_t(i >> 8), uint8_t(i)};
    return m;
}

ClientKey key_of(uint32_t i) {
    Mac m = mac_of(i);
    return std::string("hw:\x01", 4) + std::string(reinterpret_cast<const char*>(m.b.data()), 6);
}

Lease make_lease(Ipv4 ip, uint32_t client, State s, int64_t start, int64_t expires) {
    Lease l;
    l.ip = ip;
    l.mac = mac_of(client);
    l.client = key_of(client);
    l.start = start;
    l.expires = expires;
    l.state = s;
    return l;
}

Ipv4 plus(Ipv4 a, uint32_t n) { return Ipv4(a.v + n); }

const Ipv4 kFirst(10, 0, 0, 10);

}  // namespace

TEST(FreeSet, FindsTheNextMemberAndWrapsRound) {
    for (uint32_t n : {2u, 63u, 64u, 65u, 4095u, 4096u, 4097u, 262145u}) {
        FreeSet s(n, false);
        EXPECT_EQ(s.next(0), std::nullopt) << n;
        s.insert(n - 1);
        EXPECT_EQ(s.next(0), n - 1) << n;
        EXPECT_EQ(s.next(n - 1), n - 1) << n;
        s.insert(0);
        EXPECT_EQ(s.next(n - 1), n - 1) << n;
        EXPECT_EQ(s.next(1), n - 1) << n;
        EXPECT_EQ(s.next(n), 0u) << n;  // past the end: from the start
        s.erase(n - 1);
        EXPECT_EQ(s.next(n - 1), 0u) << n;  // wraps
        EXPECT_EQ(s.count(), 1u) << n;
        s.erase(0);
        EXPECT_EQ(s.next(0), std::nullopt) << n;
    }
}

TEST(FreeSet, AgreesWithAnOrderedSetUnderRandomChanges) {
    std::mt19937 rng(7);
    for (uint32_t n : {100u, 5000u, 300000u}) {
        FreeSet s(n, true);
        std::set<uint32_t> ref;
        for (uint32_t i = 0; i < n; i++) ref.insert(i);
        for (int k = 0; k < 20000; k++) {
            uint32_t i = rng() % n;
            if (rng() % 3) {
                s.erase(i);
                ref.erase(i);
            } else {
                s.insert(i);
                ref.insert(i);
            }
            uint32_t from = rng() % n;
            auto it = ref.lower_bound(from);
            if (it == ref.end()) it = ref.begin();
            std::optional<uint32_t> want;
            if (it != ref.end()) want = *it;
            ASSERT_EQ(s.next(from), want) << "n=" << n << " from=" << from;
            ASSERT_EQ(s.count(), ref.size());
        }
    }
}

TEST(AddressPool, PrefersPreviousThenFreeThenExpiredThenOldestOffer) {
    LeaseTable t;
    Ipv4 a = kFirst, b = plus(kFirst, 1);
    t.set_pools({PoolSpec{a, b, {}}});
    t.put(make_lease(a, 1, State::Bound, 0, 500));  // expired at now = 1000
    // Another client gets the free address first, not 1's expired one.
    EXPECT_EQ(t.pick(key_of(2), a, b, 1000), b);
    // 1 comes back and gets its own address.
    EXPECT_EQ(t.pick(key_of(1), a, b, 1000), a);
    // With b bound, 3 reclaims 1's expired lease, not before it expired.
    t.put(make_lease(b, 2, State::Bound, 0, 5000));
    EXPECT_EQ(t.pick(key_of(3), a, b, 1000), a);
    EXPECT_EQ(t.pick(key_of(3), a, b, 400), std::nullopt);
    // Pending offers on both: the oldest yields; bound leases never do.
    t.put(make_lease(a, 4, State::Offered, 990, 1020));
    t.put(make_lease(b, 5, State::Offered, 995, 1025));
    EXPECT_EQ(t.pick(key_of(6), a, b, 1000), a);
    EXPECT_EQ(t.pick(key_of(5), a, b, 1000), b);  // 5 keeps its own
    t.put(make_lease(a, 4, State::Bound, 990, 5000));
    EXPECT_EQ(t.pick(key_of(6), a, b, 1000), b);  // a is bound now: 5's offer is the oldest left
    t.put(make_lease(b, 5, State::Bound, 995, 5000));
    EXPECT_EQ(t.pick(key_of(6), a, b, 1000), std::nullopt);
}

TEST(AddressPool, TwoServersThatLostTheSameAddressPartWays) {
    // Two daemons sharing a store, one pool: each picks from its own table,
    // b's commits win, each learns the other's new lease after the round.
    // Both start at the pool's first address; without part_ways() a would
    // pick b's address again in every round and lose every one.
    const Ipv4 last = plus(kFirst, 4095);
    LeaseTable a, b;
    a.set_pools({PoolSpec{kFirst, last, {}}});
    b.set_pools({PoolSpec{kFirst, last, {}}});
    int lost = 0;
    for (uint32_t r = 0; r < 500; r++) {
        auto ia = a.pick(key_of(2 * r), kFirst, last, 1000);
        auto ib = b.pick(key_of(2 * r + 1), kFirst, last, 1000);
        ASSERT_TRUE(ia && ib);
        Lease lb = make_lease(*ib, 2 * r + 1, State::Bound, 1000, 5000);
        b.put(lb);
        a.put(lb);
        if (*ia == *ib) {
            lost++;
            a.lost_to_other(*ia);
            continue;
        }
        Lease la = make_lease(*ia, 2 * r, State::Bound, 1000, 5000);
        a.put(la);
        b.put(la);
    }
    EXPECT_LE(lost, 1);
    EXPECT_EQ(a.size(), b.size());
}

TEST(AddressPool, NeverPicksAReservedAddress) {
    LeaseTable t;
    Ipv4 a = kFirst, b = plus(kFirst, 1), c = plus(kFirst, 2);
    t.put(make_lease(a, 1, State::Bound, 0, 500));  // an expired lease on a, before a was reserved
    t.set_pools({PoolSpec{a, c, {a, Ipv4(192, 0, 2, 1)}}});  // one outside the pool too
    EXPECT_EQ(t.pick(key_of(1), a, c, 1000), b);  // not even a's old holder gets it back
    t.put(make_lease(b, 2, State::Bound, 0, 5000));
    t.put(make_lease(c, 3, State::Offered, 990, 1020));
    EXPECT_EQ(t.pick(key_of(4), a, c, 1000), c);  // 3's offer yields; a stays out
    t.put(make_lease(c, 4, State::Bound, 990, 5000));
    EXPECT_EQ(t.pick(key_of(5), a, c, 1000), std::nullopt);
    t.erase(a);
    EXPECT_EQ(t.pick(key_of(5), a, c, 1000), std::nullopt);  // free, but reserved
    t.set_pools({PoolSpec{a, c, {}}});  // the reservation is gone
    EXPECT_EQ(t.pick(key_of(5), a, c, 1000), a);
}

TEST(AddressPool, ReleasedAndErasedAddressesAreFreeAgainAfterTheOthers) {
    LeaseTable t;
    Ipv4 first = kFirst, last = plus(kFirst, 9);
    t.set_pools({PoolSpec{first, last, {}}});
    for (uint32_t i = 0; i < 10; i++) {
        auto ip = t.pick(key_of(i), first, last, 1000);
        ASSERT_EQ(ip, plus(first, i));  // in address order from the start
        t.put(make_lease(*ip, i, State::Bound, 1000, 5000));
    }
    EXPECT_EQ(t.pick(key_of(99), first, last, 1000), std::nullopt);
    t.put(make_lease(plus(first, 3), 3, State::Released, 1000, 1000));
    t.erase(plus(first, 7));
    // The cursor goes on from where it stopped: 3 first after the wrap, then 7.
    auto ip = t.pick(key_of(99), first, last, 1000);
    EXPECT_EQ(ip, plus(first, 3));
    t.put(make_lease(*ip, 99, State::Offered, 1000, 1030));
    EXPECT_EQ(t.pick(key_of(98), first, last, 1000), plus(first, 7));
    // Client 3 released; its address went to 99: 3 gets 7, not its old one.
    EXPECT_EQ(t.pick(key_of(3), first, last, 1000), plus(first, 7));
}

TEST(AddressPool, DeclinedAddressesWaitForTheirHoldToEnd) {
    LeaseTable t;
    Ipv4 a = kFirst, b = plus(kFirst, 1);
    t.set_pools({PoolSpec{a, b, {}}});
    t.put(make_lease(a, 1, State::Declined, 1000, 4600));
    t.put(make_lease(b, 2, State::Bound, 1000, 9000));
    EXPECT_EQ(t.pick(key_of(3), a, b, 2000), std::nullopt);
    EXPECT_EQ(t.pick(key_of(1), a, b, 2000), std::nullopt);  // not even for the client that declined it
    EXPECT_EQ(t.pick(key_of(3), a, b, 4600), a);  // the hold is over
}

TEST(AddressPool, ReclaimsTheLeaseThatExpiredFirst) {
    LeaseTable t;
    Ipv4 first = kFirst, last = plus(kFirst, 4);
    t.set_pools({PoolSpec{first, last, {}}});
    int64_t expiry[5] = {900, 300, 700, 100, 500};
    for (uint32_t i = 0; i < 5; i++) t.put(make_lease(plus(first, i), i, State::Bound, 0, expiry[i]));
    t.put(make_lease(plus(first, 3), 3, State::Bound, 0, 2000));  // 3 renewed: its old expiry is stale
    for (uint32_t want : {1u, 4u, 2u, 0u}) {
        auto ip = t.pick(key_of(50 + want), first, last, 1000);
        ASSERT_EQ(ip, plus(first, want));
        t.put(make_lease(*ip, 50 + want, State::Bound, 1000, 9000));
    }
    EXPECT_EQ(t.pick(key_of(60), first, last, 1000), std::nullopt);
}

TEST(AddressPool, BuildsFromTheLeasesAlreadyInTheTable) {
    LeaseTable t;
    Ipv4 first = kFirst, last = plus(kFirst, 2);
    t.put(make_lease(first, 1, State::Bound, 0, 5000));
    t.put(make_lease(plus(first, 1), 2, State::Released, 0, 0));
    t.put(make_lease(plus(first, 2), 3, State::Bound, 0, 500));
    t.set_pools({PoolSpec{first, last, {}}});  // a restart: the store loaded first
    EXPECT_EQ(t.pick(key_of(9), first, last, 1000), plus(first, 1));
    t.put(make_lease(plus(first, 1), 9, State::Bound, 1000, 5000));
    EXPECT_EQ(t.pick(key_of(10), first, last, 1000), plus(first, 2));  // then the expired one
}

TEST(AddressPool, LoadAtStartUpBuildsThePoolsFromTheStoredLeases) {
    LeaseTable t;
    Ipv4 first = kFirst, last = plus(kFirst, 3);
    t.set_pools({PoolSpec{first, last, {plus(first, 3)}}});
    t.load({make_lease(first, 1, State::Bound, 0, 5000), make_lease(plus(first, 1), 2, State::Released, 0, 0),
            make_lease(plus(first, 2), 3, State::Bound, 0, 500)});
    EXPECT_EQ(t.size(), 3u);
    EXPECT_EQ(t.pick(key_of(9), first, last, 1000), plus(first, 1));  // released: free
    t.put(make_lease(plus(first, 1), 9, State::Bound, 1000, 5000));
    EXPECT_EQ(t.pick(key_of(10), first, last, 1000), plus(first, 2));  // expired; never the reserved one
    EXPECT_EQ(t.pick(key_of(1), first, last, 1000), first);  // its own
}

namespace {

// A pool of n addresses, every one bound to its own client until 10,000.
LeaseTable full_pool(uint32_t n) {
    LeaseTable t;
    Ipv4 last = plus(kFirst, n - 1);
    t.set_pools({PoolSpec{kFirst, last, {}}});
    for (uint32_t i = 0; i < n; i++) t.put(make_lease(plus(kFirst, i), i, State::Bound, 0, 10000));
    return t;
}

}  // namespace

// The acceptance's test: the work of a pick on a full pool of a million
// addresses is the work on a pool of a thousand. The previous allocator
// read every address of the pool up to three times here.
TEST(AddressPool, WorkPerPickOnAFullPoolDoesNotGrowWithThePool) {
    uint64_t per_pick[2];
    uint32_t sizes[2] = {1000, 1000000};
    for (int k = 0; k < 2; k++) {
        LeaseTable t = full_pool(sizes[k]);
        Ipv4 last = plus(kFirst, sizes[k] - 1);
        uint64_t before = t.pick_steps();
        for (uint32_t c = 0; c < 1000; c++)
            ASSERT_EQ(t.pick(key_of(sizes[k] + c), kFirst, last, 1000), std::nullopt);
        per_pick[k] = (t.pick_steps() - before) / 1000;
        // One address expires: found at once, whatever the pool.
        t.put(make_lease(plus(kFirst, sizes[k] / 2), sizes[k] / 2, State::Bound, 0, 900));
        before = t.pick_steps();
        EXPECT_EQ(t.pick(key_of(sizes[k] + 5000), kFirst, last, 1000), plus(kFirst, sizes[k] / 2));
        EXPECT_LE(t.pick_steps() - before, 4u) << sizes[k];
        // One address is released: found through the free index.
        t.put(make_lease(plus(kFirst, sizes[k] / 3), sizes[k] / 3, State::Released, 0, 0));
        before = t.pick_steps();
        EXPECT_EQ(t.pick(key_of(sizes[k] + 6000), kFirst, last, 1000), plus(kFirst, sizes[k] / 3));
        EXPECT_LE(t.pick_steps() - before, 10u) << sizes[k];  // two reads per level at most, 5 levels
    }
    EXPECT_EQ(per_pick[0], per_pick[1]);
    EXPECT_LE(per_pick[1], 2u);
}

// A busy full pool: clients that DISCOVER and REQUEST, others that only
// DISCOVER, releases, expiries. The total work over all picks, stale queue
// entries included, stays a small constant per pick for both sizes.
TEST(AddressPool, AmortizedWorkOfABusyPoolIsConstant) {
    for (uint32_t n : {1000u, 1000000u}) {
        LeaseTable t = full_pool(n);
        Ipv4 last = plus(kFirst, n - 1);
        std::mt19937 rng(n);
        uint64_t before = t.pick_steps();
        uint32_t picks = 0, served = 0;
        int64_t now = 1000;
        for (uint32_t c = 0; c < 20000; c++) {
            if (c % 100 == 0) now++;
            uint32_t client = n + c;
            if (rng() % 4 == 0) {  // someone leaves
                uint32_t i = rng() % n;
                if (rng() % 2) t.put(make_lease(plus(kFirst, i), i, State::Released, now, now));
                else t.put(make_lease(plus(kFirst, i), i, State::Bound, 0, now - 1));
            }
            auto ip = t.pick(key_of(client), kFirst, last, now);
            picks++;
            if (!ip) continue;
            served++;
            t.put(make_lease(*ip, client, State::Offered, now, now + 30));
            if (rng() % 2) t.put(make_lease(*ip, client, State::Bound, now, now + 3600));
        }
        EXPECT_GT(served, picks / 4) << n;
        uint64_t per_pick = (t.pick_steps() - before) / picks;
        EXPECT_LE(per_pick, 12u) << n;
        std::printf("pool of %u: %u picks, %u served, %.2f steps per pick\n", n, picks, served,
                    double(t.pick_steps() - before) / picks);
    }
}
