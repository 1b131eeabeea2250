// pxectl against a running pxed: every verb with --json parsed, the errors,
// a static lease answered by the kernel while pxed is stopped, reload with a
// new reservation and with an invalid file, a user outside the group refused,
// and 1,000 garbage requests that leave DHCP service intact.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "support/lan.h"
#include "support/toml_fixture.h"

using namespace pxed::test;
using nlohmann::json;

namespace {

const std::string kConfig =
    toml::netns_server("s0") + toml::lan_subnet("192.0.2.150", "lease-time = 600\n") + toml::node10();

struct CtlResult {
    int rc;
    std::string out;
};

class Pxectl : public LanTest {
protected:
    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        ASSERT_NO_FATAL_FAILURE(start_lan(LanSpec().named("csrv", "ccli")));
        start();
    }
    void start() {
        ASSERT_NO_FATAL_FAILURE(start_pxed(kConfig));
        sock_ = pxed_->dir() + "/pxed.sock";
    }
    CtlResult ctl(const std::string& args, const std::string& prefix = "") {
        std::string cmd = prefix + std::string(PXED_BINARY_DIR) + "/userspace/pxectl -s " + sock_ + " " + args +
                          " 2>&1; echo \"rc=$?\"";
        std::string out = sh_out(cmd);
        expect_no_sanitizer_report(out, "pxectl " + args);
        auto at = out.rfind("rc=");
        return CtlResult{std::stoi(out.substr(at + 3)), out.substr(0, at)};
    }
    json ctl_json(const std::string& args) {
        auto r = ctl("--json " + args);
        EXPECT_EQ(r.rc, 0) << args << ": " << r.out;
        json j = json::parse(r.out, nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << r.out;
        return j;
    }
    std::map<std::string, std::string> client(const std::string& mac, const std::string& extra = "") {
        EXPECT_EQ(cli_->run("ip link set c0 address " + mac), 0);
        return udhcpc_once(*cli_, "c0", 15, extra);
    }

    std::string sock_;
};

json find_ip(const json& list, const std::string& ip) {
    for (auto& l : list)
        if (l["ip"] == ip) return l;
    return json();
}

}  // namespace

TEST_F(Pxectl, EveryVerbWithJson) {
    auto st = ctl_json("status");
    ASSERT_EQ(st["interfaces"].size(), 1u);
    EXPECT_EQ(st["interfaces"][0]["name"], "s0");
    EXPECT_EQ(st["interfaces"][0]["xdp_mode"], "generic");
    EXPECT_TRUE(st["interfaces"][0]["xdp_prog_id"].is_number());
    EXPECT_EQ(st["interfaces"][0]["pinned_maps"], "/sys/fs/bpf/pxed/s0");
    EXPECT_NE(st["lease_db"].get<std::string>().find("sqlite:"), std::string::npos);
    EXPECT_TRUE(st["uptime_s"].is_number());

    EXPECT_EQ(client("52:54:00:00:0c:09")["ip"], "192.0.2.100");
    auto list = ctl_json("lease list");
    EXPECT_EQ(find_ip(list, "192.0.2.100")["state"], "bound");
    EXPECT_EQ(find_ip(list, "192.0.2.10")["state"], "static");
    EXPECT_EQ(find_ip(list, "192.0.2.10")["source"], "config");
    EXPECT_EQ(ctl_json("lease list --state static").size(), 1u);
    EXPECT_EQ(ctl_json("lease list --subnet 198.51.100.0/24").size(), 0u);

    auto added = ctl_json("lease add 52:54:00:00:0c:01 192.0.2.120 --hostname h1 --lease-time 900");
    EXPECT_EQ(added["ip"], "192.0.2.120");
    EXPECT_EQ(added["state"], "bound");
    auto shown = ctl_json("lease show 52:54:00:00:0c:01");
    EXPECT_EQ(shown["ip"], "192.0.2.120");
    EXPECT_EQ(shown["hostname"], "h1");
    EXPECT_EQ(ctl_json("lease release 192.0.2.120")["released"], "192.0.2.120");
    EXPECT_EQ(ctl_json("lease show 192.0.2.120")["state"], "released");
    EXPECT_EQ(ctl_json("lease del 192.0.2.120")["deleted"], "192.0.2.120");
    EXPECT_EQ(ctl("lease show 192.0.2.120").rc, 1);

    auto stats = ctl_json("stats");
    EXPECT_GE(stats["dhcp"]["received"]["DISCOVER"].get<int>(), 1);
    EXPECT_GE(stats["dhcp"]["sent"]["daemon"]["ACK"].get<int>(), 1);
    EXPECT_TRUE(stats["xdp"]["s0"]["pass_not_reserved"].is_number());
    // The human table has the same lease.
    EXPECT_NE(ctl("lease list").out.find("192.0.2.100"), std::string::npos);
}

TEST_F(Pxectl, ErrorsSayWhatIsWrong) {
    auto r = ctl("lease show 52:54:00:99:99:99");
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.out.find("no lease or reservation for MAC 52:54:00:99:99:99"), std::string::npos) << r.out;
    r = ctl("lease add 52:54:00:00:0c:02 10.9.9.9");
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.out.find("10.9.9.9 is outside every subnet (192.0.2.0/24)"), std::string::npos) << r.out;
    ctl_json("lease add 52:54:00:00:0c:03 192.0.2.130");
    r = ctl("lease add 52:54:00:00:0c:04 192.0.2.130");
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.out.find("192.0.2.130 is leased to 52:54:00:00:0c:03"), std::string::npos) << r.out;
    r = ctl("lease add 52:54:00:00:0c:04 192.0.2.10 --static");
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.out.find("reserved for 52:54:00:00:00:0a"), std::string::npos) << r.out;
    r = ctl("lease del 52:54:00:00:00:0a");
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.out.find("remove it there and run pxectl reload"), std::string::npos) << r.out;
    r = ctl("lease add nonsense 192.0.2.1");
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.out.find("'nonsense' is not a MAC address"), std::string::npos) << r.out;
    EXPECT_EQ(ctl("lease frobnicate").rc, 2);  // usage
    EXPECT_EQ(ctl("").rc, 2);
    auto gone = sh_out(std::string(PXED_BINARY_DIR) + "/userspace/pxectl -s /tmp/no-such-pxed.sock status 2>&1; echo rc=$?");
    EXPECT_NE(gone.find("pxed is not running"), std::string::npos) << gone;
    EXPECT_NE(gone.find("rc=1"), std::string::npos);
}

TEST_F(Pxectl, StaticLeaseIsAnsweredInTheKernelAndSurvivesRestart) {
    auto added = ctl_json("lease add 52:54:00:00:0d:01 192.0.2.20 --static --hostname node20 --lease-time infinite");
    EXPECT_EQ(added["state"], "static");
    EXPECT_EQ(added["source"], "pxectl");
    ASSERT_EQ(kill(pxed_->pid(), SIGSTOP), 0);
    auto v = client("52:54:00:00:0d:01");
    EXPECT_EQ(v["ip"], "192.0.2.20") << "the kernel did not answer the new reservation";
    EXPECT_EQ(v["hostname"], "node20");
    EXPECT_EQ(v["lease"], "4294967295");
    kill(pxed_->pid(), SIGCONT);
    // Durable: a restarted pxed on the same database still has it.
    std::string db = pxed_->dir() + "/leases.db";
    EXPECT_EQ(pxed_->stop(), 0);
    std::string cfg = kConfig;
    cfg.replace(cfg.find("@DIR@/leases.db"), 15, db);
    pxed_ = std::make_unique<PxedProcess>(*srv_, cfg);
    ASSERT_TRUE(pxed_->ready()) << pxed_->log();
    sock_ = pxed_->dir() + "/pxed.sock";
    EXPECT_EQ(ctl_json("lease show 52:54:00:00:0d:01")["ip"], "192.0.2.20");
    EXPECT_EQ(ctl_json("lease del 52:54:00:00:0d:01")["deleted"], "52:54:00:00:0d:01");
    EXPECT_EQ(ctl("lease show 52:54:00:00:0d:01").rc, 1);
}

TEST_F(Pxectl, ReloadWithANewReservationAndWithAnInvalidFile) {
    std::string path = pxed_->dir() + "/pxed.toml";
    sh("printf '[[reservation]]\\nmac = \"52:54:00:00:0e:01\"\\nip = \"192.0.2.30\"\\n' >> " + path);
    EXPECT_NE(ctl_json("reload")["message"].get<std::string>().find("2 reservations"), std::string::npos);
    EXPECT_EQ(ctl_json("lease show 52:54:00:00:0e:01")["ip"], "192.0.2.30");
    sh("printf 'router = 192.0.2.1 oops\\n' >> " + path);
    auto bad = ctl("reload");
    EXPECT_EQ(bad.rc, 1);
    EXPECT_NE(bad.out.find("reload refused, the running configuration stays"), std::string::npos) << bad.out;
    EXPECT_NE(bad.out.find("pxed.toml:"), std::string::npos) << bad.out;  // names file and line
    EXPECT_EQ(ctl_json("lease show 52:54:00:00:0e:01")["ip"], "192.0.2.30");
    EXPECT_EQ(client("52:54:00:00:0e:01")["ip"], "192.0.2.30");
}

TEST_F(Pxectl, UsersOutsideTheGroupAreRefused) {
    // The socket file's mode keeps them out...
    auto r = ctl("status", "setpriv --reuid=65534 --regid=65534 --clear-groups ");
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.out.find("permission denied"), std::string::npos) << r.out;
    // ...and so does SO_PEERCRED when the mode is opened up.
    sh("chmod 0777 " + pxed_->dir() + " && chmod 0666 " + sock_);
    r = ctl("status", "setpriv --reuid=65534 --regid=65534 --clear-groups ");
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.out.find("permission denied"), std::string::npos) << r.out;
    EXPECT_EQ(ctl("status").rc, 0);
}

TEST_F(Pxectl, GarbageOnTheSocketLeavesDhcpIntact) {
    std::mt19937 rng(42);
    int slow = socket(AF_UNIX, SOCK_STREAM, 0);  // a client that never finishes its request
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, sock_.c_str());
    ASSERT_EQ(connect(slow, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_GT(send(slow, "{\"version\":1,", 13, 0), 0);
    for (int i = 0; i < 1000; i++) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << i;
        std::string msg;
        switch (i % 5) {
        case 0: for (int k = 0; k < 200; k++) msg.push_back(char(rng())); msg += "\n"; break;
        case 1: msg = "{\"version\": 99, \"command\": \"status\"}\n"; break;
        case 2: msg = "[1,2,3]\n{\"command\": 5}\n{\"version\":1,\"command\":\"lease-add\",\"args\":{\"mac\":7}}\n"; break;
        case 3: msg = std::string(70000, 'x'); break;  // over the 64 KiB limit, no newline
        case 4: msg = "{\"version\":1,\"command\":\"lease-show\",\"args\":{\"key\":\"" + std::string(300, '9') + "\"}}\n"; break;
        }
        send(fd, msg.data(), msg.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        char buf[512];
        recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        close(fd);
    }
    // While the slow client still holds its connection, pxed answers others.
    EXPECT_EQ(ctl("status").rc, 0);
    EXPECT_EQ(client("52:54:00:00:0f:01")["ip"], "192.0.2.100") << pxed_->log();
    // The slow client is cut off after 5 s.
    timeval tv{8, 0};
    setsockopt(slow, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[256] = {};
    ssize_t n = recv(slow, buf, sizeof buf - 1, 0);
    EXPECT_GT(n, 0);
    EXPECT_NE(std::string(buf).find("within 5 s"), std::string::npos) << buf;
    close(slow);
    EXPECT_EQ(kill(pxed_->pid(), 0), 0) << "pxed died";
}

namespace {
int count_of(const std::string& hay, const std::string& needle) {
    int n = 0;
    for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) n++;
    return n;
}
}  // namespace

// Issue 14 item 4: a reservation added by a reload for an address another
// client holds does not evict that client (two hosts, one address). The
// holder keeps it; the reserved host gets a dynamic address from the daemon
// and the kernel does not answer it; when the holder gives the address up,
// the reservation takes effect, in the kernel too.
TEST_F(Pxectl, ReservationForALeasedAddressWaitsForTheLease) {
    const std::string holder = "52:54:00:00:0b:02", reserved = "52:54:00:00:0b:01";
    ASSERT_EQ(client(holder)["ip"], "192.0.2.100");
    sh("printf '[[reservation]]\\nmac = \"" + reserved + "\"\\nip = \"192.0.2.100\"\\n' >> " + pxed_->dir() +
       "/pxed.toml");
    ctl_json("reload");

    auto shown = ctl_json("lease show " + reserved);
    EXPECT_EQ(shown["ip"], "192.0.2.100");
    std::string conflict = shown.value("conflict", "");
    EXPECT_NE(conflict.find("192.0.2.100 is leased to " + holder + " until "), std::string::npos) << shown.dump();
    EXPECT_NE(conflict.find("this host gets a dynamic address meanwhile"), std::string::npos) << shown.dump();
    bool holder_listed = false;
    for (auto& l : ctl_json("lease list"))
        if (l["mac"] == holder) {
            holder_listed = true;
            EXPECT_EQ(l["ip"], "192.0.2.100");
            EXPECT_EQ(l["state"], "bound");
        }
    EXPECT_TRUE(holder_listed);
    EXPECT_NE(ctl("lease list").out.find("reservation deferred: 192.0.2.100 is leased to " + holder), std::string::npos);

    auto k0 = ctl_json("stats")["xdp"]["s0"];
    auto got = client(reserved);
    EXPECT_FALSE(got["ip"].empty()) << pxed_->log();
    EXPECT_NE(got["ip"], "192.0.2.100") << "two hosts with one address";
    auto k1 = ctl_json("stats")["xdp"]["s0"];
    EXPECT_EQ(k1["tx_offer"], k0["tx_offer"]) << "the kernel answered a deferred reservation";
    EXPECT_EQ(k1["tx_ack"], k0["tx_ack"]) << "the kernel answered a deferred reservation";
    EXPECT_GT(k1["pass_not_reserved"].get<uint64_t>(), k0["pass_not_reserved"].get<uint64_t>());
    std::string log = pxed_->log();
    EXPECT_EQ(count_of(log, "reservation deferred mac=" + reserved + " ip=192.0.2.100 holder=" + holder), 1) << log;
    ctl_json("reload");  // a second reload does not warn again
    EXPECT_EQ(count_of(pxed_->log(), "reservation deferred mac=" + reserved), 1);

    // The holder starts over (a reboot, or its renewal refused): it moves to
    // another address, and the reservation takes effect in the kernel.
    auto moved = client(holder);
    EXPECT_FALSE(moved["ip"].empty());
    EXPECT_NE(moved["ip"], "192.0.2.100");
    bool cleared = false;
    for (int i = 0; i < 50 && !cleared; i++) {
        cleared = !ctl_json("lease show " + reserved).contains("conflict") &&
                  pxed_->log().find("reservation in force mac=" + reserved) != std::string::npos;
        if (!cleared) usleep(200 * 1000);
    }
    ASSERT_TRUE(cleared) << pxed_->log();
    auto k2 = ctl_json("stats")["xdp"]["s0"];
    EXPECT_EQ(client(reserved)["ip"], "192.0.2.100");
    auto k3 = ctl_json("stats")["xdp"]["s0"];
    EXPECT_GT(k3["tx_ack"].get<uint64_t>(), k2["tx_ack"].get<uint64_t>()) << "the kernel did not answer";
}

// Issue 14 item 9: a host that finds its reserved address in use on the wire
// (udhcpc -a: ARP probe) declines it. The reservation is held off, in the
// kernel too, and the host gets a dynamic address instead of looping
// DECLINE/DISCOVER on the address the kernel keeps offering.
TEST_F(Pxectl, DeclinedReservationIsHeldOffInTheKernelToo) {
    const std::string mac = "52:54:00:00:00:0a";
    // Another host uses 192.0.2.10: the server namespace answers ARP for it.
    ASSERT_EQ(srv_->run("ip addr add 192.0.2.10/32 dev s0"), 0);
    auto k0 = ctl_json("stats")["xdp"]["s0"];
    ASSERT_EQ(cli_->run("ip link set c0 address " + mac), 0);
    auto got = udhcpc_once(*cli_, "c0", 40, "-a -A 1");
    EXPECT_EQ(got["ip"], "192.0.2.100") << pxed_->log();
    auto k1 = ctl_json("stats")["xdp"]["s0"];
    // One kernel OFFER before the DECLINE; none after it.
    EXPECT_EQ(k1["tx_offer"].get<uint64_t>(), k0["tx_offer"].get<uint64_t>() + 1) << pxed_->log();
    std::string log = pxed_->log();
    EXPECT_NE(log.find("reserved address 192.0.2.10 of " + mac + " declined: another host on the wire uses it"),
              std::string::npos) << log;
    auto shown = ctl_json("lease show " + mac);
    EXPECT_NE(shown.value("conflict", "").find("192.0.2.10 was declined"), std::string::npos) << shown.dump();
    // While the hold lasts the kernel passes the MAC to the daemon.
    auto again = udhcpc_once(*cli_, "c0", 40, "-a -A 1");
    EXPECT_EQ(again["ip"], "192.0.2.100");
    auto k2 = ctl_json("stats")["xdp"]["s0"];
    EXPECT_EQ(k2["tx_offer"], k1["tx_offer"]);
    EXPECT_EQ(k2["tx_ack"], k1["tx_ack"]);
}

// The same after a restart: pxed loads the leases before it fills the
// kernel map, so the new reservation is deferred from the first packet.
TEST_F(Pxectl, ReservationForALeasedAddressWaitsAcrossARestart) {
    const std::string holder = "52:54:00:00:0b:12", reserved = "52:54:00:00:0b:11";
    ASSERT_EQ(client(holder)["ip"], "192.0.2.100");
    std::string db = pxed_->dir() + "/leases.db";
    EXPECT_EQ(pxed_->stop(), 0);
    std::string cfg = kConfig;
    cfg.replace(cfg.find("@DIR@/leases.db"), 15, db);
    cfg += "\n[[reservation]]\nmac = \"" + reserved + "\"\nip = \"192.0.2.100\"\n";
    pxed_ = std::make_unique<PxedProcess>(*srv_, cfg);
    ASSERT_TRUE(pxed_->ready()) << pxed_->log();
    sock_ = pxed_->dir() + "/pxed.sock";
    EXPECT_NE(ctl_json("lease show " + reserved).value("conflict", "").find("is leased to " + holder),
              std::string::npos);
    EXPECT_NE(pxed_->log().find("xdp iface=s0"), std::string::npos);
    EXPECT_NE(pxed_->log().find("withheld=1"), std::string::npos) << pxed_->log();
    auto k0 = ctl_json("stats")["xdp"]["s0"];
    auto got = client(reserved);
    EXPECT_FALSE(got["ip"].empty());
    EXPECT_NE(got["ip"], "192.0.2.100");
    auto k1 = ctl_json("stats")["xdp"]["s0"];
    EXPECT_EQ(k1["tx_offer"], k0["tx_offer"]);
    EXPECT_EQ(k1["tx_ack"], k0["tx_ack"]);
}
