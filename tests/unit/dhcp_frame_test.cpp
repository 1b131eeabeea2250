#include <gtest/gtest.h>

#include "dhcp/frame.h"

using namespace pxed;
using namespace pxed::dhcp;

TEST(DhcpFrame, BuildsValidChecksumsAndParsesBack) {
    UdpEndpoints ep;
    ep.src_mac = *Mac::parse("02:00:00:00:00:01");
    ep.dst_mac = *Mac::parse("ff:ff:ff:ff:ff:ff");
    ep.src_ip = Ipv4(192, 0, 2, 1);
    ep.dst_ip = Ipv4(255, 255, 255, 255);
    ep.src_port = 67;
    ep.dst_port = 68;
    std::vector<uint8_t> payload(301, 0xab);
    auto f = build_udp_frame(ep, payload);
    ASSERT_EQ(f.size(), 14u + 20 + 8 + 301);
    auto p = parse_udp_frame(f);
    ASSERT_TRUE(p);
    EXPECT_TRUE(p->ip_checksum_ok);
    EXPECT_TRUE(p->udp_checksum_ok);
    EXPECT_EQ(p->ep.src_ip, ep.src_ip);
    EXPECT_EQ(p->ep.dst_port, 68);
    EXPECT_EQ(p->ep.dst_mac, ep.dst_mac);
    EXPECT_EQ(std::vector<uint8_t>(p->payload.begin(), p->payload.end()), payload);

    f[30] ^= 1;  // flip a bit of the destination address
    auto q = parse_udp_frame(f);
    ASSERT_TRUE(q);
    EXPECT_FALSE(q->ip_checksum_ok);
    EXPECT_FALSE(q->udp_checksum_ok);
}

TEST(DhcpFrame, KnownChecksumRfc1071Example) {
    // RFC 1071 section 3 example bytes: sum 0xddf2, checksum ~0xddf2.
    const uint8_t d[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    EXPECT_EQ(inet_checksum(d), uint16_t(~0xddf2));
}

TEST(DhcpFrame, RejectsShortAndInconsistentFrames) {
    UdpEndpoints ep;
    ep.src_port = 68;
    ep.dst_port = 67;
    auto f = build_udp_frame(ep, std::vector<uint8_t>(10));
    for (size_t n = 0; n < f.size(); n++)
        EXPECT_FALSE(parse_udp_frame(std::span<const uint8_t>(f.data(), n))) << n;
    auto g = f;
    g[14 + 2] = 0xff;  // IP total length past the frame
    EXPECT_FALSE(parse_udp_frame(g));
    auto h = f;
    h[14 + 20 + 4] = 0xff;  // UDP length past the IP payload
    EXPECT_FALSE(parse_udp_frame(h));
}
