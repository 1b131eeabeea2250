// DHCPv6 in the kernel with a real client (ISC dhclient -6) on an IPv6-only
// link: the reserved client's Request is answered by the XDP program (the
// daemon sends the Advertise), and with rapid commit its Solicit is too,
// even while the daemon is stopped; the counters show which path answered.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "bpf/xdp_program.h"
#include "support/lan.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::test;

namespace {

const char* kReserved = "52:54:00:00:66:0a";
const char* kDynamic = "52:54:00:00:66:77";

std::string config() {
    return toml::netns_server("s0") +
           "\n[[subnet6]]\nprefix = \"fd00:6::/64\"\nrange = [\"fd00:6::100\", \"fd00:6::1ff\"]\n"
           "dns = [\"fd00:6::53\"]\npreferred-lifetime = 600\nvalid-lifetime = 1200\n"
           "[subnet6.boot]\nany = \"grubx64.efi\"\n"
           "\n[[reservation6]]\nmac = \"" + std::string(kReserved) + "\"\nip = \"fd00:6::42\"\n";
}

class Xdp6Netns : public LanTest {
protected:
    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        if (sh("command -v dhclient >/dev/null") != 0) GTEST_FAIL() << "dhclient missing: run scripts/setup-deps";
        // The server's end has no IPv4 address: the program is attached for DHCPv6 alone.
        LanSpec spec = LanSpec().named("x6s", "x6c");
        spec.srv_addr = "fd00:6::1/64 nodad";
        ASSERT_NO_FATAL_FAILURE(start_lan(spec));
        ASSERT_EQ(srv_->run("sysctl -qw net.ipv6.conf.s0.accept_dad=0"), 0);
        ASSERT_EQ(cli_->run("sysctl -qw net.ipv6.conf.c0.accept_dad=0"), 0);
        ASSERT_NO_FATAL_FAILURE(start_pxed(config()));
        auto log = pxed_->log();
        ASSERT_NE(log.find("xdp6 iface=s0 reservations=1"), std::string::npos) << log;
    }
    void TearDown() override {
        stop_dhclient();
        LanTest::TearDown();
    }
    void stop_dhclient() {
        if (pxed_) sh("kill $(cat " + pxed_->dir() + "/dhclient6.pid 2>/dev/null) 2>/dev/null; rm -f " + pxed_->dir() + "/dhclient6.pid");
    }
    // A new machine: its MAC, a link-local address out of DAD, no lease file.
    void set_mac(const std::string& mac) {
        ASSERT_EQ(cli_->run("ip link set c0 down && ip link set c0 address " + mac + " && ip link set c0 up"), 0);
        for (int i = 0; i < 50 && cli_->run("ip -6 addr show dev c0 scope link | grep -q inet6 && "
                                            "! ip -6 addr show dev c0 tentative | grep -q inet6") != 0;
             i++)
            usleep(100'000);
        sh("rm -f " + pxed_->dir() + "/dhclient6.leases");
    }
    // dhclient -6 once; its script writes the environment of BOUND6.
    std::map<std::string, std::string> dhclient6(bool rapid_commit, int timeout_s = 30) {
        const std::string d = pxed_->dir();
        std::ofstream(d + "/dhclient6.conf") << (rapid_commit ? "send dhcp6.rapid-commit;\n" : "")
                                             << "also request dhcp6.bootfile-url;\n";
        std::ofstream(d + "/dhclient6.sh") << "#!/bin/sh\nenv > " << d << "/dhclient6.$reason.env\nexit 0\n";
        sh("chmod +x " + d + "/dhclient6.sh && rm -f " + d + "/dhclient6.*.env");
        stop_dhclient();
        cli_->run("timeout " + std::to_string(timeout_s) + " dhclient -6 -1 -v -cf " + d + "/dhclient6.conf -lf " + d +
                  "/dhclient6.leases -pf " + d + "/dhclient6.pid -sf " + d + "/dhclient6.sh c0 > " + d +
                  "/dhclient6.log 2>&1");
        stop_dhclient();
        std::map<std::string, std::string> vars;
        std::istringstream in(sh_out("cat " + d + "/dhclient6.BOUND6.env 2>/dev/null"));
        for (std::string line; std::getline(in, line);)
            if (auto eq = line.find('='); eq != std::string::npos) vars[line.substr(0, eq)] = line.substr(eq + 1);
        return vars;
    }
    uint64_t stat(pxed_stat s) {
        auto r = bpf::read_pinned_stats("s0");
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
        return r.ok() ? (*r)[s] : 0;
    }
    // The non-zero counters, for failure messages.
    std::string stats() {
        auto r = bpf::read_pinned_stats("s0");
        if (!r.ok()) return r.error();
        std::string out;
        for (uint32_t i = 0; i < PXED_STAT_MAX; i++)
            if ((*r)[i]) out += std::string(bpf::stat_name(pxed_stat(i))) + "=" + std::to_string((*r)[i]) + " ";
        return out;
    }
    std::string why() { return stats() + "\n" + sh_out("cat " + pxed_->dir() + "/dhclient6.log") + pxed_->log(); }
};

}  // namespace

TEST_F(Xdp6Netns, TheDaemonAdvertisesAndTheKernelAnswersTheRequest) {
    ASSERT_NO_FATAL_FAILURE(set_mac(kReserved));
    auto v = dhclient6(false);
    EXPECT_EQ(v["new_ip6_address"], "fd00:6::42") << why();
    EXPECT_EQ(v["new_dhcp6_bootfile_url"], "tftp://[fd00:6::1]/grubx64.efi");
    EXPECT_EQ(v["new_max_life"], "1200");
    EXPECT_GE(stat(PXED_STAT_PASS6_NO_RAPID_COMMIT), 1u) << stats();  // the Solicit: the daemon's Advertise
    EXPECT_GE(stat(PXED_STAT_TX6_REQUEST), 1u) << why();
    EXPECT_EQ(stat(PXED_STAT_TX6_SOLICIT), 0u);
    EXPECT_NE(pxed_->log().find("ADVERTISE"), std::string::npos);
    // The daemon saw no Request: the kernel answered it.
    EXPECT_EQ(pxed_->log().find("dhcp6 REQUEST"), std::string::npos) << pxed_->log();
    // bpftool reads the pinned maps with their field names.
    auto dump = sh_out("bpftool map dump pinned " + bpf::pin_dir("s0") + "/dhcp6_reservations");
    EXPECT_NE(dump.find("\"boot_set\""), std::string::npos) << dump;
    EXPECT_NE(dump.find("\"kind\": 2"), std::string::npos) << dump;  // by MAC
    dump = sh_out("bpftool map dump pinned " + bpf::pin_dir("s0") + "/dhcp6_link");
    EXPECT_NE(dump.find("\"preferred\": 600"), std::string::npos) << dump;

    // A client without a reservation: the daemon answers both.
    ASSERT_NO_FATAL_FAILURE(set_mac(kDynamic));
    auto d = dhclient6(false);
    EXPECT_EQ(d["new_ip6_address"].rfind("fd00:6::1", 0), 0u) << why();
    EXPECT_GE(stat(PXED_STAT_PASS6_NOT_RESERVED), 1u);
    EXPECT_NE(pxed_->log().find("dhcp6 REQUEST"), std::string::npos);
}

TEST_F(Xdp6Netns, WithRapidCommitTheKernelAnswersAloneWhileTheDaemonIsStopped) {
    ASSERT_NO_FATAL_FAILURE(set_mac(kReserved));
    ASSERT_EQ(kill(pxed_->pid(), SIGSTOP), 0);
    auto v = dhclient6(true);
    EXPECT_EQ(v["new_ip6_address"], "fd00:6::42") << why();
    EXPECT_EQ(v["new_dhcp6_bootfile_url"], "tftp://[fd00:6::1]/grubx64.efi");
    EXPECT_GE(stat(PXED_STAT_TX6_SOLICIT), 1u);
    EXPECT_EQ(stat(PXED_STAT_TX6_REQUEST), 0u);

    // Unreserved: nobody answers while the daemon is stopped.
    ASSERT_NO_FATAL_FAILURE(set_mac(kDynamic));
    auto d = dhclient6(true, 6);
    EXPECT_TRUE(d["new_ip6_address"].empty()) << "an unreserved client was answered while pxed was stopped";
    EXPECT_GE(stat(PXED_STAT_PASS6_NOT_RESERVED), 1u);
    ASSERT_EQ(kill(pxed_->pid(), SIGCONT), 0);
}
