// DHCPv6 (issue 21) with real clients: ISC dhclient -6 and dhcpcd get an
// address from pxed's [[subnet6]] and the boot file URL (option 59); a
// reserved client gets its address; the lease is durable (in the store
// when the reply left, there after a restart); Release frees it. IPv6 only
// on the client side: no IPv4 address is used by any of it.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "pxed/net.h"
#include "support/lan.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::test;

namespace {

// The lease database outlives one pxed process (the restart test): a
// directory of the test's own, not the process's @DIR@.
std::string config(const std::string& db_dir) {
    return toml::server("s0", "lease-db = \"" + db_dir + "/leases.db\"\n") +
                            "\n[[subnet6]]\nprefix = \"fd00:6::/64\"\nrange = [\"fd00:6::100\", \"fd00:6::1ff\"]\n"
                            "dns = [\"fd00:6::53\"]\npreferred-lifetime = 600\nvalid-lifetime = 1200\n"
                            "[subnet6.boot]\nany = \"grubx64.efi\"\n"
                            "\n[[reservation6]]\nmac = \"52:54:00:00:66:02\"\nip = \"fd00:6::42\"\n";
}

std::map<std::string, std::string> read_env(const std::string& path) {
    std::map<std::string, std::string> vars;
    std::istringstream in(sh_out("cat " + path + " 2>/dev/null"));
    for (std::string line; std::getline(in, line);) {
        auto eq = line.find('=');
        if (eq != std::string::npos) vars[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return vars;
}

class Dhcp6Clients : public LanTest {
protected:
    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        for (const char* tool : {"dhclient", "dhcpcd", "sqlite3"})
            if (sh(std::string("command -v ") + tool + " >/dev/null") != 0)
                GTEST_FAIL() << tool << " missing: run scripts/setup-deps";
        ASSERT_NO_FATAL_FAILURE(start_lan(LanSpec().named("d6s", "d6c")));
        // No duplicate address detection: the addresses are usable at once.
        ASSERT_EQ(srv_->run("sysctl -qw net.ipv6.conf.s0.accept_dad=0 && ip -6 addr add fd00:6::1/64 dev s0 nodad"), 0);
        ASSERT_EQ(cli_->run("sysctl -qw net.ipv6.conf.c0.accept_dad=0"), 0);
        db_ = sh_out("mktemp -d /tmp/pxed-d6.XXXXXX");
        db_.erase(db_.find_last_not_of('\n') + 1);
        ASSERT_NO_FATAL_FAILURE(start_pxed(config(db_)));
    }
    void TearDown() override {
        stop_dhclient();
        LanTest::TearDown();
        if (!db_.empty()) sh("rm -rf " + db_);
    }
    std::string db() const { return db_ + "/leases.db"; }
    std::string db_;
    // dhclient goes to the background once bound: ended by its pid file.
    void stop_dhclient() {
        if (pxed_) sh("kill $(cat " + pxed_->dir() + "/dhclient6.pid 2>/dev/null) 2>/dev/null; rm -f " + pxed_->dir() + "/dhclient6.pid");
    }

    // The client's link-local address is out of DAD (a tentative one cannot be a source).
    void set_mac(const std::string& mac) {
        ASSERT_EQ(cli_->run("ip link set c0 down && ip link set c0 address " + mac + " && ip link set c0 up"), 0);
        for (int i = 0; i < 50 && cli_->run("ip -6 addr show dev c0 scope link | grep -q inet6 && "
                                            "! ip -6 addr show dev c0 tentative | grep -q inet6") != 0;
             i++)
            usleep(100'000);
    }

    // ISC dhclient -6 once (-1), its script writing the environment it was
    // given on BOUND6 / RELEASE6; `verb` is extra arguments (-r releases).
    std::map<std::string, std::string> dhclient6(const std::string& extra = "") {
        const std::string d = pxed_->dir();
        std::ofstream(d + "/dhclient6.conf") << "also request dhcp6.bootfile-url;\n";
        std::ofstream(d + "/dhclient6.sh") << "#!/bin/sh\nenv > " << d << "/dhclient6.$reason.env\nexit 0\n";
        sh("chmod +x " + d + "/dhclient6.sh && rm -f " + d + "/dhclient6.*.env");
        stop_dhclient();
        cli_->run("timeout 30 dhclient -6 -1 -v -cf " + d + "/dhclient6.conf -lf " + d + "/dhclient6.leases -pf " + d +
                  "/dhclient6.pid -sf " + d + "/dhclient6.sh " + extra + " c0 > " + d + "/dhclient6.log 2>&1");
        stop_dhclient();
        return read_env(d + "/dhclient6.BOUND6.env");
    }
    std::string why(const std::string& log) { return sh_out("cat " + pxed_->dir() + "/" + log) + pxed_->log(); }
};

}  // namespace

TEST_F(Dhcp6Clients, DhclientGetsAnAddressAndTheBootFileUrl) {
    ASSERT_NO_FATAL_FAILURE(set_mac("52:54:00:00:66:01"));
    auto v = dhclient6();
    ASSERT_FALSE(v["new_ip6_address"].empty()) << why("dhclient6.log");
    auto ip = Ipv6::parse(v["new_ip6_address"]);
    ASSERT_TRUE(ip);
    EXPECT_TRUE(*ip >= *Ipv6::parse("fd00:6::100") && *ip <= *Ipv6::parse("fd00:6::1ff")) << ip->str();
    EXPECT_EQ(v["new_dhcp6_bootfile_url"], "tftp://[fd00:6::1]/grubx64.efi");
    EXPECT_EQ(v["new_dhcp6_name_servers"], "fd00:6::53");
    EXPECT_EQ(v["new_preferred_life"], "600");
    EXPECT_EQ(v["new_max_life"], "1200");
    // Durable: the row is in the database the reply promised.
    EXPECT_EQ(sh_out("sqlite3 " + db() + " \"SELECT count(*) FROM leases6 WHERE state = 1\""), "1\n");
    // pxectl lists it, with its DUID; the counters show the dialogue.
    const std::string ctl = std::string(PXED_BINARY_DIR) + "/userspace/pxectl -s " + pxed_->dir() + "/pxed.sock ";
    auto list = sh_out(ctl + "lease list");
    EXPECT_NE(list.find(ip->str()), std::string::npos) << list;
    EXPECT_NE(list.find("duid 00:01:00:01:"), std::string::npos) << list;  // dhclient's DUID-LLT
    auto shown = sh_out(ctl + "--json lease show " + ip->str());
    EXPECT_NE(shown.find("\"state\": \"bound\""), std::string::npos) << shown;
    auto stats = sh_out(ctl + "--json stats");
    EXPECT_NE(stats.find("\"ADVERTISE\": 1"), std::string::npos) << stats;
    EXPECT_NE(stats.find("\"REPLY\": 1"), std::string::npos) << stats;

    // Release (dhclient -r): the lease is released in the store.
    dhclient6("-r");
    for (int i = 0; i < 20 && sh_out("sqlite3 " + db() + " \"SELECT state FROM leases6\"") != "2\n"; i++)
        usleep(100'000);
    EXPECT_EQ(sh_out("sqlite3 " + db() + " \"SELECT state FROM leases6\""), "2\n") << why("dhclient6.log");
}

TEST_F(Dhcp6Clients, ReservedMacGetsItsAddressAndKeepsItAcrossARestart) {
    ASSERT_NO_FATAL_FAILURE(set_mac("52:54:00:00:66:02"));
    auto v = dhclient6();
    ASSERT_EQ(v["new_ip6_address"], "fd00:6::42") << why("dhclient6.log");
    // A dynamic client's lease survives a restart: it renews the same
    // address. Another machine: its own DUID (dhclient keeps it in its lease file).
    sh("rm -f " + pxed_->dir() + "/dhclient6.leases");
    ASSERT_NO_FATAL_FAILURE(set_mac("52:54:00:00:66:03"));
    auto a = dhclient6();
    ASSERT_FALSE(a["new_ip6_address"].empty()) << why("dhclient6.log");
    ASSERT_EQ(pxed_->stop(), 0);
    sh("cp " + pxed_->dir() + "/dhclient6.leases " + db_ + "/");
    ASSERT_NO_FATAL_FAILURE(start_pxed(config(db_)));
    sh("cp " + db_ + "/dhclient6.leases " + pxed_->dir() + "/");
    // One stored lease: the dynamic client's. The reserved client's Request
    // was answered by the kernel path (XDP), which stores nothing, as for v4.
    ASSERT_NE(pxed_->log().find("dhcp6 subnets=1 leases=1"), std::string::npos) << pxed_->log();
    auto b = dhclient6();
    EXPECT_EQ(b["new_ip6_address"], a["new_ip6_address"]) << why("dhclient6.log");
}

TEST_F(Dhcp6Clients, DhcpcdGetsAnAddressAndTheBootFileUrl) {
    ASSERT_NO_FATAL_FAILURE(set_mac("52:54:00:00:66:04"));
    const std::string d = pxed_->dir();
    // As in dhcp_dhcpcd_test.cpp: its own mount namespace, tmpfs over its
    // fixed lease and pid directories, -c instead of dhcpcd-run-hooks.
    // ia_na alone (no router advertisement on this link), option 59 asked for.
    std::ofstream(d + "/dhcpcd6.conf") << "nodev\nnoipv6rs\nipv6only\nia_na\noption dhcp6_bootfile_url, dhcp6_name_servers\n";
    std::ofstream(d + "/dhcpcd6.sh") << "#!/bin/sh\ncase \"$reason\" in BOUND6|REBOOT6|RENEW6) env > " << d
                                     << "/bound6.env;; esac\nexit 0\n";
    sh("chmod +x " + d + "/dhcpcd6.sh");
    const std::string inner = "mount -t tmpfs pxedt /var/lib/dhcpcd && mount -t tmpfs pxedt /run && "
                              "mkdir /run/dhcpcd && exec timeout 30 dhcpcd -f " + d + "/dhcpcd6.conf -c " + d +
                              "/dhcpcd6.sh --oneshot --ipv6only --nobackground --timeout 15 c0";
    cli_->run("unshare --mount --propagation private sh -c " + Netns::quote(inner) + " > " + d + "/dhcpcd6.log 2>&1");
    auto v = read_env(d + "/bound6.env");
    ASSERT_FALSE(v["new_dhcp6_ia_na1_ia_addr1"].empty()) << why("dhcpcd6.log");
    auto ip = Ipv6::parse(v["new_dhcp6_ia_na1_ia_addr1"]);
    ASSERT_TRUE(ip);
    EXPECT_TRUE(*ip >= *Ipv6::parse("fd00:6::100") && *ip <= *Ipv6::parse("fd00:6::1ff")) << ip->str();
    EXPECT_EQ(v["new_dhcp6_bootfile_url"], "tftp://[fd00:6::1]/grubx64.efi") << why("dhcpcd6.log");
}
