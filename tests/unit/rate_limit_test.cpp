#include <gtest/gtest.h>

#include "dhcp/rate_limit.h"

using pxed::dhcp::RateLimiter;

TEST(RateLimiter, BurstThenRefillAtTheRate) {
    RateLimiter r(10, 3);
    for (int i = 0; i < 3; i++) EXPECT_TRUE(r.allow(1, 0));
    EXPECT_FALSE(r.allow(1, 0));
    EXPECT_TRUE(r.allow(2, 0)) << "another key has its own bucket";
    EXPECT_FALSE(r.allow(1, 50));  // half a token
    EXPECT_TRUE(r.allow(1, 100));  // one token per 100 ms
    EXPECT_FALSE(r.allow(1, 100));
    for (int i = 0; i < 3; i++) EXPECT_TRUE(r.allow(1, 10000)) << "refills up to the burst only";
    EXPECT_FALSE(r.allow(1, 10000));
}

TEST(RateLimiter, ZeroIsUnlimitedAndBurstDefaultsToTheRate) {
    RateLimiter off(0, 0);
    for (int i = 0; i < 1000; i++) EXPECT_TRUE(off.allow(7, 0));
    EXPECT_EQ(off.size(), 0u);
    RateLimiter r(2, 0);
    EXPECT_TRUE(r.allow(1, 0));
    EXPECT_TRUE(r.allow(1, 0));
    EXPECT_FALSE(r.allow(1, 0));
}

TEST(RateLimiter, AFloodOfDistinctKeysKeepsTheTableBounded) {
    RateLimiter r(1, 1, 1000);
    for (uint64_t k = 0; k < 100000; k++) {
        EXPECT_TRUE(r.allow(k, int64_t(k / 1000)));  // every new key has a token
        ASSERT_LE(r.size(), 1000u);
    }
    // Once idle (full again), old buckets are forgotten first.
    RateLimiter s(1, 1, 4);
    EXPECT_TRUE(s.allow(1, 0));
    EXPECT_FALSE(s.allow(1, 0));
    for (uint64_t k = 2; k <= 4; k++) EXPECT_TRUE(s.allow(k, 0));
    EXPECT_TRUE(s.allow(5, 5000));  // all idle by now: room is made
    EXPECT_TRUE(s.allow(1, 5000));
}

TEST(RateLimiter, ConfigureChangesTheLimitAndForgetsTheBuckets) {
    RateLimiter r(1, 1);
    EXPECT_TRUE(r.allow(1, 0));
    EXPECT_FALSE(r.allow(1, 0));
    r.configure(0, 0);
    EXPECT_TRUE(r.allow(1, 0));
    r.configure(5, 1);
    EXPECT_TRUE(r.allow(1, 0));
    EXPECT_FALSE(r.allow(1, 0));
}
