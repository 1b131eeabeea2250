// Hostile DHCPv6 frames against the kernel path (BPF_PROG_TEST_RUN): every
// truncation, lengths that run past the end, empty options, a DUID too long,
// extension headers, wrong ports and addresses, no checksum, random
// mutations. The rule for every one: XDP_PASS with the frame untouched, or
// XDP_TX with exactly the reply Engine6 gives the same message; never
// anything else, never a crash.
#include <random>

#include "bpf/dhcp6_fixture.h"

using namespace pxed;
using namespace pxed::test6;
using dhcp6::MsgType;
namespace opt = dhcp6::opt;

namespace {

const Mac kByMac = *Mac::parse("52:54:00:00:66:0a");
const Mac kMulticast = *Mac::parse("33:33:00:01:00:02");
const std::vector<uint8_t> kDuid = {0, 2, 0, 0, 0x01, 0x37, 0xde, 0xad, 0xbe, 0xef};

Wire6 wire() { return Wire6{kByMac, kMulticast, eui64_link_local(kByMac)}; }

Msg6 good() {
    Msg6 m;
    m.duid = kDuid;
    m.oro = {opt::DnsServers, opt::BootfileUrl};
    m.arch = 7;
    m.vendor = {"PXEClient:Arch:00007:UNDI:003016"};
    m.user = {"iPXE"};
    return m;
}

class Dhcp6Hostile : public Dhcp6Xdp {
protected:
    // XDP_PASS untouched, or XDP_TX with the engine's reply to `payload`.
    void expect_never_wrong(const std::vector<uint8_t>& payload, const Wire6& w = wire()) {
        auto f = frame6(w, payload);
        auto k = run(f);
        if (k.verdict == XDP_PASS) {
            EXPECT_EQ(k.out, f) << "a passed frame was changed";
            return;
        }
        ASSERT_STREQ(pxed::test::verdict_name(k.verdict), "XDP_TX") << stats_line();
        dhcp6::Engine6 e(cfg_, server_duid(), kHttpPort);
        dhcp6::Request r{payload, w.src, w.dst, &link_};
        auto d = e.handle(r, 1000);
        ASSERT_EQ(d.out, MsgType::Reply) << "the kernel answered what the daemon " << to_string(d.drop) << "s";
        auto rep = parse_reply6(k.out);
        ASSERT_TRUE(rep);
        EXPECT_EQ(rep->payload, d.reply);
        EXPECT_TRUE(rep->checksum_ok);
        answered_++;
    }
    int answered_ = 0;
};

}  // namespace

TEST_F(Dhcp6Hostile, TheGoodFrameIsAnswered) {
    expect_same(good(), kByMac);
}

TEST_F(Dhcp6Hostile, EveryTruncationOfTheFrameIsPassed) {
    auto f = frame6(wire(), good().bytes());
    // From an Ethernet header on: BPF_PROG_TEST_RUN refuses shorter frames
    // (as a driver never hands one to XDP).
    for (size_t n = 14; n < f.size(); n++) {
        SCOPED_TRACE(n);
        Frame cut(f.begin(), f.begin() + long(n));
        auto k = run(cut);
        EXPECT_STREQ(pxed::test::verdict_name(k.verdict), "XDP_PASS");
        EXPECT_EQ(k.out, cut);
    }
}

TEST_F(Dhcp6Hostile, EveryTruncationOfTheMessageWithLengthsThatAddUp) {
    auto p = good().bytes();
    for (size_t n = 0; n < p.size(); n++) {
        SCOPED_TRACE(n);
        expect_never_wrong(std::vector<uint8_t>(p.begin(), p.begin() + long(n)));
    }
}

TEST_F(Dhcp6Hostile, AnOptionLengthRunningPastTheEndIsMalformed) {
    auto p = good().bytes();
    for (size_t at = 4; at + 4 <= p.size();) {
        size_t len = size_t(p[at + 2] << 8 | p[at + 3]);
        for (size_t extra : {size_t(1), size_t(2), size_t(300), size_t(0xffff) - len}) {
            SCOPED_TRACE(::testing::Message() << "option at " << at << " +" << extra);
            auto q = p;
            size_t l = std::min<size_t>(len + extra, 0xffff);
            q[at + 2] = uint8_t(l >> 8);
            q[at + 3] = uint8_t(l);
            if (at + 4 + l <= q.size()) continue;  // still inside: another message, not this case
            expect_pass6(frame6(wire(), q), PXED_STAT_PASS6_MALFORMED);
        }
        at += 4 + len;
    }
}

TEST_F(Dhcp6Hostile, EmptyOptions) {
    for (uint16_t code : {opt::ClientId, opt::ServerId, opt::IaNa, opt::IaTa, opt::Oro, opt::RapidCommit, opt::UserClass,
                          opt::VendorClass, opt::ClientArch, opt::IaPd, opt::ElapsedTime, uint16_t(99)}) {
        SCOPED_TRACE(code);
        auto m = good();
        m.raw = {{code, {}}};
        expect_never_wrong(m.bytes());
    }
    // An empty ORO, user class, vendor class entry: still a request the daemon answers.
    auto m = good();
    m.oro = {};
    m.raw = {{opt::Oro, {}}};
    expect_same(m, kByMac);
    m = good();
    m.user = {""};
    m.vendor = {"", "HTTPClient"};
    expect_same(m, kByMac);
}

TEST_F(Dhcp6Hostile, DuidsAtAndPastTheLimits) {
    for (size_t n : {1, 2, 31, 32, 33, 130, 131, 300}) {
        SCOPED_TRACE(n);
        auto m = good();
        m.duid.assign(n, 0x42);
        expect_never_wrong(m.bytes());
    }
    auto m = good();
    m.duid.assign(130, 0x42);
    expect_pass6(frame6(wire(), m.bytes()), PXED_STAT_PASS6_UNSURE);
    m.duid.assign(131, 0x42);
    expect_pass6(frame6(wire(), m.bytes()), PXED_STAT_PASS6_MALFORMED);
    m.duid.assign(1, 0x42);
    expect_pass6(frame6(wire(), m.bytes()), PXED_STAT_PASS6_MALFORMED);
}

TEST_F(Dhcp6Hostile, HeadersTheProgramDoesNotAnswer) {
    auto p = good().bytes();
    // An extension header (hop-by-hop, then a fragment header) before UDP.
    for (uint8_t ext : {0, 44, 60}) {
        auto f = frame6(wire(), p);
        std::vector<uint8_t> hdr = {17, 0, 0, 0, 0, 0, 0, 0};
        f.insert(f.begin() + 54, hdr.begin(), hdr.end());
        f[20] = ext;
        size_t plen = f.size() - 54;
        f[18] = uint8_t(plen >> 8);
        f[19] = uint8_t(plen);
        expect_pass6(f, PXED_STAT_PASS_NOT_IPV4);
    }
    auto w = wire();
    w.dport = 548;
    expect_pass6(frame6(w, p), PXED_STAT_PASS_NOT_IPV4);
    for (uint16_t sport : {547, 1000}) {
        w = wire();
        w.sport = sport;
        expect_pass6(frame6(w, p), PXED_STAT_PASS6_NOT_LINK);
    }
    w = wire();
    w.src = *Ipv6::parse("fd00:6::99");  // not link-local
    expect_pass6(frame6(w, p), PXED_STAT_PASS6_NOT_LINK);
    w = wire();
    w.dst = kServerAddr;  // unicast
    expect_pass6(frame6(w, p), PXED_STAT_PASS6_NOT_LINK);
    w = wire();
    w.dst = *Ipv6::parse("ff02::1:3");
    expect_pass6(frame6(w, p), PXED_STAT_PASS6_NOT_LINK);
    w = wire();
    w.dst_mac = *Mac::parse("02:00:00:00:00:99");  // another host's frame, seen promiscuously
    expect_pass6(frame6(w, p), PXED_STAT_PASS_NOT_FOR_US);
    w.dst_mac = kServerMac;  // ours: our stack takes it in
    expect_never_wrong(p, w);
    EXPECT_EQ(answered_, 1);

    // No checksum (zero): not allowed in IPv6, the kernel's UDP drops it.
    auto f = frame6(wire(), p);
    f[60] = f[61] = 0;
    expect_pass6(f, PXED_STAT_PASS6_CHECKSUM);
    // Another checksum is not verified: a veth or a virtio guest leaves the
    // sum to offload (the field holds the pseudo header's), which the
    // kernel's UDP accepts.
    f = frame6(wire(), p);
    f[60] ^= 0x01;
    EXPECT_STREQ(pxed::test::verdict_name(run(f).verdict), "XDP_TX");
    f = frame6(wire(), p);
    f[14] = 0x40;  // IP version 4 in an IPv6 frame
    expect_pass6(f, PXED_STAT_PASS_NOT_IPV4);
    f = frame6(wire(), p);
    f[19] += 1;  // the IPv6 payload runs past the frame
    expect_pass6(f, PXED_STAT_PASS6_MALFORMED);
    f = frame6(wire(), p);
    f[59] += 1;  // the UDP length runs past the IPv6 payload
    expect_pass6(f, PXED_STAT_PASS6_MALFORMED);
}

// Bytes after the UDP datagram inside the IPv6 payload (the kernel's UDP
// trims them), and Ethernet padding after the packet: the message is the
// UDP length's.
TEST_F(Dhcp6Hostile, TrailingBytesAreNotPartOfTheMessage) {
    auto p = good().bytes();
    auto f = frame6(wire(), p);
    f.insert(f.end(), {0xde, 0xad, 0xbe, 0xef});
    size_t plen = f.size() - 54;
    f[18] = uint8_t(plen >> 8);
    f[19] = uint8_t(plen);
    auto k = run(f);
    ASSERT_STREQ(pxed::test::verdict_name(k.verdict), "XDP_TX") << stats_line();
    EXPECT_EQ(parse_reply6(k.out)->payload, engine_reply(good(), eui64_link_local(kByMac)).reply);
    f = frame6(wire(), p);
    f.insert(f.end(), 20, 0);  // Ethernet padding
    k = run(f);
    ASSERT_STREQ(pxed::test::verdict_name(k.verdict), "XDP_TX") << stats_line();
    EXPECT_EQ(parse_reply6(k.out)->payload, engine_reply(good(), eui64_link_local(kByMac)).reply);
}

// Random mutations of a good message (the frame's lengths and checksum
// right): bytes changed, inserted, removed. A fixed seed: the same frames
// every run.
TEST_F(Dhcp6Hostile, RandomMutationsAreAnsweredRightOrPassed) {
    std::mt19937 rng(20240612);
    auto base = good();
    base.type = MsgType::Request;
    base.server_id = server_duid();
    base.rapid = false;
    for (const auto& seed : {good().bytes(), base.bytes()}) {
        for (int i = 0; i < 1500; i++) {
            auto p = seed;
            int edits = 1 + int(rng() % 3);
            for (int e = 0; e < edits; e++) {
                size_t at = rng() % p.size();
                switch (rng() % 4) {
                case 0: p[at] = uint8_t(rng()); break;
                case 1: p[at] ^= uint8_t(1u << (rng() % 8)); break;
                case 2: p.insert(p.begin() + long(at), uint8_t(rng())); break;
                default:
                    if (p.size() > 1) p.erase(p.begin() + long(at));
                }
            }
            SCOPED_TRACE(i);
            expect_never_wrong(p);
            if (HasFatalFailure()) return;
        }
    }
    EXPECT_GT(answered_, 0) << "no mutation left a message the daemon answers: the test tests nothing";
}
