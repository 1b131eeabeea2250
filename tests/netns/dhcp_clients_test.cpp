// Real clients through a lease's life: busybox udhcpc (obtain, renew with
// SIGUSR1, release with SIGUSR2) and ISC dhclient (obtain, INIT-REBOOT,
// release), checked against the lease database.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "support/lan.h"
#include "support/toml_fixture.h"
#include "pxed/net.h"

using namespace pxed::test;

namespace {

const std::string kConfig =
    toml::netns_server("s0") + toml::lan_subnet("192.0.2.150", "dns = [\"192.0.2.53\"]\nlease-time = 600\n");

class Clients : public LanTest {
protected:
    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        ASSERT_NO_FATAL_FAILURE(start_lan(LanSpec().client_mac("52:54:00:00:05:01")));
        ASSERT_NO_FATAL_FAILURE(start_pxed(kConfig));
    }
    // state and ip of the stored lease for the client's MAC, "" if none.
    std::string stored(const std::string& field) {
        auto out = sh_out("sqlite3 " + pxed_->dir() + "/leases.db \"SELECT " + field +
                          " FROM leases WHERE hex(mac)='525400000501'\"");
        while (!out.empty() && out.back() == '\n') out.pop_back();
        return out;
    }
    std::string ip_of_lease() {
        auto v = stored("ip");
        if (v.empty()) return v;
        uint32_t n = uint32_t(std::stoul(v));
        return pxed::Ipv4(n).str();
    }
    bool wait_for(const std::function<bool()>& cond, int ms = 10000) {
        for (int i = 0; i < ms / 50; i++) {
            if (cond()) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return cond();
    }
};

}  // namespace

TEST_F(Clients, UdhcpcObtainsRenewsAndReleases) {
    std::string dir = pxed_->dir();
    std::string script = dir + "/udhcpc.sh";
    sh("printf '#!/bin/sh\\necho \"$1 $ip\" >> " + dir + "/events\\n[ \"$1\" = bound ] || [ \"$1\" = renew ] && ip addr replace $ip/$mask dev $interface\\nexit 0\\n' > " + script + " && chmod +x " + script);
    // udhcpc in the foreground of a background shell, so we can signal it.
    cli_->run("sh -c 'busybox udhcpc -i c0 -f -t 5 -T 2 -s " + script + " -p " + dir +
              "/udhcpc.pid > " + dir + "/udhcpc.log 2>&1 &'");
    ASSERT_TRUE(wait_for([&] { return sh_out("cat " + dir + "/events 2>/dev/null").find("bound 192.0.2.100") != std::string::npos; }))
        << sh_out("cat " + dir + "/udhcpc.log") << pxed_->log();
    EXPECT_EQ(ip_of_lease(), "192.0.2.100");
    EXPECT_EQ(stored("state"), "1");  // bound
    auto first_expiry = stored("expires");
    int pid = std::stoi(sh_out("cat " + dir + "/udhcpc.pid"));

    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // so the renewed expiry differs
    kill(pid, SIGUSR1);  // renew: unicast REQUEST with ciaddr
    ASSERT_TRUE(wait_for([&] { return sh_out("cat " + dir + "/events").find("renew 192.0.2.100") != std::string::npos; }))
        << sh_out("cat " + dir + "/udhcpc.log");
    ASSERT_TRUE(wait_for([&] { return stored("expires") != first_expiry; }));
    EXPECT_NE(pxed_->log().find("type=REQUEST mac=52:54:00:00:05:01"), std::string::npos);

    kill(pid, SIGUSR2);  // release
    ASSERT_TRUE(wait_for([&] { return stored("state") == "2"; })) << pxed_->log();  // released
    kill(pid, SIGTERM);
}

TEST_F(Clients, DhclientObtainsRebootsAndReleases) {
    std::string dir = pxed_->dir();
    // A minimal dhclient-script: configures the address (so RELEASE can be
    // unicast) and touches nothing else on the host.
    std::string script = dir + "/dhclient-script";
    sh("printf '#!/bin/sh\ncase $reason in BOUND|REBOOT|RENEW|REBIND) ip addr replace $new_ip_address/$new_subnet_mask dev $interface;; esac\nexit 0\n' > " +
       script + " && chmod +x " + script);
    std::string base = "dhclient -4 -1 -v -lf " + dir + "/dhclient.leases -pf " + dir + "/dhclient.pid -sf " + script + " ";
    ASSERT_EQ(cli_->run("timeout 30 " + base + "c0 > " + dir + "/dh1.log 2>&1"), 0)
        << sh_out("cat " + dir + "/dh1.log") << pxed_->log();
    EXPECT_NE(sh_out("cat " + dir + "/dh1.log").find("bound to 192.0.2.100"), std::string::npos)
        << sh_out("cat " + dir + "/dh1.log");
    EXPECT_EQ(ip_of_lease(), "192.0.2.100");
    cli_->run("kill $(cat " + dir + "/dhclient.pid) 2>/dev/null");

    // A second run starts in INIT-REBOOT from the lease file and keeps the address.
    ASSERT_EQ(cli_->run("timeout 30 " + base + "c0 > " + dir + "/dh2.log 2>&1"), 0) << sh_out("cat " + dir + "/dh2.log");
    EXPECT_NE(sh_out("cat " + dir + "/dh2.log").find("DHCPREQUEST for 192.0.2.100"), std::string::npos);
    EXPECT_NE(sh_out("cat " + dir + "/dh2.log").find("bound to 192.0.2.100"), std::string::npos);

    ASSERT_EQ(cli_->run("timeout 30 " + base + "-r c0 > " + dir + "/dh3.log 2>&1"), 0) << sh_out("cat " + dir + "/dh3.log");
    ASSERT_TRUE(wait_for([&] { return stored("state") == "2"; })) << sh_out("cat " + dir + "/dh3.log") << pxed_->log();
}
