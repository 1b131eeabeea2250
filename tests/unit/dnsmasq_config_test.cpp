#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config/config.h"

using namespace pxed;
using namespace pxed::config;

namespace {

std::string tutorial() {
    std::ifstream in(std::string(PXED_SOURCE_DIR) + "/tests/data/tutorial-dnsmasq.conf");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::optional<Ipv4Net> br0(const std::string& ifname) {
    if (ifname == "br0") return Ipv4Net::parse("192.168.1.1/24");
    return std::nullopt;
}

Result<Config> parse(const std::string& text, std::vector<std::string>& w) {
    return parse_dnsmasq(text, "dnsmasq.conf", br0, w);
}

// The class a tagged dhcp-boot line became, by its boot file.
const Class* boot_class(const Config& c, const std::string& file) {
    for (auto& k : c.classes)
        if (k.set.boot_file == file) return &k;
    return nullptr;
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
    auto at = s.find(from);
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
}

}  // namespace

TEST(DnsmasqConfig, TutorialReservationOfTheServerAddressIsRejected) {
    std::vector<std::string> w;
    auto r = parse(tutorial(), w);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("reservation 9e:42:87:f7:29:92 -> 192.168.1.1"), std::string::npos) << r.error();
    EXPECT_NE(r.error().find("server or router itself"), std::string::npos) << r.error();
}

TEST(DnsmasqConfig, TutorialWithAClientAddressTranslates) {
    std::vector<std::string> w;
    auto r = parse(replace(tutorial(), "192.168.1.1,pc", "192.168.1.50,pc"), w);
    ASSERT_TRUE(r.ok()) << r.error();
    const Config& c = *r;
    EXPECT_EQ(c.interfaces, std::vector<std::string>{"br0"});
    ASSERT_EQ(c.subnets.size(), 1u);
    auto& s = c.subnets[0];
    EXPECT_EQ(s.net.str(), "192.168.1.0/24");
    EXPECT_EQ(s.range_start.str(), "192.168.1.100");
    EXPECT_EQ(s.range_end.str(), "192.168.1.200");
    EXPECT_EQ(s.lease_time, 12u * 3600);
    EXPECT_EQ(s.router->str(), "192.168.1.1");
    ASSERT_EQ(s.dns.size(), 1u);
    EXPECT_EQ(s.domain, "lab.local");
    EXPECT_EQ(s.boot.any, "pxelinux.0");
    const Class* efi = boot_class(c, "bootnetx64.efi");
    ASSERT_NE(efi, nullptr);
    ASSERT_TRUE(efi->match.has_value());
    EXPECT_EQ(efi->match->kind, Match::Kind::Member);  // of the tag class efi-x86_64 (arch 7)
    EXPECT_EQ(efi->match->name, "efi-x86_64");
    ASSERT_EQ(c.reservations.size(), 1u);
    EXPECT_EQ(c.reservations[0].hostname, "pc");
    EXPECT_EQ(c.reservations[0].lease_time, kInfiniteLease);
    EXPECT_EQ(c.tftp_root, "/srv/tftp");
    EXPECT_EQ(c.lease_db, "/var/lib/misc/dnsmasq.leases.pxed.db");
    EXPECT_FALSE(c.authoritative);
    // Ignored options are named with their line.
    bool bind = false, log = false;
    for (auto& x : w) {
        bind |= x.find("dnsmasq.conf:3: bind-interfaces") != std::string::npos;
        log |= x.find("dnsmasq.conf:15: log-dhcp") != std::string::npos;
    }
    EXPECT_TRUE(bind && log);
}

TEST(DnsmasqConfig, NetmaskInferredFromTheInterface) {
    std::vector<std::string> w;
    auto r = parse("interface=br0\ndhcp-range=192.168.1.100,192.168.1.150,1h\n", w);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->subnets[0].net.str(), "192.168.1.0/24");
    EXPECT_EQ(r->subnets[0].lease_time, 3600u);
    auto bad = parse("interface=eth9\ndhcp-range=10.1.0.100,10.1.0.150\n", w);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().find("dnsmasq.conf:2: dhcp-range 10.1.0.100-10.1.0.150 has no netmask"), std::string::npos)
        << bad.error();
}

TEST(DnsmasqConfig, IpxeAndHttpTagsAndUnsupportedOptionsNamed) {
    std::vector<std::string> w;
    auto r = parse(
        "interface=br0\n"
        "dhcp-range=192.168.1.100,192.168.1.150,255.255.255.0\n"
        "dhcp-match=set:ipxe,175\n"
        "dhcp-userclass=set:ipxe2,iPXE\n"
        "dhcp-match=set:http,option:client-arch,16\n"
        "dhcp-boot=tag:!ipxe,undionly.kpxe\n"
        "dhcp-boot=tag:ipxe,http://192.168.1.1/boot.ipxe\n"
        "dhcp-boot=tag:http,http://192.168.1.1/efi/bootx64.efi\n"
        "dhcp-option=42,192.168.1.1\n"
        "frobnicate=yes\n"
        "dhcp-authoritative\n",
        w);
    ASSERT_TRUE(r.ok()) << r.error();
    // Tagged dhcp-boot lines are classes, the last line first.
    std::vector<std::string> files;
    for (auto& k : r->classes)
        if (k.set.boot_file) files.push_back(*k.set.boot_file);
    EXPECT_EQ(files, (std::vector<std::string>{"http://192.168.1.1/efi/bootx64.efi", "http://192.168.1.1/boot.ipxe",
                                               "undionly.kpxe"}));
    EXPECT_EQ(r->subnets[0].boot.any, "");
    // Option 42, and option 3 = this server (dnsmasq's default router).
    ASSERT_EQ(r->options.size(), 2u);
    EXPECT_EQ(r->options[0].code, 42);
    EXPECT_EQ(r->options[1].code, 3);
    EXPECT_EQ(r->options[1].data, (std::vector<uint8_t>{192, 168, 1, 1}));
    EXPECT_TRUE(r->authoritative);
    std::string all;
    for (auto& x : w) all += x + "\n";
    EXPECT_NE(all.find("dnsmasq.conf:10: frobnicate: not supported"), std::string::npos) << all;
}

TEST(DnsmasqConfig, BadValuesNameLineAndValue) {
    std::vector<std::string> w;
    auto r = parse("interface=br0\ndhcp-range=192.168.1.100,192.168.1.300,255.255.255.0\n", w);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), "dnsmasq.conf:2: dhcp-range end '192.168.1.300' is not an IPv4 address");
    r = parse("interface=br0\ndhcp-range=192.168.1.100,192.168.1.150,255.255.255.0\ndhcp-host=pc,192.168.1.9\n", w);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), "dnsmasq.conf:3: dhcp-host 'pc,192.168.1.9' has no MAC address");
    r = parse("interface=br0\ndhcp-range=192.168.1.100,192.168.1.150,255.255.255.0\n"
              "dhcp-host=52:54:00:00:00:01,192.168.1.9\ndhcp-host=52:54:00:00:00:01,192.168.1.10\n",
              w);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("52:54:00:00:00:01 appears twice"), std::string::npos) << r.error();
}
