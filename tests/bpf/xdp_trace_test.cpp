// The XDP program's boot trace (BPF_PROG_TEST_RUN): every verdict on a
// request with a readable BOOTP header lands in its client's ring in the
// trace map, with what the program saw; nothing when the trace is off, and
// nothing for frames that have no client.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <set>

#include "bpf/map_sync.h"
#include "bpf/trace_map.h"
#include "bpf/xdp_program.h"
#include "config/config.h"
#include "dhcp/frame.h"
#include "dhcp/packet.h"
#include "support/bpf_run.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::dhcp;
using pxed::test::Frame;

namespace {

namespace toml = pxed::test::toml;

const Mac kServerMac = *Mac::parse("02:00:00:00:00:01");
const Ipv4 kServerIp(192, 0, 2, 1);
const Mac kReserved = *Mac::parse("52:54:00:00:00:0b");
const Mac kStranger = *Mac::parse("52:54:00:00:00:77");

Frame frame_of(const Packet& p) {
    UdpEndpoints ep;
    ep.src_mac = p.mac();
    ep.dst_mac = *Mac::parse("ff:ff:ff:ff:ff:ff");
    ep.src_ip = Ipv4();
    ep.dst_ip = Ipv4(0xffffffff);
    ep.src_port = 68;
    ep.dst_port = 67;
    return build_udp_frame(ep, serialize(p));
}

Packet request(MessageType t, const Mac& mac, uint32_t xid) {
    Packet p;
    p.xid = xid;
    p.set_mac(mac);
    p.options.set_u8(opt::MessageType, uint8_t(t));
    p.options.set_u16(opt::ClientArch, 7);
    p.options.set_str(opt::VendorClass, "PXEClient:Arch:00007:UNDI:003016");
    return p;
}

class XdpTrace : public pxed::test::XdpTest {
protected:
    void SetUp() override {
        XdpTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        auto c = config::parse_toml(toml::server("test0") + toml::lan_subnet("192.0.2.200", "boot = { any = \"pxelinux.0\" }\n") +
                                        toml::reservation("52:54:00:00:00:0b", "192.0.2.11"),
                                    "trace.toml");
        ASSERT_TRUE(c.ok()) << c.error();
        cfg_ = std::move(c.value());
        sync(0, 0);
    }
    void sync(uint32_t rate, uint32_t burst) {
        auto rep = bpf::sync_maps(*prog_, cfg_, bpf::IfaceView{"test0", 7, kServerMac, kServerIp, {}},
                                  bpf::RateLimit{rate, burst});
        ASSERT_TRUE(rep.ok()) << rep.error();
    }
    // The client's events, oldest first.
    std::vector<pxed_trace_event> events_of(const Mac& m) {
        std::vector<pxed_trace_event> out;
        auto ring = bpf::trace_of(prog_->trace_fd(), m);
        if (!ring) return out;
        uint32_t n = ring->next, first = n > PXED_TRACE_EVENTS ? n - PXED_TRACE_EVENTS : 0;
        for (uint32_t i = first; i < n; i++) out.push_back(ring->ev[i % PXED_TRACE_EVENTS]);
        return out;
    }
    size_t clients() {
        size_t n = 0;
        auto r = bpf::for_each_trace(prog_->trace_fd(), [&](const Mac&, const pxed_trace_ring&) { n++; });
        EXPECT_TRUE(r.ok()) << r.error();
        return n;
    }
    config::Config cfg_;
};

}  // namespace

TEST_F(XdpTrace, KernelAnswersAreRecordedWithWhatTheProgramSaw) {
    ASSERT_EQ(run(frame_of(request(MessageType::Discover, kReserved, 0x0a0b0c0d))).verdict, uint32_t(XDP_TX));
    auto req = request(MessageType::Request, kReserved, 0x0a0b0c0e);
    req.options.set_ip(opt::ServerId, kServerIp);
    req.options.set_ip(opt::RequestedIp, Ipv4(192, 0, 2, 11));
    ASSERT_EQ(run(frame_of(req)).verdict, uint32_t(XDP_TX));

    auto ev = events_of(kReserved);
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[0].verdict, PXED_TRACE_TX);
    EXPECT_EQ(ev[0].reason, PXED_STAT_TX_OFFER);
    EXPECT_EQ(ev[0].msg_type, uint8_t(MessageType::Discover));
    EXPECT_EQ(ev[1].reason, PXED_STAT_TX_ACK);
    EXPECT_EQ(ev[1].msg_type, uint8_t(MessageType::Request));
    EXPECT_LE(ev[0].ts_ns, ev[1].ts_ns);
    // As the daemon's trace shows it.
    auto d = bpf::to_dhcp_event(ev[0], "test0");
    EXPECT_EQ(d.path, trace::Path::Kernel);
    EXPECT_EQ(d.verdict, trace::Verdict::Answered);
    EXPECT_EQ(d.reply, uint8_t(MessageType::Offer));
    EXPECT_EQ(d.xid, 0x0a0b0c0du);
    EXPECT_EQ(d.address, Ipv4(192, 0, 2, 11));
    EXPECT_EQ(d.arch, uint16_t(7));
    EXPECT_EQ(d.vendor_class, "PXEClient");
    EXPECT_EQ(d.reason, "tx_offer");
    EXPECT_EQ(bpf::to_dhcp_event(ev[1], "test0").reply, uint8_t(MessageType::Ack));
}

TEST_F(XdpTrace, PassesAndRateLimitDropsAreRecordedWithTheirReason) {
    sync(1, 1);  // one reply, then the bucket is empty
    auto f = frame_of(request(MessageType::Discover, kReserved, 1));
    ASSERT_EQ(run(f).verdict, uint32_t(XDP_TX));
    ASSERT_EQ(run(f).verdict, uint32_t(XDP_DROP));
    auto ev = events_of(kReserved);
    ASSERT_EQ(ev.size(), 2u);
    EXPECT_EQ(ev[1].verdict, PXED_TRACE_DROP);
    EXPECT_EQ(bpf::to_dhcp_event(ev[1], "test0").reason, "drop_rate_limit");
    EXPECT_EQ(bpf::to_dhcp_event(ev[1], "test0").verdict, trace::Verdict::Dropped);

    ASSERT_EQ(run(frame_of(request(MessageType::Discover, kStranger, 2))).verdict, uint32_t(XDP_PASS));
    auto s = events_of(kStranger);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].verdict, PXED_TRACE_PASS);
    EXPECT_EQ(bpf::to_dhcp_event(s[0], "test0").reason, "pass_not_reserved");
    // An option list that runs past the frame: passed as malformed, still
    // filed under its chaddr (the BOOTP header was read).
    auto bad = frame_of(request(MessageType::Discover, kStranger, 3));
    ASSERT_EQ(bad[14 + 20 + 8 + 240], 53);  // the first option: 53
    bad[14 + 20 + 8 + 241] = 250;           // its length runs past the end
    run(bad);
    s = events_of(kStranger);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[1].verdict, PXED_TRACE_PASS);
    EXPECT_EQ(s[1].reason, PXED_STAT_PASS_MALFORMED);
    EXPECT_EQ(s[1].xid, htonl(3));
}

TEST_F(XdpTrace, FramesWithoutAClientAreNotRecorded) {
    Frame arp(60, 0);
    arp[12] = 0x08, arp[13] = 0x06;
    run(arp);
    auto f = frame_of(request(MessageType::Discover, kStranger, 4));
    Frame truncated(f.begin(), f.begin() + 14 + 20 + 8 + 100);  // no whole BOOTP header
    run(truncated);
    EXPECT_EQ(clients(), 0u);
}

TEST_F(XdpTrace, TheRingKeepsTheLatestEvents) {
    for (uint32_t x = 1; x <= PXED_TRACE_EVENTS + 5; x++) run(frame_of(request(MessageType::Discover, kStranger, x)));
    auto ring = bpf::trace_of(prog_->trace_fd(), kStranger);
    ASSERT_TRUE(ring);
    EXPECT_EQ(ring->next, PXED_TRACE_EVENTS + 5);
    auto ev = events_of(kStranger);
    ASSERT_EQ(ev.size(), size_t(PXED_TRACE_EVENTS));
    EXPECT_EQ(ntohl(ev.front().xid), 6u);
    EXPECT_EQ(ntohl(ev.back().xid), PXED_TRACE_EVENTS + 5);
}

TEST_F(XdpTrace, NothingIsRecordedWhenTheTraceIsOff) {
    cfg_.boot_trace = false;
    sync(0, 0);
    ASSERT_EQ(run(frame_of(request(MessageType::Discover, kReserved, 5))).verdict, uint32_t(XDP_TX));
    run(frame_of(request(MessageType::Discover, kStranger, 6)));
    EXPECT_EQ(clients(), 0u);
}

// The daemon reads the map in parts (a bounded pause per second): a walk
// in batches of two sees each of five clients once and ends at the end.
TEST_F(XdpTrace, TheMapIsReadInBoundedParts) {
    for (int i = 0; i < 5; i++) {
        Mac m = kStranger;
        m.b[5] = uint8_t(0x70 + i);
        run(frame_of(request(MessageType::Discover, m, uint32_t(i))));
    }
    std::optional<Mac> cursor;
    std::set<uint64_t> seen;
    int batches = 0;
    do {
        size_t n = 0;
        auto r = bpf::trace_batch(prog_->trace_fd(), cursor, 2, [&](const Mac& m, const pxed_trace_ring&) {
            seen.insert(m.key());
            n++;
        });
        ASSERT_TRUE(r.ok()) << r.error();
        EXPECT_LE(n, 2u);
        batches++;
    } while (cursor && batches < 10);
    EXPECT_EQ(seen.size(), 5u);
    EXPECT_EQ(batches, 3);
}
