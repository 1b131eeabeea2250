#pragma once
// Two pxed nodes sharing one PostgreSQL database (issue 18), for
// pg_multinode_test.cpp. Namespaces:
//   lan   a bridge br0, one port per namespace below (so nothing touches
//         the host's own network), and the packet capture
//   na    node-a, interface na0 10.77.0.1/16
//   nb    node-b, interface nb0 10.77.0.2/16
//   c1,c2 perfdhcp, interface c0 10.77.0.3/16 and .4/16 (it relays:
//         giaddr is that address, and the replies go there)
//   c3    busybox udhcpc, interface c0 10.77.0.5/16; it broadcasts and so
//         reaches both nodes; its MAC changes per client (never under a
//         perfdhcp, whose replies follow the neighbour entry of its address)
// The interface names differ so that the nodes' pins under /sys/fs/bpf/pxed
// never meet.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/netns.h"
#include "support/pg_server.h"

namespace pxed::test {

// One DHCPACK seen on the bridge.
struct Ack {
    std::string mac, ip, server;  // chaddr (aa:bb:..), yiaddr, IP source (the node)
    double t = 0;                 // capture time, seconds since the epoch
};

class PgCluster : public ::testing::Test {
protected:
    static constexpr const char* kA = "10.77.0.1";
    static constexpr const char* kB = "10.77.0.2";

    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        pg_.start();
        pg_.createdb("pxed");
        lan_ = std::make_unique<Netns>("pglan");
        ASSERT_EQ(lan_->run("ip link add br0 type bridge && ip link set br0 up"), 0);
        auto port = [&](std::unique_ptr<Netns>& ns, const std::string& name, const std::string& ifname,
                        const std::string& addr) {
            ns = std::make_unique<Netns>(name);
            veth_pair(ns.get(), ifname, lan_.get(), "p" + name);
            ASSERT_EQ(lan_->run("ip link set p" + name + " master br0 && ip link set p" + name + " up"), 0);
            ASSERT_EQ(ns->run("ip addr add " + addr + "/16 dev " + ifname + " && ip link set " + ifname + " up"), 0);
        };
        ASSERT_NO_FATAL_FAILURE(port(na_, "na", "na0", kA));
        ASSERT_NO_FATAL_FAILURE(port(nb_, "nb", "nb0", kB));
        ASSERT_NO_FATAL_FAILURE(port(c1_, "c1", "c0", "10.77.0.3"));
        ASSERT_NO_FATAL_FAILURE(port(c2_, "c2", "c0", "10.77.0.4"));
        ASSERT_NO_FATAL_FAILURE(port(c3_, "c3", "c0", "10.77.0.5"));
        char t[] = "/tmp/pxedpgm.XXXXXX";
        dir_ = mkdtemp(t);
        // The schema exists only on request (pxed --db-init).
        std::ofstream(dir_ + "/init.toml") << config("na0", "node-a", "off");
        std::string bin = std::string(PXED_BINARY_DIR) + "/userspace/pxed --config " + dir_ + "/init.toml";
        ASSERT_EQ(sh(bin + " --db-init > " + dir_ + "/init.log 2>&1"), 0) << sh_out("cat " + dir_ + "/init.log");
    }

    void TearDown() override {
        stop_capture();
        sh("[ -f " + dir_ + "/renewer.pid ] && kill $(cat " + dir_ + "/renewer.pid) 2>/dev/null");  // test 3's client
        for (auto* p : {&a_, &b_})
            if (*p && (*p)->pid() > 0) {
                kill((*p)->pid(), SIGCONT);
                EXPECT_EQ((*p)->stop(), 0) << (*p)->log();
            }
        // PXED_KEEP_TEST_DIR=1 keeps the capture, perfdhcp's reports and the
        // daemons' logs of a failed test.
        if (HasFailure() && getenv("PXED_KEEP_TEST_DIR")) {
            std::ofstream(dir_ + "/node-a.log") << (a_ ? a_->log() : a_log_);
            if (b_) std::ofstream(dir_ + "/node-b.log") << b_->log();
            std::cout << "kept " << dir_ << "\n";
        } else if (!dir_.empty()) {
            sh("rm -rf " + dir_);
        }
    }

    std::string config(const std::string& ifname, const std::string& node, const std::string& xdp) const {
        return "[server]\ninterfaces = [\"" + ifname + "\"]\nlease-db = \"" + pg_.conninfo("pxed") +
               "\"\nnode-name = \"" + node + "\"\nxdp = \"" + xdp +
               "\"\n\n[[subnet]]\ncidr = \"10.77.0.0/16\"\nrange = [\"10.77.1.0\", \"10.77.40.255\"]\n"
               "lease-time = 3600\n";
    }

    // Starts node-a and node-b; log level info: no per-packet lines under load.
    void start_nodes(const std::string& b_xdp = "off") {
        a_ = std::make_unique<PxedProcess>(*na_, config("na0", "node-a", "off"), "info");
        ASSERT_TRUE(a_->ready()) << a_->log();
        b_ = std::make_unique<PxedProcess>(*nb_, config("nb0", "node-b", b_xdp), "info");
        ASSERT_TRUE(b_->ready()) << b_->log();
    }

    // pxectl --json against a node's control socket; an answer that is not
    // JSON fails the test unless `may_fail` (then it is null).
    nlohmann::json ctl(const PxedProcess& node, const std::string& args, bool may_fail = false) {
        std::string out = sh_out(std::string(PXED_BINARY_DIR) + "/userspace/pxectl -s " + node.dir() +
                                 "/pxed.sock --json " + args + " 2>&1");
        auto j = nlohmann::json::parse(out, nullptr, false);
        if (may_fail) return j.is_discarded() ? nlohmann::json() : j;
        EXPECT_FALSE(j.is_discarded()) << "pxectl " << args << ": " << out;
        return j.is_discarded() ? nlohmann::json::object() : j;
    }
    uint64_t acks_sent(const PxedProcess& n) { return ctl(n, "stats").value("/dhcp/sent/daemon/ACK"_json_pointer, 0ull); }
    uint64_t unavailable(const PxedProcess& n) { return ctl(n, "stats").value("/dhcp/store_unavailable"_json_pointer, 0ull); }
    bool db_up(const PxedProcess& n) { return ctl(n, "stats").value("/lease_db/up"_json_pointer, false); }

    // Polls `cond` every 50 ms until it holds or `seconds` have passed
    // (a deadline, not a count: `cond` itself may take time).
    template <class F>
    static bool eventually(F cond, double seconds) {
        auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(int64_t(seconds * 1000));
        while (std::chrono::steady_clock::now() < end) {
            if (cond()) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return cond();
    }

    // Every DHCP frame crossing the bridge into a pcap file (br0 is put in
    // promiscuous mode, so it sees the frames it forwards between ports);
    // the file is read after stop_capture, so a busy tshark drops nothing.
    void start_capture() {
        lan_->run("tshark -i br0 -n -q -f 'udp port 67 or udp port 68' -w " + dir_ + "/dhcp.pcap 2> " + dir_ +
                  "/tshark.log & echo $! > " + dir_ + "/tshark.pid");
        bool on = eventually([&] { return sh_out("cat " + dir_ + "/tshark.log").find("Capturing on") != std::string::npos; }, 10);
        ASSERT_TRUE(on) << sh_out("cat " + dir_ + "/tshark.log");
        capturing_ = true;
    }
    void stop_capture() {
        if (!capturing_) return;
        capturing_ = false;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the last replies in flight
        sh("kill -INT $(cat " + dir_ + "/tshark.pid); for i in $(seq 50); do kill -0 $(cat " + dir_ +
           "/tshark.pid) 2>/dev/null || break; sleep 0.1; done");
    }
    // The ACKs in the capture, in capture order.
    std::vector<Ack> acks() {
        std::vector<Ack> out;
        std::istringstream in(sh_out("tshark -r " + dir_ + "/dhcp.pcap -n -Y 'dhcp.option.dhcp == 5' -T fields "
                                     "-e frame.time_epoch -e dhcp.hw.mac_addr -e dhcp.ip.your -e ip.src 2>/dev/null"));
        Ack a;
        while (in >> a.t >> a.mac >> a.ip >> a.server) out.push_back(a);
        return out;
    }

    // Every DHCP message of `mac` in the capture: time, source, type, yiaddr.
    std::string exchange_of(const std::string& mac) {
        return sh_out("tshark -r " + dir_ + "/dhcp.pcap -n -Y 'dhcp.hw.mac_addr == " + mac +
                      "' -T fields -e frame.time_epoch -e ip.src -e dhcp.option.dhcp -e dhcp.ip.your 2>/dev/null");
    }

    // (mac hex without colons, dotted ip) -> state of the rows in pxed_leases.
    std::map<std::pair<std::string, std::string>, int> stored() {
        std::map<std::pair<std::string, std::string>, int> out;
        std::istringstream in(pg_.psql("pxed", "SELECT encode(mac, 'hex'), concat_ws('.', ip >> 24, (ip >> 16) & 255, "
                                               "(ip >> 8) & 255, ip & 255), state FROM pxed_leases"));
        std::string line;
        while (std::getline(in, line)) {
            auto a = line.find('|'), b = line.rfind('|');
            if (a == std::string::npos || a == b) continue;
            out[{line.substr(0, a), line.substr(a + 1, b - a - 1)}] = std::stoi(line.substr(b + 1));
        }
        return out;
    }
    std::string explain(const std::vector<Ack>& v);
    // The rows of pxed_leases for an ACK's address or MAC, to explain a failure.
    std::string rows_of(const Ack& a) {
        return pg_.psql("pxed", "SELECT encode(mac, 'hex'), concat_ws('.', ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, "
                                "ip & 255), state, node, seq FROM pxed_leases WHERE mac = decode('" + hex(a.mac) +
                                    "', 'hex') OR ip = " + std::to_string(ip_num(a.ip)));
    }
    static int64_t ip_num(const std::string& dotted) {
        int64_t v = 0;
        std::istringstream in(dotted);
        std::string part;
        while (std::getline(in, part, '.')) v = v * 256 + std::stoi(part);
        return v;
    }
    static std::string hex(std::string mac) {
        std::erase(mac, ':');
        return mac;
    }

    // perfdhcp in `cli` relaying to `server`: `rate` exchanges/s among
    // `clients` MACs starting at `base`, for `seconds`; returns the command
    // that runs it (to be run in the background or waited for).
    std::string perfdhcp(const Netns& cli, const std::string& server, int rate, int clients, int seconds,
                         const std::string& base, const std::string& report) {
        return cli.exec_prefix() + "timeout " + std::to_string(seconds + 30) + " perfdhcp -4 -l c0 -r " +
               std::to_string(rate) + " -R " + std::to_string(clients) + " -p " + std::to_string(seconds) +
               " -W 2000000 -b mac=" + base + " " + server + " > " + dir_ + "/" + report + " 2>&1";
    }

    // Runs `cmd` (its output redirected) in the background; its pid.
    static int background(const std::string& cmd) { return std::stoi(sh_out(cmd + " & echo $!")); }
    // Waits (bounded) until `pid` has exited; a zombie counts as exited:
    // the shell that started it is gone and init reaps it when it gets to it.
    static bool wait_gone(int pid, double seconds) {
        return eventually([&] {
            std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
            std::string p, comm, state;
            return !(stat >> p >> comm >> state) || state == "Z";
        }, seconds);
    }

    PgServer pg_;
    std::unique_ptr<Netns> lan_, na_, nb_, c1_, c2_, c3_;
    std::unique_ptr<PxedProcess> a_, b_;
    std::string dir_, a_log_;  // a_log_: node-a's log once it is gone
    bool capturing_ = false;
};

}  // namespace pxed::test
