// Runs frames through the XDP program in the kernel with BPF_PROG_TEST_RUN,
// with no reservation loaded: what the program does before it looks a
// client up. Fails (does not skip) when the program cannot be loaded.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include "dhcp/frame.h"
#include "dhcp/packet.h"
#include "support/bpf_run.h"
#include "support/netns.h"

using namespace pxed;
using namespace pxed::dhcp;
using pxed::test::Frame;
using pxed::test::mutated;

namespace {

const Mac kClient = *Mac::parse("52:54:00:00:00:01");

Frame discover_frame() {
    Packet p;
    p.xid = 0x01020304;
    p.set_mac(kClient);
    p.options.set_u8(opt::MessageType, uint8_t(MessageType::Discover));
    UdpEndpoints ep;
    ep.src_mac = kClient;
    ep.dst_mac = *Mac::parse("ff:ff:ff:ff:ff:ff");
    ep.src_ip = Ipv4(0);
    ep.dst_ip = Ipv4(255, 255, 255, 255);
    ep.src_port = 68;
    ep.dst_port = 67;
    return build_udp_frame(ep, serialize(p));
}

using XdpProg = pxed::test::XdpTest;

}  // namespace

TEST_F(XdpProg, UnreservedDiscoverIsPassedAndCounted) {
    EXPECT_EQ(run(discover_frame()).verdict, uint32_t(XDP_PASS));
    EXPECT_EQ(stat(PXED_STAT_RX_TOTAL), 1u);
    EXPECT_EQ(stat(PXED_STAT_RX_DHCP), 1u);
    EXPECT_EQ(stat(PXED_STAT_PASS_NOT_RESERVED), 1u);
}

TEST_F(XdpProg, NonDhcpTrafficIsPassedByReason) {
    Frame arp(60, 0);
    arp[12] = 0x08;
    arp[13] = 0x06;
    expect_cases({
        {"ARP", arp, XDP_PASS, PXED_STAT_PASS_NOT_IPV4, arp},
        mutated("802.1Q tag", discover_frame(), [](Frame& f) { f[12] = 0x81, f[13] = 0x00; }, XDP_PASS,
                PXED_STAT_PASS_VLAN),
        mutated("UDP to port 53", discover_frame(), [](Frame& f) { f[14 + 20 + 3] = 53; }, XDP_PASS,
                PXED_STAT_PASS_NOT_DHCP),
        mutated("TCP", discover_frame(), [](Frame& f) { f[14 + 9] = 6; }, XDP_PASS, PXED_STAT_PASS_NOT_UDP),
    });
    EXPECT_EQ(stat(PXED_STAT_RX_DHCP), 0u);
}

TEST_F(XdpProg, TruncatedDiscoverIsPassedAsMalformedAtEveryCut) {
    auto f = discover_frame();
    // From the UDP header on, every cut leaves lengths that do not add up.
    for (size_t n = 14 + 20 + 8; n < f.size() - 1; n += 7) {
        EXPECT_EQ(run(Frame(f.begin(), f.begin() + n)).verdict, uint32_t(XDP_PASS)) << n;
    }
    EXPECT_EQ(stat(PXED_STAT_RX_DHCP), 0u);
    EXPECT_GT(stat(PXED_STAT_PASS_MALFORMED), 0u);
}

TEST_F(XdpProg, DisabledProgramPassesEverything) {
    pxed_xdp_config c{};
    c.abi_version = PXED_ABI_VERSION;
    c.enabled = 0;
    ASSERT_TRUE(prog_->set_config(c).ok());
    expect_pass(discover_frame(), PXED_STAT_PASS_DISABLED);
    EXPECT_EQ(stat(PXED_STAT_RX_DHCP), 0u);
}
