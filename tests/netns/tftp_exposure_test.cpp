// What pxed's file service exposes, measured from a client namespace:
//  - amplification: a raw client (scripts/lib/tftp-silent-client) sends one
//    RRQ and never ACKs, or ACKs only the OACK; every byte pxed sends it
//    until pxed gives up is counted and bounded (issue 14 item 2);
//  - binding: TFTP and HTTP (/metrics too) answer on the served interface's
//    address only, not on a second interface that pxed does not serve, unless
//    file-service-bind = "all"; a transfer answers from the address its
//    request came to (issue 14 item 11).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>

#include "support/netns.h"

using namespace pxed::test;
using nlohmann::json;

namespace {

const std::string kClient = std::string(PXED_SOURCE_DIR) + "/scripts/lib/tftp-silent-client";

class FileExposure : public ::testing::Test {
protected:
    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        srv_ = std::make_unique<Netns>("xsrv");
        cli_ = std::make_unique<Netns>("xcli");
        // s0 is served (192.0.2.1); s1 (198.51.100.1) is an interface of the
        // same host that pxed is not told to serve.
        veth_pair(srv_.get(), "s0", cli_.get(), "c0");
        veth_pair(srv_.get(), "s1", cli_.get(), "c1");
        ASSERT_EQ(srv_->run("ip addr add 192.0.2.1/24 dev s0 && ip link set s0 up && "
                            "ip addr add 198.51.100.1/24 dev s1 && ip link set s1 up"),
                  0);
        ASSERT_EQ(cli_->run("ip addr add 192.0.2.2/24 dev c0 && ip link set c0 up && "
                            "ip addr add 198.51.100.2/24 dev c1 && ip link set c1 up"),
                  0);
        root_ = sh_out("mktemp -d /tmp/pxedexp.XXXXXX");
        while (!root_.empty() && root_.back() == '\n') root_.pop_back();
        ASSERT_FALSE(root_.empty());
        // 4 MB: without the fix, one silent client drew it nine times over.
        ASSERT_EQ(sh("chmod 755 " + root_ + " && head -c 4194304 /dev/urandom > " + root_ + "/big && chmod 644 " +
                     root_ + "/big"),
                  0);
    }
    void TearDown() override {
        if (pxed_) {
            EXPECT_EQ(pxed_->stop(), 0) << pxed_->log();
        }
        if (!root_.empty()) sh("rm -rf " + root_);
    }
    void start(const std::string& extra, const std::string& interfaces = "\"s0\"") {
        std::string cfg = "[server]\ninterfaces = [" + interfaces + "]\nlease-db = \"@DIR@/leases.db\"\ntftp-root = \"" + root_ +
                          "\"\nxdp = \"off\"\n" + extra +
                          "[[subnet]]\ncidr = \"192.0.2.0/24\"\nrange = [\"192.0.2.100\", \"192.0.2.150\"]\n";
        pxed_ = std::make_unique<PxedProcess>(*srv_, cfg, "info");
        ASSERT_TRUE(pxed_->ready()) << pxed_->log();
    }
    // Runs the silent client in the client namespace; its JSON summary.
    json silent(const std::string& server, const std::string& args) {
        auto out = cli_->out("python3 " + kClient + " " + server + " big " + args);
        auto j = json::parse(out, nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << out;
        return j.is_discarded() ? json::object() : j;
    }
    std::string metrics(const std::string& addr = "192.0.2.1") {
        return cli_->out("curl -sS --max-time 10 http://" + addr + "/metrics");
    }

    std::string root_;
    std::unique_ptr<Netns> srv_, cli_;
    std::unique_ptr<PxedProcess> pxed_;
};

}  // namespace

TEST_F(FileExposure, AnUnacknowledgedRequestDrawsABoundedAmountUntilPxedGivesUp) {
    start("");
    // Three clients at once; each stops 4 s after the last datagram (pxed's
    // longest gap between retransmissions is 1 s) or past 2 MB.
    std::string common = " --idle 4 --max-bytes 2000000 --max-seconds 120";
    std::string opts = " --opt blksize=1468 --opt windowsize=65535";
    std::string dir = pxed_->dir();
    ASSERT_EQ(cli_->run("python3 " + kClient + " 192.0.2.1 big" + opts + common + " > " + dir + "/opt.json & " +
                        "python3 " + kClient + " 192.0.2.1 big" + common + " > " + dir + "/plain.json & " +
                        "python3 " + kClient + " 192.0.2.1 big" + opts + " --ack-first" + common + " > " + dir +
                        "/ack0.json & wait"),
              0);
    auto read = [&](const char* f) {
        auto j = json::parse(sh_out("cat " + dir + "/" + f), nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << f;
        return j.is_discarded() ? json::object({{"bytes", -1}}) : j;
    };
    json opt = read("opt.json"), plain = read("plain.json"), ack0 = read("ack0.json");
    // With options and no ACK: the OACK, 1 + 3 times, and no DATA at all.
    EXPECT_EQ(opt["data_packets"], 0) << opt;
    EXPECT_EQ(opt["oacks"], 4) << opt;
    EXPECT_LE(opt["bytes"].get<int64_t>(), 4 * 64) << opt;
    // Without options: block 1 (516 bytes with its header), 1 + 3 times.
    EXPECT_EQ(plain["data_packets"], 4) << plain;
    EXPECT_LE(plain["bytes"].get<int64_t>(), 4 * 516) << plain;
    // windowsize 65535, ACK 0, silence: a window of 64 (the cap), then halves
    // of it: at most 2 x 64 + 8 blocks of 1472 bytes, and the OACK.
    EXPECT_FALSE(ack0["capped"].get<bool>()) << ack0;
    EXPECT_LE(ack0["bytes"].get<int64_t>(), (2 * 64 + 8) * 1472 + 64) << ack0;
    EXPECT_GE(ack0["data_packets"].get<int64_t>(), 64) << ack0;  // the first window was sent in full
    // pxed gave up on all three (it did not just pause).
    auto m = metrics();
    EXPECT_NE(m.find("pxed_tftp_sessions_total{result=\"failed\"} 3\n"), std::string::npos) << m;
    EXPECT_NE(m.find("pxed_tftp_sessions_active 0\n"), std::string::npos) << m;
    std::printf("amplification: opt=%s plain=%s ack0=%s\n", opt.dump().c_str(), plain.dump().c_str(),
                ack0.dump().c_str());
}

TEST_F(FileExposure, OnlyTheServedInterfaceAnswersTftpAndHttp) {
    start("");
    auto served = silent("192.0.2.1", "--ack-first --idle 2 --max-seconds 30");
    EXPECT_GT(served["data_packets"].get<int64_t>(), 0) << served;
    EXPECT_EQ(served["first_reply_from"].get<std::string>().rfind("192.0.2.1:", 0), 0u) << served;
    auto other = silent("198.51.100.1", "--idle 3 --max-seconds 30");
    EXPECT_EQ(other["packets"], 0) << "pxed answered TFTP on an interface it does not serve: " << other;
    EXPECT_EQ(cli_->run("timeout 30 curl -sS tftp://192.0.2.1/big -o " + pxed_->dir() + "/got"), 0);
    EXPECT_EQ(sh("cmp -s " + pxed_->dir() + "/got " + root_ + "/big"), 0);
    EXPECT_NE(metrics("192.0.2.1").find("pxed_tftp_requests_total"), std::string::npos);
    // Connection refused: nothing listens there (curl exit status 7).
    EXPECT_EQ(cli_->run("curl -sS --max-time 10 -o /dev/null http://198.51.100.1/metrics"), 7);
    EXPECT_NE(cli_->run("curl -sS --max-time 10 -o /dev/null http://198.51.100.1/big"), 0);
    EXPECT_NE(pxed_->log().find("addresses=192.0.2.1 "), std::string::npos) << pxed_->log();
}

TEST_F(FileExposure, AllAddressesWhenAskedAndEachTransferAnswersFromTheAddressAsked) {
    start("file-service-bind = \"all\"\n");
    for (std::string addr : {"192.0.2.1", "198.51.100.1"}) {
        auto j = silent(addr, "--ack-first --idle 2 --max-seconds 30");
        EXPECT_GT(j["data_packets"].get<int64_t>(), 0) << addr << ": " << j;
        // A multi-homed host: the transfer's socket sends from the address the
        // request came to, or the client would not recognise its server.
        EXPECT_EQ(j["first_reply_from"].get<std::string>().rfind(addr + ":", 0), 0u) << j;
        EXPECT_EQ(cli_->run("timeout 30 curl -sS tftp://" + addr + "/big -o " + pxed_->dir() + "/got"), 0) << addr;
        EXPECT_EQ(sh("cmp -s " + pxed_->dir() + "/got " + root_ + "/big"), 0) << addr;
        EXPECT_NE(metrics(addr).find("pxed_tftp_requests_total"), std::string::npos) << addr;
    }
}

TEST_F(FileExposure, TwoServedInterfacesBothAnswerAndStopCleanly) {
    // Two addresses: two port 69 sockets in one loop, two HTTP servers (one
    // on a thread of its own); SIGTERM must stop both (exit 0 in TearDown).
    start("[[subnet]]\ncidr = \"198.51.100.0/24\"\nrange = [\"198.51.100.100\", \"198.51.100.150\"]\n",
          "\"s0\", \"s1\"");
    for (std::string addr : {"192.0.2.1", "198.51.100.1"}) {
        auto j = silent(addr, "--ack-first --idle 2 --max-seconds 30");
        EXPECT_EQ(j["first_reply_from"].get<std::string>().rfind(addr + ":", 0), 0u) << j;
        EXPECT_EQ(cli_->run("curl -sSf --max-time 10 -o /dev/null http://" + addr + "/big"), 0) << addr;
    }
    EXPECT_NE(pxed_->log().find("addresses=192.0.2.1,198.51.100.1 "), std::string::npos) << pxed_->log();
}

TEST_F(FileExposure, ANonsenseBindValueIsRefusedWithTheKeyNamed) {
    std::string cfg = "[server]\ninterfaces = [\"s0\"]\nlease-db = \"@DIR@/leases.db\"\ntftp-root = \"" + root_ +
                      "\"\nxdp = \"off\"\nfile-service-bind = \"everywhere\"\n"
                      "[[subnet]]\ncidr = \"192.0.2.0/24\"\nrange = [\"192.0.2.100\", \"192.0.2.150\"]\n";
    PxedProcess p(*srv_, cfg, "info");
    EXPECT_FALSE(p.ready());
    EXPECT_NE(p.log().find("server.file-service-bind must be \"interfaces\" or \"all\""), std::string::npos)
        << p.log();
}
