// pxed --check on proxy subnets (dhcp/probe.h): the test DISCOVER, the
// OFFERs it gets classified (address servers, other proxies, pxed's own),
// and the warnings' text. The offers are shaped like the ones dnsmasq sends
// (address server, address server with dhcp-boot, proxy with pxe-service).
#include <gtest/gtest.h>

#include "dhcp/probe.h"

using namespace pxed;
using namespace pxed::dhcp;

namespace {

const Mac kIface = *Mac::parse("52:54:00:12:34:56");
const uint32_t kXid = 0xc0ffee01;
const Ipv4 kUs(192, 0, 2, 1);

ProbeFindings findings() { return ProbeFindings(kXid, probe_mac(kIface), {kUs}); }

Packet offer(Ipv4 server, Ipv4 yiaddr) {
    Packet p;
    p.op = 2;
    p.xid = kXid;
    p.flags = kFlagBroadcast;
    p.set_mac(probe_mac(kIface));
    p.yiaddr = yiaddr;
    p.options.set_u8(opt::MessageType, uint8_t(MessageType::Offer));
    p.options.set_ip(opt::ServerId, server);
    return p;
}

// dnsmasq's proxy offer to a BIOS client with a pxe-service menu.
Packet proxy_offer(Ipv4 server) {
    Packet p = offer(server, {});
    p.siaddr = server;
    p.options.set_str(opt::VendorClass, "PXEClient");
    p.options.set(opt::VendorSpecific, std::vector<uint8_t>{6, 1, 3, 8, 7, 0x80, 0, 1, 192, 0, 2, 3, 255});
    return p;
}

// What dnsmasq with dhcp-boot=pxelinux.0 sends: the file in option 67, NUL-terminated.
Packet booting_offer(Ipv4 server, Ipv4 yiaddr) {
    Packet p = offer(server, yiaddr);
    p.siaddr = server;
    p.options.set(opt::BootfileName, std::vector<uint8_t>{'p', 'x', 'e', 'l', 'i', 'n', 'u', 'x', '.', '0', 0});
    return p;
}

}  // namespace

TEST(Probe, DiscoverLooksLikeABiosPxeRomAndAsksForBroadcastReplies) {
    Mac m = probe_mac(kIface);
    auto bytes = serialize(probe_discover(kXid, m));
    auto p = parse(bytes);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->op, 1);
    EXPECT_EQ(p->xid, kXid);
    EXPECT_TRUE(p->broadcast());
    EXPECT_EQ(p->mac(), m);
    EXPECT_EQ(p->message_type(), MessageType::Discover);
    EXPECT_EQ(p->options.get_str(opt::VendorClass), "PXEClient:Arch:00000:UNDI:002001");
    EXPECT_EQ(p->options.get_u16(opt::ClientArch), 0);
    EXPECT_TRUE(p->ciaddr.is_zero());
}

TEST(Probe, MacIsLocallyAdministeredUnicastNotTheInterfacesAndStable) {
    for (auto s : {"52:54:00:12:34:56", "02:00:00:00:00:01", "01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff"}) {
        Mac i = *Mac::parse(s);
        Mac m = probe_mac(i);
        EXPECT_EQ(m.b[0] & 0x03, 0x02) << s;
        EXPECT_NE(m, i) << s;
        EXPECT_EQ(m, probe_mac(i)) << s;
    }
}

TEST(Probe, ClassifiesAddressServerAndProxy) {
    auto f = findings();
    EXPECT_TRUE(f.add(offer(Ipv4(192, 0, 2, 2), Ipv4(192, 0, 2, 120)), Ipv4(192, 0, 2, 2)));
    EXPECT_TRUE(f.add(proxy_offer(Ipv4(192, 0, 2, 3)), Ipv4(192, 0, 2, 3)));
    ASSERT_EQ(f.answers().size(), 2u);
    EXPECT_TRUE(f.answers()[0].address_server());
    EXPECT_EQ(f.answers()[0].boot, "");
    EXPECT_TRUE(f.answers()[1].proxy());
    EXPECT_EQ(f.answers()[1].boot, "option 60 PXEClient, PXE options (option 43)");
}

TEST(Probe, IgnoresOurOwnOfferOtherTransactionsRepeatsAndNonOffers) {
    auto f = findings();
    EXPECT_FALSE(f.add(proxy_offer(kUs), kUs));
    auto other_xid = offer(Ipv4(192, 0, 2, 2), Ipv4(192, 0, 2, 120));
    other_xid.xid++;
    EXPECT_FALSE(f.add(other_xid, Ipv4(192, 0, 2, 2)));
    auto other_mac = offer(Ipv4(192, 0, 2, 2), Ipv4(192, 0, 2, 120));
    other_mac.set_mac(kIface);
    EXPECT_FALSE(f.add(other_mac, Ipv4(192, 0, 2, 2)));
    auto ack = offer(Ipv4(192, 0, 2, 2), Ipv4(192, 0, 2, 120));
    ack.options.set_u8(opt::MessageType, uint8_t(MessageType::Ack));
    EXPECT_FALSE(f.add(ack, Ipv4(192, 0, 2, 2)));
    // An offer without address and without PXEClient: nothing a client takes.
    EXPECT_FALSE(f.add(offer(Ipv4(192, 0, 2, 4), {}), Ipv4(192, 0, 2, 4)));
    EXPECT_TRUE(f.add(offer(Ipv4(192, 0, 2, 2), Ipv4(192, 0, 2, 120)), Ipv4(192, 0, 2, 2)));
    EXPECT_FALSE(f.add(offer(Ipv4(192, 0, 2, 2), Ipv4(192, 0, 2, 120)), Ipv4(192, 0, 2, 2)));
    EXPECT_EQ(f.answers().size(), 1u);
}

TEST(Probe, ServerIdFallsBackToTheSourceAddress) {
    auto f = findings();
    auto p = offer(Ipv4(192, 0, 2, 2), Ipv4(192, 0, 2, 120));
    p.options.erase(opt::ServerId);
    EXPECT_TRUE(f.add(p, Ipv4(192, 0, 2, 7)));
    EXPECT_EQ(f.answers()[0].server, Ipv4(192, 0, 2, 7));
}

TEST(Probe, NoAnswerWarnsThatNoAddressServerAnswered) {
    auto w = findings().warnings("eth0", 3);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0], "eth0: proxy subnet, but no DHCP server offered an address to a test DISCOVER within 3 s: "
                    "PXE clients will get boot information from pxed and no address");
}

TEST(Probe, AnAddressServerAloneGivesNoWarning) {
    auto f = findings();
    f.add(offer(Ipv4(192, 0, 2, 2), Ipv4(192, 0, 2, 120)), Ipv4(192, 0, 2, 2));
    f.add(proxy_offer(kUs), kUs);  // pxed itself, running
    EXPECT_TRUE(f.warnings("eth0", 3).empty());
}

TEST(Probe, AnotherProxyIsNamed) {
    auto f = findings();
    f.add(offer(Ipv4(192, 0, 2, 2), Ipv4(192, 0, 2, 120)), Ipv4(192, 0, 2, 2));
    f.add(proxy_offer(Ipv4(192, 0, 2, 3)), Ipv4(192, 0, 2, 3));
    auto w = f.warnings("br0", 2.5);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0], "br0: another proxyDHCP server, 192.0.2.3, answered a test DISCOVER (an OFFER without address, "
                    "option 60 PXEClient, PXE options (option 43)): PXE clients get two boot offers and boot from "
                    "either");
}

TEST(Probe, AnAddressServerSendingBootInformationIsNamed) {
    auto f = findings();
    f.add(booting_offer(Ipv4(192, 0, 2, 2), Ipv4(192, 0, 2, 120)), Ipv4(192, 0, 2, 2));
    auto w = f.warnings("eth0", 3);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0], "eth0: the DHCP server 192.0.2.2 offered 192.0.2.120 with boot information (boot file "
                    "'pxelinux.0', next server 192.0.2.2): PXE clients get boot offers from it and from pxed and boot "
                    "from either");
}

TEST(Probe, ProxyWithoutAddressServerGivesBothWarnings) {
    auto f = findings();
    f.add(proxy_offer(Ipv4(192, 0, 2, 3)), Ipv4(192, 0, 2, 3));
    auto w = f.warnings("eth0", 3);
    ASSERT_EQ(w.size(), 2u);
    EXPECT_NE(w[0].find("no DHCP server offered an address"), std::string::npos);
    EXPECT_NE(w[1].find("another proxyDHCP server, 192.0.2.3"), std::string::npos);
}

TEST(Probe, DescribeBootUsesTheHeaderFileWithoutOption67) {
    Packet p = offer(Ipv4(192, 0, 2, 2), Ipv4(192, 0, 2, 120));
    EXPECT_EQ(describe_boot(p), "");
    p.siaddr = Ipv4(192, 0, 2, 2);
    EXPECT_EQ(describe_boot(p), "");  // siaddr alone: many servers set it to themselves
    p.set_file("bootx64.efi");
    EXPECT_EQ(describe_boot(p), "boot file 'bootx64.efi', next server 192.0.2.2");
}
