// The XDP fast path in the kernel (BPF_PROG_TEST_RUN): verdicts for every
// case, and for XDP_TX the whole reply frame, checked field by field and
// against the daemon's own reply to the same request (differential).
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include "bpf/blob.h"
#include "bpf/map_sync.h"
#include "bpf/xdp_program.h"
#include "config/config.h"
#include "dhcp/engine.h"
#include "dhcp/frame.h"
#include "dhcp/packet.h"
#include "support/bpf_run.h"
#include "support/netns.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::dhcp;
using pxed::test::Frame;
using pxed::test::mutated;

namespace {

namespace toml = pxed::test::toml;
const std::string kConfig =
    toml::server("test0") +
    toml::lan_subnet("192.0.2.200",
                     "dns = [\"192.0.2.53\", \"192.0.2.54\"]\n"
                     "domain = \"lab.test\"\n"
                     "lease-time = 600\n" + toml::boot4("pxelinux.0", "bootnetx64.efi",
                                                        "http://192.0.2.1/boot/bootx64.efi",
                                                        "http://192.0.2.1/boot.ipxe")) +
    toml::relayed_subnet("198.51.100.100", "198.51.100.200",
                         "server-ip = \"198.51.100.1\"\nboot = { bios = \"relayed.0\" }\n") +
    toml::node10() + toml::reservation("52:54:00:00:00:0b", "192.0.2.11", "lease-time = \"infinite\"\n") +
    toml::reservation("52:54:00:00:00:0c", "198.51.100.12", "hostname = \"remote12\"\n");

const Mac kServerMac = *Mac::parse("02:00:00:00:00:01");
const Ipv4 kServerIp(192, 0, 2, 1);
const Mac kRelayMac = *Mac::parse("02:00:00:00:00:99");
const Mac kResvA = *Mac::parse("52:54:00:00:00:0a");
const Mac kResvB = *Mac::parse("52:54:00:00:00:0b");
const Mac kResvRemote = *Mac::parse("52:54:00:00:00:0c");
const Mac kStranger = *Mac::parse("52:54:00:00:00:77");
const Mac kOtherServerMac = *Mac::parse("02:00:00:00:00:02");
const Ipv4 kOtherServerIp(192, 0, 2, 2);
const Mac kBroadcast = *Mac::parse("ff:ff:ff:ff:ff:ff");

Packet request(MessageType t, const Mac& mac, uint32_t xid = 0x11223344) {
    Packet p;
    p.xid = xid;
    p.secs = 3;
    p.set_mac(mac);
    p.options.set_u8(opt::MessageType, uint8_t(t));
    const uint8_t prl[] = {1, 3, 6, 12, 15, 28, 66, 67};
    p.options.set(opt::ParamRequestList, prl);
    return p;
}

// Frame as a client (or, with giaddr, a relay) sends it.
std::vector<uint8_t> frame_of(const Packet& p, const std::vector<uint8_t>* payload = nullptr) {
    UdpEndpoints ep;
    bool relayed = !p.giaddr.is_zero();
    ep.src_mac = relayed ? kRelayMac : p.mac();
    ep.dst_mac = relayed ? kServerMac : kBroadcast;
    ep.src_ip = relayed ? p.giaddr : p.ciaddr;
    ep.dst_ip = relayed ? kServerIp : Ipv4(0xffffffff);
    ep.src_port = relayed ? 67 : 68;
    ep.dst_port = 67;
    auto bytes = payload ? *payload : serialize(p);
    return build_udp_frame(ep, bytes);
}

class FastPath : public pxed::test::XdpTest {
protected:
    void SetUp() override {
        XdpTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        auto c = config::parse_toml(kConfig, "fastpath.toml");
        ASSERT_TRUE(c.ok()) << c.error();
        cfg_ = std::move(c.value());
        sync(0, 0);
        engine_ = std::make_unique<Engine>(cfg_);
    }

    void sync(uint32_t rate, uint32_t burst) {
        bpf::IfaceView iv{"test0", 7, kServerMac, kServerIp, {}};
        auto rep = bpf::sync_maps(*prog_, cfg_, iv, bpf::RateLimit{rate, burst});
        ASSERT_TRUE(rep.ok()) << rep.error();
        ASSERT_EQ(rep->reservations, 3u);
        ASSERT_EQ(rep->not_in_kernel, 0u);
    }

    // Runs `req` through the kernel and the daemon's engine; expects both to
    // answer, with the same DHCP bytes and the same destination.
    // `frame`: the request as sent, when not as frame_of(req) sends it.
    void expect_same_answer(const Packet& req, MessageType want, const Frame* frame_in = nullptr) {
        SCOPED_TRACE(::testing::Message() << "request " << to_string(*req.message_type()) << " from "
                                          << req.mac().str());
        auto frame = frame_in ? *frame_in : frame_of(req);
        auto k = run(frame);
        ASSERT_EQ(k.verdict, uint32_t(XDP_TX)) << "kernel passed; stats: " << stats_line();
        auto d = engine_->handle(req, RxInfo{kServerIp}, 1000);
        ASSERT_TRUE(d.reply) << d.note;
        ASSERT_EQ(d.reply->packet.message_type(), want);
        auto daemon_bytes = serialize(d.reply->packet);

        auto f = parse_udp_frame(k.out);
        ASSERT_TRUE(f) << "kernel reply is not an Ethernet/IPv4/UDP frame";
        EXPECT_TRUE(f->ip_checksum_ok);
        EXPECT_TRUE(f->udp_checksum_ok);
        EXPECT_EQ(k.out.size(), 14 + 20 + 8 + daemon_bytes.size());
        std::vector<uint8_t> kernel_bytes(f->payload.begin(), f->payload.end());
        EXPECT_EQ(kernel_bytes, daemon_bytes) << "the kernel's DHCP message differs from the daemon's";

        // Field by field, as a client reads them.
        auto kp = parse(kernel_bytes);
        ASSERT_TRUE(kp.ok());
        EXPECT_EQ(kp->op, 2);
        EXPECT_EQ(kp->xid, req.xid);
        EXPECT_EQ(kp->flags, req.flags);
        EXPECT_EQ(kp->giaddr, req.giaddr);
        EXPECT_EQ(kp->chaddr, req.chaddr);
        EXPECT_EQ(kp->hops, 0);
        EXPECT_EQ(kp->secs, 0);
        EXPECT_EQ(kp->message_type(), want);
        EXPECT_EQ(kp->yiaddr, d.reply->packet.yiaddr);
        EXPECT_EQ(kp->ciaddr, want == MessageType::Ack ? req.ciaddr : Ipv4());

        // Addressing: the daemon's destination rules.
        EXPECT_EQ(f->ep.src_mac, kServerMac);
        EXPECT_EQ(f->ep.src_ip, kServerIp);
        EXPECT_EQ(f->ep.src_port, 67);
        EXPECT_EQ(f->ep.dst_ip, d.reply->dst_ip);
        EXPECT_EQ(f->ep.dst_port, d.reply->dst_port);
        switch (d.reply->dest) {
        case Dest::Broadcast: EXPECT_EQ(f->ep.dst_mac, kBroadcast); break;
        case Dest::UnicastChaddr: EXPECT_EQ(f->ep.dst_mac, req.mac()); break;
        case Dest::UnicastCiaddr: EXPECT_EQ(f->ep.dst_mac, req.mac()); break;
        case Dest::Relay: EXPECT_EQ(f->ep.dst_mac, kRelayMac); break;
        }
    }

    config::Config cfg_;
    std::unique_ptr<Engine> engine_;
};

Packet selecting(const Mac& mac, Ipv4 want, Ipv4 server = kServerIp) {
    auto r = request(MessageType::Request, mac);
    r.options.set_ip(opt::ServerId, server);
    r.options.set_ip(opt::RequestedIp, want);
    return r;
}

}  // namespace

TEST_F(FastPath, DiscoverFromReservedMacGetsTheDaemonsOffer) {
    expect_same_answer(request(MessageType::Discover, kResvA), MessageType::Offer);
    auto bcast = request(MessageType::Discover, kResvA);
    bcast.flags = kFlagBroadcast;
    expect_same_answer(bcast, MessageType::Offer);
    expect_same_answer(request(MessageType::Discover, kResvB), MessageType::Offer);  // infinite lease
    EXPECT_EQ(stat(PXED_STAT_TX_OFFER), 3u);
}

TEST_F(FastPath, EveryClientProfileGetsItsBootFile) {
    // signature: arch_slot * 16 + vendor * 4 + iPXE * 2 + option 175
    // (include/pxed/profile.h), written out here so that a change to the
    // rule fails this table.
    struct Case {
        std::optional<uint16_t> arch;
        const char* vendor;
        const char* user_class;
        bool opt175;
        uint32_t signature;
        const char* file;
    } cases[] = {
        {std::nullopt, nullptr, nullptr, false, 64 * 16, "pxelinux.0"},
        {0, "PXEClient:Arch:00000:UNDI:002001", nullptr, false, 4, "pxelinux.0"},
        {7, "PXEClient:Arch:00007:UNDI:003016", nullptr, false, 7 * 16 + 4, "bootnetx64.efi"},
        {9, "PXEClient:Arch:00009:UNDI:003016", nullptr, false, 9 * 16 + 4, "bootnetx64.efi"},
        {16, "HTTPClient:Arch:00016:UNDI:003016", nullptr, false, 16 * 16 + 8, "http://192.0.2.1/boot/bootx64.efi"},
        {6, "PXEClient:Arch:00006:UNDI:003016", nullptr, false, 6 * 16 + 4, ""},
        {0, "PXEClient:Arch:00000:UNDI:002001", "iPXE", false, 6, "http://192.0.2.1/boot.ipxe"},
        {7, nullptr, "\x04iPXE", false, 7 * 16 + 2, "http://192.0.2.1/boot.ipxe"},
        {7, "PXEClient:Arch:00007:UNDI:003016", nullptr, true, 7 * 16 + 4 + 1, "http://192.0.2.1/boot.ipxe"},
        {0, "MSFT 5.0", "ab", false, 3 * 4, "pxelinux.0"},
        {300, nullptr, nullptr, false, 65 * 16, ""},
    };
    for (auto& c : cases) {
        SCOPED_TRACE(c.signature);
        auto d = request(MessageType::Discover, kResvA);
        if (c.arch) d.options.set_u16(opt::ClientArch, *c.arch);
        if (c.vendor) d.options.set_str(opt::VendorClass, c.vendor);
        if (c.user_class) d.options.set_str(opt::UserClass, c.user_class);
        if (c.opt175) d.options.set(175, std::vector<uint8_t>{0x13, 1, 1, 0xeb, 3, 1, 0, 0, 255});
        EXPECT_EQ(bpf::signature_of(d), c.signature);
        // The synthetic request of a signature has that signature: the
        // blob rendered from it is the daemon's reply to the real one.
        EXPECT_EQ(bpf::signature_of(bpf::synthetic_request(bpf::view_of_signature(c.signature))), c.signature);
        expect_same_answer(d, MessageType::Offer);
        auto k = run(frame_of(d));
        auto f = parse_udp_frame(k.out);
        ASSERT_TRUE(f);
        auto kp = parse(std::vector<uint8_t>(f->payload.begin(), f->payload.end()));
        ASSERT_TRUE(kp.ok());
        EXPECT_EQ(kp->options.get_str(opt::BootfileName).value_or(""), c.file);
    }
}

TEST_F(FastPath, RequestsForTheReservedAddressGetTheDaemonsAck) {
    expect_same_answer(selecting(kResvA, Ipv4(192, 0, 2, 10)), MessageType::Ack);  // SELECTING
    auto reboot = request(MessageType::Request, kResvA);                            // INIT-REBOOT
    reboot.options.set_ip(opt::RequestedIp, Ipv4(192, 0, 2, 10));
    expect_same_answer(reboot, MessageType::Ack);
    auto renew = request(MessageType::Request, kResvA);  // RENEWING: unicast to ciaddr
    renew.ciaddr = Ipv4(192, 0, 2, 10);
    expect_same_answer(renew, MessageType::Ack);
    auto rebind = renew;  // REBINDING: broadcast flag
    rebind.flags = kFlagBroadcast;
    expect_same_answer(rebind, MessageType::Ack);
    EXPECT_EQ(stat(PXED_STAT_TX_ACK), 4u);
}

TEST_F(FastPath, RelayedRequestsGoBackToTheRelay) {
    auto d = request(MessageType::Discover, kResvRemote);
    d.giaddr = Ipv4(198, 51, 100, 1);
    d.hops = 1;
    expect_same_answer(d, MessageType::Offer);
    auto r = selecting(kResvRemote, Ipv4(198, 51, 100, 12), Ipv4(198, 51, 100, 1));
    r.giaddr = Ipv4(198, 51, 100, 1);
    expect_same_answer(r, MessageType::Ack);
    // With option 82, relayed or from a snooping switch: xdp_relay_test.cpp.
    // Relayed from another subnet than the reservation's.
    auto wrong = request(MessageType::Discover, kResvA);
    wrong.giaddr = Ipv4(198, 51, 100, 1);
    expect_pass(frame_of(wrong), PXED_STAT_PASS_WRONG_SUBNET);
    // A reservation of another subnet, asked directly on this one.
    expect_pass(frame_of(request(MessageType::Discover, kResvRemote)), PXED_STAT_PASS_WRONG_SUBNET);
}

TEST_F(FastPath, EverythingElseGoesUpToTheDaemon) {
    expect_pass(frame_of(request(MessageType::Discover, kStranger)), PXED_STAT_PASS_NOT_RESERVED);
    // A reserved MAC asking for another address: the daemon NAKs.
    auto other = selecting(kResvA, Ipv4(192, 0, 2, 150));
    expect_pass(frame_of(other), PXED_STAT_PASS_REQUESTED_IP);
    auto d = engine_->handle(other, RxInfo{kServerIp}, 1000);
    ASSERT_TRUE(d.reply);
    EXPECT_EQ(d.reply->packet.message_type(), MessageType::Nak);
    expect_pass(frame_of(selecting(kResvA, Ipv4(192, 0, 2, 10), Ipv4(192, 0, 2, 2))), PXED_STAT_PASS_OTHER_SERVER);
    auto bare = request(MessageType::Request, kResvA);
    expect_pass(frame_of(bare), PXED_STAT_PASS_REQUESTED_IP);
    for (auto t : {MessageType::Decline, MessageType::Release, MessageType::Inform})
        expect_pass(frame_of(request(t, kResvA)), PXED_STAT_PASS_MSG_TYPE);
    // Ethernet source other than chaddr.
    auto spoof = request(MessageType::Discover, kResvA);
    UdpEndpoints ep{kStranger, kBroadcast, Ipv4(), Ipv4(0xffffffff), 68, 67};
    expect_pass(build_udp_frame(ep, serialize(spoof)), PXED_STAT_PASS_SRC_MISMATCH);
    // Duplicated options the daemon would concatenate.
    auto dup = serialize(request(MessageType::Discover, kResvA));
    dup.insert(dup.begin() + kMinMessageLen, {opt::MessageType, 1, 1});
    expect_pass(frame_of(request(MessageType::Discover, kResvA), &dup), PXED_STAT_PASS_UNSURE);
    // A user class the kernel does not classify.
    auto uc = request(MessageType::Discover, kResvA);
    uc.options.set_str(opt::UserClass, "\x05gPXE1\x04iPXE");
    expect_pass(frame_of(uc), PXED_STAT_PASS_UNSURE);
    // Option overload.
    auto ov = request(MessageType::Discover, kResvA);
    ov.options.set_u8(opt::Overload, 1);
    expect_pass(frame_of(ov), PXED_STAT_PASS_OVERLOAD);
    // A disabled program.
    pxed_xdp_config c{};
    ASSERT_TRUE(prog_->set_config(c).ok());
    expect_pass(frame_of(request(MessageType::Discover, kResvA)), PXED_STAT_PASS_DISABLED);
}

TEST_F(FastPath, HostileFramesPassOrDropNeverABadReply) {
    auto good = frame_of(request(MessageType::Discover, kResvA));
    ASSERT_EQ(run(good).verdict, uint32_t(XDP_TX));
    // Truncated at every offset (BPF_PROG_TEST_RUN needs an Ethernet header): never a reply.
    for (size_t n = 14; n < good.size(); n++) {
        auto r = run(std::vector<uint8_t>(good.begin(), good.begin() + n));
        EXPECT_EQ(r.verdict, uint32_t(XDP_PASS)) << "cut at " << n;
    }
    auto payload = serialize(request(MessageType::Discover, kResvA));
    auto options = [&](std::initializer_list<uint8_t> opts, size_t pad) {
        auto p = std::vector<uint8_t>(payload.begin(), payload.begin() + kMinMessageLen);
        p.insert(p.end(), opts);
        p.resize(p.size() + pad, 0);
        return frame_of(request(MessageType::Discover, kResvA), &p);
    };
    expect_cases({
        mutated("IHL 4", good, [](Frame& f) { f[14] = 0x44; }, XDP_PASS, PXED_STAT_PASS_MALFORMED),
        mutated("IP options", good, [](Frame& f) { f[14] = 0x46; }, XDP_PASS, PXED_STAT_PASS_IP_OPTIONS),
        mutated("UDP length past the IP payload", good, [](Frame& f) { f[14 + 20 + 4] = 0x7f; }, XDP_PASS,
                PXED_STAT_PASS_MALFORMED),
        mutated("UDP length shorter than the DHCP header", good,
                [](Frame& f) { f[14 + 20 + 4] = 0, f[14 + 20 + 5] = 100; }, XDP_PASS, PXED_STAT_PASS_MALFORMED),
        mutated("IP length past the frame", good, [](Frame& f) { f[14 + 2] = 0x7f; }, XDP_PASS,
                PXED_STAT_PASS_MALFORMED),
        mutated("fragment offset 8", good, [](Frame& f) { f[14 + 7] = 1; }, XDP_PASS, PXED_STAT_PASS_FRAGMENT),
        mutated("more fragments", good, [](Frame& f) { f[14 + 6] = 0x20; }, XDP_PASS, PXED_STAT_PASS_FRAGMENT),
        mutated("802.1Q tag", good, [](Frame& f) { f.insert(f.begin() + 12, {0x81, 0x00, 0x00, 0x05}); }, XDP_PASS,
                PXED_STAT_PASS_VLAN),
        mutated("no magic cookie", good, [](Frame& f) { f[14 + 20 + 8 + 236] = 0; }, XDP_PASS,
                PXED_STAT_PASS_MALFORMED),
        {"an option running past the end", options({opt::MessageType, 1, 1, opt::Hostname, 200, 'a'}, 0), XDP_PASS,
         PXED_STAT_PASS_MALFORMED, std::nullopt},
        {"no end option", options({opt::MessageType, 1, 1}, 60), XDP_PASS, PXED_STAT_PASS_MALFORMED, std::nullopt},
    });
    // Zero-length and 255-byte options are valid: the same answer as the daemon.
    auto odd = request(MessageType::Discover, kResvA);
    odd.options.set(opt::Hostname, {});
    odd.options.set(200, std::vector<uint8_t>(255, 0xee));
    expect_same_answer(odd, MessageType::Offer);
}

// Issue 14.1: a frame this host's socket would not receive is not answered
// in the kernel either (another server's unicast, seen in promiscuous mode).
TEST_F(FastPath, OnlyFramesAddressedToThisHostAreAnswered) {
    auto renew = request(MessageType::Request, kResvA);  // RENEWING, unicast to its server
    renew.ciaddr = Ipv4(192, 0, 2, 10);
    auto sent_to = [&](const Packet& p, const Mac& mac, Ipv4 ip) {
        UdpEndpoints ep{p.mac(), mac, p.ciaddr, ip, 68, 67};
        return build_udp_frame(ep, serialize(p));
    };
    auto discover = request(MessageType::Discover, kResvA);
    expect_cases({
        {"RENEW to another server's MAC and IP", sent_to(renew, kOtherServerMac, kOtherServerIp), XDP_PASS,
         PXED_STAT_PASS_NOT_FOR_US, std::nullopt},
        {"RENEW to another server's MAC, our IP", sent_to(renew, kOtherServerMac, kServerIp), XDP_PASS,
         PXED_STAT_PASS_NOT_FOR_US, std::nullopt},
        {"RENEW to our MAC, another server's IP", sent_to(renew, kServerMac, kOtherServerIp), XDP_PASS,
         PXED_STAT_PASS_NOT_FOR_US, std::nullopt},
        {"DISCOVER to a multicast MAC", sent_to(discover, *Mac::parse("01:00:5e:00:00:01"), Ipv4(0xffffffff)),
         XDP_PASS, PXED_STAT_PASS_NOT_FOR_US, std::nullopt},
        {"DISCOVER broadcast to the subnet's broadcast address", sent_to(discover, kBroadcast, Ipv4(192, 0, 2, 255)),
         XDP_PASS, PXED_STAT_PASS_NOT_FOR_US, std::nullopt},
    });
    EXPECT_EQ(stat(PXED_STAT_TX_ACK) + stat(PXED_STAT_TX_OFFER), 0u);
    // Ours: unicast to this interface, or broadcast; the daemon's answer.
    auto to_us = sent_to(renew, kServerMac, kServerIp);
    expect_same_answer(renew, MessageType::Ack, &to_us);
    auto bcast = sent_to(renew, kBroadcast, Ipv4(0xffffffff));
    expect_same_answer(renew, MessageType::Ack, &bcast);
    // A relay sends to the relayed subnet's configured server address.
    auto relayed = request(MessageType::Discover, kResvRemote);
    relayed.giaddr = Ipv4(198, 51, 100, 1);
    UdpEndpoints ep{kRelayMac, kServerMac, relayed.giaddr, Ipv4(198, 51, 100, 1), 67, 67};
    auto to_server_ip = build_udp_frame(ep, serialize(relayed));
    expect_same_answer(relayed, MessageType::Offer, &to_server_ip);
    ep.dst_ip = Ipv4(198, 51, 100, 2);
    expect_pass(build_udp_frame(ep, serialize(relayed)), PXED_STAT_PASS_NOT_FOR_US);
}

// Issue 14.8: option offsets are bounded by PXED_OPT_OFF_MASK (0x7ff) for
// the verifier. A frame whose options reach offset 2048 used to wrap the
// walk to offset 0, the broadcast destination MAC, whose 0xff read as an
// end option: the kernel answered a request whose options it never read.
TEST_F(FastPath, OptionsPastTheOffsetMaskArePassedAsMalformed) {
    auto fixed = serialize(request(MessageType::Discover, kResvA));
    fixed.resize(kMinMessageLen);
    auto long_options = [&](std::vector<uint8_t> after) {
        auto p = fixed;
        p.insert(p.end(), {opt::MessageType, 1, uint8_t(MessageType::Discover)});
        for (int i = 0; i < 6; i++) {  // six options of 255 bytes
            p.push_back(200);
            p.push_back(255);
            p.resize(p.size() + 255, 0xee);
        }
        size_t to_mask = 2048 - (14 + 20 + 8) - p.size();  // one more option ends at frame offset 2048
        p.push_back(201);
        p.push_back(uint8_t(to_mask - 2));
        p.resize(p.size() + to_mask - 2, 0xee);
        EXPECT_EQ(14 + 20 + 8 + p.size(), 2048u);
        p.insert(p.end(), after.begin(), after.end());
        return frame_of(request(MessageType::Discover, kResvA), &p);
    };
    auto no_end = long_options(std::vector<uint8_t>(16, 0));  // padding, never an end option
    auto with_end = long_options({opt::Hostname, 2, 'h', 'x', opt::End, 0, 0, 0});
    ASSERT_GT(no_end.size(), 2047u);
    ASSERT_EQ(no_end[0], 0xff);  // what a wrapped walk reads as the end option
    expect_cases({
        {"options past offset 2047, no end option", no_end, XDP_PASS, PXED_STAT_PASS_MALFORMED, std::nullopt},
        {"options past offset 2047, an end option", with_end, XDP_PASS, PXED_STAT_PASS_MALFORMED, std::nullopt},
    });
    EXPECT_EQ(stat(PXED_STAT_TX_OFFER), 0u);
    // Below the mask, the same long options are answered as the daemon does.
    auto shorter = fixed;
    shorter.insert(shorter.end(), {opt::MessageType, 1, uint8_t(MessageType::Discover)});
    for (int i = 0; i < 6; i++) {
        shorter.push_back(200);
        shorter.push_back(255);
        shorter.resize(shorter.size() + 255, 0xee);
    }
    shorter.push_back(opt::End);
    auto req = parse(shorter);
    ASSERT_TRUE(req.ok());
    auto f = frame_of(*req, &shorter);
    expect_same_answer(*req, MessageType::Offer, &f);
}

TEST_F(FastPath, PerMacTokenBucketDropsTheExcess) {
    sync(1, 2);  // one per second, burst of two
    auto f = frame_of(request(MessageType::Discover, kResvA));
    EXPECT_EQ(run(f).verdict, uint32_t(XDP_TX));
    EXPECT_EQ(run(f).verdict, uint32_t(XDP_TX));
    EXPECT_EQ(run(f).verdict, uint32_t(XDP_DROP));
    EXPECT_EQ(stat(PXED_STAT_DROP_RATE_LIMIT), 1u);
    // Another MAC has its own bucket.
    EXPECT_EQ(run(frame_of(request(MessageType::Discover, kResvB))).verdict, uint32_t(XDP_TX));
}

TEST_F(FastPath, SyncRemovesStaleReservationsAndBlobs) {
    cfg_.reservations.pop_back();
    bpf::IfaceView iv{"test0", 7, kServerMac, kServerIp, {}};
    auto rep = bpf::sync_maps(*prog_, cfg_, iv, bpf::RateLimit{});
    ASSERT_TRUE(rep.ok()) << rep.error();
    EXPECT_EQ(rep->reservations, 2u);
    EXPECT_EQ(rep->removed, 1u);
    engine_ = std::make_unique<Engine>(cfg_);
    expect_pass(frame_of(request(MessageType::Discover, kResvRemote)), PXED_STAT_PASS_NOT_RESERVED);
    expect_same_answer(request(MessageType::Discover, kResvA), MessageType::Offer);
    // Every blob left in the map is referenced.
    uint32_t key, next, *prev = nullptr, count = 0;
    while (bpf_map_get_next_key(prog_->reply_blobs_fd(), prev, &next) == 0) {
        key = next;
        prev = &key;
        count++;
    }
    EXPECT_EQ(count, rep->blobs);
}

// A reservation whose address another client holds, or one held off after a
// DECLINE (issue 14 items 4 and 9), is withheld: sync_maps takes it out of
// the map, and the program passes that MAC to the daemon; a later sync
// without it puts the reservation back.
TEST_F(FastPath, WithheldReservationIsPassedToTheDaemon) {
    bpf::IfaceView iv{"test0", 7, kServerMac, kServerIp, {}};
    auto rep = bpf::sync_maps(*prog_, cfg_, iv, bpf::RateLimit{}, {kResvA});
    ASSERT_TRUE(rep.ok()) << rep.error();
    EXPECT_EQ(rep->withheld, 1u);
    EXPECT_EQ(rep->removed, 1u);
    expect_pass(frame_of(request(MessageType::Discover, kResvA)), PXED_STAT_PASS_NOT_RESERVED);
    rep = bpf::sync_maps(*prog_, cfg_, iv, bpf::RateLimit{});
    ASSERT_TRUE(rep.ok()) << rep.error();
    EXPECT_EQ(rep->withheld, 0u);
    expect_same_answer(request(MessageType::Discover, kResvA), MessageType::Offer);
}

// The program does not read option 57: a reply larger than every client
// accepts (548 bytes of DHCP message, RFC 2131 section 2) is not put in the
// kernel. That client's requests are passed, and the daemon fits its reply
// to what the client said (issue 14 item 7).
TEST_F(FastPath, RepliesLargerThanEveryClientAcceptsStayOutOfTheKernel) {
    auto& sn = cfg_.subnets[0];
    for (uint8_t i = 1; i <= 60; i++) sn.dns.push_back(Ipv4(192, 0, 2, i));  // 240 more bytes of option 6
    bpf::IfaceView iv{"test0", 7, kServerMac, kServerIp, {}};
    auto rep = bpf::sync_maps(*prog_, cfg_, iv, bpf::RateLimit{});
    ASSERT_TRUE(rep.ok()) << rep.error();
    EXPECT_EQ(rep->not_in_kernel, 2u);  // the two reservations on 192.0.2.0/24
    engine_ = std::make_unique<Engine>(cfg_);
    auto req = request(MessageType::Discover, kResvA);
    auto k = run(frame_of(req));
    EXPECT_EQ(k.verdict, uint32_t(XDP_PASS)) << stats_line();
    auto d = engine_->handle(req, RxInfo{kServerIp}, 1000);
    ASSERT_TRUE(d.reply) << d.note;
    EXPECT_LE(encode(*d.reply).size(), 548u);
}
