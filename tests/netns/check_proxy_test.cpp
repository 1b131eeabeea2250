// pxed --check on a proxy subnet (issue 17.4): it sends a test DISCOVER on
// the segment and warns when no server offers an address, when another
// proxyDHCP answers, or when the address server also hands out boot
// files; a non-proxy configuration sends nothing. The segment: a bridge
// br0 (192.0.2.1, where pxed --check runs) with two ports, one to the
// namespace of the address server (dnsmasq, 192.0.2.2) and one to the
// namespace of a second boot server (dnsmasq in proxy mode or another
// pxed, 192.0.2.3).
#include <gtest/gtest.h>

#include <fstream>
#include <memory>

#include "support/netns.h"
#include "support/toml_fixture.h"

using namespace pxed::test;
namespace toml = pxed::test::toml;

namespace {

std::string pxed_bin() { return std::string(PXED_BINARY_DIR) + "/userspace/pxed"; }

const std::string kProxyConfig = toml::server("br0") + toml::proxy_subnet("boot = { bios = \"pxelinux.0\" }\n");

struct CheckRun {
    int rc = -1;
    std::string out, err;
};

class CheckProxy : public ::testing::Test {
protected:
    void SetUp() override {
        if (!require_root()) return;
        if (sh("test -x /usr/sbin/dnsmasq") != 0) GTEST_SKIP() << "dnsmasq is not installed";
        char t[] = "/tmp/pxedchk.XXXXXX";
        dir_ = mkdtemp(t);
        srv_ = std::make_unique<Netns>("chks");
        addr_ = std::make_unique<Netns>("chka");
        boot_ = std::make_unique<Netns>("chkb");
        veth_pair(srv_.get(), "pa", addr_.get(), "a1");
        veth_pair(srv_.get(), "pb", boot_.get(), "b1");
        ASSERT_EQ(srv_->run("ip link add br0 type bridge forward_delay 0 && ip link set pa master br0 && "
                            "ip link set pb master br0 && ip addr add 192.0.2.1/24 dev br0 && ip link set br0 up && "
                            "ip link set pa up && ip link set pb up"),
                  0);
        ASSERT_EQ(addr_->run("ip addr add 192.0.2.2/24 dev a1 && ip link set a1 up"), 0);
        ASSERT_EQ(boot_->run("ip addr add 192.0.2.3/24 dev b1 && ip link set b1 up"), 0);
    }

    // Stops the dnsmasqs (their pids are in dir_) before the namespaces go.
    void TearDown() override {
        if (dir_.empty()) return;
        for (auto name : {"addr", "proxy"})
            sh("p=$(cat " + dir_ + "/" + name + ".pid 2>/dev/null) && [ -n \"$p\" ] && kill $p 2>/dev/null && "
               "for i in $(seq 100); do kill -0 $p 2>/dev/null || break; sleep 0.1; done");
        pxed_.reset();
        sh("rm -rf " + dir_);
    }

    // dnsmasq (DHCP only: no DNS, no ping before offering, logging every
    // DHCP message to `name`.log) in `ns`; ready once it logs its range.
    void dnsmasq(const Netns& ns, const std::string& name, const std::string& args) {
        std::string log = dir_ + "/" + name + ".log";
        ns.run("cd " + dir_ + "; /usr/sbin/dnsmasq --no-daemon --conf-file=/dev/null --port=0 --no-ping --user=root "
               "--log-facility=- --log-dhcp --dhcp-leasefile=" + dir_ + "/" + name + ".leases " + args + " > " + log +
               " 2>&1 & echo $! > " + dir_ + "/" + name + ".pid");
        for (int i = 0; i < 50 && log_of(name).find("DHCP, ") == std::string::npos; i++) usleep(100000);
        ASSERT_NE(log_of(name).find("DHCP, "), std::string::npos) << log_of(name);
    }
    void address_server(const std::string& extra = "") {
        dnsmasq(*addr_, "addr", "--dhcp-range=192.0.2.100,192.0.2.150,1h " + extra);
    }
    std::string log_of(const std::string& name) { return sh_out("cat " + dir_ + "/" + name + ".log"); }

    CheckRun check(const std::string& config) {
        std::ofstream(dir_ + "/check.toml") << config;
        CheckRun r;
        r.rc = srv_->run(pxed_bin() + " --check --check-wait 2 --config " + dir_ + "/check.toml > " + dir_ +
                         "/check.out 2> " + dir_ + "/check.err");
        r.out = sh_out("cat " + dir_ + "/check.out");
        r.err = sh_out("cat " + dir_ + "/check.err");
        expect_no_sanitizer_report(r.out + r.err, "pxed --check");
        return r;
    }

    std::string dir_;
    std::unique_ptr<Netns> srv_, addr_, boot_;
    std::unique_ptr<PxedProcess> pxed_;
};

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

}  // namespace

TEST_F(CheckProxy, WarnsWhenNoServerOffersAnAddress) {
    if (HasFailure() || IsSkipped()) return;
    auto r = check(kProxyConfig);
    EXPECT_EQ(r.rc, 0) << r.err;
    EXPECT_TRUE(has(r.err, "pxed --check: warning: br0: proxy subnet, but no DHCP server offered an address to a test "
                           "DISCOVER within 2 s"))
        << r.err;
    EXPECT_TRUE(has(r.out, ": ok (")) << r.out;
}

TEST_F(CheckProxy, AnAddressServerAloneGivesNoWarning) {
    if (HasFailure() || IsSkipped()) return;
    ASSERT_NO_FATAL_FAILURE(address_server());
    auto r = check(kProxyConfig);
    EXPECT_EQ(r.rc, 0) << r.err;
    EXPECT_FALSE(has(r.err, "warning")) << r.err;
    EXPECT_TRUE(has(r.out, "br0: test DISCOVER answered by 192.0.2.2: offered 192.0.2.1")) << r.out;
    EXPECT_TRUE(has(log_of("addr"), "DHCPDISCOVER(a1)")) << log_of("addr");
}

TEST_F(CheckProxy, NamesAnotherProxy) {
    if (HasFailure() || IsSkipped()) return;
    ASSERT_NO_FATAL_FAILURE(address_server());
    ASSERT_NO_FATAL_FAILURE(dnsmasq(*boot_, "proxy", "--dhcp-range=192.0.2.0,proxy --pxe-service=x86PC,x,pxelinux"));
    auto r = check(kProxyConfig);
    EXPECT_EQ(r.rc, 0) << r.err;
    EXPECT_TRUE(has(r.err, "pxed --check: warning: br0: another proxyDHCP server, 192.0.2.3, answered a test DISCOVER"))
        << r.err << log_of("proxy");
    EXPECT_FALSE(has(r.err, "no DHCP server offered")) << r.err;
}

TEST_F(CheckProxy, NamesAnAddressServerThatHandsOutABootFile) {
    if (HasFailure() || IsSkipped()) return;
    ASSERT_NO_FATAL_FAILURE(address_server("--dhcp-boot=pxelinux.0"));
    auto r = check(kProxyConfig);
    EXPECT_EQ(r.rc, 0) << r.err;
    EXPECT_TRUE(has(r.err, "pxed --check: warning: br0: the DHCP server 192.0.2.2 offered 192.0.2.1")) << r.err;
    EXPECT_TRUE(has(r.err, "boot file 'pxelinux.0'")) << r.err;
}

// A second pxed in proxy mode is another proxy, unless it answers with
// the address the checked configuration answers with (the subnet's
// server-ip, or the interface's): that is this pxed's own offer, e.g.
// while the daemon runs.
TEST_F(CheckProxy, OurOwnOfferIsNotAnotherProxy) {
    if (HasFailure() || IsSkipped()) return;
    ASSERT_NO_FATAL_FAILURE(address_server());
    pxed_ = std::make_unique<PxedProcess>(
        *boot_, toml::netns_server("b1", "xdp = \"off\"\n") + toml::proxy_subnet("boot = { bios = \"pxelinux.0\" }\n"));
    ASSERT_TRUE(pxed_->ready()) << pxed_->log();
    auto other = check(kProxyConfig);
    EXPECT_EQ(other.rc, 0) << other.err;
    EXPECT_TRUE(has(other.err, "another proxyDHCP server, 192.0.2.3, answered a test DISCOVER (an OFFER without "
                               "address, boot file 'pxelinux.0'"))
        << other.err;
    auto ours = check(toml::server("br0") +
                      toml::proxy_subnet("server-ip = \"192.0.2.3\"\nboot = { bios = \"pxelinux.0\" }\n"));
    EXPECT_EQ(ours.rc, 0) << ours.err;
    EXPECT_FALSE(has(ours.err, "warning")) << ours.err;
    EXPECT_TRUE(has(pxed_->log(), "result=\"proxy offer")) << pxed_->log();
    EXPECT_EQ(pxed_->stop(), 0);
}

TEST_F(CheckProxy, NonProxyConfigurationSendsNoProbe) {
    if (HasFailure() || IsSkipped()) return;
    ASSERT_NO_FATAL_FAILURE(address_server());
    auto r = check(toml::server("br0") + toml::lan_subnet("192.0.2.150", ""));
    EXPECT_EQ(r.rc, 0) << r.err;
    EXPECT_TRUE(has(r.out, ": ok (")) << r.out;
    EXPECT_FALSE(has(r.out, "test DISCOVER")) << r.out;
    EXPECT_EQ(r.err, "");
    EXPECT_FALSE(has(log_of("addr"), "DHCPDISCOVER")) << log_of("addr");
}
