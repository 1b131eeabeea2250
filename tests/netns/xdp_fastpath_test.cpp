// The kernel answers reserved clients while the daemon is stopped: on a veth
// (native XDP) and on a bridge with the client behind a bridge port (generic
// XDP), with busybox udhcpc as the client. The counters and the lease
// database show which path answered.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "bpf/xdp_program.h"
#include "dhcp/frame.h"
#include "dhcp/packet.h"
#include "support/netns.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::test;

namespace {

std::string config(const std::string& iface, const std::string& mode) {
    return toml::netns_server(iface, "xdp = \"" + mode + "\"\n") +
           toml::lan_subnet("192.0.2.150", "lease-time = 600\nboot = { bios = \"pxelinux.0\" }\n") + toml::node10();
}

const char* kReserved = "52:54:00:00:00:0a";
const char* kDynamic = "52:54:00:00:09:01";
const char* kQuick = "-t 2 -T 1";  // an unanswered client gives up after ~3 s

enum class Topo { Veth, Bridge };

class XdpNetns : public ::testing::TestWithParam<Topo> {
protected:
    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        srv_ = std::make_unique<Netns>("xsrv");
        cli_ = std::make_unique<Netns>("xcli");
        if (GetParam() == Topo::Veth) {
            iface_ = "s0";
            veth_pair(srv_.get(), "s0", cli_.get(), "c0");
            ASSERT_EQ(srv_->run("ip addr add 192.0.2.1/24 dev s0 && ip link set s0 up"), 0);
            // XDP_TX on a veth reaches the peer only when its NAPI runs.
            ASSERT_EQ(cli_->run(std::string("ip link set dev c0 xdpdrv obj ") + PXED_XDP_PASS_OBJ + " sec xdp"), 0);
            mode_ = "native";
        } else {
            iface_ = "br0";
            ASSERT_EQ(srv_->run("ip link add br0 type bridge && ip addr add 192.0.2.1/24 dev br0 && ip link set br0 up"), 0);
            veth_pair(srv_.get(), "p0", cli_.get(), "c0");
            ASSERT_EQ(srv_->run("ip link set p0 master br0 && ip link set p0 up"), 0);
            mode_ = "generic";
        }
        ASSERT_EQ(cli_->run("ip link set c0 up"), 0);
        pxed_ = std::make_unique<PxedProcess>(*srv_, config(iface_, mode_));
        ASSERT_TRUE(pxed_->ready()) << pxed_->log();
        ASSERT_NE(pxed_->log().find("xdp iface=" + iface_ + " mode=" + mode_), std::string::npos) << pxed_->log();
    }
    void TearDown() override {
        if (pxed_ && pxed_->pid() > 0) {
            kill(pxed_->pid(), SIGCONT);
            EXPECT_EQ(pxed_->stop(), 0) << pxed_->log();
            // A clean shutdown removes the program and the pins.
            EXPECT_FALSE(std::filesystem::exists(bpf::pin_dir(iface_)));
            EXPECT_EQ(srv_->out("ip link show " + iface_).find("prog/xdp"), std::string::npos);
        }
    }
    std::map<std::string, std::string> client(const std::string& mac, const std::string& args = "") {
        EXPECT_EQ(cli_->run("ip link set c0 address " + mac), 0);
        return udhcpc_once(*cli_, "c0", 15, args);
    }
    uint64_t stat(pxed_stat s) {
        auto r = bpf::read_pinned_stats(iface_);
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
        return r.ok() ? (*r)[s] : 0;
    }
    int stored(const std::string& hexmac) {
        auto s = sh_out("sqlite3 " + pxed_->dir() + "/leases.db \"SELECT count(*) FROM leases WHERE hex(mac)='" +
                        hexmac + "'\"");
        return s.empty() ? -1 : std::stoi(s);
    }

    std::string iface_, mode_;
    std::unique_ptr<Netns> srv_, cli_;
    std::unique_ptr<PxedProcess> pxed_;
};

}  // namespace

TEST_P(XdpNetns, KernelAnswersReservedClientWhileDaemonIsStopped) {
    ASSERT_EQ(kill(pxed_->pid(), SIGSTOP), 0);
    auto r = client(kReserved);
    EXPECT_EQ(r["ip"], "192.0.2.10") << "the kernel did not answer";
    EXPECT_EQ(r["hostname"], "node10");
    EXPECT_EQ(r["boot_file"], "pxelinux.0");
    EXPECT_GE(stat(PXED_STAT_TX_OFFER), 1u);
    EXPECT_GE(stat(PXED_STAT_TX_ACK), 1u);

    auto d = client(kDynamic, kQuick);
    EXPECT_TRUE(d["ip"].empty()) << "an unreserved client was answered while pxed was stopped";
    EXPECT_GE(stat(PXED_STAT_PASS_NOT_RESERVED), 1u);

    ASSERT_EQ(kill(pxed_->pid(), SIGCONT), 0);
    auto again = client(kDynamic);
    EXPECT_EQ(again["ip"], "192.0.2.100") << pxed_->log();
    // The daemon stored the dynamic lease; the kernel's answers store nothing.
    EXPECT_EQ(stored("525400000901"), 1);
    EXPECT_EQ(stored("52540000000A"), 0);
}

TEST_P(XdpNetns, RestartKeepsAnsweringAndReusesThePinnedMaps) {
    uint64_t before = 0;
    EXPECT_EQ(client(kReserved)["ip"], "192.0.2.10");
    before = stat(PXED_STAT_TX_ACK);
    // SIGUSR2: exit for a restart, leaving the program and its maps.
    ASSERT_EQ(kill(pxed_->pid(), SIGUSR2), 0);
    ASSERT_EQ(pxed_->stop(), 0);
    EXPECT_EQ(client(kReserved)["ip"], "192.0.2.10") << "nobody answered between the two daemons";
    EXPECT_EQ(stat(PXED_STAT_TX_ACK), before + 1);
    // bpftool reads the pinned maps with field names.
    auto dump = sh_out("bpftool map dump pinned " + bpf::pin_dir(iface_) + "/reservations");
    EXPECT_NE(dump.find("\"mac\""), std::string::npos) << dump;
    EXPECT_NE(dump.find("\"ip_be\""), std::string::npos) << dump;
    EXPECT_NE(dump.find("\"lease_time_s\": 600"), std::string::npos) << dump;

    // The next pxed takes the program over and keeps the counters.
    pxed_ = std::make_unique<PxedProcess>(*srv_, config(iface_, mode_));
    ASSERT_TRUE(pxed_->ready()) << pxed_->log();
    EXPECT_GE(stat(PXED_STAT_TX_ACK), before + 1);
    EXPECT_EQ(client(kReserved)["ip"], "192.0.2.10");
    EXPECT_EQ(client(kDynamic)["ip"], "192.0.2.100");
    auto progs = srv_->out("ip link show " + iface_);
    EXPECT_EQ(progs.find("prog/xdp"), progs.rfind("prog/xdp")) << "two pxed programs attached: " << progs;
}

// Issue 14.1: a reserved client's RENEW unicast to another server's MAC and
// IP reaches the XDP program (a veth delivers every frame; a bridge in
// promiscuous mode, as with tshark on br0, floods it to br0). The kernel
// must not answer it; only a RENEW sent to this host gets the kernel's ACK.
TEST_P(XdpNetns, RenewToAnotherServerIsNotAnsweredEvenInPromiscuousMode) {
    using namespace pxed::dhcp;
    ASSERT_EQ(cli_->run(std::string("ip link set c0 address ") + kReserved), 0);
    auto our_mac = Mac::parse(srv_->out("ip -br link show dev " + iface_ + " | awk '{print $3}'").substr(0, 17));
    ASSERT_TRUE(our_mac);
    auto renew_to = [&](const Mac& mac, Ipv4 ip) {
        Packet p;
        p.xid = 0x5eed;
        p.set_mac(*Mac::parse(kReserved));
        p.ciaddr = Ipv4(192, 0, 2, 10);
        p.options.set_u8(opt::MessageType, uint8_t(MessageType::Request));
        UdpEndpoints ep{p.mac(), mac, p.ciaddr, ip, 68, 67};
        auto frame = build_udp_frame(ep, serialize(p));
        std::string hex;
        for (uint8_t b : frame) hex += "0123456789abcdef"[b >> 4], hex += "0123456789abcdef"[b & 15];
        return hex;
    };
    // Sends the frame from c0 and waits (bounded) until the program has
    // counted it either way; returns the counter that moved.
    auto send = [&](const std::string& hex) -> std::string {
        uint64_t pass0 = stat(PXED_STAT_PASS_NOT_FOR_US), ack0 = stat(PXED_STAT_TX_ACK);
        EXPECT_EQ(cli_->run("python3 -c \"import socket; s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); "
                            "s.bind(('c0', 0)); s.send(bytes.fromhex('" + hex + "'))\""),
                  0);
        for (int i = 0; i < 100; i++) {
            uint64_t pass = stat(PXED_STAT_PASS_NOT_FOR_US), ack = stat(PXED_STAT_TX_ACK);
            if (pass != pass0 || ack != ack0)
                return pass == pass0 + 1 && ack == ack0 ? "passed" : ack == ack0 + 1 && pass == pass0 ? "answered" : "both";
            usleep(50000);
        }
        return "not seen";
    };
    auto other = renew_to(*Mac::parse("02:00:00:00:00:02"), Ipv4(192, 0, 2, 2));
    if (GetParam() == Topo::Veth) {  // a bridge delivers it to br0 only when promiscuous
        EXPECT_EQ(send(other), "passed") << "promiscuous off";
    }
    ASSERT_EQ(srv_->run("ip link set dev " + iface_ + " promisc on"), 0);
    EXPECT_EQ(send(other), "passed") << "promiscuous on";
    EXPECT_EQ(send(renew_to(*our_mac, Ipv4(192, 0, 2, 2))), "passed") << "our MAC, another server's IP";
    EXPECT_EQ(send(renew_to(*our_mac, Ipv4(192, 0, 2, 1))), "answered") << "a RENEW to this host";
}

INSTANTIATE_TEST_SUITE_P(Topologies, XdpNetns, ::testing::Values(Topo::Veth, Topo::Bridge),
                         [](const auto& info) { return info.param == Topo::Veth ? "Veth" : "Bridge"; });

TEST(XdpReload, NewReservationIsAnsweredInTheKernelAfterSighup) {
    if (!require_root()) return;
    Netns srv("rsrv"), cli("rcli");
    veth_pair(&srv, "s0", &cli, "c0");
    ASSERT_EQ(srv.run("ip addr add 192.0.2.1/24 dev s0 && ip link set s0 up"), 0);
    ASSERT_EQ(cli.run("ip link set c0 address 52:54:00:00:00:0b && ip link set c0 up"), 0);
    PxedProcess pxed(srv, config("s0", "generic"));
    ASSERT_TRUE(pxed.ready()) << pxed.log();
    // A broken file is refused and the running configuration stays.
    sh("cp " + pxed.dir() + "/pxed.toml " + pxed.dir() + "/good.toml");
    sh("echo 'this is = = not toml' >> " + pxed.dir() + "/pxed.toml");
    ASSERT_EQ(kill(pxed.pid(), SIGHUP), 0);
    for (int i = 0; i < 100 && pxed.log().find("reload refused") == std::string::npos; i++) usleep(50000);
    // Then a valid one with a second reservation.
    sh("cp " + pxed.dir() + "/good.toml " + pxed.dir() + "/pxed.toml");
    sh("printf '[[reservation]]\\nmac = \"52:54:00:00:00:0b\"\\nip = \"192.0.2.11\"\\nhostname = \"node11\"\\n' >> " +
       pxed.dir() + "/pxed.toml");
    ASSERT_EQ(kill(pxed.pid(), SIGHUP), 0);
    for (int i = 0; i < 100 && pxed.log().find("reservations=2") == std::string::npos; i++) usleep(50000);
    EXPECT_NE(pxed.log().find("reload refused, keeping the running configuration"), std::string::npos) << pxed.log();
    ASSERT_NE(pxed.log().find("reservations=2"), std::string::npos) << pxed.log();
    ASSERT_EQ(kill(pxed.pid(), SIGSTOP), 0);
    auto v = udhcpc_once(cli, "c0");
    EXPECT_EQ(v["ip"], "192.0.2.11") << "the kernel did not answer the reloaded reservation";
    EXPECT_EQ(v["hostname"], "node11");
    kill(pxed.pid(), SIGCONT);
    EXPECT_EQ(pxed.stop(), 0);
}

// Pins are keyed by interface name: a second pxed serving an interface of the
// same name in another namespace is refused, naming the first, instead of
// sharing its maps; once the first has gone, the name is free again.
TEST(XdpPins, SameInterfaceNameInAnotherNamespaceIsRefusedUntilTheFirstExits) {
    if (!require_root()) return;
    Netns a("pa"), ac("pac"), b("pb"), bc("pbc");
    veth_pair(&a, "s0", &ac, "c0");
    veth_pair(&b, "s0", &bc, "c0");
    for (const Netns* ns : {&a, &b}) ASSERT_EQ(ns->run("ip addr add 192.0.2.1/24 dev s0 && ip link set s0 up"), 0);
    PxedProcess first(a, config("s0", "generic"));
    ASSERT_TRUE(first.ready()) << first.log();
    {
        PxedProcess second(b, config("s0", "generic"));
        EXPECT_FALSE(second.ready()) << second.log();
        EXPECT_NE(second.log().find("another pxed (pid " + std::to_string(first.pid()) + ") holds " +
                                    bpf::pin_dir("s0")),
                  std::string::npos)
            << second.log();
    }
    // The refused daemon touched nothing: the first still answers in the kernel.
    ASSERT_EQ(ac.run(std::string("ip link set dev c0 xdpdrv obj ") + PXED_XDP_PASS_OBJ + " sec xdp"), 0);
    ASSERT_EQ(ac.run(std::string("ip link set c0 address ") + kReserved + " && ip link set c0 up"), 0);
    ASSERT_EQ(kill(first.pid(), SIGSTOP), 0);
    auto got = udhcpc_once(ac, "c0", 10, kQuick);
    kill(first.pid(), SIGCONT);
    EXPECT_EQ(got["ip"], "192.0.2.10") << first.log();

    EXPECT_EQ(first.stop(), 0);
    PxedProcess third(b, config("s0", "generic"));
    EXPECT_TRUE(third.ready()) << third.log();
}

// A counter appended to the stats enum changes the shape of the stats map:
// a pxed upgraded over a running older one finds its pinned stats map
// incompatible, replaces that pin with a fresh map and keeps the others.
TEST(XdpPins, AStatsMapOfAnOlderShapeIsReplacedOnUpgrade) {
    if (!require_root()) return;
    Netns srv("usrv"), cli("ucli");
    veth_pair(&srv, "u0", &cli, "c0");
    ASSERT_EQ(srv.run("ip addr add 192.0.2.1/24 dev u0 && ip link set u0 up"), 0);
    std::string dir = bpf::pin_dir("u0");
    sh("rm -rf " + dir);
    ASSERT_EQ(sh("mkdir -p " + dir + " && bpftool map create " + dir +
                 "/stats type percpu_array key 4 value 8 entries 24 name stats"),
              0);
    PxedProcess pxed(srv, config("u0", "generic"));
    ASSERT_TRUE(pxed.ready()) << pxed.log();
    EXPECT_NE(pxed.log().find("xdp pinned map replaced path=" + dir + "/stats"), std::string::npos) << pxed.log();
    EXPECT_NE(pxed.log().find("xdp iface=u0 mode=generic"), std::string::npos) << pxed.log();
    auto st = bpf::read_pinned_stats("u0");
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error());
    EXPECT_EQ(pxed.stop(), 0);
}

