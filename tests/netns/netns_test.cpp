// Tier check for netns tests: a namespace pair joined by a veth carries
// traffic, and everything the test made is gone afterwards.
#include <gtest/gtest.h>

#include "support/netns.h"

using namespace pxed::test;

TEST(Netns, VethPairCarriesTrafficAndIsRemoved) {
    if (!require_root()) return;
    std::string a_name, b_name;
    {
        Netns a("a"), b("b");
        a_name = a.name();
        b_name = b.name();
        ASSERT_TRUE(Netns::exists(a_name));
        veth_pair(&a, "va", &b, "vb");
        ASSERT_EQ(a.run("ip addr add 192.0.2.1/24 dev va"), 0);
        ASSERT_EQ(b.run("ip addr add 192.0.2.2/24 dev vb"), 0);
        ASSERT_EQ(a.run("ip link set va up"), 0);
        ASSERT_EQ(b.run("ip link set vb up"), 0);
        // One bounded ping inside the pair (DAD does not apply to IPv4).
        EXPECT_EQ(a.run("ping -c 1 -W 5 192.0.2.2 >/dev/null"), 0);
        // The veth is visible only inside its namespace.
        EXPECT_NE(sh("ip link show va >/dev/null 2>&1"), 0);
    }
    EXPECT_FALSE(Netns::exists(a_name));
    EXPECT_FALSE(Netns::exists(b_name));
}
