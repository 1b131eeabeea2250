// The boot policy (issue 16) with real clients, answered by the daemon:
// boot files by architecture and for iPXE (option 175 alone), classes on
// option 77 and on the MAC, option 43 with sub-options byte for byte,
// option 55 honoured unless always = true, and known-clients-only.
// busybox udhcpc and ISC dhclient; dhcp_policy_xdp_test.cpp covers the
// kernel path.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/lan.h"
#include "support/toml_fixture.h"

using namespace pxed::test;

namespace {

// Option 43 for a Raspberry Pi: 6 = PXE discovery control, 10 = menu
// prompt, 9 = a boot menu entry {type u16 0, length u8 17, text}.
const std::string kRpiVendorOptions =
    "options = [ { code = 43, sub = [ { code = 6, u8 = 3 }, { code = 10, hex = \"00:50:58:45\" },\n"
    "  { code = 9, record = [ { u16 = 0 }, { u8 = 17 }, { string = \"Raspberry Pi Boot\" } ] } ] } ]\n";
const std::string kRpiVendorHex =
    "0601030a0400505845" "0914000011" "52617370626572727920506920426f6f74" "ff";

const std::string kPolicy =
    toml::netns_server("s0") +
    toml::lan_subnet("192.0.2.150",
                     "lease-time = 600\n"
                     "boot = { bios = \"bios.0\", uefi-x64 = \"x64.efi\", arm64-uefi = \"arm64.efi\", "
                     "ipxe = \"subnet.ipxe\" }\n"
                     // 42 goes only to clients asking for it; 4 to everyone.
                     "options = [ { code = 42, ips = [\"192.0.2.123\"] },\n"
                     "            { code = 4, ips = [\"192.0.2.124\"], always = true } ]\n") +
    "\n[[class]]\nname = \"ipxe-arm\"\n"
    "match = { all = [ { option = 175 }, { arch = \"arm64-uefi\" } ] }\n"
    "boot-file = \"arm64.ipxe\"\n"
    "\n[[class]]\nname = \"rpi\"\nmatch = { mac = \"b8:27:eb:*:*:*\" }\n" + kRpiVendorOptions +
    "\n[[class]]\nname = \"lab\"\nmatch = { user-class = \"lab-raw\" }\nboot-file = \"lab.efi\"\n";

const std::string kKnownOnly =
    toml::netns_server("s0") + toml::lan_subnet("192.0.2.150", "lease-time = 600\nknown-clients-only = true\n") +
    toml::reservation("52:54:00:00:16:01", "192.0.2.20", "hostname = \"reserved\"\n") +
    "\n[[reservation]]\nmac = \"52:54:00:00:16:02\"\nhostname = \"entry\"\n";

class Policy : public LanTest {
protected:
    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        ASSERT_NO_FATAL_FAILURE(start_lan(LanSpec().named("psrv", "pcli").with_xdp_pass_on_client()));
    }
    std::map<std::string, std::string> client(const std::string& mac, const std::string& args = "",
                                              int timeout_s = 15) {
        EXPECT_EQ(cli_->run("ip link set c0 address " + mac), 0);
        return udhcpc_once(*cli_, "c0", timeout_s, args);
    }
    // Runs ISC dhclient once with `conf` as its dhclient.conf; returns its
    // lease file (empty when it got no lease).
    std::string dhclient(const std::string& mac, const std::string& conf) {
        EXPECT_EQ(cli_->run("ip link set c0 address " + mac), 0);
        std::string d = pxed_->dir();
        sh("printf '#!/bin/sh\\nexit 0\\n' > " + d + "/dh-script && chmod +x " + d + "/dh-script");
        sh("printf '%s\\n' " + Netns::quote(conf) + " > " + d + "/dhclient.conf");
        sh("rm -f " + d + "/dhclient.leases");
        cli_->run("timeout 30 dhclient -4 -1 -v -cf " + d + "/dhclient.conf -lf " + d + "/dhclient.leases -pf " + d +
                  "/dhclient.pid -sf " + d + "/dh-script c0 > " + d + "/dhclient.log 2>&1");
        cli_->run("kill $(cat " + d + "/dhclient.pid 2>/dev/null) 2>/dev/null");
        return sh_out("cat " + d + "/dhclient.leases 2>/dev/null");
    }
    nlohmann::json stats() {
        auto out = sh_out(std::string(PXED_BINARY_DIR) + "/userspace/pxectl -s " + pxed_->dir() +
                          "/pxed.sock --json stats");
        auto j = nlohmann::json::parse(out, nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << out;
        return j;
    }
};

// The value of `option NAME` in a dhclient lease file, as hex without
// separators: dhclient writes binary values as "6:1:3:a:...".
std::string lease_option_hex(const std::string& leases, const std::string& name) {
    auto at = leases.find("option " + name + " ");
    if (at == std::string::npos) return "";
    at += name.size() + 8;
    auto end = leases.find(';', at);
    std::string v = leases.substr(at, end - at), hex;
    for (size_t i = 0; i < v.size();) {
        size_t j = v.find(':', i);
        if (j == std::string::npos) j = v.size();
        std::string byte = v.substr(i, j - i);
        hex += (byte.size() == 1 ? "0" : "") + byte;
        i = j + 1;
    }
    return hex;
}

}  // namespace

// Issue 16: the subnet's boot table by option 93, the PXE ROM's way.
TEST_F(Policy, ArchitectureSelectsTheSubnetBootFile) {
    ASSERT_NO_FATAL_FAILURE(start_pxed(kPolicy));
    auto arm = client("52:54:00:00:11:01", "-V PXEClient:Arch:00011:UNDI:003000 -x 0x5d:000b");
    EXPECT_EQ(arm["ip"], "192.0.2.100") << pxed_->log();
    EXPECT_EQ(arm["boot_file"], "arm64.efi");
    EXPECT_EQ(arm["siaddr"], "192.0.2.1");
    // udhcpc exports options it has no name for as optNN=<hex> (not 60).
    EXPECT_EQ(arm["opt43"], "060108ff") << "PXE discovery control 8: boot the file at once";
    auto bios = client("52:54:00:00:11:02", "-V PXEClient:Arch:00000:UNDI:002001 -x 0x5d:0000");
    EXPECT_EQ(bios["boot_file"], "bios.0") << pxed_->log();
    auto x64 = client("52:54:00:00:11:03", "-V PXEClient:Arch:00009:UNDI:003016 -x 0x5d:0009");
    EXPECT_EQ(x64["boot_file"], "x64.efi") << pxed_->log();
}

// iPXE announces itself with option 175 (its encapsulated settings) even
// when no user class is set: it gets the script, not the ROM again. -V ''
// leaves out option 60.
TEST_F(Policy, Option175AloneGetsTheIpxeScript) {
    ASSERT_NO_FATAL_FAILURE(start_pxed(kPolicy));
    auto ipxe = client("52:54:00:00:12:01", "-V '' -x 0xaf:130101ff");
    EXPECT_EQ(ipxe["boot_file"], "subnet.ipxe") << pxed_->log();
    // A class on option 175 and the architecture wins over the table.
    auto arm = client("52:54:00:00:12:02", "-V PXEClient:Arch:00011:UNDI:003000 -x 0x5d:000b -x 0xaf:130101ff");
    EXPECT_EQ(arm["boot_file"], "arm64.ipxe") << pxed_->log();
}

TEST_F(Policy, KnownClientsOnlyIgnoresUnknownMacs) {
    ASSERT_NO_FATAL_FAILURE(start_pxed(kKnownOnly));
    auto unknown = client("52:54:00:00:16:09", "-t 2 -T 1", 8);
    EXPECT_TRUE(unknown["ip"].empty()) << "an unknown client got " << unknown["ip"];
    // Counted as ignored by the policy (pxed_dhcp_ignored_total), no OFFER
    // sent, and the debug log says why.
    auto st = stats();
    EXPECT_GE(st["dhcp"]["received"]["DISCOVER"].get<int>(), 1) << st.dump();
    EXPECT_EQ(st["dhcp"]["sent"]["daemon"]["OFFER"].get<int>(), 0) << st.dump();
    EXPECT_EQ(st["dhcp"]["ignored"].get<int>(), st["dhcp"]["received"]["DISCOVER"].get<int>()) << st.dump();
    EXPECT_NE(pxed_->log().find("unknown client on known-clients-only subnet 192.0.2.0/24"), std::string::npos)
        << pxed_->log();

    auto entry = client("52:54:00:00:16:02");
    EXPECT_EQ(entry["ip"], "192.0.2.100") << "a host entry without ip takes a pool address\n" << pxed_->log();
    EXPECT_EQ(entry["hostname"], "entry");
    auto reserved = client("52:54:00:00:16:01");
    EXPECT_EQ(reserved["ip"], "192.0.2.20") << pxed_->log();
    EXPECT_EQ(reserved["hostname"], "reserved");
}

// dhclient asks for option 43 and writes what it got into its lease file:
// the sub-options arrive as configured. Its raw user class puts it in the
// "lab" class.
TEST_F(Policy, VendorSubOptionsArriveByteForByteAndUserClassMatches) {
    ASSERT_NO_FATAL_FAILURE(start_pxed(kPolicy));
    auto leases = dhclient("b8:27:eb:00:00:01",
                           "send vendor-class-identifier \"PXEClient:Arch:00000:UNDI:002001\";\n"
                           "send user-class \"lab-raw\";\n"
                           "also request vendor-encapsulated-options;");
    ASSERT_NE(leases.find("fixed-address 192.0.2.100;"), std::string::npos)
        << leases << sh_out("cat " + pxed_->dir() + "/dhclient.log") << pxed_->log();
    EXPECT_EQ(lease_option_hex(leases, "vendor-encapsulated-options"), kRpiVendorHex) << leases;
    EXPECT_NE(leases.find("filename \"lab.efi\";"), std::string::npos) << leases;

    // Without the user class and outside b8:27:eb: the table's file and
    // PXE's own option 43 (discovery control 8: boot the file at once).
    auto other = dhclient("52:54:00:00:15:01",
                          "send vendor-class-identifier \"PXEClient:Arch:00000:UNDI:002001\";\n"
                          "also request vendor-encapsulated-options;");
    EXPECT_NE(other.find("filename \"bios.0\";"), std::string::npos) << other;
    EXPECT_EQ(lease_option_hex(other, "vendor-encapsulated-options"), "060108ff") << other;
    EXPECT_NE(other.find("option vendor-class-identifier \"PXEClient\";"), std::string::npos) << other;
}

// Debian's udhcpc asks for 42 by default: -o empties its option 55 and
// -O lists what it asks for.
TEST_F(Policy, Option55DecidesUnlessAlways) {
    ASSERT_NO_FATAL_FAILURE(start_pxed(kPolicy));
    auto asked = client("52:54:00:00:13:01", "-o -O subnet -O router -O ntpsrv");
    ASSERT_EQ(asked["ip"], "192.0.2.100") << pxed_->log();
    EXPECT_EQ(asked["ntpsrv"], "192.0.2.123");
    EXPECT_EQ(asked["opt4"], "c000027c");
    auto not_asked = client("52:54:00:00:13:02", "-o -O subnet -O router");
    ASSERT_EQ(not_asked["ip"], "192.0.2.101") << pxed_->log();
    EXPECT_EQ(not_asked["router"], "192.0.2.1");
    EXPECT_EQ(not_asked.count("ntpsrv"), 0u) << not_asked["ntpsrv"];
    EXPECT_EQ(not_asked["opt4"], "c000027c") << "always = true is sent without being asked for";
}
