// Issue 14 (items 3, 5, 6, 7, 9): the engine answers what is ours, where the
// client can hear it, in a size it accepts. Unit tests without sockets.
#include <gtest/gtest.h>

#include <algorithm>

#include "config/config.h"
#include "dhcp/engine.h"
#include "support/dhcp_request.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::dhcp;

namespace {

// 192.0.2.0/24 is the served interface's network; 198.51.100.0/24 is behind
// a relay at 198.51.100.1 and has no boot files.
const std::string kToml =
    test::toml::server("eth0", "authoritative = true\n") +
    test::toml::lan_subnet("192.0.2.102",
                           "dns = [\"192.0.2.53\"]\n"
                           "lease-time = 600\n"
                           "boot = { bios = \"pxelinux.0\", uefi-x64 = \"bootnetx64.efi\" }\n") +
    test::toml::relayed_subnet("198.51.100.10", "198.51.100.20");

const Ipv4 kServer(192, 0, 2, 1);
const Ipv4 kRelay(198, 51, 100, 1);
const uint8_t kAgent[] = {1, 6, 's', 'w', '1', '/', '1', '7'};

class DhcpRfc : public ::testing::Test {
protected:
    void SetUp() override { load(kToml); }
    void load(const std::string& text) {
        auto c = config::parse_toml(text, "test.toml");
        ASSERT_TRUE(c.ok()) << c.error();
        cfg_ = std::move(c.value());
        engine_ = std::make_unique<Engine>(cfg_);
    }
    Packet req(MessageType t, const std::string& mac) { return test::request(t, mac, 7); }
    Outcome handle(const Packet& p, int64_t now = 1000) {
        return engine_->handle(p, RxInfo{kServer, Ipv4Net{kServer, 24}}, now);
    }
    // DISCOVER then SELECTING REQUEST, both built by `make`; the ACK.
    Packet lease(const std::function<Packet(MessageType)>& make, Ipv4 server = kServer) {
        auto o = handle(make(MessageType::Discover));
        EXPECT_TRUE(o.reply);
        if (!o.reply) return {};
        auto r = make(MessageType::Request);
        r.options.set_ip(opt::ServerId, server);
        r.options.set_ip(opt::RequestedIp, o.reply->packet.yiaddr);
        auto a = handle(r);
        EXPECT_TRUE(a.reply);
        if (!a.reply) return {};
        EXPECT_EQ(a.reply->packet.message_type(), MessageType::Ack);
        return a.reply->packet;
    }
    config::Config cfg_;
    std::unique_ptr<Engine> engine_;
};

}  // namespace

// Item 3: a client of the relayed subnet renews by unicast to us, without
// the relay (giaddr 0, ciaddr on the remote subnet). Its subnet is chosen
// by ciaddr; the ACK goes to ciaddr.
TEST_F(DhcpRfc, RenewFromARoutedClientIsJudgedByCiaddr) {
    const std::string mac = "52:54:00:00:03:01";
    auto ack = lease([&](MessageType t) {
        auto p = req(t, mac);
        p.giaddr = kRelay;
        return p;
    }, kServer);
    ASSERT_EQ(ack.yiaddr, Ipv4(198, 51, 100, 10));
    auto renew = req(MessageType::Request, mac);
    renew.ciaddr = ack.yiaddr;
    auto out = handle(renew, 1100);
    ASSERT_TRUE(out.reply);
    EXPECT_EQ(out.reply->packet.message_type(), MessageType::Ack) << out.note;
    EXPECT_EQ(out.reply->packet.options.get_u32(opt::LeaseTime), 300u) << "the relayed subnet's lease time";
    EXPECT_EQ(out.reply->dest, Dest::UnicastCiaddr);
    EXPECT_EQ(out.reply->dst_ip, ack.yiaddr);
    EXPECT_EQ(engine_->leases().by_ip(ack.yiaddr)->expires, 1100 + 300);
}

// Item 3: a NAK to such a client is unicast to ciaddr (dnsmasq's rule: a
// broadcast on our link never reaches it); on our own link it stays
// broadcast, and through a relay it goes to the relay with the broadcast bit.
TEST_F(DhcpRfc, NakReachesTheClientWhereItIs) {
    auto far = req(MessageType::Request, "52:54:00:00:03:02");
    far.ciaddr = Ipv4(198, 51, 100, 15);  // no lease: authoritative NAK
    auto out = handle(far);
    ASSERT_TRUE(out.reply);
    EXPECT_EQ(out.reply->packet.message_type(), MessageType::Nak);
    EXPECT_EQ(out.reply->dest, Dest::UnicastCiaddr);
    EXPECT_EQ(out.reply->dst_ip, far.ciaddr);

    auto near = req(MessageType::Request, "52:54:00:00:03:03");
    near.ciaddr = Ipv4(192, 0, 2, 101);
    out = handle(near);
    ASSERT_TRUE(out.reply);
    EXPECT_EQ(out.reply->packet.message_type(), MessageType::Nak);
    EXPECT_EQ(out.reply->dest, Dest::Broadcast);
    EXPECT_EQ(out.reply->dst_ip, Ipv4(0xffffffff));

    auto relayed = near;
    relayed.ciaddr = Ipv4(198, 51, 100, 16);
    relayed.giaddr = kRelay;
    out = handle(relayed);
    ASSERT_TRUE(out.reply);
    EXPECT_EQ(out.reply->packet.message_type(), MessageType::Nak);
    EXPECT_EQ(out.reply->dest, Dest::Relay);
    EXPECT_EQ(out.reply->dst_port, 67);
    EXPECT_TRUE(out.reply->packet.broadcast()) << "RFC 2131 4.3.2: the relay must broadcast the NAK";
}

// Item 3: an INFORM from a routed client gets its own subnet's options.
TEST_F(DhcpRfc, InformFromARoutedClientGetsItsSubnetsOptions) {
    auto inf = req(MessageType::Inform, "52:54:00:00:03:04");
    inf.ciaddr = Ipv4(198, 51, 100, 77);
    auto out = handle(inf);
    ASSERT_TRUE(out.reply);
    const Packet& r = out.reply->packet;
    EXPECT_EQ(r.options.get_ip(opt::BroadcastAddr), Ipv4(198, 51, 100, 255));
    EXPECT_FALSE(r.options.has(opt::Router)) << "192.0.2.0/24's router is no use on 198.51.100.0/24";
    EXPECT_FALSE(r.options.has(opt::DnsServers));
    EXPECT_EQ(out.reply->dest, Dest::UnicastCiaddr);
    EXPECT_EQ(out.reply->dst_ip, inf.ciaddr);
}

// Item 5: a BIOS boot chain keeps one address: the PXE ROM sends no client
// id, iPXE sends 01+MAC; a different client id on the same MAC is another
// client (dnsmasq's lease_find_by_client).
TEST_F(DhcpRfc, BootChainWithAndWithoutClientIdKeepsOneAddress) {
    const std::string mac = "52:54:00:00:05:01";
    const uint8_t ipxe_id[] = {1, 0x52, 0x54, 0, 0, 5, 1};
    const uint8_t other_id[] = {0xff, 0, 0, 0, 1, 0, 1, 0x2c, 0x9a};
    auto rom = lease([&](MessageType t) { return req(t, mac); });
    auto ipxe = lease([&](MessageType t) {
        auto p = req(t, mac);
        p.options.set(opt::ClientId, ipxe_id);
        return p;
    });
    EXPECT_EQ(ipxe.yiaddr, rom.yiaddr) << "iPXE after the PXE ROM";
    EXPECT_EQ(engine_->leases().size(), 1u);
    auto rom_again = lease([&](MessageType t) { return req(t, mac); });
    EXPECT_EQ(rom_again.yiaddr, rom.yiaddr) << "the ROM at the next boot, after iPXE";
    auto stranger = handle([&] {
        auto p = req(MessageType::Discover, mac);
        p.options.set(opt::ClientId, other_id);
        return p;
    }());
    ASSERT_TRUE(stranger.reply);
    EXPECT_NE(stranger.reply->packet.yiaddr, rom.yiaddr) << "a request without id does not clear the lease's id";
    auto ipxe_again = lease([&](MessageType t) {
        auto p = req(t, mac);
        p.options.set(opt::ClientId, ipxe_id);
        return p;
    });
    EXPECT_EQ(ipxe_again.yiaddr, rom.yiaddr);
    auto other = handle([&] {
        auto p = req(MessageType::Discover, mac);
        p.options.set(opt::ClientId, other_id);
        return p;
    }());
    ASSERT_TRUE(other.reply);
    EXPECT_NE(other.reply->packet.yiaddr, rom.yiaddr) << "another client id is another client";
}

// Item 6: option 82 is echoed in every reply to a request that carried it,
// relayed or not (a snooping switch adds it with giaddr 0), NAKs included.
TEST_F(DhcpRfc, Option82IsEchoedInEveryReply) {
    const std::vector<uint8_t> agent(std::begin(kAgent), std::end(kAgent));
    auto d = req(MessageType::Discover, "52:54:00:00:06:01");
    d.options.set(opt::RelayAgentInfo, kAgent);
    auto o = handle(d);
    ASSERT_TRUE(o.reply);
    ASSERT_TRUE(o.reply->packet.options.has(opt::RelayAgentInfo)) << "OFFER, giaddr 0";
    EXPECT_EQ(o.reply->packet.options.find(opt::RelayAgentInfo)->data, agent);
    EXPECT_EQ(o.reply->packet.options.all().back().code, opt::RelayAgentInfo) << "RFC 3046: the last option";

    auto r = req(MessageType::Request, "52:54:00:00:06:01");
    r.options.set(opt::RelayAgentInfo, kAgent);
    r.options.set_ip(opt::ServerId, kServer);
    r.options.set_ip(opt::RequestedIp, o.reply->packet.yiaddr);
    auto a = handle(r);
    ASSERT_TRUE(a.reply);
    ASSERT_TRUE(a.reply->packet.options.has(opt::RelayAgentInfo)) << "ACK, giaddr 0";

    auto n = req(MessageType::Request, "52:54:00:00:06:02");
    n.options.set(opt::RelayAgentInfo, kAgent);
    n.options.set_ip(opt::RequestedIp, Ipv4(10, 0, 0, 1));  // wrong network: NAK
    for (Ipv4 giaddr : {Ipv4(), kRelay}) {
        n.giaddr = giaddr;
        auto out = handle(n);
        ASSERT_TRUE(out.reply);
        ASSERT_EQ(out.reply->packet.message_type(), MessageType::Nak);
        ASSERT_TRUE(out.reply->packet.options.has(opt::RelayAgentInfo)) << "NAK, giaddr " << giaddr.str();
        EXPECT_EQ(out.reply->packet.options.find(opt::RelayAgentInfo)->data, agent);
    }
}

// Item 9: chaddr is only an Ethernet address with htype 1 and hlen 6; the
// XDP program passes anything else, and the daemon drops it (counted).
TEST_F(DhcpRfc, NonEthernetHardwareIsDropped) {
    auto d = req(MessageType::Discover, "52:54:00:00:09:01");
    d.htype = 6;  // IEEE 802
    EXPECT_EQ(handle(d).drop, Drop::NotEthernet);
    d.htype = 1;
    d.hlen = 16;
    EXPECT_EQ(handle(d).drop, Drop::NotEthernet);
    d.hlen = 0;
    EXPECT_EQ(handle(d).drop, Drop::NotEthernet);
    d.hlen = 6;
    EXPECT_TRUE(handle(d).reply);
}

// Item 9: "PXEClient" is echoed only with a boot file for that architecture.
TEST_F(DhcpRfc, NoPxeClientEchoWithoutABootFile) {
    auto d = req(MessageType::Discover, "52:54:00:00:09:02");
    d.options.set_str(opt::VendorClass, "PXEClient:Arch:00006:UNDI:003016");
    d.options.set_u16(opt::ClientArch, 6);  // EFI IA32: no file configured
    auto o = handle(d);
    ASSERT_TRUE(o.reply);
    EXPECT_FALSE(o.reply->packet.options.has(opt::VendorClass));
    EXPECT_FALSE(o.reply->packet.options.has(opt::VendorSpecific));
    EXPECT_EQ(o.reply->packet.file_str(), "");
    d.options.set_u16(opt::ClientArch, 7);  // EFI x64: bootnetx64.efi
    o = handle(d);
    ASSERT_TRUE(o.reply);
    EXPECT_EQ(o.reply->packet.options.get_str(opt::VendorClass), "PXEClient");
}

namespace {
// A subnet with more options than 548 bytes hold: 60 DNS servers (242
// bytes), a 200-byte domain, a boot file in the file field.
std::string big_config() {
    std::string dns;
    for (int i = 1; i <= 60; i++) dns += std::string(i > 1 ? ", " : "") + "\"10.0.0." + std::to_string(i) + "\"";
    return std::string("[server]\ninterfaces = [\"eth0\"]\n\n[[subnet]]\ncidr = \"192.0.2.0/24\"\n") +
           "range = [\"192.0.2.100\", \"192.0.2.102\"]\nrouter = \"192.0.2.1\"\ndns = [" + dns + "]\n" +
           "domain = \"" + std::string(200, 'x') + "\"\nboot = { bios = \"pxelinux.0\" }\n";
}
}  // namespace

// Item 7: without option 57 a reply fits 576-byte datagrams (548 bytes of
// DHCP); with it, what the client said; options the client asked for in
// option 55 are kept before those it did not.
TEST_F(DhcpRfc, ReplyFitsTheClientsMaximumMessageSize) {
    load(big_config());
    const uint8_t prl_domain[] = {1, 3, 15, 66, 67};
    const uint8_t prl_dns[] = {1, 3, 6, 66, 67};
    auto offer = [&](const std::string& mac, std::optional<uint16_t> max, std::span<const uint8_t> prl) {
        auto d = req(MessageType::Discover, mac);
        if (max) d.options.set_u16(opt::MaxMessageSize, *max);
        d.options.set(opt::ParamRequestList, prl);
        auto o = handle(d);
        EXPECT_TRUE(o.reply);
        return *o.reply;
    };
    auto small = offer("52:54:00:00:07:01", std::nullopt, prl_domain);
    auto bytes = encode(small);
    EXPECT_LE(bytes.size(), 548u);
    auto back = parse(bytes);
    ASSERT_TRUE(back.ok());
    for (uint8_t code : {opt::MessageType, opt::ServerId, opt::LeaseTime, opt::SubnetMask, opt::Router,
                         opt::DomainName, opt::BootfileName})
        EXPECT_TRUE(back->options.has(code)) << "option " << int(code);
    EXPECT_FALSE(back->options.has(opt::DnsServers)) << "not asked for, and no room";
    EXPECT_EQ(back->file_str(), "pxelinux.0");

    auto dns_first = encode(offer("52:54:00:00:07:02", 576, prl_dns));
    EXPECT_LE(dns_first.size(), 548u);
    auto b2 = parse(dns_first);
    ASSERT_TRUE(b2.ok());
    EXPECT_TRUE(b2->options.has(opt::DnsServers));
    EXPECT_EQ(b2->options.find(opt::DnsServers)->data.size(), 240u);
    EXPECT_FALSE(b2->options.has(opt::DomainName));

    auto large = offer("52:54:00:00:07:03", 1500, prl_dns);
    auto b3 = encode(large);
    EXPECT_LE(b3.size(), 1472u);
    auto back3 = parse(b3);
    ASSERT_TRUE(back3.ok());
    EXPECT_TRUE(back3->options.has(opt::DnsServers) && back3->options.has(opt::DomainName)) << "room for all";

    // A value below the RFC minimum counts as 576.
    EXPECT_LE(encode(offer("52:54:00:00:07:04", 300, prl_dns)).size(), 548u);
}
