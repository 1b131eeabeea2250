#pragma once
// The option 82 tests' fixture (tests/bpf/xdp_relay*_test.cpp): a LAN and a
// relayed subnet with MAC reservations, requests carrying option 82, and the
// differential check: the kernel's reply is the daemon's byte for byte.
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

namespace relay_test {

namespace toml = pxed::test::toml;
// node10 has a host name (option 12 before option 82), node11 none: option
// 82 then starts at an even and at an odd offset or the other way round.
inline const std::string kBase =
    toml::server("test0") +
    toml::lan_subnet("192.0.2.200", "dns = [\"192.0.2.53\"]\nlease-time = 600\nboot = { bios = \"pxelinux.0\" }\n") +
    toml::relayed_subnet("198.51.100.100", "198.51.100.200",
                         "server-ip = \"198.51.100.1\"\nboot = { bios = \"relayed.0\" }\n") +
    toml::node10() + toml::reservation("52:54:00:00:00:0b", "192.0.2.11") +
    toml::reservation("52:54:00:00:00:0c", "198.51.100.12", "hostname = \"remote12\"\n") +
    toml::reservation("52:54:00:00:00:0d", "198.51.100.13");

inline const Mac kServerMac = *Mac::parse("02:00:00:00:00:01");
inline const Ipv4 kServerIp(192, 0, 2, 1);
inline const Mac kRelayMac = *Mac::parse("02:00:00:00:00:99");
inline const Ipv4 kGiaddr(198, 51, 100, 1);
inline const Mac kNode10 = *Mac::parse("52:54:00:00:00:0a");
inline const Mac kNode11 = *Mac::parse("52:54:00:00:00:0b");
inline const Mac kRemote12 = *Mac::parse("52:54:00:00:00:0c");
inline const Mac kRemote13 = *Mac::parse("52:54:00:00:00:0d");
inline const Mac kBroadcast = *Mac::parse("ff:ff:ff:ff:ff:ff");

// Sub-options 1 (circuit id) and 2 (remote id), as a switch sends them.
inline std::vector<uint8_t> agent(std::string_view circuit, std::string_view remote = {}) {
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

inline Packet request(MessageType t, const Mac& mac, Ipv4 giaddr, std::vector<uint8_t> o82) {
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

inline Packet selecting(const Mac& mac, Ipv4 giaddr, Ipv4 want, Ipv4 server, std::vector<uint8_t> o82) {
    auto r = request(MessageType::Request, mac, giaddr, std::move(o82));
    r.options.set_ip(opt::ServerId, server);
    r.options.set_ip(opt::RequestedIp, want);
    return r;
}

inline Frame frame_of(const Packet& p, const std::vector<uint8_t>* payload = nullptr) {
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
    // `held`: addresses of reservations by option 82 a lease holds in the daemon.
    void load(const std::string& text, const std::vector<Ipv4>& held = {}) {
        auto c = config::parse_toml(text, "relay.toml");
        ASSERT_TRUE(c.ok()) << c.error();
        cfg_ = std::move(c.value());
        bpf::IfaceView iv{"test0", 7, kServerMac, kServerIp, {}};
        auto rep = bpf::sync_maps(*prog_, cfg_, iv, bpf::RateLimit{}, {}, held);
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

}  // namespace relay_test
