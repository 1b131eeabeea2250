// proxyDHCP (dhcp/proxy.h): which requests a proxy subnet answers and what
// its OFFERs (port 67) and ACKs (port 4011) hold, after PXE 2.1 and
// dnsmasq's proxy mode; the [pxe] menu and proxy subnets in TOML. Pure.
#include <gtest/gtest.h>

#include "config/config.h"
#include "dhcp/engine.h"
#include "dhcp/proxy.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::dhcp;

namespace {

namespace toml = pxed::test::toml;

const Ipv4 kServer = *Ipv4::parse("192.0.2.1");
const std::string kUuid = std::string("\x00", 1) + "0123456789abcdef";

config::Config load(const std::string& rest, const std::string& boot = "boot = { bios = \"pxelinux.0\", uefi-x64 = \"bootx64.efi\", ipxe = \"http://192.0.2.1/boot.ipxe\" }\n") {
    auto c = config::parse_toml(toml::server("eth0") + toml::proxy_subnet(boot) + rest, "proxy.toml");
    EXPECT_TRUE(c.ok()) << c.error();
    return c.ok() ? std::move(c.value()) : config::Config{};
}

std::string error_of(const std::string& text) {
    auto c = config::parse_toml(toml::server("eth0") + text, "proxy.toml");
    return c.ok() ? "" : c.error();
}

// A PXE ROM's request: option 60 PXEClient:Arch:..., 93, 97.
Packet pxe(MessageType t, uint16_t arch, const std::string& vendor = "PXEClient:Arch:00000:UNDI:002001") {
    Packet p;
    p.set_mac(*Mac::parse("52:54:00:00:00:01"));
    p.xid = 0x1234;
    p.options.set_u8(opt::MessageType, uint8_t(t));
    p.options.set_str(opt::VendorClass, vendor);
    p.options.set_u16(opt::ClientArch, arch);
    p.options.set(opt::ClientGuid, std::vector<uint8_t>(kUuid.begin(), kUuid.end()));
    return p;
}

Outcome handle(Engine& e, const Packet& p, bool port4011 = false, Ipv4 src = {}) {
    RxInfo rx{kServer, *Ipv4Net::parse("192.0.2.0/24")};
    rx.boot_server_port = port4011;
    rx.src_ip = src;
    rx.src_port = 68;
    return e.handle(p, rx, 1000);
}

std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

}  // namespace

TEST(Proxy, BiosDiscoverGetsAnOfferWithoutAddressWithTheBootFileAndUseTheFile) {
    auto cfg = load("");
    Engine e(cfg);
    auto o = handle(e, pxe(MessageType::Discover, 0));
    ASSERT_TRUE(o.reply) << to_string(o.drop) << " " << o.note;
    EXPECT_TRUE(o.proxy);
    const Packet& r = o.reply->packet;
    EXPECT_EQ(r.message_type(), MessageType::Offer);
    EXPECT_TRUE(r.yiaddr.is_zero());
    EXPECT_TRUE(r.ciaddr.is_zero());
    EXPECT_TRUE(r.broadcast());
    EXPECT_EQ(r.siaddr, kServer);
    EXPECT_EQ(r.file_str(), "pxelinux.0");
    EXPECT_EQ(r.options.get_ip(opt::ServerId), kServer);
    EXPECT_EQ(r.options.get_str(opt::VendorClass), "PXEClient");
    // No address settings: those are the address server's.
    for (uint8_t c : {opt::SubnetMask, opt::Router, opt::DnsServers, opt::LeaseTime, opt::RenewalT1, opt::BroadcastAddr})
        EXPECT_FALSE(r.options.has(c)) << int(c);
    // Option 43: discovery control 8 (boot the file), dnsmasq's prompt "PXE" with no wait.
    auto* v = r.options.find(opt::VendorSpecific);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->data, (std::vector<uint8_t>{6, 1, 8, 10, 4, 0, 'P', 'X', 'E', 255}));
    // The UUID echoed, last.
    ASSERT_FALSE(r.options.all().empty());
    EXPECT_EQ(r.options.all().back().code, opt::ClientGuid);
    EXPECT_EQ(r.options.all().back().data, bytes(kUuid));
    EXPECT_EQ(o.reply->dest, Dest::Broadcast);
    EXPECT_EQ(o.reply->src_port, 67);
    EXPECT_TRUE(e.leases().all().empty()) << "a proxy holds no lease";
}

TEST(Proxy, UefiIsSentToPort4011WhereTheAckCarriesTheFileAndTheOptions) {
    auto cfg = load("");
    Engine e(cfg);
    auto offer = handle(e, pxe(MessageType::Discover, 7, "PXEClient:Arch:00007:UNDI:003016"));
    ASSERT_TRUE(offer.reply);
    const Packet& r = offer.reply->packet;
    EXPECT_EQ(r.siaddr, kServer);
    EXPECT_EQ(r.file_str(), "bootx64.efi");
    EXPECT_FALSE(r.options.has(opt::VendorSpecific)) << "EDK2 asks port 4011 for a proxy offer without option 43";

    Packet req = pxe(MessageType::Request, 7, "PXEClient:Arch:00007:UNDI:003016");
    req.ciaddr = *Ipv4::parse("192.0.2.77");
    auto ack = handle(e, req, true, req.ciaddr);
    ASSERT_TRUE(ack.reply) << ack.note;
    const Packet& a = ack.reply->packet;
    EXPECT_EQ(a.message_type(), MessageType::Ack);
    EXPECT_EQ(a.ciaddr, req.ciaddr);
    EXPECT_TRUE(a.yiaddr.is_zero());
    EXPECT_FALSE(a.broadcast());
    EXPECT_EQ(a.file_str(), "bootx64.efi");
    ASSERT_TRUE(a.options.find(opt::VendorSpecific));
    EXPECT_EQ(ack.reply->dest, Dest::UnicastCiaddr);
    EXPECT_EQ(ack.reply->dst_ip, req.ciaddr);
    EXPECT_EQ(ack.reply->dst_port, 68);
    EXPECT_EQ(ack.reply->src_port, 4011);
}

TEST(Proxy, NonPxeClientsAndAddressMessagesAreLeftToTheAddressServer) {
    auto cfg = load("");
    Engine e(cfg);
    Packet plain = pxe(MessageType::Discover, 0, "udhcp 1.35.0");
    EXPECT_EQ(handle(e, plain).drop, Drop::NotPxe);
    plain.options.erase(opt::VendorClass);
    EXPECT_EQ(handle(e, plain).drop, Drop::NotPxe);
    // A PXE client's REQUEST on port 67 goes to the server it chose.
    Packet r = pxe(MessageType::Request, 0);
    r.options.set_ip(opt::ServerId, *Ipv4::parse("192.0.2.254"));
    r.options.set_ip(opt::RequestedIp, *Ipv4::parse("192.0.2.77"));
    EXPECT_FALSE(handle(e, r).reply);
    EXPECT_FALSE(handle(e, pxe(MessageType::Release, 0)).reply);
    // A DISCOVER on port 4011 is not the boot server dialogue.
    EXPECT_FALSE(handle(e, pxe(MessageType::Discover, 0), true).reply);
    EXPECT_TRUE(e.leases().all().empty());
}

TEST(Proxy, NothingToBootForAnArchitectureWithoutFileOrMenu) {
    auto cfg = load("", "boot = { bios = \"pxelinux.0\" }\n");
    Engine e(cfg);
    EXPECT_EQ(handle(e, pxe(MessageType::Discover, 11)).drop, Drop::NothingToBoot);
    EXPECT_TRUE(handle(e, pxe(MessageType::Discover, 0)).reply);
}

TEST(Proxy, HttpBootClientGetsHttpClientAndItsUrl) {
    auto cfg = load("", "boot = { uefi-http = \"http://192.0.2.1/bootx64.efi\" }\n");
    Engine e(cfg);
    auto o = handle(e, pxe(MessageType::Discover, 16, "HTTPClient:Arch:00016:UNDI:003001"));
    ASSERT_TRUE(o.reply) << o.note;
    EXPECT_EQ(o.reply->packet.options.get_str(opt::VendorClass), "HTTPClient");
    EXPECT_EQ(o.reply->packet.file_str(), "http://192.0.2.1/bootx64.efi");
}

TEST(Proxy, MenuOfServicesForTheClientArchitecture) {
    auto cfg = load(R"(
[pxe]
prompt = "Press F8 for the menu"
timeout = 5
[[pxe.service]]
arch = "bios"
text = "Install Debian"
file = "pxelinux"
[[pxe.service]]
arch = "bios"
text = "Boot from disk"
[[pxe.service]]
arch = "x86PC"
text = "Elsewhere"
type = 12
server = "192.0.2.9"
[[pxe.service]]
arch = "uefi-x64"
text = "UEFI installer"
file = "grubx64.efi"
)");
    ASSERT_EQ(cfg.pxe.services.size(), 4u);
    EXPECT_EQ(cfg.pxe.services[0].type, 0x8000);
    EXPECT_EQ(cfg.pxe.services[1].type, 0);
    EXPECT_EQ(cfg.pxe.services[3].type, 0x8001);
    Engine e(cfg);
    auto o = handle(e, pxe(MessageType::Discover, 0));
    ASSERT_TRUE(o.reply);
    auto* v = o.reply->packet.options.find(opt::VendorSpecific);
    ASSERT_TRUE(v);
    std::vector<uint8_t> want{6, 1, 3,                                         // discovery: the server list only
                              8, 14, 0x80, 0x00, 1, 192, 0, 2, 1, 0, 12, 1, 192, 0, 2, 9,  // boot servers
                              9};
    std::vector<uint8_t> menu;
    for (auto [type, text] : std::vector<std::pair<uint16_t, std::string>>{{0x8000, "Install Debian"}, {0, "Boot from disk"}, {12, "Elsewhere"}}) {
        menu.push_back(uint8_t(type >> 8));
        menu.push_back(uint8_t(type));
        menu.push_back(uint8_t(text.size()));
        menu.insert(menu.end(), text.begin(), text.end());
    }
    want.push_back(uint8_t(menu.size()));
    want.insert(want.end(), menu.begin(), menu.end());
    std::string prompt = "Press F8 for the menu";
    want.push_back(10);
    want.push_back(uint8_t(prompt.size() + 1));
    want.push_back(5);
    want.insert(want.end(), prompt.begin(), prompt.end());
    want.push_back(255);
    EXPECT_EQ(v->data, want);

    // The boot server dialogue: item 0x8000 layer 0 -> pxelinux.0, the item echoed, yiaddr = ciaddr.
    Packet req = pxe(MessageType::Request, 0);
    req.ciaddr = *Ipv4::parse("192.0.2.77");
    req.options.set(opt::VendorSpecific, std::vector<uint8_t>{71, 4, 0x80, 0x00, 0, 0, 255});
    auto ack = handle(e, req, true, req.ciaddr);
    ASSERT_TRUE(ack.reply) << ack.note;
    EXPECT_EQ(ack.reply->packet.file_str(), "pxelinux.0");
    EXPECT_EQ(ack.reply->packet.yiaddr, req.ciaddr);
    EXPECT_EQ(ack.reply->packet.options.find(opt::VendorSpecific)->data, (std::vector<uint8_t>{71, 4, 0x80, 0, 0, 0, 255}));
    // An item without a file here (the local disk, another server's type) gets nothing.
    req.options.set(opt::VendorSpecific, std::vector<uint8_t>{71, 4, 0, 12, 0, 0, 255});
    EXPECT_EQ(handle(e, req, true, req.ciaddr).drop, Drop::NothingToBoot);

    // UEFI with one item: no menu (dnsmasq's workaround); the ACK names its file.
    Packet u = pxe(MessageType::Request, 7);
    u.ciaddr = *Ipv4::parse("192.0.2.78");
    auto uack = handle(e, u, true, u.ciaddr);
    ASSERT_TRUE(uack.reply);
    EXPECT_EQ(uack.reply->packet.file_str(), "grubx64.efi");
    EXPECT_EQ(uack.reply->packet.sname_str(), "192.0.2.1");
    EXPECT_FALSE(uack.reply->packet.options.has(opt::VendorSpecific));
}

TEST(Proxy, ClassesAndOptionSelectionApplyButNotTheAddressSettings) {
    auto cfg = load(R"(
[[class]]
name = "arm"
match = { arch = "arm64-uefi" }
boot-file = "arm/grubaa64.efi"
options = [ { code = 209, string = "pxelinux.cfg/arm" }, { code = 3, ip = "192.0.2.254" } ]

[[reservation]]
mac = "52:54:00:00:00:01"
hostname = "node1"
boot-file = "node1.0"
)");
    Engine e(cfg);
    auto o = handle(e, pxe(MessageType::Discover, 11));
    ASSERT_TRUE(o.reply);
    EXPECT_EQ(o.reply->packet.file_str(), "node1.0") << "the host entry beats the class";
    EXPECT_EQ(o.reply->packet.options.get_str(209), "pxelinux.cfg/arm");
    EXPECT_FALSE(o.reply->packet.options.has(opt::Router));
    EXPECT_FALSE(o.reply->packet.options.has(opt::Hostname));
}

TEST(Proxy, TomlRefusesAddressSettingsOnAProxySubnet) {
    EXPECT_NE(error_of(toml::proxy_subnet("range = [\"192.0.2.100\", \"192.0.2.200\"]\n")).find("proxy.toml:7: subnet[0].range: a proxy subnet (proxy = true) hands out no addresses"), std::string::npos)
        << error_of(toml::proxy_subnet("range = [\"192.0.2.100\", \"192.0.2.200\"]\n"));
    EXPECT_NE(error_of(toml::proxy_subnet("router = \"192.0.2.1\"\n")).find("sends no router"), std::string::npos);
    EXPECT_NE(error_of(toml::proxy_subnet("") + toml::reservation("52:54:00:00:00:01", "192.0.2.10")).find("served in proxy mode"),
              std::string::npos);
    EXPECT_NE(error_of(toml::proxy_subnet("") + "[pxe]\ntimeout = 3\n").find("pxe.timeout needs a prompt"), std::string::npos);
    EXPECT_NE(error_of(toml::proxy_subnet("") + "[[pxe.service]]\narch = \"bios\"\ntext = \"x\"\nfile = \"a\"\ntype = 3\n").find("not both"),
              std::string::npos);
    EXPECT_NE(error_of(toml::proxy_subnet("") + "[[pxe.service]]\narch = \"nosuch\"\ntext = \"x\"\n").find("'nosuch' is not an architecture"),
              std::string::npos);
}
