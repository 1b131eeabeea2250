// The TFTP server's pieces that depend on the address family: the block
// size an MTU allows (IPv6's header is 40 bytes, IPv4's 20) and the client
// endpoint (its text, the per-client key, the trace record).
#include <gtest/gtest.h>

#include "tftp/server_impl.h"
#include "tftp/session.h"

using namespace pxed;
using namespace pxed::tftp;

TEST(TftpMtu, BlockSizeLeavesRoomForEachFamilysHeaders) {
    EXPECT_EQ(blksize_for_mtu(1500, false), 1468);  // 1500 - 20 - 8 - 4
    EXPECT_EQ(blksize_for_mtu(1500, true), 1448);   // 1500 - 40 - 8 - 4
    EXPECT_EQ(blksize_for_mtu(9000, true), 8948);
    EXPECT_EQ(blksize_for_mtu(1280, true), 1228);   // IPv6's minimum MTU
    EXPECT_EQ(blksize_for_mtu(576, false), 544);
    // Loopback's 64 KiB: the protocol's maximum, either family.
    EXPECT_EQ(blksize_for_mtu(65536, false), kMaxBlksize);
    EXPECT_EQ(blksize_for_mtu(65536, true), kMaxBlksize);
    // Unknown (0) or impossible for the family: Ethernet's.
    EXPECT_EQ(blksize_for_mtu(0, true), 1448);
    EXPECT_EQ(blksize_for_mtu(1000, true), 1448);
    EXPECT_EQ(blksize_for_mtu(-1, false), 1468);
}

TEST(TftpMtu, AnIpv6ClientAskingForAnIpv4SizedBlockGetsLess) {
    auto r = parse_request(std::vector<uint8_t>{0, 1, 'f', 0, 'o', 'c', 't', 'e', 't', 0, 'b', 'l', 'k', 's', 'i',
                                                'z', 'e', 0, '1', '4', '6', '8', 0});
    ASSERT_TRUE(r.ok());
    Limits lim;
    lim.max_blksize = blksize_for_mtu(1500, true);
    auto n = negotiate(*r, 100000, lim);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(n->blksize, 1448);
    EXPECT_EQ(n->oack, (std::vector<std::pair<std::string, std::string>>{{"blksize", "1448"}}));
}

TEST(TftpEndpoint, TextKeyAndTraceOfEitherFamily) {
    auto a = Endpoint::v6(*Ipv6::parse("fd00:6::2"), 0, 1024);
    auto b = Endpoint::v6(*Ipv6::parse("fd00:6::2"), 0, 2048);
    auto c = Endpoint::v6(*Ipv6::parse("fd00:6::3"), 0, 1024);
    auto ll = Endpoint::v6(*Ipv6::parse("fe80::2"), 7, 1024);
    auto v4 = Endpoint::v4(Ipv4(192, 0, 2, 2), 1024);
    EXPECT_EQ(a.str(), "[fd00:6::2]:1024");
    EXPECT_EQ(ll.str(), "[fe80::2%7]:1024");
    EXPECT_EQ(v4.str(), "192.0.2.2:1024");
    EXPECT_EQ(a.len(), sizeof(sockaddr_in6));
    EXPECT_EQ(v4.len(), sizeof(sockaddr_in));
    // The limit counts addresses: two ports of one address are one client.
    EXPECT_EQ(a.key(), b.key());
    EXPECT_NE(a.key(), c.key());
    EXPECT_NE(a.key(), v4.key());
    EXPECT_EQ(v4.key(), Endpoint::v6(*Ipv6::parse("::ffff:192.0.2.2")).key());
    trace::Transfer t6, t4;
    a.to_trace(t6);
    v4.to_trace(t4);
    EXPECT_EQ(t6.client_str(), "fd00:6::2");
    EXPECT_EQ(t6.client_port, 1024);
    EXPECT_TRUE(t6.client.is_zero());
    EXPECT_FALSE(t4.client6);
    EXPECT_EQ(t4.client_str(), "192.0.2.2");
}
