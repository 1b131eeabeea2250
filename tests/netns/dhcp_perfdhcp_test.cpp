// Load from Kea's perfdhcp (which acts as a relay: giaddr set, port 67):
// no drops at 2,000 exchanges/s, every ACK durable, and kill -9 under load
// loses no acknowledged lease.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "support/netns.h"
#include "pxed/net.h"

using namespace pxed::test;

namespace {

std::string config(const std::string& db) {
    return R"([server]
interfaces = ["s0"]
lease-db = ")" + db + R"("

[[subnet]]
cidr = "198.18.0.0/16"
range = ["198.18.1.0", "198.18.60.255"]
lease-time = 3600
)";
}

// mac (lowercase, colon) -> dotted IP, from the store.
std::map<std::string, std::string> stored_leases(const std::string& db) {
    std::map<std::string, std::string> out;
    std::istringstream in(sh_out("sqlite3 -separator ' ' " + db + " 'SELECT lower(hex(mac)), ip FROM leases WHERE state=1'"));
    std::string hex, ip;
    while (in >> hex >> ip) {
        std::string mac;
        for (size_t i = 0; i < hex.size(); i += 2) {
            if (i) mac += ':';
            mac.append(hex, i, 2);  // piece by piece: GCC 12 -O3 warns (-Wrestrict) on "x" + substr
        }
        out[mac] = pxed::Ipv4(uint32_t(std::stoul(ip))).str();
    }
    return out;
}

int count_of(const std::string& db, const std::string& sql) {
    auto s = sh_out("sqlite3 " + db + " \"" + sql + "\"");
    return s.empty() ? -1 : std::stoi(s);
}

// "drops: N" lines of perfdhcp's report, summed.
long drops_in(const std::string& report) {
    long total = 0;
    std::istringstream in(report);
    std::string line;
    int seen = 0;
    while (std::getline(in, line)) {
        if (line.rfind("drops: ", 0) == 0) {
            total += std::stol(line.substr(7));
            seen++;
        }
    }
    return seen == 2 ? total : -1;
}

class Perfdhcp : public ::testing::Test {
protected:
    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        char t[] = "/tmp/pxedperf.XXXXXX";
        dir_ = mkdtemp(t);
        db_ = dir_ + "/leases.db";
        srv_ = std::make_unique<Netns>("psrv");
        cli_ = std::make_unique<Netns>("pcli");
        veth_pair(srv_.get(), "s0", cli_.get(), "c0");
        ASSERT_EQ(srv_->run("ip addr add 198.18.0.1/16 dev s0 && ip link set s0 up"), 0);
        ASSERT_EQ(cli_->run("ip addr add 198.18.0.2/16 dev c0 && ip link set c0 up"), 0);
    }
    void TearDown() override { sh("rm -rf " + dir_); }

    std::string dir_, db_;
    std::unique_ptr<Netns> srv_, cli_;
};

}  // namespace

TEST_F(Perfdhcp, TwoThousandPerSecondNoDropsAllDurable) {
    PxedProcess pxed(*srv_, config(db_), "info");  // no per-packet log lines under load
    ASSERT_TRUE(pxed.ready()) << pxed.log();
    auto report = cli_->out("timeout 60 perfdhcp -4 -l c0 -r 2000 -R 5000 -p 10 -W 2000000 198.18.0.1 2>&1");
    EXPECT_EQ(drops_in(report), 0) << report;
    EXPECT_NE(report.find("rejected leases: 0"), std::string::npos) << report;
    EXPECT_EQ(pxed.stop(), 0) << pxed.log();
    // Every one of the 5000 clients holds exactly one address; no address twice.
    EXPECT_EQ(count_of(db_, "SELECT count(*) FROM leases WHERE state=1"), 5000);
    EXPECT_EQ(count_of(db_, "SELECT count(DISTINCT mac) FROM leases"), count_of(db_, "SELECT count(*) FROM leases"));
}

TEST_F(Perfdhcp, KillNineUnderLoadLosesNoAcknowledgedLease) {
    std::string acks = dir_ + "/acks.txt";
    std::string tlog = dir_ + "/tshark.log";
    // Record every ACK the clients see, on the client side of the wire.
    cli_->run("tshark -i c0 -l -n -f 'udp port 67' -Y 'dhcp.option.dhcp == 5' -T fields -e dhcp.hw.mac_addr "
              "-e dhcp.ip.your > " + acks + " 2> " + tlog + " & echo $! > " + dir_ + "/tshark.pid");
    bool capturing = false;
    for (int i = 0; i < 200 && !capturing; i++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        capturing = sh_out("cat " + tlog).find("Capturing on") != std::string::npos;
    }
    ASSERT_TRUE(capturing) << sh_out("cat " + tlog);

    std::map<std::string, std::string> seen;  // mac -> ip from ACKs
    {
        PxedProcess pxed(*srv_, config(db_), "info");  // no per-packet log lines under load
        ASSERT_TRUE(pxed.ready()) << pxed.log();
        cli_->run("timeout 30 perfdhcp -4 -l c0 -r 2000 -R 5000 -p 5 198.18.0.1 > " + dir_ + "/perf1.txt 2>&1 &");
        std::this_thread::sleep_for(std::chrono::milliseconds(2500));
        kill(pxed.pid(), SIGKILL);  // the destructor reaps it
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(3500));  // perfdhcp finishes
    sh("kill -INT $(cat " + dir_ + "/tshark.pid); sleep 1");
    {
        std::istringstream in(sh_out("cat " + acks));
        std::string mac, ip;
        while (in >> mac >> ip) {
            auto [it, fresh] = seen.emplace(mac, ip);
            EXPECT_EQ(it->second, ip) << mac << " was acknowledged two addresses";
        }
    }
    ASSERT_GT(seen.size(), 500u) << "too few ACKs captured to prove anything";
    std::set<std::string> ips;
    for (auto& [m, ip] : seen) EXPECT_TRUE(ips.insert(ip).second) << ip << " acknowledged to two clients";

    // Restart on the same database: every acknowledged lease is there.
    PxedProcess again(*srv_, config(db_), "info");
    ASSERT_TRUE(again.ready()) << again.log();
    auto stored = stored_leases(db_);
    size_t missing = 0;
    for (auto& [mac, ip] : seen) {
        auto it = stored.find(mac);
        if (it == stored.end() || it->second != ip) missing++;
    }
    EXPECT_EQ(missing, 0u) << "of " << seen.size() << " acknowledged leases";
    EXPECT_NE(again.log().find("loaded="), std::string::npos);

    // And the restarted daemon serves the same clients without handing an address to two.
    auto report = cli_->out("timeout 30 perfdhcp -4 -l c0 -r 1000 -R 5000 -p 3 198.18.0.1 2>&1");
    EXPECT_NE(report.find("rejected leases: 0"), std::string::npos) << report;
    EXPECT_EQ(again.stop(), 0);
    EXPECT_EQ(count_of(db_, "SELECT count(DISTINCT mac) FROM leases"), count_of(db_, "SELECT count(*) FROM leases"));
    auto after = stored_leases(db_);
    size_t moved = 0;
    for (auto& [mac, ip] : seen)
        if (after.count(mac) && after[mac] != ip) moved++;
    EXPECT_EQ(moved, 0u);
}

TEST_F(Perfdhcp, RepeatedKillNineAtRandomMomentsLosesNothing) {
    std::string acks = dir_ + "/acks.txt";
    std::string tlog = dir_ + "/tshark.log";
    cli_->run("tshark -i c0 -l -n -f 'udp port 67' -Y 'dhcp.option.dhcp == 5' -T fields -e dhcp.hw.mac_addr "
              "-e dhcp.ip.your > " + acks + " 2> " + tlog + " & echo $! > " + dir_ + "/tshark.pid");
    bool capturing = false;
    for (int i = 0; i < 200 && !capturing; i++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        capturing = sh_out("cat " + tlog).find("Capturing on") != std::string::npos;
    }
    ASSERT_TRUE(capturing) << sh_out("cat " + tlog);

    unsigned seed = unsigned(std::chrono::steady_clock::now().time_since_epoch().count());
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> when(200, 2500);
    SCOPED_TRACE("seed " + std::to_string(seed));
    for (int round = 0; round < 5; round++) {
        PxedProcess pxed(*srv_, config(db_), "info");
        ASSERT_TRUE(pxed.ready()) << "round " << round << ": " << pxed.log();
        cli_->run("timeout 20 perfdhcp -4 -l c0 -r 1500 -R 4000 -p 4 198.18.0.1 > " + dir_ + "/perf" +
                  std::to_string(round) + ".txt 2>&1 & echo $! > " + dir_ + "/perf.pid");
        std::this_thread::sleep_for(std::chrono::milliseconds(when(rng)));
        kill(pxed.pid(), SIGKILL);  // the destructor reaps it
        cli_->run("kill $(cat " + dir_ + "/perf.pid) 2>/dev/null; sleep 0.2");
    }
    sh("kill -INT $(cat " + dir_ + "/tshark.pid); sleep 1");

    std::map<std::string, std::string> seen;
    {
        std::istringstream in(sh_out("cat " + acks));
        std::string mac, ip;
        while (in >> mac >> ip) {
            auto [it, fresh] = seen.emplace(mac, ip);
            EXPECT_EQ(it->second, ip) << mac << " was acknowledged two addresses across restarts";
        }
    }
    ASSERT_GT(seen.size(), 500u) << "too few ACKs captured to prove anything";
    EXPECT_EQ(sh_out("sqlite3 " + db_ + " 'PRAGMA integrity_check'"), "ok\n");
    PxedProcess again(*srv_, config(db_), "info");
    ASSERT_TRUE(again.ready()) << again.log();
    auto stored = stored_leases(db_);
    size_t missing = 0;
    for (auto& [mac, ip] : seen) {
        auto it = stored.find(mac);
        if (it == stored.end() || it->second != ip) missing++;
    }
    EXPECT_EQ(missing, 0u) << "of " << seen.size() << " acknowledged leases";
    EXPECT_EQ(count_of(db_, "SELECT count(DISTINCT ip) FROM leases"), count_of(db_, "SELECT count(*) FROM leases"));
    EXPECT_EQ(count_of(db_, "SELECT count(DISTINCT mac) FROM leases"), count_of(db_, "SELECT count(*) FROM leases"));
    EXPECT_EQ(again.stop(), 0);
}
