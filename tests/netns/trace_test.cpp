// The boot trace with real clients: busybox udhcpc for DHCP (a reserved MAC
// answered by the XDP program, a dynamic one by the daemon) and curl for
// TFTP and HTTP, then pxectl trace and pxectl watch, as text and JSON.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sstream>

#include "support/lan.h"
#include "support/netns.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::test;
using nlohmann::json;

namespace {

const char* kReserved = "52:54:00:00:00:0a";  // node10, 192.0.2.10
const char* kDynamic = "52:54:00:00:07:01";

class Trace : public LanTest {
protected:
    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        ASSERT_NO_FATAL_FAILURE(start_lan(LanSpec().named("tsrv", "tcli").with_xdp_pass_on_client()));
        char t[] = "/tmp/pxedtrace.XXXXXX";
        ASSERT_NE(mkdtemp(t), nullptr);
        root_ = t;
        sh("head -c 300000 /dev/urandom > " + root_ + "/pxelinux.0 && mkdir " + root_ + "/boot && head -c 70000 "
           "/dev/urandom > " + root_ + "/boot/linux && chmod -R a+rX " + root_);
    }
    void TearDown() override {
        LanTest::TearDown();
        if (!root_.empty()) sh("rm -rf " + root_);
    }
    void start(const std::string& server_rest = "") {
        ASSERT_NO_FATAL_FAILURE(start_pxed(
            toml::netns_server("s0", "tftp-root = \"" + root_ + "\"\nhttp-port = 8080\nxdp = \"native\"\n" +
                                         server_rest) +
            toml::lan_subnet("192.0.2.150", "lease-time = 600\nboot = { bios = \"pxelinux.0\" }\n") + toml::node10()));
    }
    std::pair<int, std::string> ctl(const std::string& args) {
        std::string out = sh_out(std::string(PXED_BINARY_DIR) + "/userspace/pxectl -s " + pxed_->dir() +
                                 "/pxed.sock " + args + " 2>&1; echo \"rc=$?\"");
        expect_no_sanitizer_report(out, "pxectl " + args);
        auto at = out.rfind("rc=");
        return {std::stoi(out.substr(at + 3)), out.substr(0, at)};
    }
    json trace_of(const std::string& who) {
        auto [rc, out] = ctl("--json trace " + who);
        EXPECT_EQ(rc, 0) << out;
        json j = json::parse(out, nullptr, false);
        EXPECT_TRUE(j.is_object()) << out;
        return j;
    }
    std::map<std::string, std::string> lease_for(const std::string& mac, const std::string& args = "") {
        EXPECT_EQ(cli_->run("ip link set c0 address " + mac), 0);
        return udhcpc_once(*cli_, "c0", 15, args);
    }
    // The events of kind `kind` from `source`.
    static std::vector<json> events(const json& m, const std::string& kind, const std::string& source) {
        std::vector<json> out;
        for (auto& e : m["events"])
            if (e["kind"] == kind && e["source"] == source) out.push_back(e);
        return out;
    }
    std::string root_;
};

}  // namespace

// A reserved client answered in the kernel, then its files: the trace holds
// the kernel's OFFER and ACK with what the program saw, each file with its
// outcome and size, and a refused one with the reason.
TEST_F(Trace, KernelExchangeAndEveryFileOfTheMachine) {
    start();
    auto l = lease_for(kReserved, "-V PXEClient:Arch:00000:UNDI:002001 -x 0x5d:0000");
    ASSERT_EQ(l["ip"], "192.0.2.10");
    ASSERT_EQ(cli_->run("ip addr add 192.0.2.10/24 dev c0"), 0);
    ASSERT_EQ(cli_->run("curl -sf -o /dev/null tftp://192.0.2.1/pxelinux.0"), 0);
    ASSERT_EQ(cli_->run("curl -sf -o /dev/null http://192.0.2.1:8080/boot/linux"), 0);
    EXPECT_NE(cli_->run("curl -sf -o /dev/null tftp://192.0.2.1/no-such-file"), 0);

    json m = trace_of(kReserved);
    EXPECT_EQ(m["mac"], kReserved);
    EXPECT_EQ(m["address"], "192.0.2.10");
    auto k = events(m, "dhcp", "kernel");
    ASSERT_GE(k.size(), 2u) << m.dump(1);
    EXPECT_EQ(k[0]["request"], "DISCOVER");
    EXPECT_EQ(k[0]["reply"], "OFFER");
    EXPECT_EQ(k[0]["address"], "192.0.2.10");
    EXPECT_EQ(k[0]["vendor_class"], "PXEClient");
    EXPECT_EQ(k[0]["arch"], 0);
    EXPECT_EQ(k[0]["verdict"], "answered");
    EXPECT_EQ(k[0]["interface"], "s0");
    EXPECT_EQ(k.back()["request"], "REQUEST");
    EXPECT_EQ(k.back()["reply"], "ACK");
    EXPECT_TRUE(events(m, "dhcp", "daemon").empty()) << "the kernel answered: " << m.dump(1);

    auto t = events(m, "file", "tftp");
    ASSERT_EQ(t.size(), 2u) << m.dump(1);
    EXPECT_EQ(t[0]["path"], "pxelinux.0");
    EXPECT_EQ(t[0]["outcome"], "done");
    EXPECT_EQ(t[0]["size"], 300000);
    EXPECT_EQ(t[0]["bytes"], 300000);
    EXPECT_EQ(t[1]["path"], "no-such-file");
    EXPECT_EQ(t[1]["outcome"], "refused");
    auto h = events(m, "file", "http");
    ASSERT_EQ(h.size(), 1u) << m.dump(1);
    EXPECT_EQ(h[0]["path"], "boot/linux");
    EXPECT_EQ(h[0]["outcome"], "done");
    EXPECT_EQ(h[0]["bytes"], 70000);

    // The text timeline, and the same machine found by its address.
    auto [rc, text] = ctl("trace " + std::string(kReserved));
    EXPECT_EQ(rc, 0) << text;
    EXPECT_NE(text.find("DISCOVER -> OFFER 192.0.2.10 (kernel)"), std::string::npos) << text;
    EXPECT_NE(text.find("REQUEST -> ACK 192.0.2.10 (kernel)"), std::string::npos) << text;
    EXPECT_NE(text.find("tftp pxelinux.0: done"), std::string::npos) << text;
    EXPECT_NE(text.find("BIOS, PXEClient"), std::string::npos) << text;
    EXPECT_EQ(trace_of("192.0.2.10")["mac"], kReserved);
}

// The kernel's rate limit drops a reserved client's request: the drop is in
// its trace with the reason.
TEST_F(Trace, ReservedClientRateLimitedInTheKernelShowsTheDrop) {
    start("xdp-rate-limit = 1\nxdp-rate-burst = 1\n");
    // udhcpc's DISCOVER takes the one token; its REQUEST right after finds
    // the bucket empty, and a retry a second later is answered.
    auto l = lease_for(kReserved, "-t 5 -T 1");
    EXPECT_EQ(l["ip"], "192.0.2.10");
    json m = trace_of(kReserved);
    bool dropped = false;
    for (auto& e : events(m, "dhcp", "kernel"))
        if (e["verdict"] == "dropped") {
            dropped = true;
            EXPECT_EQ(e["reason"], "drop_rate_limit");
        }
    EXPECT_TRUE(dropped) << m.dump(1);
    auto [rc, text] = ctl("trace " + std::string(kReserved));
    EXPECT_NE(text.find("dropped (kernel): drop_rate_limit"), std::string::npos) << text;
}

// A dynamic client: the kernel passes it (its reason in the trace), the
// daemon answers; pxectl watch lists the machine, once and as JSON.
TEST_F(Trace, DaemonPathAndWatch) {
    start();
    auto l = lease_for(kDynamic);
    ASSERT_FALSE(l["ip"].empty());
    json m = trace_of(kDynamic);
    auto k = events(m, "dhcp", "kernel");
    ASSERT_FALSE(k.empty()) << m.dump(1);
    EXPECT_EQ(k[0]["verdict"], "passed");
    EXPECT_EQ(k[0]["reason"], "pass_not_reserved");
    auto d = events(m, "dhcp", "daemon");
    ASSERT_GE(d.size(), 2u) << m.dump(1);
    EXPECT_EQ(d[0]["reply"], "OFFER");
    EXPECT_EQ(d.back()["reply"], "ACK");
    EXPECT_EQ(d.back()["address"], l["ip"]);
    EXPECT_EQ(m["lease"]["state"], "bound") << m.dump(1);

    auto [rc, once] = ctl("watch --once");
    EXPECT_EQ(rc, 0) << once;
    EXPECT_NE(once.find(kDynamic), std::string::npos) << once;
    EXPECT_NE(once.find("in progress"), std::string::npos) << once;
    auto [rc2, lines] = ctl("--json watch --count 2 --interval 0.2");
    EXPECT_EQ(rc2, 0) << lines;
    std::istringstream in(lines);
    int docs = 0;
    for (std::string line; std::getline(in, line);) {
        json j = json::parse(line, nullptr, false);
        ASSERT_TRUE(j.is_object()) << line;
        docs++;
        bool seen = false;
        for (auto& b : j["boots"]) seen = seen || b["mac"] == kDynamic;
        EXPECT_TRUE(seen) << line;
    }
    EXPECT_EQ(docs, 2);
}

TEST_F(Trace, UnknownMachinesAndATraceTurnedOffAreClearErrors) {
    start();
    auto [rc, out] = ctl("trace 52:54:00:99:99:99");
    EXPECT_EQ(rc, 1);
    EXPECT_NE(out.find("no boot trace for 52:54:00:99:99:99"), std::string::npos) << out;
    auto [rc2, out2] = ctl("trace not-a-mac");
    EXPECT_EQ(rc2, 1);
    EXPECT_NE(out2.find("neither a MAC address"), std::string::npos) << out2;
    pxed_->stop();
    pxed_.reset();
    start("boot-trace = false\n");
    auto [rc3, out3] = ctl("trace " + std::string(kReserved));
    EXPECT_EQ(rc3, 1);
    EXPECT_NE(out3.find("boot trace is off"), std::string::npos) << out3;
}
