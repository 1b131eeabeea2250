// The corpus of dnsmasq.conf files (tests/data/dnsmasq/, written after the
// public templates of Ironic, FOG, LTSP, netboot.xyz, Foreman and the
// Raspberry Pi guides) through the importer and the policy engine: which
// boot file, server and options each kind of firmware is offered, and
// dnsmasq's precedence (host tag > range tag > untagged; the last line
// wins) coming out the same.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config/config.h"
#include "config/option_value.h"
#include "dhcp/policy.h"
#include "dhcp/render.h"
#include "support/pxe_clients.h"

using namespace pxed;
using namespace pxed::config;
using namespace pxed::dhcp;
using pxed::test::pxe_clients;

namespace {

std::string corpus(const std::string& name) { return std::string(PXED_SOURCE_DIR) + "/tests/data/dnsmasq/" + name; }

// Every corpus file serves one interface on 192.0.2.1/24.
std::optional<Ipv4Net> lan(const std::string&) { return Ipv4Net::parse("192.0.2.1/24"); }

Config load(const std::string& name, std::vector<std::string>* warnings = nullptr) {
    std::vector<std::string> w;
    auto r = load_dnsmasq_file(corpus(name), lan, w);
    EXPECT_TRUE(r.ok()) << name << ": " << r.error();
    if (warnings) *warnings = w;
    return r.ok() ? *r : Config{};
}

Result<Config> parse(const std::string& text) {
    std::vector<std::string> w;
    return parse_dnsmasq(text, "t.conf", lan, w);
}

// What the offer to `req` carries, as the daemon renders it.
struct Offer {
    bool ignored = false;
    std::string file;
    Ipv4 siaddr;
    std::map<uint8_t, std::vector<uint8_t>> opts;
    std::string str(uint8_t code) const {
        auto it = opts.find(code);
        return it == opts.end() ? "" : std::string(it->second.begin(), it->second.end());
    }
};

Offer ignored() {
    Offer o;
    o.ignored = true;
    return o;
}

Offer offer(const Config& c, Packet req, const std::string& mac = "") {
    if (!mac.empty()) req.set_mac(*Mac::parse(mac));
    Offer o;
    const Reservation* r = c.reservation_for(req.mac());
    const Host* h = c.host_for(req.mac());
    const Subnet* s = &c.subnets.at(0);
    bool known = r || h;
    if (s->known_clients_only && !known) return ignored();
    auto pol = resolve(c, HostRef::of(r, h), Facts::exact(req, s, known));
    if (!pol || pol->ignore) return ignored();
    RenderInput in{s, Ipv4(192, 0, 2, 1), 3600, &*pol, req.options.find(opt::ParamRequestList)};
    Packet rep = render_reply(req, MessageType::Offer, in, r ? r->ip : Ipv4(192, 0, 2, 150));
    o.file = rep.file_str();
    o.siaddr = rep.siaddr;
    for (auto& x : rep.options.all()) o.opts[x.code] = x.data;
    return o;
}

std::map<std::string, Packet> clients() {
    std::map<std::string, Packet> m;
    for (auto& c : pxe_clients()) m[c.name] = c.discover;
    return m;
}

std::vector<uint8_t> ips(std::initializer_list<Ipv4> l) {
    std::vector<uint8_t> v;
    for (auto a : l) {
        auto b = encode_ip(a);
        v.insert(v.end(), b.begin(), b.end());
    }
    return v;
}

}  // namespace

TEST(DnsmasqCorpus, IronicChainloadsIpxeAndIgnoresManagedNodes) {
    Config c = load("ironic.conf");
    auto k = clients();
    EXPECT_EQ(offer(c, k["bios"]).file, "undionly.kpxe");
    EXPECT_EQ(offer(c, k["bios"]).siaddr.str(), "192.0.2.1");
    EXPECT_EQ(offer(c, k["uefi-x64"]).file, "ipxe.efi");
    EXPECT_EQ(offer(c, k["arm64"]).file, "snp-arm64.efi");  // efi and arm64 both set: the later line wins
    EXPECT_EQ(offer(c, k["ipxe"]).file, "http://192.0.2.1:8088/inspector.ipxe");
    EXPECT_EQ(offer(c, k["ipxe-175"]).file, "http://192.0.2.1:8088/inspector.ipxe");
    EXPECT_EQ(offer(c, k["plain"]).file, "undionly.kpxe");  // dnsmasq: untagged dhcp-boot is everyone's
    // A tagged dhcp-boot without a server: dnsmasq's own address.
    EXPECT_EQ(offer(c, k["uefi-x64"]).siaddr.str(), "192.0.2.1");
    // tag-if ipxe + known + enroll: the enrolled node's iPXE gets its own script.
    EXPECT_EQ(offer(c, k["ipxe"], "52:54:00:00:10:21").file, "http://192.0.2.1:8088/enroll.ipxe");
    EXPECT_EQ(offer(c, k["bios"], "52:54:00:00:10:21").file, "undionly.kpxe");
    EXPECT_TRUE(offer(c, k["bios"], "52:54:00:00:10:31").ignored);  // the hosts file's "MAC,ignore"
    EXPECT_EQ(offer(c, k["bios"]).opts.at(26), encode_u16(1450));  // forced mtu
    EXPECT_EQ(offer(c, k["plain"]).opts.count(26), 1u);          // even though not in option 55
    EXPECT_EQ(c.hosts.size(), 3u);
}

TEST(DnsmasqCorpus, FogPerFirmwareAndIpxeLastLineWins) {
    Config c = load("fog.conf");
    auto k = clients();
    EXPECT_EQ(offer(c, k["bios"]).file, "undionly.kpxe");
    EXPECT_EQ(offer(c, k["bios"]).siaddr.str(), "192.0.2.10");
    EXPECT_EQ(offer(c, k["uefi-x64"]).file, "ipxe.efi");
    EXPECT_EQ(offer(c, k["arm64"]).file, "");  // no line for arch 11, no untagged dhcp-boot
    EXPECT_EQ(offer(c, k["ipxe"]).file, "http://192.0.2.10/fog/service/ipxe/boot.php");
    EXPECT_EQ(offer(c, k["ipxe-175"]).file, "ipxe.efi");  // FOG tests the user class only
    // vendor:PXEClient,6,2b: option 43 sub-option 6 = 2 for PXE clients.
    EXPECT_EQ(offer(c, k["bios"]).opts.at(43), (std::vector<uint8_t>{6, 1, 2, 255}));
    EXPECT_EQ(offer(c, k["plain"]).opts.count(43), 0u);
    EXPECT_EQ(offer(c, k["plain"]).opts.at(6), ips({Ipv4(192, 0, 2, 1), Ipv4(198, 51, 100, 53)}));
    EXPECT_EQ(offer(c, k["plain"]).str(15), "fog.example");
    EXPECT_TRUE(c.authoritative);
}

TEST(DnsmasqCorpus, LtspHostTagOverRangeTagOverUntagged) {
    Config c = load("ltsp.conf");
    auto k = clients();
    EXPECT_EQ(offer(c, k["bios"]).file, "ltsp/undionly.kpxe");
    EXPECT_EQ(offer(c, k["uefi-x64"]).file, "ltsp/snponly.efi");
    EXPECT_EQ(offer(c, k["ipxe"]).file, "ltsp/ltsp.ipxe");
    EXPECT_EQ(offer(c, k["ipxe-175"]).file, "ltsp/ltsp.ipxe");
    EXPECT_EQ(offer(c, k["arm64"]).file, "");
    // ntp-server: untagged 198.51.100.123 < tag:ltsp (the range) 192.0.2.1 < tag:lab (a host) 192.0.2.9.
    EXPECT_EQ(offer(c, k["plain"]).opts.at(42), ips({Ipv4(192, 0, 2, 1)}));
    EXPECT_EQ(offer(c, k["plain"], "52:54:00:00:20:01").opts.at(42), ips({Ipv4(192, 0, 2, 9)}));
    EXPECT_EQ(offer(c, k["bios"]).str(17), "/srv/ltsp/x86_64");
}

TEST(DnsmasqCorpus, NetbootXyzByVendorClassString) {
    Config c = load("netbootxyz.conf");
    auto k = clients();
    EXPECT_EQ(offer(c, k["bios"]).file, "netboot.xyz.kpxe");
    EXPECT_EQ(offer(c, k["uefi-x64"]).file, "netboot.xyz.efi");
    EXPECT_EQ(offer(c, k["arm64"]).file, "netboot.xyz-arm64.efi");
    EXPECT_EQ(offer(c, k["http"]).file, "");  // "HTTPClient:Arch:00016" matches none of the strings
    EXPECT_EQ(offer(c, k["ipxe"]).file, "netboot.xyz.kpxe");
    EXPECT_EQ(offer(c, k["plain"]).file, "");
}

TEST(DnsmasqCorpus, ForemanHostsAndOptsFiles) {
    Config c = load("foreman.conf");
    auto k = clients();
    EXPECT_EQ(offer(c, k["bios"]).file, "pxelinux.0");
    EXPECT_EQ(offer(c, k["uefi-x64"]).file, "grub2/grubx64.efi");
    EXPECT_EQ(offer(c, k["arm64"]).file, "grub2/grubaa64.efi");
    EXPECT_EQ(offer(c, k["http"]).file, "http://192.0.2.1/httpboot/grub2/shimx64.efi");
    EXPECT_EQ(offer(c, k["http"]).str(60), "HTTPClient");
    ASSERT_EQ(c.reservations.size(), 2u);
    EXPECT_EQ(c.reservations[0].classes, std::vector<std::string>{"kickstart"});
    auto host21 = offer(c, k["bios"], "52:54:00:00:30:01");
    EXPECT_EQ(host21.str(17), "192.0.2.5:/exports/kickstart");  // quoted: a string, not an address list
    EXPECT_EQ(host21.str(15), "build.example.com");               // the host's tag over domain=
    EXPECT_EQ(offer(c, k["bios"], "52:54:00:00:30:02").str(15), "example.com");
}

TEST(DnsmasqCorpus, RaspberryPiMenuForPisOnly) {
    Config c = load("rpi.conf");
    auto k = clients();
    Offer pi = offer(c, k["rpi3"]);
    EXPECT_EQ(pi.file, "bootcode.bin");
    EXPECT_EQ(pi.str(60), "PXEClient");
    std::string text = "Raspberry Pi Boot   ";
    std::vector<uint8_t> want = {6, 1, 3, 9, uint8_t(3 + text.size()), 0, 0, uint8_t(text.size())};
    want.insert(want.end(), text.begin(), text.end());
    for (int b : {10, 4, 0, int('P'), int('X'), int('E'), 255}) want.push_back(uint8_t(b));
    EXPECT_EQ(pi.opts.at(43), want);
    EXPECT_EQ(pi.opts.at(42), ips({Ipv4(192, 0, 2, 1)}));
    // dnsmasq sends the menu to every BIOS PXE client (pxe-service has no tag).
    EXPECT_EQ(offer(c, k["bios"]).opts.at(43), want);
    EXPECT_EQ(offer(c, k["bios"]).file, "");
    // Other PXE clients: no menu for their architecture, so dnsmasq's
    // discovery control 8 ("boot the file named") and its prompt.
    EXPECT_EQ(offer(c, k["uefi-x64"]).opts.at(43), (std::vector<uint8_t>{6, 1, 8, 10, 4, 0, 'P', 'X', 'E', 255}));
    EXPECT_EQ(offer(c, k["uefi-x64"]).str(60), "PXEClient");
    EXPECT_EQ(offer(c, k["plain"]).opts.count(43), 0u);
}

TEST(DnsmasqImport, LastTaggedOptionLineWins) {
    auto c = parse("interface=eth0\ndhcp-range=192.0.2.100,192.0.2.199,255.255.255.0\n"
                   "dhcp-match=set:a,option:client-arch,0\ndhcp-vendorclass=set:b,PXEClient\n"
                   "dhcp-option=tag:a,option:root-path,first\ndhcp-option=tag:b,option:root-path,second\n"
                   "dhcp-option=tag:b,option:ntp-server,192.0.2.7\ndhcp-option=tag:a,option:ntp-server,192.0.2.8\n");
    ASSERT_TRUE(c.ok()) << c.error();
    Offer o = offer(*c, clients()["bios"]);
    EXPECT_EQ(o.str(17), "second");
    EXPECT_EQ(o.opts.at(42), ips({Ipv4(192, 0, 2, 8)}));
}

TEST(DnsmasqImport, ValueGuessingFollowsDnsmasq) {
    auto c = parse("interface=eth0\ndhcp-range=192.0.2.100,192.0.2.199,255.255.255.0\n"
                   "dhcp-option=128,192.0.2.5\ndhcp-option=129,300\ndhcp-option=130,5s\ndhcp-option=131,01:02:0a\n"
                   "dhcp-option=132,\"300\"\ndhcp-option=133,hello world\ndhcp-option=vendor:PXEClient,1,0.0.0.0\n");
    ASSERT_TRUE(c.ok()) << c.error();
    Offer o = offer(*c, clients()["bios"]);
    EXPECT_EQ(o.opts.at(128), ips({Ipv4(192, 0, 2, 5)}));
    EXPECT_EQ(o.opts.at(129), (std::vector<uint8_t>{1, 44}));
    EXPECT_EQ(o.opts.at(130), (std::vector<uint8_t>{0, 5}));
    EXPECT_EQ(o.opts.at(131), (std::vector<uint8_t>{1, 2, 10}));
    EXPECT_EQ(o.str(132), "300");
    EXPECT_EQ(o.str(133), "hello world");
    EXPECT_EQ(o.opts.at(43), (std::vector<uint8_t>{1, 4, 192, 0, 2, 1, 255}));
}

TEST(DnsmasqImport, MatchForms) {
    auto c = parse("interface=eth0\ndhcp-range=192.0.2.100,192.0.2.199,255.255.255.0\n"
                   "dhcp-match=set:hex,93,00:*\ndhcp-mac=set:qemu,52:54:00:*:*:*\ndhcp-userclass=set:ipxe,iPXE\n"
                   "tag-if=set:both,tag:hex,tag:!ipxe\ntag-if=set:both,tag:qemu,tag:ipxe\n"
                   "dhcp-boot=tag:both,yes.efi\ndhcp-ignore=tag:!known\n"
                   "dhcp-host=52:54:00:00:50:02,node2\ndhcp-host=52:54:00:00:50:05,node5\n");
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_TRUE(c->subnets[0].known_clients_only);
    auto k = clients();
    EXPECT_EQ(offer(*c, k["uefi-x64"]).file, "yes.efi");  // 93 = 00:07, no iPXE
    EXPECT_EQ(offer(*c, k["ipxe"]).file, "yes.efi");      // qemu MAC and iPXE (second tag-if)
    EXPECT_TRUE(offer(*c, k["bios"]).ignored);            // unknown
}

TEST(DnsmasqImport, RefusalsNameTheLine) {
    struct Case {
        std::string line, want;
    } cases[] = {
        {"dhcp-range=192.0.2.10,proxy", "t.conf:3: dhcp-range: network 192.0.2.0/24 is also served by t.conf:2: pxed "
                                        "serves a network either with addresses or as a proxy"},
        {"dhcp-host=tag:x,52:54:00:00:00:01,192.0.2.9", "t.conf:2: dhcp-host tag:x: a host entry that applies only to tagged"},
        {"dhcp-range=tag:x,192.0.2.10,192.0.2.20,255.255.255.0", "t.conf:2: dhcp-range tag:x: a range only for tagged"},
        {"pxe-service=x86PC,\"Boot\",pxelinux", "t.conf:2: pxe-service 'x86PC,\"Boot\",pxelinux' is not supported"},
        {"pxe-prompt=\"Press F8\",5", "t.conf:2: pxe-prompt is not supported"},
        {"dhcp-option=option:frob,1", "t.conf:2: option:frob: pxed does not know this option name"},
        {"dhcp-option=54,192.0.2.1", "t.conf:2: option 54 is written by pxed itself"},
        {"tag-if=set:a,tag:b\ntag-if=set:b,tag:c\ndhcp-match=set:c,175\ndhcp-boot=tag:a,x",
         "t.conf:2: tag-if reads tag b that a later tag-if (t.conf:3) sets"},
        {"dhcp-range=set:r,192.0.2.100,192.0.2.199,255.255.255.0\ndhcp-match=set:a,175\ndhcp-option=tag:r,tag:a,42,192.0.2.1",
         "t.conf:4: tag:r,tag:a mixes dhcp-range tags with other tags"},
        {"dhcp-option=tag:a,encap:175,190,x\ndhcp-option=tag:b,encap:175,191,y",
         "t.conf:3: sub-options of option 175 under two different conditions"},
    };
    for (auto& k : cases) {
        auto r = parse("interface=eth0\n" + k.line + "\ndhcp-range=192.0.2.100,192.0.2.199,255.255.255.0\n");
        ASSERT_FALSE(r.ok()) << k.line;
        EXPECT_NE(r.error().find(k.want), std::string::npos) << k.line << "\n -> " << r.error();
    }
}

TEST(DnsmasqImport, EncapMergesUntaggedIntoTaggedAndRelayTags) {
    auto c = parse("interface=eth0\ndhcp-range=192.0.2.100,192.0.2.199,255.255.255.0\n"
                   "dhcp-userclass=set:ipxe,iPXE\ndhcp-circuitid=set:rack1,\"sw1/17\"\ndhcp-remoteid=set:r2,01:02\n"
                   "dhcp-option=encap:175,176,1b\ndhcp-option=tag:ipxe,encap:175,190,\"iscsi0\"\n"
                   "dhcp-boot=tag:rack1,rack1.efi\ndhcp-boot=tag:r2,r2.efi\n");
    ASSERT_TRUE(c.ok()) << c.error();
    auto k = clients();
    // The iPXE client gets both sub-options (dnsmasq merges every matching
    // encap line), others only the untagged one; 175 must be asked for.
    EXPECT_EQ(offer(*c, k["ipxe"]).opts.at(175), (std::vector<uint8_t>{190, 6, 'i', 's', 'c', 's', 'i', '0', 176, 1, 1, 255}));
    Packet plain = k["plain"];
    plain.options.set(opt::ParamRequestList, std::vector<uint8_t>{1, 3, 175});
    EXPECT_EQ(offer(*c, plain).opts.at(175), (std::vector<uint8_t>{176, 1, 1, 255}));
    const uint8_t agent[] = {1, 6, 's', 'w', '1', '/', '1', '7', 2, 2, 1, 2};
    Packet relayed = k["bios"];
    relayed.options.set(opt::RelayAgentInfo, agent);
    EXPECT_EQ(offer(*c, relayed).file, "r2.efi");  // both match: the later line wins
    relayed.options.set(opt::RelayAgentInfo, std::span<const uint8_t>(agent, 8));
    EXPECT_EQ(offer(*c, relayed).file, "rack1.efi");
}
