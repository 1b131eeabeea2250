// Boot files over TFTP and HTTP to real clients in a namespace: curl
// (tftp:// at three block sizes, http:// with and without Range), tftp-hpa,
// atftp with windowsize 16; the Debian installer's initrd.gz (40 MB) byte for
// byte; path escapes refused; 200 concurrent clients (4 MB each); 5% packet loss.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <fstream>

#include "support/netns.h"

using namespace pxed::test;

namespace {

const char* kInitrd = "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/initrd.gz";

class FileService : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (geteuid() != 0) return;
        char t[] = "/tmp/pxedroot.XXXXXX";
        root_ = mkdtemp(t);
        chmod(root_.c_str(), 0755);
        // The boot root: the installer's initrd, a symlink leaving the root,
        // a device node, a file only its owner may read, an empty file and
        // one whose size is a multiple of 512.
        std::filesystem::create_directories(root_ + "/debian-installer/amd64");
        sh("cp " + std::string(kInitrd) + " " + root_ + "/debian-installer/amd64/initrd.gz && chmod 644 " + root_ +
           "/debian-installer/amd64/initrd.gz");
        sh("ln -s /etc/passwd " + root_ + "/escape");
        mknod((root_ + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3));
        sh("echo secret > " + root_ + "/private && chmod 600 " + root_ + "/private");
        sh("touch " + root_ + "/empty && chmod 644 " + root_ + "/empty");
        sh("head -c 1048576 /dev/urandom > " + root_ + "/exact && chmod 644 " + root_ + "/exact");
        sh("printf 'line one\\nline two\\n' > " + root_ + "/text.cfg && chmod 644 " + root_ + "/text.cfg");
        // The 200 concurrent clients fetch the first 4,000,000 bytes of the
        // initrd: 2,841 blocks of 1408 each (the last one short), thousands
        // of round trips side by side (sampled from the metrics: all 200
        // active for the first 6 s). The whole initrd 200 times was 8 GB
        // through the veth and four minutes. Block numbers past 65535 are
        // the 512-byte fetch's to cover: at 1408 even the whole initrd stays
        // below (28,985 blocks).
        sh("head -c 4000000 " + std::string(kInitrd) + " > " + root_ + "/slice && chmod 644 " + root_ + "/slice");
    }
    static void TearDownTestSuite() {
        if (!root_.empty()) sh("rm -rf " + root_);
    }
    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        ASSERT_TRUE(std::filesystem::exists(kInitrd)) << "debian-installer-12-netboot-amd64 is not installed";
        srv_ = std::make_unique<Netns>("fsrv");
        cli_ = std::make_unique<Netns>("fcli");
        veth_pair(srv_.get(), "s0", cli_.get(), "c0");
        ASSERT_EQ(srv_->run("ip addr add 192.0.2.1/24 dev s0 && ip link set s0 up"), 0);
        ASSERT_EQ(cli_->run("ip addr add 192.0.2.2/24 dev c0 && ip link set c0 up"), 0);
        std::string cfg = "[server]\ninterfaces = [\"s0\"]\nlease-db = \"@DIR@/leases.db\"\ntftp-root = \"" + root_ +
                          "\"\nxdp = \"off\"\n[[subnet]]\ncidr = \"192.0.2.0/24\"\nrange = [\"192.0.2.100\", \"192.0.2.150\"]\n";
        pxed_ = std::make_unique<PxedProcess>(*srv_, cfg, "info");
        ASSERT_TRUE(pxed_->ready()) << pxed_->log();
        work_ = pxed_->dir();
    }
    void TearDown() override {
        if (pxed_) {
            EXPECT_EQ(pxed_->stop(), 0) << pxed_->log();
        }
    }
    // True when `got` is byte for byte the file under the root.
    bool same(const std::string& got, const std::string& rel) {
        return sh("cmp -s " + got + " " + root_ + "/" + rel) == 0;
    }
    std::string tftp_hpa_get(const std::string& path) {
        return cli_->out("cd " + work_ + " && timeout 30 tftp 192.0.2.1 -m binary -c get '" + path + "' got 2>&1");
    }

    static std::string root_;
    std::string work_;
    std::unique_ptr<Netns> srv_, cli_;
    std::unique_ptr<PxedProcess> pxed_;
};
std::string FileService::root_;

const std::string kInitrdRel = "debian-installer/amd64/initrd.gz";

}  // namespace

TEST_F(FileService, CurlFetchesTheInitrdAtThreeBlockSizes) {
    // 512 bytes: 79,708 blocks, so the block number rolls over past 65535.
    for (int bs : {512, 1408, 8192}) {
        std::string out = work_ + "/curl." + std::to_string(bs);
        EXPECT_EQ(cli_->run("timeout 120 curl -sS --tftp-blksize " + std::to_string(bs) + " tftp://192.0.2.1/" +
                            kInitrdRel + " -o " + out),
                  0);
        EXPECT_TRUE(same(out, kInitrdRel)) << "blksize " << bs;
    }
}

TEST_F(FileService, TftpHpaAndAtftpWithWindowsizeFetchTheInitrd) {
    auto log = tftp_hpa_get("/" + kInitrdRel);  // a leading '/', as pxelinux sends
    EXPECT_TRUE(same(work_ + "/got", kInitrdRel)) << log;
    auto a = cli_->out("cd " + work_ + " && timeout 120 atftp --option 'windowsize 16' --option 'blksize 1408' --get -r " +
                       kInitrdRel + " -l atftp.out 192.0.2.1 2>&1");
    EXPECT_NE(a.find("windowsize = 16"), std::string::npos) << a;
    EXPECT_TRUE(same(work_ + "/atftp.out", kInitrdRel)) << a;
    // DOS separators, as Windows PXE sends them.
    auto dos = tftp_hpa_get("debian-installer\\amd64\\initrd.gz");
    EXPECT_TRUE(same(work_ + "/got", kInitrdRel)) << dos;
}

TEST_F(FileService, EmptyExactMultipleAndNetascii) {
    for (const char* f : {"empty", "exact"}) {
        EXPECT_EQ(cli_->run("timeout 30 curl -sS tftp://192.0.2.1/" + std::string(f) + " -o " + work_ + "/" + f), 0);
        EXPECT_TRUE(same(work_ + "/" + f, f)) << f;
    }
    auto log = cli_->out("cd " + work_ + " && timeout 30 tftp 192.0.2.1 -m netascii -c get text.cfg text.out 2>&1");
    EXPECT_TRUE(same(work_ + "/text.out", "text.cfg")) << log;  // the client converts back
}

TEST_F(FileService, EscapesDevicesAndUnreadableFilesAreRefused) {
    struct Case {
        std::string path;
        std::string expect;
    } cases[] = {
        {"../etc/passwd", "Error code 2"},
        {"/../../etc/passwd", "Error code 2"},
        {"sub\\..\\..\\etc\\passwd", "Error code 2"},
        {"escape", "Error code 2"},  // symlink to /etc/passwd
        {"null", "Error code 2"},    // character device
        {"private", "Error code 2"},  // not world-readable
        {"debian-installer", "Error code 2"},  // a directory
        {"pxelinux.cfg/01-52-54-00-12-34-56", "Error code 1"},  // pxelinux's probes: one quick ERROR
        {"pxelinux.cfg/C000025", "Error code 1"},
    };
    for (auto& c : cases) {
        auto log = tftp_hpa_get(c.path);
        EXPECT_NE(log.find(c.expect), std::string::npos) << c.path << ": " << log;
    }
    auto wrq = cli_->out("cd " + work_ + " && echo x > up && timeout 10 tftp 192.0.2.1 -c put up uploaded 2>&1");
    EXPECT_NE(wrq.find("Error code 2"), std::string::npos) << wrq;
    EXPECT_FALSE(std::filesystem::exists(root_ + "/uploaded"));
    // HTTP refuses the same way.
    EXPECT_EQ(cli_->out("curl -s -o /dev/null -w '%{http_code}' http://192.0.2.1/escape"), "403");
    EXPECT_EQ(cli_->out("curl -s -o /dev/null -w '%{http_code}' --path-as-is http://192.0.2.1/../etc/passwd"), "403");
    EXPECT_EQ(cli_->out("curl -s -o /dev/null -w '%{http_code}' http://192.0.2.1/null"), "403");
    EXPECT_EQ(cli_->out("curl -s -o /dev/null -w '%{http_code}' http://192.0.2.1/nothere"), "404");
}

TEST_F(FileService, HttpGetHeadAndRange) {
    EXPECT_EQ(cli_->run("curl -sSf http://192.0.2.1/" + kInitrdRel + " -o " + work_ + "/http.out"), 0);
    EXPECT_TRUE(same(work_ + "/http.out", kInitrdRel));
    auto head = cli_->out("curl -sSI http://192.0.2.1/" + kInitrdRel);
    EXPECT_NE(head.find("Content-Length: " + std::to_string(std::filesystem::file_size(kInitrd))), std::string::npos)
        << head;
    EXPECT_NE(head.find("Accept-Ranges: bytes"), std::string::npos) << head;
    // A byte range from the middle of the file.
    EXPECT_EQ(cli_->run("curl -sSf -r 20000000-20999999 http://192.0.2.1/" + kInitrdRel + " -o " + work_ + "/range"), 0);
    EXPECT_EQ(sh("dd if=" + root_ + "/" + kInitrdRel + " bs=1000000 skip=20 count=1 status=none | cmp -s - " + work_ +
                 "/range"),
              0);
    auto metrics = cli_->out("curl -sS http://192.0.2.1/metrics");
    EXPECT_NE(metrics.find("pxed_http_bytes_total"), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("pxed_tftp_sessions_total{result=\"completed\"}"), std::string::npos);
    EXPECT_NE(metrics.find("pxed_dhcp_received_total{type=\"DISCOVER\"}"), std::string::npos);
}

TEST_F(FileService, TwoHundredConcurrentClients) {
    // 200 curl processes at once, each a 4 MB slice of the initrd.
    std::string cmd = "cd " + work_ + " && for i in $(seq 200); do timeout 600 curl -sS --tftp-blksize 1408 "
                      "tftp://192.0.2.1/slice -o c.$i & done; wait";
    ASSERT_EQ(cli_->run(cmd), 0);
    int bad = 0;
    for (int i = 1; i <= 200; i++)
        if (!same(work_ + "/c." + std::to_string(i), "slice")) bad++;
    EXPECT_EQ(bad, 0) << "of 200 transfers differ";
    sh("rm -f " + work_ + "/c.*");
    auto metrics = cli_->out("curl -sS http://192.0.2.1/metrics");
    EXPECT_NE(metrics.find("pxed_tftp_sessions_active 0"), std::string::npos) << metrics;
}

TEST_F(FileService, FivePercentLossOnTheClientSide) {
    // nftables on the client's interface drops 5% of the UDP packets each
    // way. Netdev ingress/egress hooks: a drop in the output chain would
    // return EPERM to curl instead of losing the packet silently.
    ASSERT_EQ(cli_->run("nft add table netdev loss && "
                        "nft add chain netdev loss in '{ type filter hook ingress device c0 priority 0; }' && "
                        "nft add chain netdev loss out '{ type filter hook egress device c0 priority 0; }' && "
                        "nft add rule netdev loss in udp sport != 53 numgen random mod 100 '<' 5 counter drop && "
                        "nft add rule netdev loss out udp dport != 53 numgen random mod 100 '<' 5 counter drop"),
              0);
    EXPECT_EQ(cli_->run("timeout 600 curl -sS --tftp-blksize 1408 tftp://192.0.2.1/" + kInitrdRel + " -o " + work_ +
                        "/lossy"),
              0);
    EXPECT_TRUE(same(work_ + "/lossy", kInitrdRel));
    auto counters = cli_->out("nft list table netdev loss");
    EXPECT_EQ(counters.find("packets 0 "), std::string::npos) << "no packet was dropped: " << counters;
    auto metrics = cli_->out("curl -sS http://192.0.2.1/metrics");
    EXPECT_EQ(metrics.find("pxed_tftp_retransmissions_total 0\n"), std::string::npos) << metrics;
}
