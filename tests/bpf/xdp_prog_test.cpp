// Runs frames through the XDP program in the kernel with BPF_PROG_TEST_RUN.
// Fails (does not skip) when the program cannot be loaded.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include "bpf/xdp_program.h"
#include "dhcp/frame.h"
#include "dhcp/packet.h"
#include "support/netns.h"

using namespace pxed;
using namespace pxed::dhcp;

namespace {

const Mac kClient = *Mac::parse("52:54:00:00:00:01");

std::vector<uint8_t> discover_frame() {
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

class XdpProg : public ::testing::Test {
protected:
    void SetUp() override {
        if (!test::require_root()) GTEST_SKIP_("not root: failure recorded");
        auto r = bpf::XdpProgram::load();
        ASSERT_TRUE(r.ok()) << r.error();
        prog_ = std::move(r.value());
        pxed_xdp_config c{};
        c.abi_version = PXED_ABI_VERSION;
        c.enabled = 1;
        ASSERT_TRUE(prog_->set_config(c).ok());
    }

    // Runs one frame; returns the XDP verdict.
    uint32_t run(std::vector<uint8_t> frame) {
        std::vector<uint8_t> out(frame.size() + 256);
        LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = out.data(),
                    .data_size_in = uint32_t(frame.size()), .data_size_out = uint32_t(out.size()), .repeat = 1);
        int err = bpf_prog_test_run_opts(prog_->prog_fd(), &opts);
        EXPECT_EQ(err, 0) << "BPF_PROG_TEST_RUN failed: " << strerror(errno);
        return opts.retval;
    }

    uint64_t stat(pxed_stat s) {
        auto r = prog_->read_stats();
        EXPECT_TRUE(r.ok());
        return r.ok() ? (*r)[s] : 0;
    }

    std::unique_ptr<bpf::XdpProgram> prog_;
};

}  // namespace

TEST_F(XdpProg, UnreservedDiscoverIsPassedAndCounted) {
    EXPECT_EQ(run(discover_frame()), uint32_t(XDP_PASS));
    EXPECT_EQ(stat(PXED_STAT_RX_TOTAL), 1u);
    EXPECT_EQ(stat(PXED_STAT_RX_DHCP), 1u);
    EXPECT_EQ(stat(PXED_STAT_PASS_NOT_RESERVED), 1u);
}

TEST_F(XdpProg, NonDhcpTrafficIsPassedByReason) {
    std::vector<uint8_t> arp(60, 0);
    arp[12] = 0x08;
    arp[13] = 0x06;
    EXPECT_EQ(run(arp), uint32_t(XDP_PASS));
    EXPECT_EQ(stat(PXED_STAT_PASS_NOT_IPV4), 1u);

    auto vlan = discover_frame();
    vlan[12] = 0x81;
    vlan[13] = 0x00;
    EXPECT_EQ(run(vlan), uint32_t(XDP_PASS));
    EXPECT_EQ(stat(PXED_STAT_PASS_VLAN), 1u);

    auto dns = discover_frame();
    dns[14 + 20 + 3] = 53;  // UDP destination port 53
    EXPECT_EQ(run(dns), uint32_t(XDP_PASS));
    EXPECT_EQ(stat(PXED_STAT_PASS_NOT_DHCP), 1u);
}

TEST_F(XdpProg, TruncatedDiscoverIsPassedAsMalformedAtEveryCut) {
    auto f = discover_frame();
    // From the UDP header on, every cut leaves lengths that do not add up.
    for (size_t n = 14 + 20 + 8; n < f.size() - 1; n += 7) {
        EXPECT_EQ(run(std::vector<uint8_t>(f.begin(), f.begin() + n)), uint32_t(XDP_PASS)) << n;
    }
    EXPECT_EQ(stat(PXED_STAT_RX_DHCP), 0u);
    EXPECT_GT(stat(PXED_STAT_PASS_MALFORMED), 0u);
}

TEST_F(XdpProg, DisabledProgramPassesEverything) {
    pxed_xdp_config c{};
    c.abi_version = PXED_ABI_VERSION;
    c.enabled = 0;
    ASSERT_TRUE(prog_->set_config(c).ok());
    EXPECT_EQ(run(discover_frame()), uint32_t(XDP_PASS));
    EXPECT_EQ(stat(PXED_STAT_PASS_DISABLED), 1u);
    EXPECT_EQ(stat(PXED_STAT_RX_DHCP), 0u);
}
