#include <gtest/gtest.h>

#include "config/config.h"

using namespace pxed;

namespace {
const std::string kBase = R"([server]
interfaces = ["eth0"]

[[subnet]]
cidr = "192.0.2.0/24"
range = ["192.0.2.100", "192.0.2.200"]
)";

std::string error_of(const std::string& text) {
    auto r = config::parse_toml(text, "pxed.toml");
    return r.ok() ? std::string("(accepted)") : r.error();
}
}  // namespace

TEST(Config, MinimalIsValid) {
    auto r = config::parse_toml(kBase, "pxed.toml");
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->interfaces, std::vector<std::string>{"eth0"});
    EXPECT_EQ(r->subnets.at(0).lease_time, 3600u);
    EXPECT_EQ(r->xdp, config::XdpMode::Auto);
}

TEST(Config, ErrorsNameFileLineAndValue) {
    EXPECT_EQ(error_of(kBase + "[[reservation]]\nmac = \"52:54:00:zz:00:01\"\nip = \"192.0.2.5\"\n"),
              "pxed.toml:8: reservation[0].mac '52:54:00:zz:00:01' is not a MAC address like 52:54:00:12:34:56");
    EXPECT_EQ(error_of(kBase + "router = \"192.0.2.300\"\n"),
              "pxed.toml:7: subnet[0].router '192.0.2.300' is not an IPv4 address");
    EXPECT_NE(error_of(kBase + "lease-time = 5\n").find("pxed.toml:7: subnet[0].lease-time must be between"),
              std::string::npos);
    EXPECT_EQ(error_of(kBase + "colour = \"blue\"\n"), "pxed.toml:7: unknown key 'colour' in subnet[0]");
    EXPECT_NE(error_of("[server\n").find("pxed.toml:1:"), std::string::npos);
}

TEST(Config, CrossFieldValidation) {
    EXPECT_NE(error_of("[[subnet]]\ncidr = \"192.0.2.0/24\"\nrange = [\"192.0.2.1\", \"192.0.2.2\"]\n")
                  .find("no interface"),
              std::string::npos);
    auto outside = R"([server]
interfaces = ["eth0"]
[[subnet]]
cidr = "192.0.2.0/24"
range = ["192.0.2.100", "192.0.3.10"]
)";
    EXPECT_NE(error_of(outside).find("outside the subnet"), std::string::npos);
    EXPECT_NE(error_of(kBase + "[[reservation]]\nmac = \"52:54:00:00:00:01\"\nip = \"10.0.0.1\"\n")
                  .find("10.0.0.1: the address is outside every subnet"),
              std::string::npos);
    auto overlap = kBase + "[[subnet]]\ncidr = \"192.0.0.0/16\"\nrange = [\"192.0.9.1\", \"192.0.9.9\"]\n";
    EXPECT_NE(error_of(overlap).find("subnet 192.0.0.0/16 overlaps subnet 192.0.2.0/24"), std::string::npos)
        << error_of(overlap);
    auto backwards = R"([server]
interfaces = ["eth0"]
[[subnet]]
cidr = "192.0.2.0/24"
range = ["192.0.2.200", "192.0.2.100"]
)";
    EXPECT_NE(error_of(backwards).find("range end 192.0.2.100 is before its start 192.0.2.200"), std::string::npos);
    auto huge = R"([server]
interfaces = ["eth0"]
[[subnet]]
cidr = "10.0.0.0/7"
range = ["10.0.0.1", "11.255.255.254"]
)";
    EXPECT_NE(error_of(huge).find("range 10.0.0.1-11.255.255.254 has 33554430 addresses; a pool holds at most 16777216"),
              std::string::npos)
        << error_of(huge);
    auto slash8 = R"([server]
interfaces = ["eth0"]
[[subnet]]
cidr = "10.0.0.0/8"
range = ["10.0.0.1", "10.255.255.254"]
)";
    EXPECT_TRUE(config::parse_toml(slash8, "pxed.toml").ok());
    EXPECT_NE(error_of(kBase + "router = \"192.0.2.1\"\n[[reservation]]\nmac = \"52:54:00:00:00:01\"\nip = \"192.0.2.1\"\n")
                  .find("the address of the server or router itself"),
              std::string::npos);
    auto twice = kBase + "[[reservation]]\nmac = \"52:54:00:00:00:01\"\nip = \"192.0.2.5\"\n" +
                 "[[reservation]]\nmac = \"52:54:00:00:00:02\"\nip = \"192.0.2.5\"\n";
    EXPECT_NE(error_of(twice).find("reserved for both"), std::string::npos);
}

TEST(Config, DuplicateReservationsAmongManyNameBothOwners) {
    // validate() finds duplicates by hash (the lease database brings
    // thousands of run-time reservations, validated at every change).
    auto r = config::parse_toml(R"([server]
interfaces = ["eth0"]
[[subnet]]
cidr = "10.0.0.0/16"
range = ["10.0.200.1", "10.0.200.10"]
)",
                                "pxed.toml");
    ASSERT_TRUE(r.ok()) << r.error();
    config::Config c = *r;
    for (uint32_t i = 1; i <= 20000; i++) {
        config::Reservation x;
        x.mac.b = {0x52, 0x54, 0x00, uint8_t(i >> 16), uint8_t(i >> 8), uint8_t(i)};
        x.ip = Ipv4(10, 0, uint8_t(i >> 8), uint8_t(i));
        if (x.ip.v % 256 != 0 && x.ip.v % 256 != 255) c.reservations.push_back(x);
    }
    ASSERT_TRUE(config::validate(c).ok()) << config::validate(c).error();
    auto dup_ip = c;
    dup_ip.reservations.push_back(c.reservations[7]);
    dup_ip.reservations.back().mac.b[0] = 0x02;
    EXPECT_NE(config::validate(dup_ip).error().find("is reserved for both 52:54:00:00:00:08 and 02:54:00:00:00:08"),
              std::string::npos)
        << config::validate(dup_ip).error();
    auto dup_mac = c;
    dup_mac.reservations.push_back(c.reservations[7]);
    dup_mac.reservations.back().ip = Ipv4(10, 0, 250, 1);
    EXPECT_NE(config::validate(dup_mac).error().find("reservation 52:54:00:00:00:08 appears twice"), std::string::npos)
        << config::validate(dup_mac).error();
}

TEST(Config, InfiniteLeaseAndBootFiles) {
    auto r = config::parse_toml(kBase + "boot = { bios = \"pxelinux.0\", uefi-x64 = \"bootnetx64.efi\" }\n" +
                                    "[[reservation]]\nmac = \"52:54:00:00:00:01\"\nip = \"192.0.2.5\"\n" +
                                    "lease-time = \"infinite\"\n",
                                "pxed.toml");
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->reservations.at(0).lease_time, config::kInfiniteLease);
    EXPECT_EQ(r->subnets.at(0).boot.by_arch.at(7), "bootnetx64.efi");
    EXPECT_EQ(r->subnets.at(0).boot.by_arch.at(9), "bootnetx64.efi");
    EXPECT_EQ(r->subnets.at(0).boot.by_arch.at(0), "pxelinux.0");
}

TEST(Config, DaemonRateLimitsPerClientAndPerRelay) {
    auto r = config::parse_toml(kBase, "pxed.toml");
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->dhcp_rate_limit, 20u);
    EXPECT_EQ(r->relay_rate_limit, 0u) << "per relay: off unless configured";
    std::string server = "[server]\ninterfaces = [\"eth0\"]\ndhcp-rate-limit = 5\ndhcp-rate-burst = 10\n"
                         "relay-rate-limit = 1000\nrelay-rate-burst = 2000\n";
    auto s = config::parse_toml(server + kBase.substr(kBase.find("[[subnet]]")), "pxed.toml");
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_EQ(s->dhcp_rate_limit, 5u);
    EXPECT_EQ(s->dhcp_rate_burst, 10u);
    EXPECT_EQ(s->relay_rate_limit, 1000u);
    EXPECT_EQ(s->relay_rate_burst, 2000u);
    EXPECT_EQ(error_of("[server]\ninterfaces = [\"eth0\"]\nrelay-rate-limit = -1\n"),
              "pxed.toml:3: server.relay-rate-limit must be a number from 0 to 1000000");
}

// Issue 14.10: a token bucket with no room drops every request it limits
// (with xdp-rate-burst = 0, every reserved client); refused with the key,
// the value and the file.
TEST(Config, ZeroBurstWithARateLimitIsRefused) {
    const std::string sub = kBase.substr(kBase.find("[[subnet]]"));
    auto with = [&](const std::string& lines) { return "[server]\ninterfaces = [\"eth0\"]\n" + lines + sub; };
    EXPECT_EQ(error_of(with("xdp-rate-burst = 0\n")),
              "pxed.toml:3: server.xdp-rate-burst = 0 with xdp-rate-limit = 20 would drop every request it limits "
              "(a bucket that never holds a token): set xdp-rate-burst to at least 1, or xdp-rate-limit = 0 for no limit");
    EXPECT_EQ(error_of(with("dhcp-rate-limit = 5\ndhcp-rate-burst = 0\n")),
              "pxed.toml:4: server.dhcp-rate-burst = 0 with dhcp-rate-limit = 5 would drop every request it limits "
              "(a bucket that never holds a token): set dhcp-rate-burst to at least 1, or dhcp-rate-limit = 0 for no limit");
    // No limit, no bucket: a zero burst means nothing and is accepted; so is
    // relay-rate-burst = 0, documented as "the same as the limit".
    EXPECT_EQ(error_of(with("xdp-rate-limit = 0\nxdp-rate-burst = 0\n")), "(accepted)");
    EXPECT_EQ(error_of(with("relay-rate-limit = 100\nrelay-rate-burst = 0\n")), "(accepted)");
    // Other front ends go through validate().
    auto c = config::parse_toml(kBase, "other.conf");
    ASSERT_TRUE(c.ok()) << c.error();
    c->xdp_rate_burst = 0;
    auto v = config::validate(*c);
    ASSERT_FALSE(v.ok());
    EXPECT_NE(v.error().find("other.conf: xdp-rate-burst = 0 with xdp-rate-limit = 20"), std::string::npos) << v.error();
}

// Issue 14.10: RFC 2131 4.3.2, a server that is not authoritative stays
// silent about clients it has no record of; pxed beside another DHCP
// server must not NAK that server's clients unless told to.
TEST(Config, NotAuthoritativeByDefault) {
    auto r = config::parse_toml(kBase, "pxed.toml");
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_FALSE(r->authoritative);
    auto a = config::parse_toml("[server]\ninterfaces = [\"eth0\"]\nauthoritative = true\n" +
                                    kBase.substr(kBase.find("[[subnet]]")),
                                "pxed.toml");
    ASSERT_TRUE(a.ok()) << a.error();
    EXPECT_TRUE(a->authoritative);
}

TEST(Config, VlanSubnetsNameTheirTags) {
    const std::string vlan100 = "\n[[subnet]]\ncidr = \"10.100.0.0/24\"\nrange = [\"10.100.0.10\", \"10.100.0.20\"]\n";
    auto r = config::parse_toml(kBase + vlan100 + "vlan = 100\n" +
                                    "\n[[subnet]]\ncidr = \"10.230.0.0/24\"\nproxy = true\nvlan = 300\ninner-vlan = 30\n",
                                "pxed.toml");
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->subnets.at(0).vlan, 0);
    EXPECT_EQ(r->subnets.at(1).vlan, 100);
    EXPECT_EQ(r->subnets.at(1).inner_vlan, 0);
    EXPECT_EQ(r->subnets.at(2).vlan, 300);
    EXPECT_EQ(r->subnets.at(2).inner_vlan, 30);
    EXPECT_EQ(r->subnets.at(1).where, "pxed.toml:8");

    EXPECT_EQ(error_of(kBase + "vlan = 0\n"), "pxed.toml:7: subnet[0].vlan must be a VLAN id from 1 to 4094");
    EXPECT_EQ(error_of(kBase + "vlan = 4095\n"), "pxed.toml:7: subnet[0].vlan must be a VLAN id from 1 to 4094");
    EXPECT_EQ(error_of(kBase + "vlan = \"100\"\n"), "pxed.toml:7: subnet[0].vlan must be a VLAN id from 1 to 4094");
    EXPECT_EQ(error_of(kBase + "inner-vlan = 30\n"),
              "pxed.toml:7: subnet[0].inner-vlan needs vlan, the outer tag's id (QinQ)");
    EXPECT_EQ(error_of(kBase + "vlan = 100\n" + vlan100 + "vlan = 100\n"),
              "pxed.toml:9: subnet[1] has the VLAN of subnet[0] (pxed.toml:4): one subnet per VLAN");
    // The same outer id with and without an inner one are two VLANs.
    EXPECT_EQ(error_of(kBase + "vlan = 100\n" + vlan100 + "vlan = 100\ninner-vlan = 5\n"), "(accepted)");
}
