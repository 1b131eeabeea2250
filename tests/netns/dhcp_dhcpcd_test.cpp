// The boot policy (issue 16) with dhcpcd (Debian's dhcpcd-base) as the
// client: a class on option 60's prefix and one on an RFC 3004 user class
// (dhcpcd's `userclass` always writes option 77 as length-prefixed entries)
// answered by the daemon, and a reserved host in a MAC class answered by
// the XDP program. dhcpcd has no directive for arbitrary options, so it
// cannot send option 93 or 175: the classes test what it can send.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "bpf/xdp_program.h"
#include "support/lan.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::test;

namespace {

// The program reads of option 77 only whether it is "iPXE": without 77 the
// "lab" class is decided (no match) in the kernel, and any other user
// class is passed to the daemon (pass_unsure).
const std::string kConfig =
    toml::netns_server("s0", "xdp = \"native\"\n") +
    toml::lan_subnet("192.0.2.150", "lease-time = 600\nboot = { bios = \"bios.0\" }\n") +
    "\n[[class]]\nname = \"arm\"\nmatch = { vendor-class = \"PXEClient:Arch:00011\" }\n"
    "boot-file = \"arm-class.efi\"\n"
    "\n[[class]]\nname = \"lab\"\nmatch = { user-class = \"lab\" }\n"
    "boot-file = \"lab.efi\"\n"
    "options = [ { code = 42, ips = [\"192.0.2.123\"] }, { code = 15, string = \"lab.example\" } ]\n"
    "\n[[class]]\nname = \"rack\"\nmatch = { mac = \"52:54:00:00:18:*\" }\nboot-file = \"rack.efi\"\n" +
    toml::reservation("52:54:00:00:18:01", "192.0.2.81", "hostname = \"rack1\"\n");

// Asked for in every run, so that the lease shows what the server sent.
const char* kAsk = "option bootfile_name, ntp_servers, domain_name, host_name\n";

class Dhcpcd : public LanTest {
protected:
    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        if (sh("command -v dhcpcd >/dev/null") != 0) GTEST_FAIL() << "dhcpcd missing: run scripts/setup-deps";
        ASSERT_NO_FATAL_FAILURE(start_lan(LanSpec().named("dsrv", "dcli").with_xdp_pass_on_client()));
        ASSERT_NO_FATAL_FAILURE(start_pxed(kConfig));
        ASSERT_NE(pxed_->log().find("xdp iface=s0 mode=native"), std::string::npos) << pxed_->log();
    }

    // Runs dhcpcd once on c0 with `mac`, `conf` ending its dhcpcd.conf;
    // returns the environment its script saw on BOUND (new_ip_address,
    // new_filename = the BOOTP file field, new_bootfile_name = option 67...),
    // empty when it got no lease. dhcpcd's lease and pid dirs are fixed at
    // build time (/var/lib/dhcpcd, /run/dhcpcd): it runs in a mount namespace
    // of its own with a tmpfs over /var/lib/dhcpcd and /run, so no lease or
    // pid file outlives the run and a host dhcpcd's files are never seen.
    // `-c` replaces dhcpcd-run-hooks, so no hook touches resolv.conf or the
    // hostname; nodev keeps it off udev, noarp skips the address probe.
    std::map<std::string, std::string> dhcpcd(const std::string& mac, const std::string& conf) {
        EXPECT_EQ(cli_->run("ip addr flush dev c0 && ip link set c0 address " + mac), 0);
        const std::string d = pxed_->dir();
        std::ofstream(d + "/dhcpcd.conf") << "nodev\nnoarp\nnoipv4ll\nclientid\n" << kAsk << conf << "\n";
        std::ofstream(d + "/dhcpcd.sh") << "#!/bin/sh\n[ \"$reason\" = BOUND ] && env > " << d << "/bound.env\n"
                                        << "exit 0\n";
        sh("chmod +x " + d + "/dhcpcd.sh && rm -f " + d + "/bound.env");
        const std::string inner = "mount -t tmpfs pxedt /var/lib/dhcpcd && mount -t tmpfs pxedt /run && "
                                  "mkdir /run/dhcpcd && exec timeout 30 dhcpcd -f " + d + "/dhcpcd.conf -c " + d +
                                  "/dhcpcd.sh --oneshot --ipv4only --nobackground --timeout 10 c0";
        cli_->run("unshare --mount --propagation private sh -c " + Netns::quote(inner) + " > " + d +
                  "/dhcpcd.log 2>&1");
        std::map<std::string, std::string> vars;
        std::istringstream in(sh_out("cat " + d + "/bound.env 2>/dev/null"));
        for (std::string line; std::getline(in, line);) {
            auto eq = line.find('=');
            if (eq != std::string::npos) vars[line.substr(0, eq)] = line.substr(eq + 1);
        }
        return vars;
    }
    std::string why() { return sh_out("cat " + pxed_->dir() + "/dhcpcd.log") + pxed_->log(); }

    bpf::Stats stats() {
        auto r = bpf::read_pinned_stats("s0");
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
        return r.ok() ? *r : bpf::Stats{};
    }
    // How much the program's counters rose while `f` ran: which path answered.
    struct Moved {
        uint64_t offer, ack, not_reserved, undecided, prl, unsure;
    };
    template <class F>
    Moved moved(F&& f) {
        auto a = stats();
        f();
        auto b = stats();
        auto d = [&](pxed_stat s) { return b[s] - a[s]; };
        return {d(PXED_STAT_TX_OFFER), d(PXED_STAT_TX_ACK), d(PXED_STAT_PASS_NOT_RESERVED),
                d(PXED_STAT_PASS_UNDECIDED), d(PXED_STAT_PASS_PRL), d(PXED_STAT_PASS_UNSURE)};
    }
};

}  // namespace

// A PXE-style option 60 (what an arm64 UEFI ROM sends) puts dhcpcd in the
// class on its prefix; the daemon answers (no reservation), and PXE's
// built-ins come along: option 60 echoed, option 43 "boot at once".
TEST_F(Dhcpcd, VendorClassPrefixSelectsTheClassBootFile) {
    std::map<std::string, std::string> v;
    auto m = moved([&] { v = dhcpcd("52:54:00:00:19:01", "vendorclassid PXEClient:Arch:00011:UNDI:003000"); });
    ASSERT_EQ(v["new_ip_address"], "192.0.2.100") << why();
    EXPECT_EQ(v["new_filename"], "arm-class.efi");
    EXPECT_EQ(v["new_bootfile_name"], "arm-class.efi");
    EXPECT_EQ(v["new_tftp_server_name"], "192.0.2.1");
    EXPECT_EQ(v["new_vendor_class_identifier"], "PXEClient");
    EXPECT_EQ(v["new_vendor_encapsulated_options"], "060108ff");
    EXPECT_EQ(m.offer + m.ack, 0u) << "the kernel answered an unreserved client";
    EXPECT_GE(m.not_reserved, 2u);

    // Another architecture's vendor class: no class, and without option 93
    // the table's arch 0 entry.
    auto x64 = dhcpcd("52:54:00:00:19:02", "vendorclassid PXEClient:Arch:00007:UNDI:003016");
    ASSERT_EQ(x64["new_ip_address"], "192.0.2.101") << why();
    EXPECT_EQ(x64["new_filename"], "bios.0");
}

// `userclass lab` sends option 77 as one RFC 3004 entry: the "lab" class
// gives its file and its options 42 and 15, which dhcpcd asked for.
TEST_F(Dhcpcd, UserClassEntrySelectsTheClassFileAndOptions) {
    auto lab = dhcpcd("52:54:00:00:19:03", "userclass lab");
    ASSERT_EQ(lab["new_ip_address"], "192.0.2.100") << why();
    EXPECT_EQ(lab["new_filename"], "lab.efi");
    EXPECT_EQ(lab["new_ntp_servers"], "192.0.2.123");
    EXPECT_EQ(lab["new_domain_name"], "lab.example");
    EXPECT_EQ(lab["new_routers"], "192.0.2.1");

    // The entry must be equal, not a prefix; without the class, neither
    // its file nor its options.
    auto other = dhcpcd("52:54:00:00:19:04", "userclass laboratory");
    ASSERT_EQ(other["new_ip_address"], "192.0.2.101") << why();
    EXPECT_EQ(other["new_filename"], "bios.0");
    EXPECT_EQ(other.count("new_ntp_servers"), 0u) << other["new_ntp_servers"];
    EXPECT_EQ(other.count("new_domain_name"), 0u) << other["new_domain_name"];
}

// A reserved host in the MAC class: the program decides its policy and
// answers DISCOVER and REQUEST itself, with the class's file, the reserved
// address and the host name. The other classes are decided too: no option
// 77, and dhcpcd's own option 60 ("dhcpcd-9.4.1:Linux-...") does not start
// with PXEClient.
TEST_F(Dhcpcd, KernelAnswersAReservedHostInAMacClass) {
    std::map<std::string, std::string> v;
    auto m = moved([&] { v = dhcpcd("52:54:00:00:18:01", ""); });
    ASSERT_EQ(v["new_ip_address"], "192.0.2.81") << why();
    EXPECT_EQ(v["new_filename"], "rack.efi");
    EXPECT_EQ(v["new_bootfile_name"], "rack.efi");
    EXPECT_EQ(v["new_host_name"], "rack1");
    EXPECT_GE(m.offer, 1u) << "the kernel did not answer the DISCOVER\n" << why();
    EXPECT_GE(m.ack, 1u) << "the kernel did not answer the REQUEST";
    EXPECT_EQ(m.undecided + m.prl + m.unsure, 0u);
    EXPECT_EQ(pxed_->log().find("type=DISCOVER mac=52:54:00:00:18:01"), std::string::npos)
        << "the daemon saw a request the kernel answered\n" << pxed_->log();

    // The same host with `userclass lab`: the program cannot read the
    // entry, so it passes, and the daemon puts the host in "lab" too,
    // which comes before "rack" in the file and so gives the file.
    m = moved([&] { v = dhcpcd("52:54:00:00:18:01", "userclass lab"); });
    ASSERT_EQ(v["new_ip_address"], "192.0.2.81") << why();
    EXPECT_EQ(v["new_filename"], "lab.efi");
    EXPECT_EQ(v["new_ntp_servers"], "192.0.2.123");
    EXPECT_EQ(v["new_host_name"], "rack1");
    EXPECT_EQ(m.offer + m.ack, 0u) << "the kernel answered a user class it cannot read";
    EXPECT_GE(m.unsure, 2u);
}
