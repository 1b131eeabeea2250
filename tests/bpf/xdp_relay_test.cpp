// Option 82 (relay agent information, RFC 3046) in the kernel
// (BPF_PROG_TEST_RUN): a request carrying it is answered with it echoed as
// the reply's last option, relayed or inserted by a snooping switch
// (giaddr 0), and the kernel's DHCP message is the daemon's byte for byte
// (differential, as tests/bpf/xdp_fastpath_test.cpp).
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include "bpf/map_sync.h"
#include "bpf/xdp_program.h"
#include "config/config.h"
#include "dhcp/engine.h"
#include "dhcp/frame.h"
#include "dhcp/packet.h"
#include "support/bpf_run.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::dhcp;
using pxed::test::Frame;

namespace {

namespace toml = pxed::test::toml;
// node10 has a host name (option 12 before option 82), node11 none: option
// 82 then starts at an even and at an odd offset or the other way round.
const std::string kBase =
    toml::server("test0") +
    toml::lan_subnet("192.0.2.200", "dns = [\"192.0.2.53\"]\nlease-time = 600\nboot = { bios = \"pxelinux.0\" }\n") +
    toml::relayed_subnet("198.51.100.100", "198.51.100.200",
                         "server-ip = \"198.51.100.1\"\nboot = { bios = \"relayed.0\" }\n") +
    toml::node10() + toml::reservation("52:54:00:00:00:0b", "192.0.2.11") +
    toml::reservation("52:54:00:00:00:0c", "198.51.100.12", "hostname = \"remote12\"\n") +
    toml::reservation("52:54:00:00:00:0d", "198.51.100.13");

const Mac kServerMac = *Mac::parse("02:00:00:00:00:01");
const Ipv4 kServerIp(192, 0, 2, 1);
const Mac kRelayMac = *Mac::parse("02:00:00:00:00:99");
const Ipv4 kGiaddr(198, 51, 100, 1);
const Mac kNode10 = *Mac::parse("52:54:00:00:00:0a");
const Mac kNode11 = *Mac::parse("52:54:00:00:00:0b");
const Mac kRemote12 = *Mac::parse("52:54:00:00:00:0c");
const Mac kRemote13 = *Mac::parse("52:54:00:00:00:0d");
const Mac kBroadcast = *Mac::parse("ff:ff:ff:ff:ff:ff");

// Sub-options 1 (circuit id) and 2 (remote id), as a switch sends them.
std::vector<uint8_t> agent(std::string_view circuit, std::string_view remote = {}) {
    std::vector<uint8_t> v;
    auto add = [&](uint8_t code, std::string_view s) {
        if (s.empty()) return;
        v.push_back(code);
        v.push_back(uint8_t(s.size()));
        v.insert(v.end(), s.begin(), s.end());
    };
    add(1, circuit);
    add(2, remote);
    return v;
}

Packet request(MessageType t, const Mac& mac, Ipv4 giaddr, std::vector<uint8_t> o82) {
    Packet p;
    p.xid = 0x5566;
    p.set_mac(mac);
    p.giaddr = giaddr;
    p.hops = giaddr.is_zero() ? 0 : 1;
    p.options.set_u8(opt::MessageType, uint8_t(t));
    const uint8_t prl[] = {1, 3, 6, 12, 15, 28, 66, 67};
    p.options.set(opt::ParamRequestList, prl);
    p.options.set(opt::RelayAgentInfo, std::move(o82));
    return p;
}

Packet selecting(const Mac& mac, Ipv4 giaddr, Ipv4 want, Ipv4 server, std::vector<uint8_t> o82) {
    auto r = request(MessageType::Request, mac, giaddr, std::move(o82));
    r.options.set_ip(opt::ServerId, server);
    r.options.set_ip(opt::RequestedIp, want);
    return r;
}

Frame frame_of(const Packet& p, const std::vector<uint8_t>* payload = nullptr) {
    bool relayed = !p.giaddr.is_zero();
    UdpEndpoints ep;
    ep.src_mac = relayed ? kRelayMac : p.mac();
    ep.dst_mac = relayed ? kServerMac : kBroadcast;
    ep.src_ip = relayed ? p.giaddr : p.ciaddr;
    ep.dst_ip = relayed ? kServerIp : Ipv4(0xffffffff);
    ep.src_port = relayed ? 67 : 68;
    ep.dst_port = 67;
    return build_udp_frame(ep, payload ? *payload : serialize(p));
}

class XdpRelay : public pxed::test::XdpTest {
protected:
    void load(const std::string& text) {
        auto c = config::parse_toml(text, "relay.toml");
        ASSERT_TRUE(c.ok()) << c.error();
        cfg_ = std::move(c.value());
        bpf::IfaceView iv{"test0", 7, kServerMac, kServerIp};
        auto rep = bpf::sync_maps(*prog_, cfg_, iv, bpf::RateLimit{});
        ASSERT_TRUE(rep.ok()) << rep.error();
        engine_ = std::make_unique<Engine>(cfg_);
    }
    void SetUp() override {
        XdpTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        load(kBase);
    }

    // The kernel answers `req` with the daemon's DHCP message, option 82
    // included, to the daemon's destination.
    void expect_same_answer(const Packet& req, MessageType want, const Frame* frame_in = nullptr) {
        SCOPED_TRACE(::testing::Message() << to_string(*req.message_type()) << " from " << req.mac().str()
                                          << " giaddr " << req.giaddr.str());
        auto k = run(frame_in ? *frame_in : frame_of(req));
        ASSERT_EQ(k.verdict, uint32_t(XDP_TX)) << "kernel passed; stats: " << stats_line();
        auto d = engine_->handle(req, RxInfo{kServerIp}, 1000);
        ASSERT_TRUE(d.reply) << d.note;
        ASSERT_EQ(d.reply->packet.message_type(), want);
        auto f = parse_udp_frame(k.out);
        ASSERT_TRUE(f);
        EXPECT_TRUE(f->ip_checksum_ok);
        EXPECT_TRUE(f->udp_checksum_ok);
        std::vector<uint8_t> kernel_bytes(f->payload.begin(), f->payload.end());
        EXPECT_EQ(kernel_bytes, encode(*d.reply)) << "the kernel's DHCP message differs from the daemon's";
        auto kp = parse(kernel_bytes);
        ASSERT_TRUE(kp.ok());
        auto* echoed = kp->options.find(opt::RelayAgentInfo);
        auto* sent = req.options.find(opt::RelayAgentInfo);
        ASSERT_TRUE(echoed && sent);
        EXPECT_EQ(echoed->data, sent->data);
        EXPECT_EQ(f->ep.dst_ip, d.reply->dst_ip);
        EXPECT_EQ(f->ep.dst_port, d.reply->dst_port);
        EXPECT_EQ(f->ep.dst_mac, d.reply->dest == Dest::Relay      ? kRelayMac
                                 : d.reply->dest == Dest::Broadcast ? kBroadcast
                                                                    : req.mac());
    }

    config::Config cfg_;
    std::unique_ptr<Engine> engine_;
};

}  // namespace

TEST_F(XdpRelay, RelayedRequestsWithOption82AreAnsweredWithItEchoed) {
    // remote12 has a host name, remote13 none; odd and even lengths of
    // option 82 put it and the end option at both parities.
    for (auto& o82 : {agent("eth0/1"), agent("eth0/12"), agent("sw1:ge-0/0/7.0", "sw1")}) {
        for (const Mac& m : {kRemote12, kRemote13}) {
            Ipv4 ip = m == kRemote12 ? Ipv4(198, 51, 100, 12) : Ipv4(198, 51, 100, 13);
            expect_same_answer(request(MessageType::Discover, m, kGiaddr, o82), MessageType::Offer);
            expect_same_answer(selecting(m, kGiaddr, ip, kGiaddr, o82), MessageType::Ack);
        }
    }
    EXPECT_EQ(stat(PXED_STAT_TX_OFFER), 6u);
    EXPECT_EQ(stat(PXED_STAT_TX_ACK), 6u);
    EXPECT_EQ(stat(PXED_STAT_PASS_RELAY_AGENT), 0u);
}

TEST_F(XdpRelay, SnoopedRequestsWithOption82AreAnsweredWithItEchoed) {
    // A DHCP-snooping switch inserts option 82 and leaves giaddr 0.
    for (auto& o82 : {agent("port7"), agent("port12", "switch-a")}) {
        expect_same_answer(request(MessageType::Discover, kNode10, Ipv4(), o82), MessageType::Offer);
        expect_same_answer(request(MessageType::Discover, kNode11, Ipv4(), o82), MessageType::Offer);
        expect_same_answer(selecting(kNode10, Ipv4(), Ipv4(192, 0, 2, 10), kServerIp, o82), MessageType::Ack);
        expect_same_answer(selecting(kNode11, Ipv4(), Ipv4(192, 0, 2, 11), kServerIp, o82), MessageType::Ack);
    }
}

TEST_F(XdpRelay, UpTo64BytesOfOption82AreEchoedLongerIsPassed) {
    std::vector<uint8_t> max(64, 'a'), over(65, 'a');
    max[0] = 1, max[1] = 62;
    over[0] = 1, over[1] = 63;
    expect_same_answer(request(MessageType::Discover, kRemote12, kGiaddr, max), MessageType::Offer);
    expect_pass(frame_of(request(MessageType::Discover, kRemote12, kGiaddr, over)), PXED_STAT_PASS_RELAY_AGENT);
    // The daemon answers that one, and echoes it.
    auto d = engine_->handle(request(MessageType::Discover, kRemote12, kGiaddr, over), RxInfo{kServerIp}, 1000);
    ASSERT_TRUE(d.reply) << d.note;
    EXPECT_EQ(d.reply->packet.options.find(opt::RelayAgentInfo)->data, over);
}

TEST_F(XdpRelay, RelayedFromAnotherSubnetIsPassed) {
    // node10 is reserved on 192.0.2.0/24; its request relayed from 198.51.100.1.
    expect_pass(frame_of(request(MessageType::Discover, kNode10, kGiaddr, agent("eth0/1"))),
                PXED_STAT_PASS_WRONG_SUBNET);
    // remote12 asked directly on 192.0.2.0/24, with a snooping switch's option 82.
    expect_pass(frame_of(request(MessageType::Discover, kRemote12, Ipv4(), agent("port7"))),
                PXED_STAT_PASS_WRONG_SUBNET);
}

// The program echoes option 82's bytes as they came, as the daemon does,
// whatever its sub-options say; an option 82 that runs past the packet is
// malformed; a cut frame is never answered.
TEST_F(XdpRelay, HostileOption82IsNeverAnsweredWrongly) {
    const std::vector<std::vector<uint8_t>> odd = {
        {},                          // zero length
        {1, 200, 'x', 'y'},          // a sub-option running past the option
        {1, 0},                      // an empty circuit id
        {0, 0, 0},                   // sub-option code 0
        {1, 3, 'a', 'b'},            // one byte short
        std::vector<uint8_t>(64, 0xff),
    };
    for (auto& o82 : odd) {
        SCOPED_TRACE(o82.size());
        expect_same_answer(request(MessageType::Discover, kRemote13, kGiaddr, o82), MessageType::Offer);
        expect_same_answer(request(MessageType::Discover, kNode10, Ipv4(), o82), MessageType::Offer);
    }
    // Option 82's length byte past the UDP payload: malformed, passed.
    auto req = request(MessageType::Discover, kRemote12, kGiaddr, agent("eth0/1"));
    auto bytes = serialize(req);
    size_t at = kMinMessageLen;
    while (bytes[at] != opt::RelayAgentInfo) at += 2 + bytes[at + 1];
    auto past = bytes;
    past[at + 1] = uint8_t(bytes.size() - at);  // runs past the end of the message
    expect_pass(frame_of(req, &past), PXED_STAT_PASS_MALFORMED);
    // Two option 82s (RFC 3396 concatenation): the daemon's to join.
    auto twice = bytes;
    twice.insert(twice.begin() + long(kMinMessageLen), {opt::RelayAgentInfo, 2, 1, 0});
    twice.resize(bytes.size());
    expect_pass(frame_of(req, &twice), PXED_STAT_PASS_UNSURE);
    // Cut at every offset: never a reply.
    auto good = frame_of(req);
    ASSERT_EQ(run(good).verdict, uint32_t(XDP_TX));
    for (size_t n = 14; n < good.size(); n++)
        EXPECT_EQ(run(Frame(good.begin(), good.begin() + long(n))).verdict, uint32_t(XDP_PASS)) << "cut at " << n;
}

// A class that tests option 82 makes the blobs (rendered for a request
// without it) the wrong answer to one with it: such requests are passed.
TEST_F(XdpRelay, AClassTestingOption82KeepsSuchRequestsInTheDaemon) {
    load(kBase + "\n[[class]]\nname = \"rack\"\nmatch = { circuit-id = \"rack1\" }\nboot-file = \"rack.0\"\n");
    auto rack = request(MessageType::Discover, kRemote12, kGiaddr, agent("rack1"));
    expect_pass(frame_of(rack), PXED_STAT_PASS_RELAY_AGENT);
    auto d = engine_->handle(rack, RxInfo{kServerIp}, 1000);
    ASSERT_TRUE(d.reply) << d.note;
    EXPECT_EQ(d.reply->packet.file_str(), "rack.0");
    // Without option 82 the kernel still answers.
    auto plain = rack;
    plain.options.erase(opt::RelayAgentInfo);
    EXPECT_EQ(run(frame_of(plain)).verdict, uint32_t(XDP_TX));
}

// The kernel's reply stays within the 548 bytes every client accepts: when
// option 82 would take it past them the daemon fits the reply (dropping
// options), so the program passes.
TEST_F(XdpRelay, Option82ThatWouldOutgrowTheReplyIsPassed) {
    std::string dns = "dns = [";
    for (int i = 1; i <= 55; i++) dns += (i > 1 ? ", " : "") + std::string("\"198.51.100.") + std::to_string(i) + "\"";
    dns += "]\n";
    load(toml::server("test0") + toml::lan_subnet("192.0.2.200", "") +
         toml::relayed_subnet("198.51.100.100", "198.51.100.200", "server-ip = \"198.51.100.1\"\n" + dns) +
         toml::reservation("52:54:00:00:00:0d", "198.51.100.13"));
    expect_same_answer(request(MessageType::Discover, kRemote13, kGiaddr, agent("p1")), MessageType::Offer);
    std::vector<uint8_t> big(64, 'b');
    big[0] = 1, big[1] = 62;
    expect_pass(frame_of(request(MessageType::Discover, kRemote13, kGiaddr, big)), PXED_STAT_PASS_RELAY_AGENT);
    auto d = engine_->handle(request(MessageType::Discover, kRemote13, kGiaddr, big), RxInfo{kServerIp}, 1000);
    ASSERT_TRUE(d.reply);
    EXPECT_LE(encode(*d.reply).size(), 548u);
}
