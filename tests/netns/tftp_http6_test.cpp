// Boot files over IPv6 to real clients in a namespace (issue "PXE over
// IPv6"): TFTP and HTTP on the served interface's unique local and
// link-local addresses with curl (tftp:// whole and at blksize 1400, http://
// with Range), tftp-hpa -6 and atftp; the block size an IPv6 MTU allows;
// path escapes refused as over IPv4; the per-client session limit on an IPv6
// address; where it listens (interfaces, all); the boot trace's IPv6 client;
// an address still in duplicate address detection when pxed starts.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <memory>

#include "support/netns.h"

using namespace pxed::test;
using nlohmann::json;

namespace {

const std::string kSilent = std::string(PXED_SOURCE_DIR) + "/scripts/lib/tftp-silent-client";

class FileService6 : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (geteuid() != 0) return;
        char t[] = "/tmp/pxedroot6.XXXXXX";
        root_ = mkdtemp(t);
        chmod(root_.c_str(), 0755);
        // 3 MB: 2,072 blocks of 1448, 5,860 of 512.
        sh("head -c 3000000 /dev/urandom > " + root_ + "/file && chmod 644 " + root_ + "/file");
        sh("ln -s /etc/passwd " + root_ + "/escape");
        sh("echo secret > " + root_ + "/private && chmod 600 " + root_ + "/private");
    }
    static void TearDownTestSuite() {
        if (!root_.empty()) sh("rm -rf " + root_);
    }
    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        srv_ = std::make_unique<Netns>("6srv");
        cli_ = std::make_unique<Netns>("6cli");
        // s0 is served: 192.0.2.1 (pxed needs its IPv4 address) and
        // fd00:6::1; s1 (fd00:7::1) is an interface pxed is not told to
        // serve. No duplicate address detection, so that every address,
        // the link-local ones too, is usable at once. The client's second
        // address, fd00:6::3, is deprecated: never chosen as a source
        // unless bound (fd00:6::2 is the client's address).
        veth_pair(srv_.get(), "s0", cli_.get(), "c0");
        veth_pair(srv_.get(), "s1", cli_.get(), "c1");
        // (DAD is skipped only when both "all" and the interface say so.)
        for (auto [ns, a, b] : {std::tuple{srv_.get(), "s0", "s1"}, std::tuple{cli_.get(), "c0", "c1"}})
            ASSERT_EQ(ns->run(std::string("sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.") + a +
                              ".accept_dad=0 net.ipv6.conf." + b + ".accept_dad=0"),
                      0);
        ASSERT_EQ(srv_->run("ip addr add 192.0.2.1/24 dev s0 && ip -6 addr add fd00:6::1/64 dev s0 nodad && "
                            "ip link set s0 up && ip -6 addr add fd00:7::1/64 dev s1 nodad && ip link set s1 up"),
                  0);
        ASSERT_EQ(cli_->run("ip addr add 192.0.2.2/24 dev c0 && ip -6 addr add fd00:6::2/64 dev c0 nodad && "
                            "ip -6 addr add fd00:6::3/64 dev c0 nodad preferred_lft 0 && ip link set c0 up && "
                            "ip -6 addr add fd00:7::2/64 dev c1 nodad && ip link set c1 up"),
                  0);
        // The link-local addresses come with the carrier, which the kernel
        // notes a moment later: pxed binds the one it finds at its start.
        for (int i = 0; i < 50 && (link_local(*srv_, "s0").empty() || link_local(*cli_, "c0").empty()); i++)
            usleep(100'000);
        ASSERT_NE(link_local(*srv_, "s0"), "");
        ASSERT_NE(link_local(*cli_, "c0"), "");
    }
    void TearDown() override {
        if (pxed_) {
            EXPECT_EQ(pxed_->stop(), 0) << pxed_->log();
        }
    }
    void start(const std::string& extra = "") {
        std::string cfg = "[server]\ninterfaces = [\"s0\"]\nlease-db = \"@DIR@/leases.db\"\ntftp-root = \"" + root_ +
                          "\"\nxdp = \"off\"\n" + extra +
                          "[[subnet]]\ncidr = \"192.0.2.0/24\"\nrange = [\"192.0.2.100\", \"192.0.2.150\"]\n";
        pxed_ = std::make_unique<PxedProcess>(*srv_, cfg, "info");
        ASSERT_TRUE(pxed_->ready()) << pxed_->log();
        work_ = pxed_->dir();
    }
    // The link-local address of `ifname` in `ns`, once usable (not tentative).
    static std::string link_local(const Netns& ns, const std::string& ifname) {
        auto a = ns.out("ip -6 -o addr show dev " + ifname + " scope link -tentative | awk '{print $4}' | cut -d/ -f1");
        while (!a.empty() && a.back() == '\n') a.pop_back();
        return a;
    }
    bool same(const std::string& got) { return sh("cmp -s " + got + " " + root_ + "/file") == 0; }
    // curl in the client namespace; its exit status.
    int curl(const std::string& args) { return cli_->run("timeout 60 curl -sSg " + args); }
    std::string tftp_hpa(const std::string& host, const std::string& path) {
        return cli_->out("cd " + work_ + " && rm -f got && timeout 30 tftp " +
                         std::string(host.find(':') != std::string::npos ? "-6 " : "") + host +
                         " -m binary -c get '" + path + "' got 2>&1");
    }
    json silent(const std::string& server, const std::string& args) {
        auto out = cli_->out("python3 " + kSilent + " " + server + " file " + args);
        auto j = json::parse(out, nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << out;
        return j.is_discarded() ? json::object({{"packets", -1}, {"first_reply_from", ""}}) : j;
    }
    std::string metrics(const std::string& host = "[fd00:6::1]") {
        return cli_->out("curl -sSg --max-time 10 http://" + host + "/metrics");
    }

    static std::string root_;
    std::string work_;
    std::unique_ptr<Netns> srv_, cli_;
    std::unique_ptr<PxedProcess> pxed_;
};
std::string FileService6::root_;

}  // namespace

TEST_F(FileService6, CurlTftpHpaAndAtftpFetchOverIpv6) {
    ASSERT_NO_FATAL_FAILURE(start());
    EXPECT_EQ(curl("tftp://[fd00:6::1]/file -o " + work_ + "/curl"), 0);
    EXPECT_TRUE(same(work_ + "/curl"));
    EXPECT_EQ(curl("--tftp-blksize 1400 tftp://[fd00:6::1]/file -o " + work_ + "/curl1400"), 0);
    EXPECT_TRUE(same(work_ + "/curl1400"));
    auto log = tftp_hpa("fd00:6::1", "/file");
    EXPECT_TRUE(same(work_ + "/got")) << log;
    auto a = cli_->out("cd " + work_ + " && timeout 60 atftp --option 'windowsize 8' --option 'blksize 1400' --get -r "
                       "file -l atftp.out fd00:6::1 2>&1");
    EXPECT_TRUE(same(work_ + "/atftp.out")) << a;
    // The link-local address, with the client's zone (%25 is '%' in a URL).
    std::string ll = link_local(*srv_, "s0");
    ASSERT_EQ(ll.rfind("fe80:", 0), 0u) << ll;
    EXPECT_EQ(curl("tftp://[" + ll + "%25c0]/file -o " + work_ + "/ll"), 0);
    EXPECT_TRUE(same(work_ + "/ll"));
    EXPECT_NE(pxed_->log().find("ipv6=fd00:6::1," + ll + "%s0 "), std::string::npos) << pxed_->log();
    // The last ACK may still be on its way when curl exits: a bounded wait.
    std::string m;
    for (int i = 0; i < 50 && m.find("pxed_tftp_sessions_total{result=\"completed\"} 5\n") == std::string::npos; i++) {
        if (i) usleep(100'000);
        m = metrics();
    }
    EXPECT_NE(m.find("pxed_tftp_sessions_total{result=\"completed\"} 5\n"), std::string::npos) << m;
}

TEST_F(FileService6, TheBlockSizeLeavesRoomForTheIpv6Header) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto offered = [&](const std::string& host) {
        auto v = cli_->out("timeout 60 curl -sSgv --tftp-blksize 1468 tftp://" + host + "/file -o " + work_ +
                           "/b 2>&1 | grep -o 'blksize parsed from OACK ([0-9]*)'");
        EXPECT_TRUE(same(work_ + "/b")) << host;
        return v;
    };
    // A 1500-byte MTU: IPv4 carries 1468 bytes of file a datagram, IPv6 20 fewer.
    EXPECT_EQ(offered("192.0.2.1"), "blksize parsed from OACK (1468)\n");
    EXPECT_EQ(offered("[fd00:6::1]"), "blksize parsed from OACK (1448)\n");
    // The interface's IPv6 MTU (as a router advertisement may lower it)
    // is what the route to the client has: 1400 - 52.
    ASSERT_EQ(srv_->run("sysctl -qw net.ipv6.conf.s0.mtu=1400"), 0);
    EXPECT_EQ(offered("[fd00:6::1]"), "blksize parsed from OACK (1348)\n");
    EXPECT_EQ(offered("192.0.2.1"), "blksize parsed from OACK (1468)\n");
}

TEST_F(FileService6, HttpGetRangeAndLinkLocal) {
    ASSERT_NO_FATAL_FAILURE(start());
    EXPECT_EQ(curl("-f http://[fd00:6::1]/file -o " + work_ + "/http"), 0);
    EXPECT_TRUE(same(work_ + "/http"));
    EXPECT_EQ(curl("-f -r 1000000-1999999 http://[fd00:6::1]/file -o " + work_ + "/range"), 0);
    EXPECT_EQ(sh("dd if=" + root_ + "/file bs=1000000 skip=1 count=1 status=none | cmp -s - " + work_ + "/range"), 0);
    auto head = cli_->out("curl -sSgI http://[fd00:6::1]/file");
    EXPECT_NE(head.find("Content-Length: 3000000"), std::string::npos) << head;
    std::string ll = link_local(*srv_, "s0");
    EXPECT_EQ(curl("-f http://[" + ll + "%25c0]/file -o " + work_ + "/ll"), 0);
    EXPECT_TRUE(same(work_ + "/ll"));
    EXPECT_NE(metrics().find("pxed_http_bytes_total 7000000\n"), std::string::npos) << metrics();
}

TEST_F(FileService6, EscapesAreRefusedAsOverIpv4) {
    ASSERT_NO_FATAL_FAILURE(start());
    for (std::string host : {"192.0.2.1", "fd00:6::1"}) {
        for (const char* path : {"../etc/passwd", "/../../etc/passwd", "sub\\..\\..\\etc\\passwd", "escape", "private"}) {
            auto log = tftp_hpa(host, path);
            EXPECT_NE(log.find("Error code 2"), std::string::npos) << host << " " << path << ": " << log;
        }
        std::string url = "http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host);
        auto code = [&](const std::string& args) { return cli_->out("curl -sg -o /dev/null -w '%{http_code}' " + args); };
        EXPECT_EQ(code(url + "/escape"), "403") << host;
        EXPECT_EQ(code("--path-as-is " + url + "/../etc/passwd"), "403") << host;
        EXPECT_EQ(code(url + "/private"), "403") << host;
        EXPECT_EQ(code(url + "/nothere"), "404") << host;
    }
}

TEST_F(FileService6, PerClientLimitCountsAnIpv6Address) {
    ASSERT_NO_FATAL_FAILURE(start("tftp-max-sessions-per-client = 4\n"));
    // Ten requests from ten ports of fd00:6::2, never acknowledged (the
    // sockets stay open: no ICMP ends the transfers early); then, while
    // those hold their share, fd00:6::3 fetches the file.
    std::ofstream(work_ + "/limit.py") << R"(import json, socket, subprocess, time
socks = []
for i in range(10):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("fd00:6::2", 0))
    s.sendto(b"\0\1file\0octet\0blksize\0001400\0", ("fd00:6::1", 69))
    socks.append(s)
answered = set()
end = time.monotonic() + 1.5
while time.monotonic() < end:
    for i, s in enumerate(socks):
        s.settimeout(0.01)
        try:
            s.recvfrom(2000)
            answered.add(i)
        except socket.timeout:
            pass
rc = subprocess.run(["curl", "-sSg", "--interface", "fd00:6::3", "-o", ")" +
                                      work_ + R"(/other", "tftp://[fd00:6::1]/file"], timeout=60).returncode
print(json.dumps({"answered": len(answered), "other": rc}))
)";
    auto out = cli_->out("python3 " + work_ + "/limit.py");
    auto j = json::parse(out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << out;
    EXPECT_EQ(j["answered"], 4) << "the first four got their OACK, the other six nothing";
    EXPECT_EQ(j["other"], 0) << "another address of the same client machine is a client of its own";
    EXPECT_TRUE(same(work_ + "/other"));
    EXPECT_NE(metrics().find("pxed_tftp_busy_total 6\n"), std::string::npos) << metrics();
}

TEST_F(FileService6, OnlyTheServedInterfaceAnswersOverIpv6) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto served = silent("fd00:6::1", "--ack-first --idle 2 --max-seconds 30");
    EXPECT_GT(served["data_packets"].get<int64_t>(), 0) << served;
    EXPECT_EQ(served["first_reply_from"].get<std::string>().rfind("[fd00:6::1]:", 0), 0u) << served;
    auto other = silent("fd00:7::1", "--idle 3 --max-seconds 30");
    EXPECT_EQ(other["packets"], 0) << "pxed answered TFTP on an interface it does not serve: " << other;
    EXPECT_EQ(cli_->run("curl -sSg --max-time 10 -o /dev/null http://[fd00:7::1]/metrics"), 7);  // refused
    EXPECT_EQ(cli_->run("curl -sSg --max-time 10 -o /dev/null http://[fd00:6::1]/metrics"), 0);
}

TEST_F(FileService6, AllAddressesOfBothFamiliesWhenAsked) {
    ASSERT_NO_FATAL_FAILURE(start("file-service-bind = \"all\"\n"));
    for (std::string addr : {"fd00:6::1", "fd00:7::1", "192.0.2.1"}) {
        bool v6 = addr.find(':') != std::string::npos;
        std::string host = v6 ? "[" + addr + "]" : addr;
        auto j = silent(addr, "--ack-first --idle 2 --max-seconds 30");
        EXPECT_GT(j["data_packets"].get<int64_t>(), 0) << addr << ": " << j;
        // Each transfer answers from the address its request came to.
        EXPECT_EQ(j["first_reply_from"].get<std::string>().rfind(host + ":", 0), 0u) << j;
        EXPECT_EQ(curl("tftp://" + host + "/file -o " + work_ + "/got"), 0) << addr;
        EXPECT_TRUE(same(work_ + "/got")) << addr;
        EXPECT_EQ(curl("-f http://" + host + "/file -o " + work_ + "/http"), 0) << addr;
        EXPECT_TRUE(same(work_ + "/http")) << addr;
    }
    EXPECT_NE(pxed_->log().find("addresses=0.0.0.0 ipv6=:: "), std::string::npos) << pxed_->log();
}

TEST_F(FileService6, TheBootTraceRecordsTheIpv6Client) {
    ASSERT_NO_FATAL_FAILURE(start());
    EXPECT_EQ(curl("tftp://[fd00:6::1]/file -o " + work_ + "/got"), 0);
    EXPECT_EQ(curl("-f http://[fd00:6::1]/file -o " + work_ + "/http"), 0);
    EXPECT_NE(curl("-f http://[fd00:6::1]/nothere -o /dev/null"), 0);
    auto body = cli_->out("curl -sSgf --max-time 10 http://[fd00:6::1]/status.json");
    auto j = json::parse(body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << body;
    std::vector<std::string> seen;
    for (auto& boot : j["boots"]["boots"])
        for (auto& e : boot["events"])
            if (e["kind"] == "file" && e["client"] == "fd00:6::2")
                seen.push_back(e["source"].get<std::string>() + " " + e["path"].get<std::string>() + " " +
                               e["outcome"].get<std::string>());
    EXPECT_EQ(seen, (std::vector<std::string>{"tftp file done", "http file done", "http nothere refused"})) << body;
}

TEST_F(FileService6, AnAddressStillInDadWhenPxedStartsIsServedOnceItEnds) {
    // Duplicate address detection for ten seconds: one probe, ten seconds
    // of waiting for an answer. pxed starts meanwhile (an interface brought
    // up with pxed: the address is listed but tentative).
    ASSERT_EQ(srv_->run("ip -6 addr del fd00:6::1/64 dev s0 && sysctl -qw net.ipv6.conf.s0.accept_dad=1 "
                        "net.ipv6.conf.s0.dad_transmits=1 net.ipv6.neigh.s0.retrans_time_ms=10000 && "
                        "ip -6 addr add fd00:6::1/64 dev s0"),
              0);
    ASSERT_NO_FATAL_FAILURE(start());
    auto tentative = [&] { return srv_->out("ip -6 -o addr show dev s0 tentative to fd00:6::1"); };
    ASSERT_NE(tentative(), "") << "the address left DAD before pxed was ready; the test proves nothing";
    EXPECT_NE(pxed_->log().find("ipv6=fd00:6::1,"), std::string::npos) << pxed_->log();
    for (int i = 0; i < 30 && !tentative().empty(); i++) sleep(1);
    ASSERT_EQ(tentative(), "");
    EXPECT_EQ(curl("tftp://[fd00:6::1]/file -o " + work_ + "/got"), 0);
    EXPECT_TRUE(same(work_ + "/got"));
    EXPECT_EQ(curl("-f http://[fd00:6::1]/file -o " + work_ + "/http"), 0);
    EXPECT_TRUE(same(work_ + "/http"));
}
