// dnsmasq's proxyDHCP directives through the importer (dhcp-range=...,proxy,
// pxe-service, pxe-prompt: config/dnsmasq_pxe.cpp) and the proxy corpus
// files (tests/data/dnsmasq/proxy*.conf) through the importer and the DHCP
// engine: what each kind of client is answered, as dnsmasq answers it.
#include <gtest/gtest.h>

#include "config/config.h"
#include "dhcp/engine.h"
#include "support/pxe_clients.h"

using namespace pxed;
using namespace pxed::config;
using namespace pxed::dhcp;
using pxed::test::kPxePrl;
using pxed::test::pxe_discover;

namespace {

const Ipv4 kServer(192, 0, 2, 1);
const char kHead[] = "interface=eth0\ndhcp-range=192.0.2.0,proxy\n";

// Every test serves eth0 on 192.0.2.1/24.
std::optional<Ipv4Net> lan(const std::string& i) {
    return i == "eth0" ? Ipv4Net::parse("192.0.2.1/24") : std::nullopt;
}

Result<Config> parse(const std::string& text, std::vector<std::string>* warnings = nullptr) {
    std::vector<std::string> w;
    auto r = parse_dnsmasq(text, "t.conf", lan, w);
    if (warnings) *warnings = w;
    return r;
}

Config corpus(const std::string& name, std::vector<std::string>* warnings = nullptr) {
    std::vector<std::string> w;
    auto r = load_dnsmasq_file(std::string(PXED_SOURCE_DIR) + "/tests/data/dnsmasq/" + name, lan, w);
    EXPECT_TRUE(r.ok()) << name << ": " << r.error();
    if (warnings) *warnings = w;
    return r.ok() ? std::move(*r) : Config{};
}

std::string error_of(const std::string& text) {
    auto r = parse(text);
    return r.ok() ? "(accepted)" : r.error();
}

bool has(const std::vector<std::string>& w, const std::string& part) {
    for (auto& x : w)
        if (x.find(part) != std::string::npos) return true;
    return false;
}

Packet client(int arch, const std::string& vendor, MessageType t = MessageType::Discover) {
    Packet p = pxe_discover("52:54:00:00:60:01", 0x6001, arch, vendor, kPxePrl);
    p.options.set_u8(opt::MessageType, uint8_t(t));
    return p;
}
Packet bios(MessageType t = MessageType::Discover) { return client(0, "PXEClient:Arch:00000:UNDI:002001", t); }
Packet uefi(int arch = 7, MessageType t = MessageType::Discover) {
    char v[40];
    std::snprintf(v, sizeof v, "PXEClient:Arch:%05d:UNDI:003016", arch);
    return client(arch, v, t);
}
// A REQUEST to the boot server (port 4011) from a client that has its
// address; `item`: the boot item chosen from the menu (43.71), if any.
Packet to_4011(Packet p, std::optional<uint16_t> item = std::nullopt) {
    p.options.set_u8(opt::MessageType, uint8_t(MessageType::Request));
    p.flags = 0;
    p.ciaddr = Ipv4(192, 0, 2, 77);
    if (item) p.options.set(opt::VendorSpecific, std::vector<uint8_t>{71, 4, uint8_t(*item >> 8), uint8_t(*item), 0, 0, 255});
    return p;
}

Outcome handle(Engine& e, const Packet& p, bool port4011 = false) {
    RxInfo rx{kServer, *Ipv4Net::parse("192.0.2.0/24")};
    rx.boot_server_port = port4011;
    rx.src_ip = p.ciaddr;
    rx.src_port = 68;
    return e.handle(p, rx, 1000);
}

std::vector<uint8_t> vendor_opts(const Outcome& o) {
    auto* v = o.reply ? o.reply->packet.options.find(opt::VendorSpecific) : nullptr;
    return v ? v->data : std::vector<uint8_t>{};
}

// Option 43 as dnsmasq's pxe_opts() writes it for the BIOS menu of proxy.conf.
std::vector<uint8_t> proxy_conf_bios_menu() {
    std::vector<uint8_t> w{6, 1, 3, 8, 7, 0x80, 0x00, 1, 192, 0, 2, 1};  // discovery control; this server for 0x8000
    std::vector<uint8_t> menu;
    for (auto [type, text] : std::vector<std::pair<uint16_t, std::string>>{{0x8000, "Network Boot"}, {0, "Boot from local disk"}}) {
        menu.insert(menu.end(), {uint8_t(type >> 8), uint8_t(type), uint8_t(text.size())});
        menu.insert(menu.end(), text.begin(), text.end());
    }
    w.insert(w.end(), {9, uint8_t(menu.size())});
    w.insert(w.end(), menu.begin(), menu.end());
    std::string prompt = "Press F8 for menu.";
    w.insert(w.end(), {10, uint8_t(prompt.size() + 1), 10});
    w.insert(w.end(), prompt.begin(), prompt.end());
    w.push_back(255);
    return w;
}

}  // namespace

TEST(DnsmasqProxy, ProxyRangeTakesTheNetworkFromTheInterfaceOrTheNetmask) {
    std::vector<std::string> w;
    auto c = parse(kHead, &w);
    ASSERT_TRUE(c.ok()) << c.error();
    ASSERT_EQ(c->subnets.size(), 1u);
    EXPECT_TRUE(c->subnets[0].proxy);
    EXPECT_EQ(c->subnets[0].net.str(), "192.0.2.0/24");
    EXPECT_TRUE(c->options.empty()) << "no router option: a proxy reply carries none";
    EXPECT_FALSE(has(w, "router"));

    c = parse("interface=eth0\ndhcp-range=set:far,10.1.2.3,proxy,255.255.0.0,12h\ndhcp-boot=tag:far,far.0\n", &w);
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_EQ(c->subnets[0].net.str(), "10.1.0.0/16");
    EXPECT_TRUE(has(w, "t.conf:2: dhcp-range lease time ignored: a proxy range hands out no lease"));
    ASSERT_TRUE(c->class_named("far"));
    EXPECT_EQ(c->class_named("far")->match->kind, Match::Kind::Subnet);

    EXPECT_NE(error_of("interface=eth0\ndhcp-range=10.0.0.0,proxy\n").find("t.conf:2: dhcp-range 10.0.0.0,proxy has no netmask"),
              std::string::npos);
    EXPECT_NE(error_of("interface=eth0\ndhcp-range=192.0.2.10,192.0.2.20,proxy\n").find("t.conf:2: dhcp-range mode 'proxy' must take the place of the end address"),
              std::string::npos);
    EXPECT_NE(error_of("interface=eth0\ndhcp-range=192.0.2.10,static\n").find("t.conf:2: dhcp-range mode 'static' is not supported"),
              std::string::npos);
}

TEST(DnsmasqProxy, PxeServiceForms) {
    auto c = parse(std::string(kHead) +
                   "pxe-service=x86PC,\"Install Linux\",pxelinux\n"
                   "pxe-service=x86PC, \"Boot from local disk\"\n"
                   "pxe-service=x86PC, \"Install Linux\", pxelinux, 192.0.2.9\n"
                   "pxe-service=x86PC,\"RIS\",1\n"
                   "pxe-service=x86PC,\"RIS there\",1,192.0.2.8\n"
                   "pxe-service=x86-64_EFI,\"UEFI\",bootx64.efi\n"
                   "pxe-service=11,\"ARM\",grubaa64.efi,0.0.0.0\n"
                   "pxe-service=arm64_efi,\"ARM local\",0\n");
    ASSERT_TRUE(c.ok()) << c.error();
    auto& s = c->pxe.services;
    ASSERT_EQ(s.size(), 8u);
    struct Want {
        uint16_t arch;
        std::string text;
        uint16_t type;
        std::string file;
        std::optional<Ipv4> server;
    } want[] = {
        {0, "Install Linux", 0x8000, "pxelinux", {}},        {0, "Boot from local disk", 0, "", {}},
        {0, "Install Linux", 0x8001, "pxelinux", Ipv4(192, 0, 2, 9)}, {0, "RIS", 1, "", {}},
        {0, "RIS there", 1, "", Ipv4(192, 0, 2, 8)},          {7, "UEFI", 0x8002, "bootx64.efi", {}},
        {11, "ARM", 0x8003, "grubaa64.efi", {}},              {11, "ARM local", 0, "", {}},
    };
    for (size_t i = 0; i < s.size(); i++) {
        SCOPED_TRACE(i);
        EXPECT_EQ(s[i].arch, want[i].arch);
        EXPECT_EQ(s[i].text, want[i].text);
        EXPECT_EQ(s[i].type, want[i].type);
        EXPECT_EQ(s[i].file, want[i].file);
        EXPECT_EQ(s[i].server, want[i].server);
        EXPECT_EQ(s[i].where, "t.conf:" + std::to_string(i + 3));
    }
    EXPECT_FALSE(c->pxe.prompt);
}

TEST(DnsmasqProxy, PxePromptAndItsDefaultTimeout) {
    auto c = parse(std::string(kHead) + "pxe-prompt=\"Press F8 for menu.\", 60\n");
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_EQ(c->pxe.prompt, "Press F8 for menu.");
    EXPECT_EQ(c->pxe.timeout, 60);
    std::vector<std::string> w;
    c = parse(std::string(kHead) + "pxe-prompt=\"What system, then?\"\npxe-prompt=\"What system shall I netboot?\"\n", &w);
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_EQ(c->pxe.prompt, "What system shall I netboot?");
    EXPECT_EQ(c->pxe.timeout, 255) << "dnsmasq: no timeout = wait for a key";
    EXPECT_TRUE(has(w, "t.conf:3: pxe-prompt: the later one (t.conf:4) takes its place"));
}

TEST(DnsmasqProxy, RefusalsNameTheLine) {
    struct Case {
        std::string lines, want;
    } cases[] = {
        {"dhcp-vendorclass=set:bios,PXEClient:Arch:00000\npxe-service=tag:bios,x86PC,\"Boot\",pxelinux",
         "t.conf:4: pxe-service for tag:bios only: pxed's PXE menu is the same for every client"},
        {"pxe-service=x86PC,\"Boot\",pxelinux,boothost",
         "t.conf:3: pxe-service server 'boothost' is not an IPv4 address: dnsmasq looks names up in /etc/hosts, pxed does not resolve names"},
        {"pxe-service=Amiga,\"Boot\",pxelinux", "t.conf:3: pxe-service client system type 'Amiga' is neither"},
        {"pxe-service=x86PC", "t.conf:3: pxe-service 'x86PC' needs <CSA>,<menu text>"},
        {"pxe-service=x86PC,\"Boot\",pxelinux,192.0.2.9,x", "t.conf:3: pxe-service 'x86PC,\"Boot\",pxelinux,192.0.2.9,x' has fields after the server"},
        {"pxe-service=x86PC,\"Boot\",70000", "t.conf:3: pxe-service boot service type 70000 is not 0-65535"},
        {"pxe-prompt=tag:!x,\"Press F8\",5", "t.conf:3: pxe-prompt for tag:!x only"},
        {"pxe-prompt=\"Press F8\",10s", "t.conf:3: pxe-prompt timeout '10s' is not 0-255 seconds"},
        {"pxe-prompt=\"\"", "t.conf:3: pxe-prompt needs the prompt text"},
        {"dhcp-option=vendor:PXEClient,1,0.0.0.0", "t.conf:3: option 43 beside a proxy range (t.conf:2) is not supported"},
        {"pxe-service=x86PC,\"" + std::string(81, 'x') + "\"", "t.conf:3: PXE service '" + std::string(81, 'x') + "': the menu text must be 1-80 bytes"},
    };
    for (auto& k : cases) {
        std::string e = error_of(kHead + k.lines + "\n");
        EXPECT_NE(e.find(k.want), std::string::npos) << k.lines << "\n -> " << e;
    }
    // Without a proxy range pxed sends no menu and no prompt.
    EXPECT_NE(error_of("interface=eth0\ndhcp-range=192.0.2.100,192.0.2.199\npxe-prompt=\"Press F8\",5\n")
                  .find("t.conf:3: pxe-prompt is not supported without a proxy range"),
              std::string::npos);
    EXPECT_NE(error_of("interface=eth0\ndhcp-range=192.0.2.100,192.0.2.199\npxe-service=x86PC,\"Boot\",pxelinux\n")
                  .find("t.conf:3: pxe-service 'x86PC,\"Boot\",pxelinux' is not supported without a proxy range"),
              std::string::npos);
}

TEST(DnsmasqProxy, HostsOptionsAndKnownClientsBesideAProxyRange) {
    std::vector<std::string> w;
    auto c = parse(std::string(kHead) +
                       "dhcp-host=52:54:00:00:60:01,192.0.2.50,node1,set:lab\ndhcp-boot=tag:lab,lab.0\n"
                       "dhcp-ignore=tag:!known\ndhcp-option=option:ntp-server,192.0.2.1\ndhcp-option=3,192.0.2.254\n"
                       "pxe-service=0,\"Raspberry Pi Boot   \"\n",
                   &w);
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_TRUE(c->reservations.empty());
    ASSERT_EQ(c->hosts.size(), 1u);
    EXPECT_EQ(c->hosts[0].hostname, "node1");
    EXPECT_EQ(c->hosts[0].classes, std::vector<std::string>{"lab"});
    EXPECT_TRUE(has(w, "dhcp-host 52:54:00:00:60:01,192.0.2.50: subnet 192.0.2.0/24 is served in proxy mode"));
    EXPECT_FALSE(c->subnets[0].known_clients_only);
    EXPECT_TRUE(has(w, "t.conf:6: option 42: pxed's proxy replies carry it when the client asks for it"));
    EXPECT_FALSE(has(w, "option 3:"));
    // The Raspberry Pi line is an ordinary menu entry here: local boot for BIOS.
    ASSERT_EQ(c->pxe.services.size(), 1u);
    EXPECT_EQ(c->pxe.services[0].text, "Raspberry Pi Boot   ");
    EXPECT_EQ(c->pxe.services[0].type, 0);

    Engine e(*c);
    auto known = handle(e, bios());
    ASSERT_TRUE(known.reply) << known.note;
    EXPECT_EQ(known.reply->packet.file_str(), "lab.0");
    Packet stranger = bios();
    stranger.set_mac(*Mac::parse("52:54:00:00:60:02"));
    EXPECT_EQ(handle(e, stranger).drop, Drop::Ignored) << "dhcp-ignore=tag:!known as a class";

    // Beside an address range, dnsmasq would send the menu there too.
    c = parse(std::string(kHead) + "dhcp-range=198.51.100.10,198.51.100.20,255.255.255.0\npxe-service=x86PC,\"Boot\",pxelinux\n", &w);
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_TRUE(has(w, "t.conf:3: dnsmasq also sends the PXE menu (pxe-service, pxe-prompt) in this range's replies"));
}

TEST(DnsmasqProxy, CorpusProxyConfThroughTheEngine) {
    Config c = corpus("proxy.conf");
    ASSERT_EQ(c.subnets.size(), 1u);
    EXPECT_TRUE(c.subnets[0].proxy);
    EXPECT_EQ(c.subnets[0].net.str(), "192.0.2.0/24");
    ASSERT_EQ(c.pxe.services.size(), 2u);
    EXPECT_EQ(c.pxe.prompt, "Press F8 for menu.");
    EXPECT_EQ(c.pxe.timeout, 10);
    EXPECT_EQ(c.tftp_root, "/srv/tftp");
    Engine e(c);

    // BIOS: a proxy offer with the menu, pxelinux.0 as the plain boot file.
    auto o = handle(e, bios());
    ASSERT_TRUE(o.reply) << o.note;
    EXPECT_TRUE(o.proxy);
    const Packet& r = o.reply->packet;
    EXPECT_EQ(r.message_type(), MessageType::Offer);
    EXPECT_TRUE(r.yiaddr.is_zero());
    EXPECT_EQ(r.siaddr, kServer);
    EXPECT_EQ(r.file_str(), "pxelinux.0");
    EXPECT_EQ(r.options.get_str(opt::VendorClass), "PXEClient");
    EXPECT_FALSE(r.options.has(opt::Router));
    EXPECT_EQ(vendor_opts(o), proxy_conf_bios_menu());

    // The menu's first item at the boot server: pxelinux + layer 0.
    auto ack = handle(e, to_4011(bios(), 0x8000), true);
    ASSERT_TRUE(ack.reply) << ack.note;
    EXPECT_EQ(ack.reply->packet.message_type(), MessageType::Ack);
    EXPECT_EQ(ack.reply->packet.file_str(), "pxelinux.0");
    EXPECT_EQ(ack.reply->packet.yiaddr, Ipv4(192, 0, 2, 77));
    EXPECT_EQ(ack.reply->src_port, 4011);
    EXPECT_EQ(handle(e, to_4011(bios(), 0), true).drop, Drop::NothingToBoot) << "local boot is not served";

    // UEFI x86-64: sent on to port 4011 with the tagged boot file, no option 43.
    for (int arch : {7, 9}) {
        SCOPED_TRACE(arch);
        auto u = handle(e, uefi(arch));
        ASSERT_TRUE(u.reply) << u.note;
        EXPECT_TRUE(u.reply->packet.yiaddr.is_zero());
        EXPECT_EQ(u.reply->packet.siaddr, kServer);
        EXPECT_EQ(u.reply->packet.file_str(), "debian-installer/amd64/bootnetx64.efi");
        EXPECT_FALSE(u.reply->packet.options.has(opt::VendorSpecific));
        auto ua = handle(e, to_4011(uefi(arch)), true);
        ASSERT_TRUE(ua.reply) << ua.note;
        EXPECT_EQ(ua.reply->packet.file_str(), "debian-installer/amd64/bootnetx64.efi");
        // No menu for UEFI: "boot the file named", with the configured prompt.
        std::vector<uint8_t> want{6, 1, 8, 10, 19, 10};
        for (char ch : std::string("Press F8 for menu.")) want.push_back(uint8_t(ch));
        want.push_back(255);
        EXPECT_EQ(vendor_opts(ua), want);
    }

    // Not a PXE client: the address server's, pxed stays silent.
    Packet plain = client(-1, "udhcp 1.36.1");
    auto p = handle(e, plain);
    EXPECT_FALSE(p.reply);
    EXPECT_EQ(p.drop, Drop::NotPxe);
    EXPECT_TRUE(e.leases().all().empty());
}

TEST(DnsmasqProxy, CorpusProxyUefiConfThroughTheEngine) {
    std::vector<std::string> w;
    Config c = corpus("proxy-uefi.conf", &w);
    ASSERT_EQ(c.subnets.size(), 1u);
    EXPECT_TRUE(c.subnets[0].proxy);
    EXPECT_EQ(c.subnets[0].net.str(), "192.0.2.0/24");
    ASSERT_EQ(c.pxe.services.size(), 2u);
    EXPECT_EQ(c.pxe.services[0].arch, 7);
    EXPECT_EQ(c.pxe.services[0].type, 0x8000);
    EXPECT_EQ(c.pxe.services[1].arch, 9);
    EXPECT_EQ(c.pxe.services[1].type, 0x8001);
    EXPECT_EQ(c.pxe.services[1].text, "Boot to FOG UEFI PXE-BC");
    EXPECT_EQ(c.pxe.timeout, 1);
    Engine e(c);

    // Nothing for BIOS: no service for x86PC and no plain dhcp-boot.
    EXPECT_EQ(handle(e, bios()).drop, Drop::NothingToBoot);
    // UEFI: one entry per architecture, so no menu (dnsmasq's UEFI
    // workaround): the offer sends the client to port 4011, whose ACK names
    // the file and this server.
    for (int arch : {7, 9}) {
        SCOPED_TRACE(arch);
        auto o = handle(e, uefi(arch));
        ASSERT_TRUE(o.reply) << o.note;
        EXPECT_TRUE(o.reply->packet.yiaddr.is_zero());
        EXPECT_EQ(o.reply->packet.siaddr, kServer);
        EXPECT_EQ(o.reply->packet.file_str(), "");
        EXPECT_FALSE(o.reply->packet.options.has(opt::VendorSpecific));
        auto a = handle(e, to_4011(uefi(arch)), true);
        ASSERT_TRUE(a.reply) << a.note;
        EXPECT_EQ(a.reply->packet.file_str(), "ipxe.efi");
        EXPECT_EQ(a.reply->packet.sname_str(), "192.0.2.1");
        EXPECT_FALSE(a.reply->packet.options.has(opt::VendorSpecific));
    }
    // ARM64: no menu entry, the boot file of its tag.
    auto arm = handle(e, uefi(11));
    ASSERT_TRUE(arm.reply) << arm.note;
    EXPECT_EQ(arm.reply->packet.file_str(), "arm64/grubaa64.efi");
    EXPECT_EQ(handle(e, client(-1, "")).drop, Drop::NotPxe);
}

// dnsmasq lists itself as the boot server of a file entry even when the
// entry names another server (pxe_opts: boot_server = local for a
// basename; the server is where the file is fetched from, in the 4011
// ACK's siaddr). pxed's proxy.cpp lists the named server in sub-option 8,
// so the client would ask that server on port 4011. Reported to the lead
// (dhcp/proxy.* is not this change's to touch); enable once fixed.
TEST(DnsmasqProxy, FileEntryWithAnotherTftpServerIsServedHere) {
    auto c = parse(std::string(kHead) + "pxe-service=x86PC,\"Install Linux\",pxelinux,192.0.2.9\n");
    ASSERT_TRUE(c.ok()) << c.error();
    Engine e(*c);
    auto o = handle(e, bios());
    std::string text = "Install Linux";
    std::vector<uint8_t> want{6, 1, 3, 8, 7, 0x80, 0, 1, 192, 0, 2, 1, 9, uint8_t(3 + text.size()), 0x80, 0, uint8_t(text.size())};
    want.insert(want.end(), text.begin(), text.end());
    want.insert(want.end(), {10, 4, 0, 'P', 'X', 'E', 255});
    EXPECT_EQ(vendor_opts(o), want);
    auto ack = handle(e, to_4011(bios(), 0x8000), true);
    ASSERT_TRUE(ack.reply);
    EXPECT_EQ(ack.reply->packet.siaddr, Ipv4(192, 0, 2, 9));
}
