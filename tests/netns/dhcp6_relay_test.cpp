// DHCPv6 through a real relay (issue 21): ISC dhcrelay -6 between a client
// link and pxed's link. The relay wraps the client's Solicit and Request in
// Relay-forw (its link-address names the client's link, -I adds an
// interface-id); pxed picks the [[subnet6]] of that link-address, answers
// in Relay-repl with the interface-id echoed, and the relay hands the
// inner reply to dhclient -6, which gets an address of the client's link
// and its boot file URL.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "pxed/net.h"
#include "support/netns.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::test;

namespace {

const std::string kConfig = toml::netns_server("s0") +
                            // pxed's own link, and the relayed one it serves through the relay.
                            "\n[[subnet6]]\nprefix = \"fd00:6::/64\"\nrange = [\"fd00:6::100\", \"fd00:6::1ff\"]\n"
                            "\n[[subnet6]]\nprefix = \"fd00:7::/64\"\nrange = [\"fd00:7::100\", \"fd00:7::1ff\"]\n"
                            "[subnet6.boot]\nany = \"relayed.efi\"\n";

class Dhcp6Relay : public ::testing::Test {
protected:
    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        for (const char* tool : {"dhclient", "dhcrelay"})
            if (sh(std::string("command -v ") + tool + " >/dev/null") != 0)
                GTEST_FAIL() << tool << " missing: run scripts/setup-deps";
        srv_ = std::make_unique<Netns>("r6s");
        rel_ = std::make_unique<Netns>("r6r");
        cli_ = std::make_unique<Netns>("r6c");
        veth_pair(srv_.get(), "s0", rel_.get(), "r0");
        veth_pair(rel_.get(), "r1", cli_.get(), "c0");
        for (auto* ns : {srv_.get(), rel_.get(), cli_.get()})
            ASSERT_EQ(ns->run("sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0"), 0);
        ASSERT_EQ(srv_->run("ip addr add 192.0.2.1/24 dev s0 && ip -6 addr add fd00:6::1/64 dev s0 nodad && "
                            "ip link set s0 up"),
                  0);
        ASSERT_EQ(rel_->run("ip -6 addr add fd00:6::fe/64 dev r0 nodad && ip -6 addr add fd00:7::1/64 dev r1 nodad && "
                            "ip link set r0 up && ip link set r1 up && sysctl -qw net.ipv6.conf.all.forwarding=1"),
                  0);
        ASSERT_EQ(cli_->run("ip link set c0 address 52:54:00:00:77:01 && ip link set c0 up"), 0);
        // Link-local addresses out of DAD on every link.
        for (int i = 0; i < 50; i++) {
            bool ready = true;
            for (auto* ns : {srv_.get(), rel_.get(), cli_.get()})
                ready = ready && ns->run("ip -6 addr show tentative | grep -q inet6") != 0 &&
                        ns->run("ip -6 addr show scope link | grep -q inet6") == 0;
            if (ready) break;
            usleep(100'000);
        }
        pxed_ = std::make_unique<PxedProcess>(*srv_, kConfig);
        ASSERT_TRUE(pxed_->ready()) << pxed_->log();
        // -I: an interface-id in every Relay-forw (pxed must echo it).
        // In the foreground (-d), its pid kept by the shell: ended in TearDown.
        ASSERT_EQ(rel_->run("dhcrelay -6 -d -I --no-pid -l r1 -u fd00:6::1%r0 > " + pxed_->dir() +
                            "/dhcrelay.log 2>&1 & echo $! > " + pxed_->dir() + "/dhcrelay.pid"),
                  0);
        usleep(500'000);
    }
    void TearDown() override {
        if (pxed_) {
            sh("kill $(cat " + pxed_->dir() + "/dhclient6.pid 2>/dev/null) $(cat " + pxed_->dir() +
               "/dhcrelay.pid 2>/dev/null) 2>/dev/null");
            EXPECT_EQ(pxed_->stop(), 0) << pxed_->log();
        }
    }

    std::unique_ptr<Netns> srv_, rel_, cli_;
    std::unique_ptr<PxedProcess> pxed_;
};

}  // namespace

TEST_F(Dhcp6Relay, DhclientThroughDhcrelayGetsAnAddressOfItsLink) {
    const std::string d = pxed_->dir();
    std::ofstream(d + "/dhclient6.conf") << "also request dhcp6.bootfile-url;\n";
    std::ofstream(d + "/dhclient6.sh") << "#!/bin/sh\nenv > " << d << "/dhclient6.$reason.env\nexit 0\n";
    sh("chmod +x " + d + "/dhclient6.sh");
    cli_->run("timeout 30 dhclient -6 -1 -v -cf " + d + "/dhclient6.conf -lf " + d + "/dhclient6.leases -pf " + d +
              "/dhclient6.pid -sf " + d + "/dhclient6.sh c0 > " + d + "/dhclient6.log 2>&1");
    std::map<std::string, std::string> v;
    std::istringstream in(sh_out("cat " + d + "/dhclient6.BOUND6.env 2>/dev/null"));
    for (std::string line; std::getline(in, line);)
        if (auto eq = line.find('='); eq != std::string::npos) v[line.substr(0, eq)] = line.substr(eq + 1);
    auto why = [&] { return sh_out("cat " + d + "/dhclient6.log " + d + "/dhcrelay.log") + pxed_->log(); };
    auto ip = Ipv6::parse(v["new_ip6_address"]);
    ASSERT_TRUE(ip) << why();
    EXPECT_TRUE(*ip >= *Ipv6::parse("fd00:7::100") && *ip <= *Ipv6::parse("fd00:7::1ff")) << ip->str();
    // The boot file URL names pxed's address the relay sent to.
    EXPECT_EQ(v["new_dhcp6_bootfile_url"], "tftp://[fd00:6::1]/relayed.efi") << why();
    // The lease names the client's MAC: the relay puts none in (no option 79
    // from dhcrelay), so it comes from dhclient's DUID-LLT.
    auto list = sh_out(std::string(PXED_BINARY_DIR) + "/userspace/pxectl -s " + d + "/pxed.sock lease list");
    EXPECT_NE(list.find(ip->str()), std::string::npos) << list;
    EXPECT_NE(list.find("52:54:00:00:77:01"), std::string::npos) << list;
}
