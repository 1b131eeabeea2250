// Another DHCP server on pxed's segment (issue 20.3): dnsmasq answers a
// client beside pxed, the XDP program on pxed's interface receives its
// replies (the client asks for broadcast replies: busybox udhcpc -B), and
// pxectl stats lists the server with what it sent, /metrics counts it, the
// log warns once however many exchanges follow.
//
// The segment: a bridge in a switch namespace with three ports: pxed
// (192.0.2.1, XDP in generic mode on s0), dnsmasq (192.0.2.2 on d0) and
// the client (c0). pxed's subnet is known-clients-only, so that only
// dnsmasq answers the client. No timings are asserted: every wait is
// bounded and only what arrived counts.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <memory>

#include "support/netns.h"
#include "support/toml_fixture.h"

using namespace pxed::test;
using json = nlohmann::json;

namespace {

class OtherServers : public ::testing::Test {
protected:
    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        if (sh("test -x /usr/sbin/dnsmasq") != 0) GTEST_FAIL() << "dnsmasq missing: run scripts/setup-deps";
        char t[] = "/tmp/pxedothers.XXXXXX";
        ASSERT_NE(mkdtemp(t), nullptr);
        dir_ = t;
        ASSERT_EQ(sh("mkdir " + dir_ + "/tftp && chmod -R a+rX " + dir_), 0);
        sw_ = std::make_unique<Netns>("osw");
        srv_ = std::make_unique<Netns>("osrv");
        dhcp_ = std::make_unique<Netns>("odhcp");
        cli_ = std::make_unique<Netns>("ocli");
        ASSERT_EQ(sw_->run("ip link add br0 type bridge && ip link set br0 up"), 0);
        ASSERT_NO_FATAL_FAILURE(veth_pair(srv_.get(), "s0", sw_.get(), "p1"));
        ASSERT_NO_FATAL_FAILURE(veth_pair(dhcp_.get(), "d0", sw_.get(), "p2"));
        ASSERT_NO_FATAL_FAILURE(veth_pair(cli_.get(), "c0", sw_.get(), "p3"));
        for (auto p : {"p1", "p2", "p3"}) ASSERT_EQ(sw_->run(std::string("ip link set ") + p + " master br0 up"), 0);
        ASSERT_EQ(srv_->run("ip addr add 192.0.2.1/24 dev s0 && ip link set s0 up"), 0);
        ASSERT_EQ(dhcp_->run("ip addr add 192.0.2.2/24 dev d0 && ip link set d0 up"), 0);
        ASSERT_EQ(cli_->run("ip link set c0 address 52:54:00:00:05:01 && ip link set c0 up"), 0);
        mac_ = dhcp_->out("ip -br link show d0 | awk '{print $3}'");
        while (!mac_.empty() && (mac_.back() == '\n' || mac_.back() == ' ')) mac_.pop_back();
        ASSERT_EQ(mac_.size(), 17u) << mac_;
    }

    void TearDown() override {
        if (pxed_ && pxed_->pid() > 0) {
            EXPECT_EQ(pxed_->stop(), 0) << pxed_->log();
        }
        pxed_.reset();
        if (dir_.empty()) return;
        sh("p=$(cat " + dir_ + "/dnsmasq.pid 2>/dev/null) && [ -n \"$p\" ] && kill $p 2>/dev/null && "
           "for i in $(seq 50); do kill -0 $p 2>/dev/null || break; sleep 0.1; done");
        sh("rm -rf " + dir_);
    }

    void start_pxed() {
        pxed_ = std::make_unique<PxedProcess>(
            *srv_, toml::netns_server("s0", "xdp = \"generic\"\ntftp-root = \"" + dir_ + "/tftp\"\nhttp-port = 8080\n") +
                       toml::lan_subnet("192.0.2.150", "known-clients-only = true\n"));
        ASSERT_TRUE(pxed_->ready()) << pxed_->log();
    }
    // dnsmasq as a PXE-minded address server: a boot file, a TFTP server
    // name and option 60 PXEClient in every reply (forced: udhcpc does not
    // ask for them).
    void start_dnsmasq() {
        dhcp_->run("/usr/sbin/dnsmasq --no-daemon --conf-file=/dev/null --port=0 --user=root --interface=d0 "
                   "--bind-interfaces --dhcp-range=192.0.2.100,192.0.2.140,1h --dhcp-authoritative --no-ping "
                   "--dhcp-boot=pxelinux.0 --dhcp-option-force=66,192.0.2.2 --dhcp-option-force=60,PXEClient "
                   "--dhcp-leasefile=" + dir_ + "/dnsmasq.leases --log-dhcp > " + dir_ + "/dnsmasq.log 2>&1 & "
                   "echo $! > " + dir_ + "/dnsmasq.pid");
        for (int i = 0; i < 50 && dnsmasq_log().find("DHCP, IP range") == std::string::npos; i++) usleep(100000);
        ASSERT_NE(dnsmasq_log().find("DHCP, IP range"), std::string::npos) << dnsmasq_log();
    }
    std::string dnsmasq_log() const { return sh_out("cat " + dir_ + "/dnsmasq.log 2>/dev/null"); }
    std::string logs() const { return "--- dnsmasq\n" + dnsmasq_log() + "--- pxed\n" + (pxed_ ? pxed_->log() : ""); }

    std::string ctl(const std::string& args) {
        std::string out =
            sh_out(std::string(PXED_BINARY_DIR) + "/userspace/pxectl -s " + pxed_->dir() + "/pxed.sock " + args + " 2>&1");
        expect_no_sanitizer_report(out, "pxectl " + args);
        return out;
    }
    json stats() {
        auto out = ctl("--json stats");
        auto j = json::parse(out, nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << out;
        return j.is_discarded() ? json() : j;
    }
    // The servers pxectl lists, once the daemon's pull (once a second) has
    // seen at least `offers` OFFERs from one of them; bounded.
    json servers_after(unsigned offers) {
        json list;
        for (int i = 0; i < 50; i++) {
            list = stats()["other_dhcp_servers"];
            if (list.is_array() && list.size() == 1 && list[0].value("offers", 0u) >= offers) break;
            usleep(100000);
        }
        return list;
    }
    // One exchange: udhcpc asks for broadcast replies and takes dnsmasq's lease.
    void exchange() {
        auto out = cli_->out("timeout 20 busybox udhcpc -i c0 -f -q -n -B -t 3 -T 2 -s /bin/true 2>&1; echo rc=$?");
        EXPECT_NE(out.find("rc=0"), std::string::npos) << out << logs();
    }
    size_t warnings() const {
        std::string log = pxed_->log();
        size_t n = 0;
        for (size_t at = 0; (at = log.find("another DHCP server on s0: 192.0.2.2", at)) != std::string::npos; at++) n++;
        return n;
    }

    std::string dir_, mac_;
    std::unique_ptr<Netns> sw_, srv_, dhcp_, cli_;
    std::unique_ptr<PxedProcess> pxed_;
};

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

}  // namespace

TEST_F(OtherServers, DnsmasqBesidePxedIsListedCountedAndWarnedOnce) {
    if (HasFailure() || IsSkipped()) return;
    ASSERT_NO_FATAL_FAILURE(start_pxed());
    ASSERT_NO_FATAL_FAILURE(start_dnsmasq());
    EXPECT_TRUE(stats()["other_dhcp_servers"].empty()) << stats().dump(1);
    for (int i = 0; i < 3; i++) exchange();
    json list = servers_after(3);
    ASSERT_EQ(list.size(), 1u) << list.dump(1) << logs();
    auto& o = list[0];
    EXPECT_EQ(o["interface"], "s0");
    EXPECT_EQ(o["server"], "192.0.2.2");
    EXPECT_EQ(o["server_from"], "option 54");
    EXPECT_EQ(o["mac"], mac_);
    EXPECT_EQ(o["vlan"], 0);
    EXPECT_GE(o["offers"].get<unsigned>(), 3u) << o.dump(1);
    EXPECT_GE(o["acks"].get<unsigned>(), 3u) << o.dump(1);
    EXPECT_EQ(o["naks"], 0);
    EXPECT_EQ(o["vendor_class"], "PXEClient") << o.dump(1);
    EXPECT_EQ(o["tftp_server"], "192.0.2.2") << o.dump(1);
    EXPECT_EQ(o["boot_file"], "pxelinux.0") << o.dump(1);
    EXPECT_EQ(o["siaddr"], "192.0.2.2") << o.dump(1);
    EXPECT_TRUE(has(o["yiaddr"].get<std::string>(), "192.0.2.1")) << o.dump(1);
    // The kernel counted the replies it noted, and passed them.
    EXPECT_GE(stats()["xdp"]["s0"]["rx_server_reply"].get<unsigned>(), 6u);

    // The pinned map, with BTF field names.
    auto dump = sh_out("bpftool map dump pinned /sys/fs/bpf/pxed/s0/servers 2>&1");
    EXPECT_TRUE(has(dump, "\"server_id_be\": ") && has(dump, "\"offers\": ") && has(dump, "\"boot_file\": ")) << dump;

    // The text form.
    auto text = ctl("stats");
    EXPECT_TRUE(has(text, "Other DHCP servers  1 seen")) << text;
    EXPECT_TRUE(has(text, "192.0.2.2")) << text;
    EXPECT_TRUE(has(text, "MAC " + mac_ + " untagged")) << text;
    EXPECT_TRUE(has(text, "option 60 \"PXEClient\"")) << text;
    EXPECT_TRUE(has(text, "boot file \"pxelinux.0\"")) << text;

    // /metrics: the gauge and the per-server series.
    auto metrics = srv_->out("curl -s http://192.0.2.1:8080/metrics");
    EXPECT_TRUE(has(metrics, "pxed_dhcp_other_servers{interface=\"s0\"} 1")) << metrics;
    EXPECT_TRUE(has(metrics, "pxed_dhcp_other_server_replies_total{interface=\"s0\",server=\"192.0.2.2\",mac=\"" +
                                 mac_ + "\",vlan=\"0\",type=\"OFFER\"}"))
        << metrics;
    EXPECT_TRUE(has(metrics, "vendor_class=\"PXEClient\",boot_file=\"pxelinux.0\"")) << metrics;

    // Warned exactly once, naming what it sent and what that does.
    EXPECT_EQ(warnings(), 1u) << pxed_->log();
    auto log = pxed_->log();
    EXPECT_TRUE(has(log, "another DHCP server on s0: 192.0.2.2 (MAC " + mac_ + "), untagged")) << log;
    EXPECT_TRUE(has(log, "option 60 \"PXEClient\"")) << log;
    EXPECT_TRUE(has(log, "ask its port 4011")) << log;
    EXPECT_TRUE(has(log, "iPXE and other clients may take its offer")) << log;
    // More exchanges: still one warning.
    exchange();
    servers_after(4);
    EXPECT_EQ(warnings(), 1u) << pxed_->log();
}

// Without another server nothing is listed and the gauge is 0.
TEST_F(OtherServers, NoOtherServerNoneListed) {
    if (HasFailure() || IsSkipped()) return;
    ASSERT_NO_FATAL_FAILURE(start_pxed());
    cli_->run("timeout 10 busybox udhcpc -i c0 -f -q -n -B -t 2 -T 1 -s /bin/true >/dev/null 2>&1");
    EXPECT_TRUE(stats()["other_dhcp_servers"].empty());
    EXPECT_TRUE(has(ctl("stats"), "Other DHCP servers  none seen"));
    auto metrics = srv_->out("curl -s http://192.0.2.1:8080/metrics");
    EXPECT_TRUE(has(metrics, "pxed_dhcp_other_servers{interface=\"s0\"} 0")) << metrics;
    EXPECT_EQ(warnings(), 0u);
}
