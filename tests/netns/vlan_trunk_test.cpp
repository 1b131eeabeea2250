// VLAN trunks (issue 20): pxed's trunk0 is a port of a bridge that carries
// tagged frames; a client tags its own (802.1Q VLAN 100, and QinQ: 802.1ad
// 300 outside, 802.1Q 30 inside) with tests/support/vlan_client.py. The
// XDP program on trunk0 answers the reserved clients of both VLANs with
// their tags kept and their VLAN subnet's address, and untagged clients
// from trunk0's own subnet.
//
// This machine's kernel has no 802.1Q devices (CONFIG_VLAN_8021Q off) nor
// a VLAN-filtering bridge, so the VLAN subnets have no VLAN device here:
// they are served by the kernel path alone, from their server-ip (the
// daemon warns so). With VLAN devices the daemon serves their other
// clients (daemon/config_source.cpp add_vlan_devices).
//
// Two ways the tags reach the program: in the frame (the bridge port puts
// them there: generic XDP), or kept out of it by the sender (a veth with
// VLAN offload, as a NIC's VLAN stripping: native XDP, read through the
// device-bound program's RX metadata kfunc).
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "bpf/xdp_program.h"
#include "support/netns.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::test;
using nlohmann::json;

namespace {

const char* kOnVlan100 = "52:54:00:00:01:00";  // reserved: 10.100.0.10
const char* kDynamic100 = "52:54:00:00:01:99";
const char* kOnQinq = "52:54:00:00:03:00";     // reserved: 10.230.0.10
const char* kUntagged = "52:54:00:00:00:0a";   // node10: 192.0.2.10
const char* kDynamicUntagged = "52:54:00:00:00:99";

std::string trunk_config(const std::string& mode) {
    return toml::netns_server("trunk0", "xdp = \"" + mode + "\"\n") +
           toml::lan_subnet("192.0.2.150", "boot = { bios = \"untagged.0\" }\n") +
           toml::subnet("10.100.0.0/24", "10.100.0.100", "10.100.0.150",
                        "vlan = 100\nserver-ip = \"10.100.0.1\"\nboot = { bios = \"vlan100.0\" }\n") +
           toml::subnet("10.230.0.0/24", "10.230.0.100", "10.230.0.150",
                        "vlan = 300\ninner-vlan = 30\nserver-ip = \"10.230.0.1\"\nboot = { bios = \"qinq.0\" }\n") +
           toml::node10() + toml::reservation(kOnVlan100, "10.100.0.10") + toml::reservation(kOnQinq, "10.230.0.10");
}

enum class Tags { InFrame, OutOfFrame };

class VlanTrunk : public ::testing::TestWithParam<Tags> {
protected:
    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        sw_ = std::make_unique<Netns>("vsw");
        srv_ = std::make_unique<Netns>("vsrv");
        cli_ = std::make_unique<Netns>("vcli");
        ASSERT_EQ(sw_->run("ip link add br0 type bridge && ip link set br0 up"), 0);
        veth_pair(srv_.get(), "trunk0", sw_.get(), "swt");
        veth_pair(cli_.get(), "c0", sw_.get(), "pc");
        ASSERT_EQ(sw_->run("for p in swt pc; do ip link set $p master br0 && ip link set $p up || exit 1; done"), 0);
        ASSERT_EQ(srv_->run("ip addr add 192.0.2.1/24 dev trunk0 && ip link set trunk0 up"), 0);
        ASSERT_EQ(cli_->run("ip link set c0 up"), 0);
        std::string mode;
        if (GetParam() == Tags::InFrame) {
            // The bridge port writes the tags into the frame.
            ASSERT_EQ(sw_->run("ethtool -K swt txvlan off tx-vlan-stag-hw-insert off"), 0);
            mode = "generic";
        } else {
            // The tags stay out of the frame (the veth's VLAN offload); an
            // XDP program on the peer lets native XDP_TX reach it.
            ASSERT_EQ(sw_->run(std::string("ip link set dev swt xdpdrv obj ") + PXED_XDP_PASS_OBJ + " sec xdp"), 0);
            mode = "native";
        }
        pxed_ = std::make_unique<PxedProcess>(*srv_, trunk_config(mode));
        ASSERT_TRUE(pxed_->ready()) << pxed_->log();
        ASSERT_NE(pxed_->log().find("xdp iface=trunk0 mode=" + mode), std::string::npos) << pxed_->log();
        ASSERT_NE(pxed_->log().find("vlans=2"), std::string::npos) << pxed_->log();
        ASSERT_NE(pxed_->log().find("is on VLAN 100 of trunk0, which has no VLAN device"), std::string::npos)
            << pxed_->log();
    }
    void TearDown() override {
        if (pxed_ && pxed_->pid() > 0) {
            kill(pxed_->pid(), SIGCONT);
            EXPECT_EQ(pxed_->stop(), 0) << pxed_->log();
        }
    }
    uint64_t stat(pxed_stat s) {
        auto r = bpf::read_pinned_stats("trunk0");
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
        return r.ok() ? (*r)[s] : 0;
    }
    // vlan_client.py's DISCOVER/OFFER/REQUEST/ACK from `mac` with `tags`.
    json exchange(const std::string& mac, const std::string& tags, int timeout_s = 5) {
        auto out = cli_->out("/usr/bin/python3 " + std::string(PXED_SOURCE_DIR) + "/tests/support/vlan_client.py c0 " +
                             mac + " " + tags + " --timeout " + std::to_string(timeout_s));
        auto j = json::parse(out, nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << "vlan_client.py printed: " << out;
        return j.is_discarded() ? json::object() : j;
    }
    // The reply carried exactly `want` tags ([tpid, VLAN id]), priority bits aside.
    static void expect_tags(const json& reply, const std::vector<std::pair<int, int>>& want) {
        ASSERT_TRUE(reply.is_object()) << reply.dump();
        ASSERT_EQ(reply["tags"].size(), want.size()) << reply.dump();
        for (size_t i = 0; i < want.size(); i++) {
            EXPECT_EQ(reply["tags"][i][0].get<int>(), want[i].first) << reply.dump();
            EXPECT_EQ(reply["tags"][i][1].get<int>() & 0xfff, want[i].second) << reply.dump();
        }
    }

    std::unique_ptr<Netns> sw_, srv_, cli_;
    std::unique_ptr<PxedProcess> pxed_;
};

}  // namespace

TEST_P(VlanTrunk, ReservedTaggedQinqAndUntaggedClientsAreAnsweredByTheKernel) {
    if (GetParam() == Tags::OutOfFrame) {
        EXPECT_NE(pxed_->log().find("device-bound program: VLAN tags the driver takes out of frames are read"),
                  std::string::npos)
            << pxed_->log();
    }
    // The daemon is stopped: only the kernel can answer.
    ASSERT_EQ(kill(pxed_->pid(), SIGSTOP), 0);
    auto v = exchange(kOnVlan100, "--tag 0x8100:0xa064");  // priority 5, VLAN 100
    ASSERT_TRUE(v["ack"].is_object()) << v.dump() << " rx_tagged=" << stat(PXED_STAT_RX_TAGGED);
    EXPECT_EQ(v["ack"]["yiaddr"], "10.100.0.10");
    EXPECT_EQ(v["ack"]["server_id"], "10.100.0.1");
    EXPECT_EQ(v["ack"]["src_ip"], "10.100.0.1");
    EXPECT_EQ(v["offer"]["file"], "vlan100.0");
    expect_tags(v["offer"], {{0x8100, 100}});
    expect_tags(v["ack"], {{0x8100, 100}});
    EXPECT_EQ(v["ack"]["tags"][0][1].get<int>() >> 13, 5) << "the priority bits are kept";

    auto q = exchange(kOnQinq, "--tag 0x88a8:300 --tag 0x8100:30");
    ASSERT_TRUE(q["ack"].is_object()) << q.dump();
    EXPECT_EQ(q["ack"]["yiaddr"], "10.230.0.10");
    EXPECT_EQ(q["ack"]["server_id"], "10.230.0.1");
    EXPECT_EQ(q["offer"]["file"], "qinq.0");
    expect_tags(q["ack"], {{0x88a8, 300}, {0x8100, 30}});

    auto u = exchange(kUntagged, "");
    ASSERT_TRUE(u["ack"].is_object()) << u.dump();
    EXPECT_EQ(u["ack"]["yiaddr"], "192.0.2.10");
    EXPECT_EQ(u["ack"]["server_id"], "192.0.2.1");
    EXPECT_EQ(u["offer"]["file"], "untagged.0");
    expect_tags(u["ack"], {});

    EXPECT_EQ(stat(PXED_STAT_RX_TAGGED), 4u);  // DISCOVER and REQUEST of two tagged clients
    EXPECT_EQ(stat(PXED_STAT_TX_ACK), 3u);
    EXPECT_EQ(stat(PXED_STAT_DROP_VLAN_RESTORE), 0u);
}

TEST_P(VlanTrunk, OthersArePassedWithTheirTagsAndUntaggedOnesReachTheDaemon) {
    // An unreserved client of VLAN 100: passed, its tags put back; with no
    // VLAN device here nothing answers it (the daemon would, on trunk0.100).
    auto before = stat(PXED_STAT_PASS_NOT_RESERVED);
    auto d = exchange(kDynamic100, "--tag 0x8100:100", 2);
    EXPECT_TRUE(d["offer"].is_null()) << d.dump();
    EXPECT_EQ(stat(PXED_STAT_PASS_NOT_RESERVED), before + 1);
    // A VLAN the trunk does not serve.
    before = stat(PXED_STAT_PASS_VLAN);
    auto x = exchange(kOnVlan100, "--tag 0x8100:999", 2);
    EXPECT_TRUE(x["offer"].is_null()) << x.dump();
    EXPECT_EQ(stat(PXED_STAT_PASS_VLAN), before + 1);
    // An unreserved untagged client: the daemon's dynamic address.
    auto u = exchange(kDynamicUntagged, "");
    ASSERT_TRUE(u["ack"].is_object()) << u.dump() << pxed_->log();
    EXPECT_EQ(u["ack"]["yiaddr"], "192.0.2.100");
    EXPECT_EQ(stat(PXED_STAT_DROP_VLAN_RESTORE), 0u);
}

INSTANTIATE_TEST_SUITE_P(Trunk, VlanTrunk, ::testing::Values(Tags::InFrame, Tags::OutOfFrame),
                         [](const auto& i) { return i.param == Tags::InFrame ? "TagsInFrame" : "TagsOutOfFrame"; });
