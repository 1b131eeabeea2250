// dhcp-script (issue 19, part 4): the same client exchange against the real
// dnsmasq 2.90 and against pxed, each with the same logging script (run as
// nobody: dnsmasq's --dhcp-scriptuser, pxed's dhcp-script-user). The calls
// must agree: arguments, the set of DNSMASQ_* variables, and their values
// (expiry times only as numbers in range).
//
// The exchange, a busybox udhcpc on one MAC, one-address pool:
//   lease (add), renew with script-on-renewal (old), TFTP download (tftp),
//   release (del), lease again named beta (add), again named gamma (old
//   with DNSMASQ_OLD_HOSTNAME=beta, then old gamma), server restart (old).
// dnsmasq 2.90 calls "old" twice per lease at start-up (its start-up
// SIGHUP, then the lease's interface being found); pxed once: runs of the
// same call are compared as one. Then on pxed alone: SIGHUP (old), pxectl
// lease del (del), the counters in pxectl stats and /metrics, and the
// helper gone once pxed has exited.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/netns.h"

using namespace pxed::test;

namespace {

struct Call {
    std::string args;                        // "add|52:54:00:...|192.0.2.100|alpha"
    std::map<std::string, std::string> env;  // DNSMASQ_*, and uid
    std::string key() const {
        std::string k = args;
        for (auto& [n, v] : env)
            k += "\t" + n + (n == "DNSMASQ_LEASE_EXPIRES" || n == "DNSMASQ_TIME_REMAINING" ? "" : "=" + v);
        return k;
    }
};

// One line per call: args joined by '|', then TAB-separated NAME=VALUE.
const char* kHook = R"SH(#!/bin/sh
{ printf '%s' "$1"; shift; for a in "$@"; do printf '|%s' "$a"; done
  env | grep '^DNSMASQ_' | sort | while IFS= read -r l; do printf '\t%s' "$l"; done
  printf '\tuid=%s\n' "$(id -u)"; } >> @DIR@/events/log
)SH";

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (size_t at; (at = s.find(from)) != std::string::npos;) s.replace(at, from.size(), to);
    return s;
}

class DhcpScript : public ::testing::Test {
protected:
    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        if (sh("test -x /usr/sbin/dnsmasq") != 0) FAIL() << "dnsmasq is not installed (scripts/setup-deps)";
        char t[] = "/tmp/pxedhook.XXXXXX";
        dir_ = mkdtemp(t);
        sh("chmod 755 " + dir_ + " && mkdir -m 1777 " + dir_ + "/events && mkdir " + dir_ + "/tftp && echo hello > " +
           dir_ + "/tftp/f.txt");
        std::ofstream(dir_ + "/hook.sh") << replace_all(kHook, "@DIR@", dir_);
        std::ofstream(dir_ + "/udhcpc.sh") << "#!/bin/sh\necho \"$1\" >> " + dir_ + "/udhcpc.log\n"
                                              "case $1 in bound|renew) ip addr replace $ip/24 dev c0;; "
                                              "deconfig) ip addr flush dev c0;; esac\nexit 0\n";
        sh("chmod 755 " + dir_ + "/hook.sh " + dir_ + "/udhcpc.sh");
        srv_ = std::make_unique<Netns>("hks");
        cli_ = std::make_unique<Netns>("hkc");
        veth_pair(srv_.get(), "s0", cli_.get(), "c0");
        ASSERT_EQ(srv_->run("ip addr add 192.0.2.1/24 dev s0 && ip link set s0 up"), 0);
        ASSERT_EQ(cli_->run("ip link set c0 address 52:54:00:aa:00:01 && ip link set c0 up"), 0);
    }
    void TearDown() override {
        for (auto f : {"udhcpc", "server"}) stop_pid(f);
        cli_.reset();
        srv_.reset();
        if (!dir_.empty()) sh("rm -rf " + dir_);
    }
    void stop_pid(const std::string& name) {
        sh("p=$(cat " + dir_ + "/" + name + ".pid 2>/dev/null) && [ -n \"$p\" ] && kill $p 2>/dev/null && "
           "for i in $(seq 100); do kill -0 $p 2>/dev/null || break; sleep 0.1; done; rm -f " + dir_ + "/" + name + ".pid");
    }
    std::string file(const std::string& f) { return sh_out("cat " + dir_ + "/" + f + " 2>/dev/null"); }

    // The server: dnsmasq or pxed, started in the server namespace; ready once its log says so.
    void start_dnsmasq() {
        // --keep-in-foreground, not --no-daemon: in its debug mode dnsmasq
        // ignores --dhcp-scriptuser (and leaves the script's output alone).
        srv_->run("cd " + dir_ + "; /usr/sbin/dnsmasq --keep-in-foreground --log-facility=- --conf-file=/dev/null "
                  "--port=0 --no-ping --user=root "
                  "--interface=s0 --bind-interfaces --dhcp-range=192.0.2.100,192.0.2.100,255.255.255.0,2m "
                  "--domain=lab.test --dhcp-leasefile=" + dir_ + "/leases --dhcp-script=" + dir_ + "/hook.sh "
                  "--dhcp-scriptuser=nobody --script-on-renewal --enable-tftp --tftp-root=" + dir_ + "/tftp >> " +
                  dir_ + "/dnsmasq.log 2>&1 & echo $! > " + dir_ + "/server.pid");
        wait_log("dnsmasq.log", "TFTP root is", ++starts_);
    }
    void start_pxed() {
        std::ofstream(dir_ + "/pxed.toml") << "[server]\ninterfaces = [\"s0\"]\nlease-db = \"" << dir_
                                           << "/pxed.db\"\ntftp-root = \"" << dir_ << "/tftp\"\ncontrol-socket = \""
                                           << dir_ << "/pxed.sock\"\nhttp-port = 8067\ndhcp-script = \"" << dir_
                                           << "/hook.sh\"\ndhcp-script-user = \"nobody\"\n"
                                              "dhcp-script-on-renewal = true\n\n[[subnet]]\ncidr = \"192.0.2.0/24\"\n"
                                              "range = [\"192.0.2.100\", \"192.0.2.100\"]\ndomain = \"lab.test\"\n"
                                              "lease-time = 120\n";
        srv_->run("cd " + dir_ + "; " + PXED_BINARY_DIR + "/userspace/pxed --config " + dir_ +
                  "/pxed.toml --log-level info >> " + dir_ + "/pxed.log 2>&1 & echo $! > " + dir_ + "/server.pid");
        wait_log("pxed.log", " ready", ++starts_);
    }
    void wait_log(const std::string& log, const std::string& mark, int times) {
        auto count = [&] {
            std::string s = file(log);
            int n = 0;
            for (size_t at = 0; (at = s.find(mark, at)) != std::string::npos; at++) n++;
            return n;
        };
        for (int i = 0; i < 100 && count() < times; i++) usleep(100000);
        ASSERT_GE(count(), times) << file(log);
    }
    std::vector<Call> calls() {
        std::vector<Call> out;
        std::istringstream in(file("events/log"));
        std::string line;
        while (std::getline(in, line)) {
            Call c;
            std::istringstream f(line);
            std::string field;
            std::getline(f, c.args, '\t');
            while (std::getline(f, field, '\t')) {
                auto eq = field.find('=');
                c.env[field.substr(0, eq)] = field.substr(eq + 1);
            }
            out.push_back(c);
        }
        return out;
    }
    // Waits (bounded) until the script has been called `n` times.
    void wait_calls(size_t n, const std::string& step) {
        for (int i = 0; i < 150 && calls().size() < n; i++) usleep(100000);
        ASSERT_GE(calls().size(), n) << step << ": calls so far:\n" << file("events/log") << file("dnsmasq.log")
                                     << file("pxed.log");
    }
    void udhcpc(const std::string& args) {
        cli_->run("busybox udhcpc -i c0 -f -t 5 -T 2 -s " + dir_ + "/udhcpc.sh " + args + " >> " + dir_ +
                  "/udhcpc.out 2>&1");
    }

    // The exchange; `start` starts (and restarts) the server.
    template <class Start>
    void exchange(Start start) {
        ASSERT_NO_FATAL_FAILURE(start());
        cli_->run("busybox udhcpc -i c0 -f -t 5 -T 2 -x hostname:alpha -V myvendor -s " + dir_ +
                  "/udhcpc.sh >> " + dir_ + "/udhcpc.out 2>&1 & echo $! > " + dir_ + "/udhcpc.pid");
        ASSERT_NO_FATAL_FAILURE(wait_calls(1, "lease"));
        for (int i = 0; i < 50 && file("udhcpc.log").find("bound") == std::string::npos; i++) usleep(100000);
        // A renewal in the second of the lease would not move its expiry
        // (the servers count whole seconds): "old" needs the next second.
        int64_t leased = std::stoll(calls()[0].env["DNSMASQ_LEASE_EXPIRES"]) - 120;
        while (int64_t(time(nullptr)) <= leased) usleep(50000);
        sh("kill -USR1 $(cat " + dir_ + "/udhcpc.pid)");  // renew
        ASSERT_NO_FATAL_FAILURE(wait_calls(2, "renew"));
        ASSERT_EQ(cli_->run("curl -s -o /dev/null tftp://192.0.2.1/f.txt"), 0);
        ASSERT_NO_FATAL_FAILURE(wait_calls(3, "tftp"));
        sh("kill -USR2 $(cat " + dir_ + "/udhcpc.pid)");  // release
        ASSERT_NO_FATAL_FAILURE(wait_calls(4, "release"));
        stop_pid("udhcpc");
        udhcpc("-q -n -x hostname:beta");
        ASSERT_NO_FATAL_FAILURE(wait_calls(5, "beta"));
        udhcpc("-q -n -x hostname:gamma");
        ASSERT_NO_FATAL_FAILURE(wait_calls(7, "gamma"));
        stop_pid("server");
        ASSERT_NO_FATAL_FAILURE(start());
        ASSERT_NO_FATAL_FAILURE(wait_calls(8, "restart"));
    }

    std::string dir_;
    int starts_ = 0;
    std::unique_ptr<Netns> srv_, cli_;
};

// Runs of the same call count once (dnsmasq's double "old" at start-up).
std::vector<Call> collapsed(const std::vector<Call>& v) {
    std::vector<Call> out;
    for (auto& c : v)
        if (out.empty() || out.back().key() != c.key()) out.push_back(c);
    return out;
}

std::string show(const std::vector<Call>& v) {
    std::string s;
    for (auto& c : v) s += c.key() + "\n";
    return s;
}

}  // namespace

TEST_F(DhcpScript, SameCallsAsDnsmasq) {
    ASSERT_NO_FATAL_FAILURE(exchange([&] { start_dnsmasq(); }));
    stop_pid("server");
    auto from_dnsmasq = collapsed(calls());
    sh("rm -f " + dir_ + "/events/log " + dir_ + "/udhcpc.log");
    starts_ = 0;
    ASSERT_NO_FATAL_FAILURE(exchange([&] { start_pxed(); }));
    auto raw = calls();
    auto from_pxed = collapsed(raw);
    EXPECT_EQ(raw.size(), 8u) << show(raw);  // pxed: one "old" at start-up

    ASSERT_EQ(from_dnsmasq.size(), 8u) << show(from_dnsmasq);
    EXPECT_EQ(show(from_pxed), show(from_dnsmasq)) << file("dnsmasq.log") << file("pxed.log");
    const std::vector<std::string> want = {
        "add|52:54:00:aa:00:01|192.0.2.100|alpha", "old|52:54:00:aa:00:01|192.0.2.100|alpha",
        "tftp|6|192.0.2.100|" + dir_ + "/tftp/f.txt", "del|52:54:00:aa:00:01|192.0.2.100|alpha",
        "add|52:54:00:aa:00:01|192.0.2.100|beta", "old|52:54:00:aa:00:01|192.0.2.100",
        "old|52:54:00:aa:00:01|192.0.2.100|gamma", "old|52:54:00:aa:00:01|192.0.2.100|gamma"};
    for (size_t i = 0; i < want.size() && i < from_pxed.size(); i++) {
        auto& c = from_pxed[i];
        EXPECT_EQ(c.args, want[i]);
        EXPECT_EQ(c.env["uid"], "65534") << c.args;  // dhcp-script-user = nobody
        if (c.args.starts_with("tftp")) continue;
        EXPECT_EQ(c.env["DNSMASQ_INTERFACE"], "s0");
        EXPECT_EQ(c.env["DNSMASQ_CLIENT_ID"], "01:52:54:00:aa:00:01");
        EXPECT_GT(std::stoll(c.env["DNSMASQ_LEASE_EXPIRES"]), int64_t(time(nullptr)) - 300);
        if (!c.args.starts_with("del")) {
            int left = std::stoi(c.env["DNSMASQ_TIME_REMAINING"]);
            EXPECT_TRUE(left > 0 && left <= 120) << left;
        }
    }
    EXPECT_EQ(from_pxed[0].env["DNSMASQ_VENDOR_CLASS"], "myvendor");
    EXPECT_EQ(from_pxed[0].env["DNSMASQ_TAGS"], "s0");
    EXPECT_EQ(from_pxed[0].env["DNSMASQ_DOMAIN"], "lab.test");
    EXPECT_EQ(from_pxed[5].env["DNSMASQ_OLD_HOSTNAME"], "beta");
    EXPECT_EQ(from_pxed[7].env["DNSMASQ_DATA_MISSING"], "1");

    // pxed alone: SIGHUP, pxectl lease del, the counters, the helper's exit.
    sh("kill -HUP $(cat " + dir_ + "/server.pid)");
    ASSERT_NO_FATAL_FAILURE(wait_calls(9, "SIGHUP"));
    EXPECT_EQ(calls()[8].args, "old|52:54:00:aa:00:01|192.0.2.100|gamma");
    std::string ctl = std::string(PXED_BINARY_DIR) + "/userspace/pxectl -s " + dir_ + "/pxed.sock ";
    ASSERT_EQ(sh(ctl + "lease del 192.0.2.100 >/dev/null"), 0);
    ASSERT_NO_FATAL_FAILURE(wait_calls(10, "pxectl lease del"));
    EXPECT_EQ(calls()[9].args, "del|52:54:00:aa:00:01|192.0.2.100|gamma");
    nlohmann::json st;
    for (int i = 0; i < 50; i++) {  // the count follows the script's exit
        st = nlohmann::json::parse(sh_out(ctl + "--json stats"), nullptr, false)["dhcp_script"];
        if (st.is_object() && st["run"] == 3) break;
        usleep(100000);
    }
    EXPECT_EQ(st["queued"], 3) << st.dump();  // the restart's old, HUP's old, the del
    EXPECT_EQ(st["run"], 3) << st.dump();
    EXPECT_EQ(st["failed"], 0);
    EXPECT_EQ(st["dropped"], 0);
    std::string metrics = srv_->out("curl -s http://192.0.2.1:8067/metrics");
    EXPECT_NE(metrics.find("pxed_dhcp_script_events_total{result=\"run\"} 3"), std::string::npos) << metrics;
    std::string log = file("pxed.log");
    auto at = log.rfind("helper pid=");
    ASSERT_NE(at, std::string::npos) << log;
    std::string helper = "/proc/" + std::to_string(std::stoi(log.substr(at + 11)));
    stop_pid("server");
    for (int i = 0; i < 50 && access(helper.c_str(), F_OK) == 0; i++) usleep(100000);
    EXPECT_NE(access(helper.c_str(), F_OK), 0) << "the helper outlived pxed";
    expect_no_sanitizer_report(file("pxed.log"), dir_ + "/pxed.log");
}
