// dhcp-script settings: TOML ([server] dhcp-script, dhcp-script-user,
// dhcp-script-on-renewal) and the dnsmasq.conf import (dhcp-script,
// dhcp-scriptuser, script-on-renewal), checked when read, errors with
// file:line.
#include <gtest/gtest.h>

#include "config/config.h"

using namespace pxed;

namespace {

const std::string kSubnet = R"(
[[subnet]]
cidr = "192.0.2.0/24"
range = ["192.0.2.100", "192.0.2.200"]
)";

std::string toml_error(const std::string& server_keys) {
    auto r = config::parse_toml("[server]\ninterfaces = [\"eth0\"]\n" + server_keys + kSubnet, "pxed.toml");
    return r.ok() ? std::string("(accepted)") : r.error();
}

Result<config::Config> dnsmasq(const std::string& lines, std::vector<std::string>& w) {
    return config::parse_dnsmasq("interface=eth0\ndhcp-range=192.0.2.100,192.0.2.200,255.255.255.0\n" + lines,
                                 "dnsmasq.conf", nullptr, w);
}

}  // namespace

TEST(HooksConfig, TomlTakesAScriptAUserAndRenewals) {
    auto r = config::parse_toml("[server]\ninterfaces = [\"eth0\"]\ndhcp-script = \"/bin/true\"\n"
                                "dhcp-script-user = \"root\"\ndhcp-script-on-renewal = true\n" + kSubnet,
                                "pxed.toml");
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->dhcp_script, "/bin/true");
    EXPECT_EQ(r->dhcp_script_user, "root");
    EXPECT_TRUE(r->script_on_renewal);
    auto none = config::parse_toml("[server]\ninterfaces = [\"eth0\"]\n" + kSubnet, "pxed.toml");
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->dhcp_script.empty());
}

TEST(HooksConfig, TomlErrorsNameTheLine) {
    EXPECT_EQ(toml_error("dhcp-script = \"hook.sh\"\n"),
              "pxed.toml:3: server.dhcp-script 'hook.sh' must be an absolute path (dnsmasq does no PATH search either)");
    EXPECT_EQ(toml_error("dhcp-script = \"/nonexistent/hook.sh\"\n"),
              "pxed.toml:3: server.dhcp-script '/nonexistent/hook.sh' does not exist");
    EXPECT_EQ(toml_error("dhcp-script = \"/etc/passwd\"\n"),
              "pxed.toml:3: server.dhcp-script '/etc/passwd' is not an executable file");
    EXPECT_EQ(toml_error("dhcp-script = \"/bin/true\"\ndhcp-script-user = \"no-such-user-pxed\"\n"),
              "pxed.toml:4: server.dhcp-script-user 'no-such-user-pxed' is not a user on this system");
    EXPECT_EQ(toml_error("dhcp-script-user = \"root\"\n"), "pxed.toml:3: server.dhcp-script-user needs server.dhcp-script");
    EXPECT_EQ(toml_error("dhcp-script = 5\n"), "pxed.toml:3: server.dhcp-script must be a string");
}

TEST(HooksConfig, DnsmasqImport) {
    std::vector<std::string> w;
    auto r = dnsmasq("dhcp-script=/bin/true\ndhcp-scriptuser=root\nscript-on-renewal\nscript-arp\n"
                     "dhcp-luascript=/x.lua\n", w);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->dhcp_script, "/bin/true");
    EXPECT_EQ(r->dhcp_script_user, "root");
    EXPECT_TRUE(r->script_on_renewal);
    std::string all;
    for (auto& x : w) all += x + "\n";
    EXPECT_NE(all.find("dnsmasq.conf:6: script-arp: not supported by pxed, ignored"), std::string::npos) << all;
    EXPECT_NE(all.find("dnsmasq.conf:7: dhcp-luascript: not supported by pxed, ignored"), std::string::npos) << all;
    w.clear();
    auto bad = dnsmasq("dhcp-script=/nonexistent\n", w);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error(), "dnsmasq.conf:3: dhcp-script '/nonexistent' does not exist");
    auto user = dnsmasq("dhcp-script=/bin/true\ndhcp-scriptuser=no-such-user-pxed\n", w);
    ASSERT_FALSE(user.ok());
    EXPECT_EQ(user.error(), "dnsmasq.conf:4: dhcp-script-user 'no-such-user-pxed' is not a user on this system");
}
