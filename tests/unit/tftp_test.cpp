// TFTP codec, option negotiation and the transfer state machine with a fake
// clock; path normalisation and opening beneath a root.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tftp/codec.h"
#include "tftp/safe_open.h"
#include "tftp/session.h"

using namespace pxed::tftp;

namespace {

std::vector<uint8_t> rrq(const std::string& file, const std::string& mode,
                         std::vector<std::pair<std::string, std::string>> opts = {}) {
    std::vector<uint8_t> b = {0, 1};
    auto put = [&](const std::string& s) {
        b.insert(b.end(), s.begin(), s.end());
        b.push_back(0);
    };
    put(file);
    put(mode);
    for (auto& [k, v] : opts) {
        put(k);
        put(v);
    }
    return b;
}

Request req_with(std::vector<std::pair<std::string, std::string>> opts) {
    auto r = parse_request(rrq("f", "octet", std::move(opts)));
    EXPECT_TRUE(r.ok());
    return *r;
}

constexpr int64_t ms = 1'000'000;

std::vector<uint64_t> blocks(const std::vector<Session::Send>& s) {
    std::vector<uint64_t> out;
    for (auto& x : s) out.push_back(x.kind == Session::Send::Oack ? 0 : x.block);
    return out;
}

}  // namespace

TEST(TftpCodec, ParsesRequestsAndRefusesGarbage) {
    auto r = parse_request(rrq("pxelinux.0", "OCTET", {{"BLKSIZE", "1408"}, {"tsize", "0"}}));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->filename, "pxelinux.0");
    EXPECT_EQ(r->mode, Mode::Octet);
    ASSERT_EQ(r->options.size(), 2u);
    EXPECT_EQ(r->options[0].first, "blksize");  // names are case-insensitive
    EXPECT_EQ(parse_request(rrq("a", "netascii"))->mode, Mode::Netascii);
    EXPECT_FALSE(parse_request(rrq("a", "mail")).ok());
    EXPECT_FALSE(parse_request(rrq("", "octet")).ok());
    auto unterminated = rrq("a", "octet");
    unterminated.pop_back();
    EXPECT_FALSE(parse_request(unterminated).ok());
    auto odd = rrq("a", "octet", {{"blksize", "512"}});
    odd.insert(odd.end(), {'x', 0});  // an option without a value
    EXPECT_EQ(parse_request(odd).error().code, ErrorCode::OptionRefused);
    EXPECT_FALSE(parse_request(std::vector<uint8_t>{0, 3, 0, 1}).ok());  // DATA is not a request
    EXPECT_FALSE(parse_request(std::vector<uint8_t>{0}).ok());
    EXPECT_EQ(parse_ack(std::vector<uint8_t>{0, 4, 0xff, 0xfe}), 0xfffe);
    EXPECT_FALSE(parse_ack(std::vector<uint8_t>{0, 4, 1}));
    auto e = make_error(ErrorCode::FileNotFound, "nope");
    EXPECT_EQ(e, (std::vector<uint8_t>{0, 5, 0, 1, 'n', 'o', 'p', 'e', 0}));
    EXPECT_TRUE(is_error(e));
}

TEST(TftpNegotiation, OptionsCombinationsAndErrors) {
    Limits lim;
    lim.max_blksize = 1468;
    auto n = negotiate(req_with({{"blksize", "8192"}, {"tsize", "0"}, {"timeout", "3"}, {"windowsize", "16"}}), 1000, lim);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(n->blksize, 1468);  // capped to the MTU
    EXPECT_EQ(n->windowsize, 16);
    EXPECT_EQ(n->timeout_s, 3);
    EXPECT_EQ(n->oack, (std::vector<std::pair<std::string, std::string>>{
                           {"blksize", "1468"}, {"tsize", "1000"}, {"timeout", "3"}, {"windowsize", "16"}}));
    // No options: no OACK, RFC 1350 defaults.
    auto plain = negotiate(req_with({}), 1000, lim);
    EXPECT_TRUE(plain->oack.empty());
    EXPECT_EQ(plain->blksize, 512);
    // Unknown options are ignored, not acknowledged.
    EXPECT_TRUE(negotiate(req_with({{"multicast", ""}}), 10, lim)->oack.empty());
    // Only what the client sent is acknowledged.
    EXPECT_EQ(negotiate(req_with({{"tsize", "0"}}), 7, lim)->oack.size(), 1u);
    // An empty file's tsize is left out of the OACK (curl refuses "tsize 0").
    EXPECT_TRUE(negotiate(req_with({{"tsize", "0"}}), 0, lim)->oack.empty());
    for (auto bad : std::vector<std::pair<std::string, std::string>>{
             {"blksize", "7"}, {"blksize", "65465"}, {"blksize", "x"}, {"timeout", "0"}, {"timeout", "256"},
             {"windowsize", "0"}, {"windowsize", "65536"}, {"tsize", "-1"}}) {
        auto r = negotiate(req_with({bad}), 10, lim);
        ASSERT_FALSE(r.ok()) << bad.first << "=" << bad.second;
        EXPECT_EQ(r.error().code, ErrorCode::OptionRefused);
    }
}

TEST(TftpSession, PlainTransferWithFinalEmptyBlock) {
    Negotiated n;  // 512, window 1, no OACK
    Session s(n, 1024, Limits{});
    EXPECT_EQ(s.total_blocks(), 3u);  // 512, 512, and an empty block ends it
    EXPECT_EQ(blocks(s.start(0)), std::vector<uint64_t>{1});
    EXPECT_EQ(blocks(s.on_ack(1, 1 * ms)), std::vector<uint64_t>{2});
    EXPECT_EQ(blocks(s.on_ack(2, 2 * ms)), std::vector<uint64_t>{3});
    EXPECT_EQ(s.length_of(3), 0u);
    EXPECT_TRUE(s.on_ack(3, 3 * ms).empty());
    EXPECT_TRUE(s.done());
}

TEST(TftpSession, EmptyFileIsOneEmptyBlock) {
    Session s(Negotiated{}, 0, Limits{});
    EXPECT_EQ(blocks(s.start(0)), std::vector<uint64_t>{1});
    EXPECT_EQ(s.length_of(1), 0u);
    s.on_ack(1, ms);
    EXPECT_TRUE(s.done());
}

TEST(TftpSession, OackThenAckZeroThenData) {
    Negotiated n;
    n.blksize = 1000;
    n.oack = {{"blksize", "1000"}};
    Session s(n, 2500, Limits{});
    EXPECT_EQ(blocks(s.start(0)), std::vector<uint64_t>{0});  // the OACK
    EXPECT_TRUE(s.on_ack(1, ms).empty());                     // not ACK 0: ignored
    EXPECT_EQ(blocks(s.on_ack(0, ms)), std::vector<uint64_t>{1});
    EXPECT_EQ(s.length_of(3), 500u);
}

TEST(TftpSession, DuplicateAckSendsNothing) {
    Session s(Negotiated{}, 5000, Limits{});
    s.start(0);
    EXPECT_EQ(blocks(s.on_ack(1, ms)), std::vector<uint64_t>{2});
    EXPECT_TRUE(s.on_ack(1, 2 * ms).empty());  // Sorcerer's Apprentice: no second DATA 2
    EXPECT_TRUE(s.on_ack(7, 2 * ms).empty());  // a block never sent
    EXPECT_EQ(blocks(s.on_ack(2, 3 * ms)), std::vector<uint64_t>{3});
}

TEST(TftpSession, RetransmitsOnTimeoutAndGivesUp) {
    Limits lim;
    lim.max_retries = 3;
    Session s(Negotiated{}, 5000, lim);
    s.start(0);
    EXPECT_TRUE(s.on_timeout(s.deadline() - 1).empty());  // not yet
    int64_t t = s.deadline();
    EXPECT_EQ(blocks(s.on_timeout(t)), std::vector<uint64_t>{1});
    int64_t first_gap = s.deadline() - t;
    t = s.deadline();
    EXPECT_EQ(blocks(s.on_timeout(t)), std::vector<uint64_t>{1});
    EXPECT_GT(s.deadline() - t, first_gap);  // backoff
    t = s.deadline();
    s.on_timeout(t);
    EXPECT_FALSE(s.failed());
    EXPECT_TRUE(s.on_timeout(s.deadline()).empty());
    EXPECT_TRUE(s.failed());
    EXPECT_EQ(s.retransmissions(), 3u);
}

TEST(TftpSession, ErrorFromTheClientEndsTheTransfer) {
    Session s(Negotiated{}, 5000, Limits{});
    s.start(0);
    s.on_error();
    EXPECT_TRUE(s.failed());
    EXPECT_TRUE(s.on_ack(1, ms).empty());
    EXPECT_TRUE(s.on_timeout(s.deadline()).empty());
}

TEST(TftpSession, ClientTimeoutOptionBoundsTheRetransmissionTimer) {
    Negotiated n;
    n.timeout_s = 1;
    n.oack = {{"timeout", "1"}};
    Limits lim;
    lim.initial_rto_ns = 5'000'000'000;
    Session s(n, 10, lim);
    s.start(0);
    EXPECT_LE(s.deadline(), 1'000'000'000);
}

TEST(TftpSession, AdaptiveTimerFollowsTheRoundTrip) {
    Limits lim;
    Session s(Negotiated{}, 512 * 100, lim);
    s.start(0);
    int64_t t = 0;
    for (uint16_t b = 1; b <= 20; b++) {
        t += 2 * ms;  // 2 ms round trips
        s.on_ack(b, t);
    }
    EXPECT_LE(s.deadline() - t, 10 * ms);  // 2 ms + 4 x a deviation near 0, at least the 10 ms floor
    EXPECT_GE(s.deadline() - t, lim.min_rto_ns);
}

TEST(TftpSession, AStallRaisesTheTimerAboveItSoTheNextOneIsNotRetransmitted) {
    // 1 ms round trips, then a client that falls behind (a loaded CPU): two
    // ACKs in a row take 40 ms. The first stall is measured; the second must
    // not draw a retransmission. 4 x smoothed RTT alone gave 23 ms here; with
    // the mean deviation (RFC 6298) the timer is above 40 ms.
    Limits lim;
    Session s(Negotiated{}, 512 * 100, lim);
    s.start(0);
    int64_t t = 0;
    for (uint16_t b = 1; b <= 9; b++) {
        t += 1 * ms;
        s.on_ack(b, t);
    }
    t += 40 * ms;
    s.on_ack(10, t);
    EXPECT_GT(s.deadline() - t, 40 * ms);
    EXPECT_TRUE(s.on_timeout(t + 40 * ms).empty()) << "the second 40 ms stall would be retransmitted";
    EXPECT_EQ(s.retransmissions(), 0u);
}

TEST(TftpSession, AnOackIsSentAgainOnlyAfterASecond) {
    Negotiated n;
    n.blksize = 1408;
    n.oack = {{"blksize", "1408"}};
    Session s(n, 1408 * 10, Limits{});
    auto out = s.start(0);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].kind, Session::Send::Oack);
    EXPECT_TRUE(s.on_timeout(999 * ms).empty()) << "an OACK repeated within a second (atftp 0.8 aborts on one)";
    EXPECT_EQ(s.on_timeout(1000 * ms).size(), 1u);
}

TEST(TftpSession, WindowsizeSendsWindowsAndResendsAfterAPartialAck) {
    Negotiated n;
    n.windowsize = 4;
    n.oack = {{"windowsize", "4"}};        // a window comes with an OACK
    Session s(n, 512 * 10 + 1, Limits{});  // 11 blocks
    EXPECT_EQ(blocks(s.start(0)), std::vector<uint64_t>{0});
    EXPECT_EQ(blocks(s.on_ack(0, 0)), (std::vector<uint64_t>{1, 2, 3, 4}));
    EXPECT_EQ(blocks(s.on_ack(4, ms)), (std::vector<uint64_t>{5, 6, 7, 8}));
    // Block 7 was lost: the client acknowledges 6, we send again from 7.
    EXPECT_EQ(blocks(s.on_ack(6, 2 * ms)), (std::vector<uint64_t>{7, 8, 9, 10}));
    EXPECT_EQ(blocks(s.on_ack(10, 3 * ms)), std::vector<uint64_t>{11});
    s.on_ack(11, 4 * ms);
    EXPECT_TRUE(s.done());
}

TEST(TftpSession, BlockNumbersRollOverPast65535) {
    uint64_t nblocks = 70000;
    Session s(Negotiated{}, 512 * (nblocks - 1) + 100, Limits{});
    s.start(0);
    for (uint64_t b = 1; b < nblocks; b++) {
        auto out = s.on_ack(Session::wire(b), int64_t(b) * 1000);
        ASSERT_EQ(out.size(), 1u) << b;
        ASSERT_EQ(out[0].block, b + 1);
    }
    EXPECT_EQ(Session::wire(65536), 0);
    EXPECT_EQ(Session::wire(65537), 1);
    EXPECT_EQ(s.offset_of(65537), 65536ull * 512);
    s.on_ack(Session::wire(nblocks), 1);
    EXPECT_TRUE(s.done());
}

// What a transfer sends until it gives up, driven by timeouts only (a
// client that never ACKs again): packets and DATA bytes (header included).
struct Sent {
    uint64_t oacks = 0, data_packets = 0, data_bytes = 0;
};
Sent drain(Session& s, std::vector<Session::Send> first) {
    Sent n;
    auto count = [&](const std::vector<Session::Send>& out) {
        for (auto& o : out) {
            if (o.kind == Session::Send::Oack) {
                n.oacks++;
            } else {
                n.data_packets++;
                n.data_bytes += 4 + s.length_of(o.block);
            }
        }
    };
    count(first);
    for (int i = 0; i < 1000 && !s.failed(); i++) count(s.on_timeout(s.deadline()));
    EXPECT_TRUE(s.failed()) << "the transfer never gave up";
    return n;
}

TEST(TftpAmplification, WindowsizeIsCappedInTheOack) {
    Limits lim;
    lim.max_blksize = 1468;
    auto n = negotiate(req_with({{"blksize", "1468"}, {"windowsize", "65535"}}), 40 << 20, lim);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(n->windowsize, 64);
    EXPECT_EQ(n->oack, (std::vector<std::pair<std::string, std::string>>{{"blksize", "1468"}, {"windowsize", "64"}}));
    // Smaller requests are answered as asked.
    EXPECT_EQ(negotiate(req_with({{"windowsize", "16"}}), 10, lim)->windowsize, 16);
}

TEST(TftpAmplification, AnUnacknowledgedRequestDrawsOnlyFourOacks) {
    // One spoofed RRQ with options: only the OACK, sent 1 + 3 times, no DATA.
    Limits lim;
    lim.max_blksize = 1468;
    auto n = negotiate(req_with({{"blksize", "1468"}, {"windowsize", "65535"}}), 40 << 20, lim);
    Session s(*n, 40 << 20, lim);
    Sent sent = drain(s, s.start(0));
    EXPECT_EQ(sent.data_packets, 0u);
    EXPECT_EQ(sent.oacks, 4u);
}

TEST(TftpAmplification, AnUnacknowledgedPlainRequestDrawsBlockOneFourTimes) {
    // Without options: block 1 (512 bytes), 1 + 3 times, never block 2.
    Limits lim;  // max_retries 8: not the bound before the first ACK
    Session s(Negotiated{}, 40 << 20, lim);
    Sent sent = drain(s, s.start(0));
    EXPECT_EQ(sent.data_packets, 4u);
    EXPECT_EQ(sent.data_bytes, 4u * 516);
}

TEST(TftpAmplification, AClientSilentAfterTheOackAckDrawsAboutTwoWindows) {
    // The case: windowsize 65535, ACK 0, then silence. Before the
    // cap this was 9 windows of 65535 blocks (the whole 40 MB file, 9 times).
    Limits lim;
    lim.max_blksize = 1468;
    auto n = negotiate(req_with({{"blksize", "1468"}, {"windowsize", "65535"}}), 40 << 20, lim);
    Session s(*n, 40 << 20, lim);
    s.start(0);
    Sent sent = drain(s, s.on_ack(0, ms));
    // 64 + 32 + 16 + 8 + 4 + 2 + 1 + 1 + 1 = 129 blocks.
    EXPECT_LE(sent.data_packets, 2u * 64 + lim.max_retries);
    EXPECT_LE(sent.data_bytes, (2u * 64 + lim.max_retries) * (4 + 1468));
    EXPECT_EQ(sent.oacks, 0u);
}

TEST(TftpAmplification, AfterAnAckTheFullWindowComesBack) {
    // A timeout halves the window sent again; the next ACK restores it.
    Negotiated n;
    n.windowsize = 8;
    n.oack = {{"windowsize", "8"}};
    Session s(n, 512 * 100, Limits{});
    s.start(0);
    EXPECT_EQ(s.on_ack(0, ms).size(), 8u);
    EXPECT_EQ(blocks(s.on_timeout(s.deadline())), (std::vector<uint64_t>{1, 2, 3, 4}));
    EXPECT_EQ(blocks(s.on_timeout(s.deadline())), (std::vector<uint64_t>{1, 2}));
    EXPECT_EQ(blocks(s.on_ack(2, s.deadline() - 1)), (std::vector<uint64_t>{3, 4, 5, 6, 7, 8, 9, 10}));
}

TEST(TftpAmplification, AnAckForTheWholeWindowAfterAHalfResendIsTaken) {
    // Seen with OVMF (EDK2 TFTP, windowsize 4) under TCG: blocks 1-4 sent, a
    // timeout resends 1-2 only, then the client's ACK 4 for the whole first
    // window arrives. It must move the transfer on, not be ignored as "not
    // sent yet" until the retries run out.
    Negotiated n;
    n.windowsize = 4;
    n.oack = {{"windowsize", "4"}};
    Session s(n, 512 * 100, Limits{});
    s.start(0);
    EXPECT_EQ(s.on_ack(0, ms).size(), 4u);
    EXPECT_EQ(blocks(s.on_timeout(s.deadline())), (std::vector<uint64_t>{1, 2}));
    EXPECT_EQ(blocks(s.on_ack(4, s.deadline() - 1)), (std::vector<uint64_t>{5, 6, 7, 8}));
    EXPECT_TRUE(s.on_ack(9, s.deadline() - 1).empty());  // never sent: still ignored
}

TEST(SafeOpen, NormalisesClientPaths) {
    EXPECT_EQ(*normalize_path("/pxelinux.0"), "pxelinux.0");
    EXPECT_EQ(*normalize_path("\\boot\\x64\\wdsnbp.com"), "boot/x64/wdsnbp.com");
    EXPECT_EQ(*normalize_path("//a//b"), "a//b");
    EXPECT_FALSE(normalize_path("../etc/passwd").ok());
    EXPECT_FALSE(normalize_path("a/../../b").ok());
    EXPECT_FALSE(normalize_path("a\\..\\..\\b").ok());
    EXPECT_FALSE(normalize_path("/").ok());
    EXPECT_FALSE(normalize_path(std::string("a\0b", 3)).ok());
    EXPECT_TRUE(normalize_path("a..b/..c").ok());  // only whole '..' components
}

TEST(SafeOpen, KernelKeepsResolutionBeneathTheRoot) {
    char t[] = "/tmp/pxed-safeopen.XXXXXX";
    std::string root = mkdtemp(t);
    std::filesystem::create_directories(root + "/sub");
    std::ofstream(root + "/sub/ok") << "hello";
    chmod((root + "/sub/ok").c_str(), 0644);
    std::ofstream(root + "/secret") << "x";
    chmod((root + "/secret").c_str(), 0600);
    symlink("/etc/passwd", (root + "/out").c_str());
    symlink("sub/ok", (root + "/in").c_str());
    symlink("../../../../etc/passwd", (root + "/sub/up").c_str());
    mkfifo((root + "/fifo").c_str(), 0644);
    int rfd = open(root.c_str(), O_PATH | O_DIRECTORY);
    ASSERT_GE(rfd, 0);

    auto ok = open_beneath(rfd, "/sub/ok");
    ASSERT_TRUE(ok.ok()) << ok.error().message;
    EXPECT_EQ(ok->size, 5u);
    close(ok->fd);
    auto in = open_beneath(rfd, "in");  // a symlink that stays inside is fine
    ASSERT_TRUE(in.ok()) << in.error().message;
    close(in->fd);
    for (const char* bad : {"out", "sub/up", "fifo", "sub", "secret"}) {
        auto r = open_beneath(rfd, bad);
        EXPECT_FALSE(r.ok()) << bad;
        if (!r.ok()) {
            EXPECT_EQ(r.error().kind, OpenErrorKind::AccessDenied) << bad << ": " << r.error().message;
        }
    }
    EXPECT_EQ(open_beneath(rfd, "missing").error().kind, OpenErrorKind::NotFound);
    close(rfd);
    std::filesystem::remove_all(root);
}
