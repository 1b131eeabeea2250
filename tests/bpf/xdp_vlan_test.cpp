// VLAN trunks in the kernel (BPF_PROG_TEST_RUN): 802.1Q and QinQ requests
// of a served VLAN answered with their tags kept and the VLAN subnet's
// reply, byte for byte the daemon's on that VLAN's device; untagged
// requests served from the trunk's own subnet; everything passed leaves
// with the tags it came with.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include "bpf/map_sync.h"
#include "bpf/xdp_program.h"
#include "config/config.h"
#include "dhcp/engine.h"
#include "dhcp/frame.h"
#include "dhcp/packet.h"
#include "dhcp/reply.h"
#include "support/bpf_run.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::dhcp;
using pxed::test::Frame;

namespace {

namespace toml = pxed::test::toml;
const std::string kConfig =
    toml::server("trunk0") + toml::lan_subnet("192.0.2.200", "boot = { bios = \"pxelinux.0\" }\n") +
    toml::subnet("10.100.0.0/24", "10.100.0.100", "10.100.0.200",
                 "vlan = 100\nrouter = \"10.100.0.1\"\nboot = { bios = \"vlan100.0\" }\n") +
    toml::subnet("10.230.0.0/24", "10.230.0.100", "10.230.0.200",
                 "vlan = 300\ninner-vlan = 30\nboot = { bios = \"qinq.0\" }\n") +
    "\n[[subnet]]\ncidr = \"10.200.0.0/24\"\nproxy = true\nvlan = 200\nboot = { bios = \"proxy200.0\" }\n" +
    toml::node10() + toml::reservation("52:54:00:00:01:00", "10.100.0.10", "hostname = \"v100\"\n") +
    toml::reservation("52:54:00:00:03:00", "10.230.0.10");

const Mac kTrunkMac = *Mac::parse("02:00:00:00:00:01");
const Ipv4 kTrunkIp(192, 0, 2, 1);
const Mac kVlan100Mac = *Mac::parse("02:00:00:00:01:00");
const Ipv4 kVlan100Ip(10, 100, 0, 1);
const Mac kQinqMac = *Mac::parse("02:00:00:00:03:00");
const Ipv4 kQinqIp(10, 230, 0, 1);
const Mac kProxyMac = *Mac::parse("02:00:00:00:02:00");
const Ipv4 kProxyIp(10, 200, 0, 1);
const Mac kNode10 = *Mac::parse("52:54:00:00:00:0a");
const Mac kOnVlan100 = *Mac::parse("52:54:00:00:01:00");
const Mac kOnQinq = *Mac::parse("52:54:00:00:03:00");
const Mac kStranger = *Mac::parse("52:54:00:00:00:77");

struct Tag {
    uint16_t tpid, tci;
};
constexpr uint16_t kQ = 0x8100, kAd = 0x88a8;

// The frame with `tags` (outermost first) after its MAC addresses.
Frame tagged(const Frame& f, std::vector<Tag> tags) {
    Frame out(f.begin(), f.begin() + 12);
    for (auto& t : tags)
        for (uint16_t v : {t.tpid, t.tci}) {
            out.push_back(uint8_t(v >> 8));
            out.push_back(uint8_t(v));
        }
    out.insert(out.end(), f.begin() + 12, f.end());
    return out;
}

// The tags of a frame and the frame without them.
std::pair<std::vector<Tag>, Frame> untagged(const Frame& f) {
    std::vector<Tag> tags;
    size_t off = 12;
    while (off + 4 <= f.size() && (f[off] << 8 | f[off + 1]) != 0x0800) {
        tags.push_back({uint16_t(f[off] << 8 | f[off + 1]), uint16_t(f[off + 2] << 8 | f[off + 3])});
        off += 4;
    }
    Frame out(f.begin(), f.begin() + 12);
    out.insert(out.end(), f.begin() + long(off), f.end());
    return {tags, out};
}

Packet request(MessageType t, const Mac& mac, const std::string& vendor = "") {
    Packet p;
    p.xid = 0x7a9e0001;
    p.set_mac(mac);
    p.options.set_u8(opt::MessageType, uint8_t(t));
    const uint8_t prl[] = {1, 3, 6, 12, 15, 28, 66, 67};
    p.options.set(opt::ParamRequestList, prl);
    if (!vendor.empty()) {
        p.options.set_str(opt::VendorClass, vendor);
        p.options.set_u16(opt::ClientArch, 0);
        p.options.set(opt::ClientNdi, std::vector<uint8_t>{1, 2, 1});
    }
    return p;
}

Frame broadcast_frame(const Packet& p) {
    UdpEndpoints ep;
    ep.src_mac = p.mac();
    ep.dst_mac = *Mac::parse("ff:ff:ff:ff:ff:ff");
    ep.dst_ip = Ipv4(0xffffffff);
    ep.src_port = 68;
    ep.dst_port = 67;
    return build_udp_frame(ep, serialize(p));
}

class XdpVlan : public pxed::test::XdpTest {
protected:
    void SetUp() override {
        XdpTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        auto c = config::parse_toml(kConfig, "vlan.toml");
        ASSERT_TRUE(c.ok()) << c.error();
        cfg_ = std::move(c.value());
        bpf::IfaceView iv{"trunk0", 7, kTrunkMac, kTrunkIp, {}};
        iv.vlans = {{100, 0, "trunk0.100", kVlan100Mac, kVlan100Ip},
                    {300, 30, "trunk0.300.30", kQinqMac, kQinqIp},
                    {200, 0, "trunk0.200", kProxyMac, kProxyIp}};
        auto rep = bpf::sync_maps(*prog_, cfg_, iv, bpf::RateLimit{});
        ASSERT_TRUE(rep.ok()) << rep.error();
        ASSERT_EQ(rep->vlans, 3u);
        ASSERT_TRUE(rep->proxy);
        engine_ = std::make_unique<Engine>(cfg_);
    }

    // The kernel answers `req`, sent with `tags`, as the daemon on the
    // device with `our_ip`/`our_mac` does, with the same tags in front.
    void expect_answer(const Packet& req, const std::vector<Tag>& tags, Ipv4 our_ip, const Mac& our_mac,
                       MessageType want) {
        SCOPED_TRACE(::testing::Message() << to_string(*req.message_type()) << " from " << req.mac().str() << " with "
                                          << tags.size() << " tags");
        auto k = run(tagged(broadcast_frame(req), tags));
        ASSERT_EQ(k.verdict, uint32_t(XDP_TX)) << "kernel passed; stats: " << stats_line();
        auto [out_tags, plain] = untagged(k.out);
        ASSERT_EQ(out_tags.size(), tags.size());
        for (size_t i = 0; i < tags.size(); i++) {
            EXPECT_EQ(out_tags[i].tpid, tags[i].tpid) << "tag " << i;
            EXPECT_EQ(out_tags[i].tci, tags[i].tci) << "tag " << i << " (priority and id kept)";
        }
        auto d = engine_->handle(req, RxInfo{our_ip}, 1000);
        ASSERT_TRUE(d.reply) << d.note;
        ASSERT_EQ(d.reply->packet.message_type(), want);
        auto f = parse_udp_frame(plain);
        ASSERT_TRUE(f);
        EXPECT_TRUE(f->ip_checksum_ok);
        EXPECT_TRUE(f->udp_checksum_ok);
        EXPECT_EQ(std::vector<uint8_t>(f->payload.begin(), f->payload.end()), encode(*d.reply))
            << "the kernel's reply differs from the daemon's on the VLAN device";
        EXPECT_EQ(f->ep.src_ip, our_ip);
        EXPECT_EQ(f->ep.src_mac, our_mac);
        EXPECT_EQ(f->ep.dst_ip, d.reply->dst_ip);
    }

    // Passed with `reason`, and the frame leaves exactly as it came.
    void expect_passed_intact(const Frame& frame, pxed_stat reason) {
        auto before = stat(reason);
        auto k = run(frame);
        EXPECT_EQ(k.verdict, uint32_t(XDP_PASS)) << stats_line();
        EXPECT_EQ(stat(reason), before + 1) << stats_line();
        EXPECT_EQ(k.out, frame) << "a passed frame must keep its tags";
    }

    config::Config cfg_;
    std::unique_ptr<Engine> engine_;
};

Packet selecting(const Mac& mac, Ipv4 want, Ipv4 server) {
    auto r = request(MessageType::Request, mac);
    r.options.set_ip(opt::ServerId, server);
    r.options.set_ip(opt::RequestedIp, want);
    return r;
}

}  // namespace

TEST_F(XdpVlan, TaggedAndQinqRequestsAreAnsweredFromTheirVlanWithTheTagsKept) {
    // 802.1Q, priority 5: the VLAN 100 subnet's address, from trunk0.100.
    std::vector<Tag> q100{{kQ, 0xa000 | 100}};
    expect_answer(request(MessageType::Discover, kOnVlan100), q100, kVlan100Ip, kVlan100Mac, MessageType::Offer);
    expect_answer(selecting(kOnVlan100, Ipv4(10, 100, 0, 10), kVlan100Ip), q100, kVlan100Ip, kVlan100Mac,
                  MessageType::Ack);
    // QinQ: an 802.1ad outer tag (and a switch that uses 0x8100 for both).
    for (uint16_t outer : {kAd, kQ}) {
        std::vector<Tag> qinq{{outer, 300}, {kQ, 30}};
        expect_answer(request(MessageType::Discover, kOnQinq), qinq, kQinqIp, kQinqMac, MessageType::Offer);
        expect_answer(selecting(kOnQinq, Ipv4(10, 230, 0, 10), kQinqIp), qinq, kQinqIp, kQinqMac, MessageType::Ack);
    }
    EXPECT_EQ(stat(PXED_STAT_RX_TAGGED), 6u);
}

TEST_F(XdpVlan, UntaggedClientOnTheTrunkIsServedFromTheTrunksSubnet) {
    expect_answer(request(MessageType::Discover, kNode10), {}, kTrunkIp, kTrunkMac, MessageType::Offer);
    expect_answer(selecting(kNode10, Ipv4(192, 0, 2, 10), kTrunkIp), {}, kTrunkIp, kTrunkMac, MessageType::Ack);
    EXPECT_EQ(stat(PXED_STAT_RX_TAGGED), 0u);
}

TEST_F(XdpVlan, ProxyVlanAnswersPxeClientsWithTheTag) {
    std::vector<Tag> q200{{kQ, 200}};
    expect_answer(request(MessageType::Discover, kStranger, "PXEClient:Arch:00000:UNDI:002001"), q200, kProxyIp,
                  kProxyMac, MessageType::Offer);
}

TEST_F(XdpVlan, EverythingPassedKeepsItsTags) {
    auto discover = [](const Mac& m) { return broadcast_frame(request(MessageType::Discover, m)); };
    // A VLAN the trunk does not serve.
    expect_passed_intact(tagged(discover(kOnVlan100), {{kQ, 999}}), PXED_STAT_PASS_VLAN);
    // Only the outer tag of a served QinQ pair.
    expect_passed_intact(tagged(discover(kOnQinq), {{kAd, 300}}), PXED_STAT_PASS_VLAN);
    // A served VLAN, then the daemon's: not reserved, or reserved on another subnet.
    expect_passed_intact(tagged(discover(kStranger), {{kQ, 100}}), PXED_STAT_PASS_NOT_RESERVED);
    expect_passed_intact(tagged(discover(kNode10), {{kQ, 0x2000 | 100}}), PXED_STAT_PASS_WRONG_SUBNET);
    expect_passed_intact(tagged(discover(kOnVlan100), {{kAd, 300}, {kQ, 30}}), PXED_STAT_PASS_WRONG_SUBNET);
    // The VLAN 100 client untagged: the trunk's own subnet is not its.
    expect_passed_intact(discover(kOnVlan100), PXED_STAT_PASS_WRONG_SUBNET);
    // An inner priority tag (VLAN 0) is no single tag.
    expect_passed_intact(tagged(discover(kStranger), {{kQ, 100}, {kQ, 0}}), PXED_STAT_PASS_VLAN);
    EXPECT_EQ(stat(PXED_STAT_DROP_VLAN_RESTORE), 0u);
}

TEST_F(XdpVlan, HostileTagsNeverGetAReply) {
    auto good = tagged(broadcast_frame(request(MessageType::Discover, kOnVlan100)), {{kQ, 100}});
    // Three tags.
    expect_passed_intact(tagged(broadcast_frame(request(MessageType::Discover, kOnVlan100)),
                                {{kAd, 300}, {kQ, 30}, {kQ, 100}}),
                         PXED_STAT_PASS_VLAN);
    // Cut inside the first and the second tag.
    expect_passed_intact(Frame(good.begin(), good.begin() + 16), PXED_STAT_PASS_MALFORMED);
    auto qinq = tagged(broadcast_frame(request(MessageType::Discover, kOnQinq)), {{kAd, 300}, {kQ, 30}});
    expect_passed_intact(Frame(qinq.begin(), qinq.begin() + 20), PXED_STAT_PASS_MALFORMED);
    // A served tag in front of something that is no request: passed with
    // its own reason, tags intact (ARP, a truncated IP header).
    auto arp = good;
    arp[16] = 0x08;
    arp[17] = 0x06;
    expect_passed_intact(arp, PXED_STAT_PASS_NOT_IPV4);
    expect_passed_intact(Frame(good.begin(), good.begin() + 30), PXED_STAT_PASS_MALFORMED);
    // Every cut of a tagged request: never XDP_TX, never dropped.
    for (size_t len = 14; len < good.size(); len += 7) {  // BPF_PROG_TEST_RUN takes a whole Ethernet header
        auto k = run(Frame(good.begin(), good.begin() + long(len)));
        EXPECT_EQ(k.verdict, uint32_t(XDP_PASS)) << "cut at " << len;
    }
    EXPECT_EQ(stat(PXED_STAT_DROP_VLAN_RESTORE), 0u);
}
