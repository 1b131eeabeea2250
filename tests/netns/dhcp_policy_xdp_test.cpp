// The boot policy (issue 16) on the kernel path, with busybox udhcpc: a
// reserved host whose classes the XDP program can decide (architecture) is
// answered in the kernel, with the host's own boot file over its class's;
// one whose class tests what the program cannot read (a substring of
// option 60) is passed (pass_undecided) and answered by the daemon; a host
// entry without ip is always the daemon's. The per-CPU counters of the
// pinned stats map show which path answered.
#include <gtest/gtest.h>

#include "bpf/xdp_program.h"
#include "support/lan.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::test;

namespace {

const char* kArm = "-V PXEClient:Arch:00011:UNDI:003000 -x 0x5d:000b";
const char* kBios = "-V PXEClient:Arch:00000:UNDI:002001 -x 0x5d:0000";

// The "foo" class is limited to one MAC so that it leaves the other
// reservations decidable: a vendor-class-contains test is unknown to the
// program for every request that carries option 60.
const std::string kConfig =
    toml::netns_server("s0", "xdp = \"native\"\n") +
    toml::lan_subnet("192.0.2.150",
                     "lease-time = 600\n"
                     "boot = { bios = \"bios.0\", arm64-uefi = \"arm64.efi\", ipxe = \"subnet.ipxe\" }\n"
                     "options = [ { code = 42, ips = [\"192.0.2.123\"] } ]\n") +
    "\n[[class]]\nname = \"arm\"\nmatch = { arch = \"arm64-uefi\" }\nboot-file = \"class-arm.efi\"\n"
    "\n[[class]]\nname = \"foo\"\nmatch = { mac = \"52:54:00:00:17:02\", vendor-class-contains = \"Foo\" }\n"
    "boot-file = \"foo.efi\"\n" +
    toml::reservation("52:54:00:00:14:01", "192.0.2.41", "hostname = \"own\"\nboot-file = \"host-own.efi\"\n") +
    toml::reservation("52:54:00:00:14:03", "192.0.2.43", "hostname = \"plain\"\n") +
    "\n[[reservation]]\nmac = \"52:54:00:00:14:02\"\nhostname = \"entry\"\nboot-file = \"entry-own.efi\"\n" +
    toml::reservation("52:54:00:00:17:02", "192.0.2.72", "hostname = \"foo\"\n");

class PolicyXdp : public LanTest {
protected:
    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        ASSERT_NO_FATAL_FAILURE(start_lan(LanSpec().named("qsrv", "qcli").with_xdp_pass_on_client()));
        ASSERT_NO_FATAL_FAILURE(start_pxed(kConfig));
        ASSERT_NE(pxed_->log().find("xdp iface=s0 mode=native"), std::string::npos) << pxed_->log();
    }
    std::map<std::string, std::string> client(const std::string& mac, const std::string& args = "") {
        EXPECT_EQ(cli_->run("ip link set c0 address " + mac), 0);
        return udhcpc_once(*cli_, "c0", 15, args);
    }
    bpf::Stats stats() {
        auto r = bpf::read_pinned_stats("s0");
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
        return r.ok() ? *r : bpf::Stats{};
    }
    // How much the counters this file looks at rose while `f` ran.
    struct Moved {
        uint64_t offer, ack, undecided, not_reserved, prl;
    };
    template <class F>
    Moved moved(F&& f) {
        auto a = stats();
        f();
        auto b = stats();
        auto d = [&](pxed_stat s) { return b[s] - a[s]; };
        return {d(PXED_STAT_TX_OFFER), d(PXED_STAT_TX_ACK), d(PXED_STAT_PASS_UNDECIDED),
                d(PXED_STAT_PASS_NOT_RESERVED), d(PXED_STAT_PASS_PRL)};
    }
};

}  // namespace

// A reserved host's own boot file wins over its class's, and the kernel
// gives it: the class is decided by option 93 alone.
TEST_F(PolicyXdp, KernelGivesAReservedHostItsOwnBootFileOverItsClass) {
    std::map<std::string, std::string> v;
    auto m = moved([&] { v = client("52:54:00:00:14:01", kArm); });
    EXPECT_EQ(v["ip"], "192.0.2.41") << pxed_->log();
    EXPECT_EQ(v["boot_file"], "host-own.efi");
    EXPECT_EQ(v["hostname"], "own");
    EXPECT_EQ(v["opt43"], "060108ff") << "udhcpc exports option 43 as optNN hex";
    EXPECT_GE(m.offer, 1u) << "the kernel did not answer the DISCOVER";
    EXPECT_GE(m.ack, 1u) << "the kernel did not answer the REQUEST";
    EXPECT_EQ(m.undecided, 0u);
}

// A reserved host without a boot file of its own: the arch class decides,
// in the kernel; as BIOS it falls through to the subnet table.
TEST_F(PolicyXdp, KernelAppliesAnArchClassToAReservedHost) {
    std::map<std::string, std::string> arm, bios;
    auto m = moved([&] { arm = client("52:54:00:00:14:03", kArm); });
    EXPECT_EQ(arm["ip"], "192.0.2.43") << pxed_->log();
    EXPECT_EQ(arm["boot_file"], "class-arm.efi");
    EXPECT_GE(m.offer, 1u);
    EXPECT_GE(m.ack, 1u);
    m = moved([&] { bios = client("52:54:00:00:14:03", kBios); });
    EXPECT_EQ(bios["ip"], "192.0.2.43") << pxed_->log();
    EXPECT_EQ(bios["boot_file"], "bios.0");
    EXPECT_GE(m.offer, 1u);
    EXPECT_GE(m.ack, 1u);
}

// A host entry (no ip) is not in the program's reservations: the daemon
// answers with a pool address and the entry's own boot file over the class.
TEST_F(PolicyXdp, DaemonGivesAHostEntryItsOwnBootFileOverItsClass) {
    std::map<std::string, std::string> v;
    auto m = moved([&] { v = client("52:54:00:00:14:02", kArm); });
    EXPECT_EQ(v["ip"], "192.0.2.100") << pxed_->log();
    EXPECT_EQ(v["boot_file"], "entry-own.efi");
    EXPECT_EQ(v["hostname"], "entry");
    EXPECT_EQ(m.offer + m.ack, 0u) << "the kernel answered a host entry";
    EXPECT_GE(m.not_reserved, 2u);
}

// Option 60 "XXFooYY": the program knows only "not PXEClient/HTTPClient",
// so the "foo" class is undecided there; it passes and the daemon answers
// the reserved address with the class's file.
TEST_F(PolicyXdp, UndecidableClassIsPassedAndTheDaemonAnswers) {
    std::map<std::string, std::string> foo, bar;
    auto m = moved([&] { foo = client("52:54:00:00:17:02", "-V XXFooYY"); });
    EXPECT_EQ(foo["ip"], "192.0.2.72") << pxed_->log();
    EXPECT_EQ(foo["boot_file"], "foo.efi");
    EXPECT_EQ(m.offer + m.ack, 0u) << "the kernel answered a request it cannot classify";
    EXPECT_GE(m.undecided, 2u);
    EXPECT_NE(pxed_->log().find("type=DISCOVER mac=52:54:00:00:17:02"), std::string::npos) << pxed_->log();

    // The same host with another vendor class: still passed, and the
    // daemon leaves it out of the class.
    m = moved([&] { bar = client("52:54:00:00:17:02", "-V XXBarYY"); });
    EXPECT_EQ(bar["ip"], "192.0.2.72") << pxed_->log();
    EXPECT_EQ(bar["boot_file"], "bios.0");
    EXPECT_EQ(m.offer + m.ack, 0u);
    EXPECT_GE(m.undecided, 2u);
}

// What else the program reads: option 175 alone makes an iPXE client
// (the subnet's script), and option 55 decides a conditional option: a
// client that does not ask for 42 is passed (pass_prl) and the daemon
// leaves 42 out. Debian's udhcpc asks for 42 unless -o.
TEST_F(PolicyXdp, KernelReadsOption175AndPassesWhenOption55LeavesOutAnOption) {
    std::map<std::string, std::string> ipxe, asks, silent;
    auto m = moved([&] { ipxe = client("52:54:00:00:14:03", "-V '' -x 0xaf:130101ff"); });
    EXPECT_EQ(ipxe["ip"], "192.0.2.43") << pxed_->log();
    EXPECT_EQ(ipxe["boot_file"], "subnet.ipxe");
    EXPECT_GE(m.offer, 1u);
    EXPECT_GE(m.ack, 1u);

    m = moved([&] { asks = client("52:54:00:00:14:03", kBios); });
    EXPECT_EQ(asks["ntpsrv"], "192.0.2.123") << pxed_->log();
    EXPECT_GE(m.offer, 1u);
    EXPECT_GE(m.ack, 1u);

    m = moved([&] { silent = client("52:54:00:00:14:03", std::string(kBios) + " -o -O subnet -O router"); });
    EXPECT_EQ(silent["ip"], "192.0.2.43") << pxed_->log();
    EXPECT_EQ(silent["boot_file"], "bios.0");
    EXPECT_EQ(silent.count("ntpsrv"), 0u) << silent["ntpsrv"];
    EXPECT_EQ(m.offer + m.ack, 0u) << "the kernel sent 42 to a client that did not ask for it";
    EXPECT_GE(m.prl, 2u);
}
