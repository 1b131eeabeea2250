// Option 82 (relay agent information, RFC 3046) in the kernel
// (BPF_PROG_TEST_RUN): a request carrying it is answered with it echoed as
// the reply's last option, relayed or inserted by a snooping switch
// (giaddr 0), and the kernel's DHCP message is the daemon's byte for byte
// (differential, as tests/bpf/xdp_fastpath_test.cpp).
#include "relay_fixture.h"

using namespace pxed;
using namespace pxed::dhcp;
using namespace relay_test;
using pxed::test::Frame;

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
