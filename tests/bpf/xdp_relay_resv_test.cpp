// Reservations by option 82 (TOML circuit-id / remote-id) in the kernel
// (BPF_PROG_TEST_RUN): a request from any MAC whose circuit id (then remote
// id) has a reservation is answered from the relay_reservations map with
// the daemon's reply, byte for byte, option 82 echoed; classes that test
// the id are decided for the reservation's own id.
#include "relay_fixture.h"

using namespace pxed;
using namespace pxed::dhcp;
using namespace relay_test;
using pxed::test::Frame;

namespace {

const std::string kPorts = kBase +
                           "\n[[reservation]]\ncircuit-id = \"sw1/7\"\nip = \"198.51.100.7\"\nhostname = \"port7\"\n"
                           "\n[[reservation]]\nremote-id = \"rack2\"\nip = \"198.51.100.9\"\n"
                           "\n[[reservation]]\ncircuit-id-hex = \"00:04:00:14\"\nip = \"192.0.2.20\"\n"
                           "\n[[reservation]]\nmac = \"52:54:00:00:00:ee\"\nhostname = \"hosted\"\n";
const Ipv4 kPort7(198, 51, 100, 7);
const Mac kAnyMac = *Mac::parse("52:54:00:00:07:07");
const Mac kHosted = *Mac::parse("52:54:00:00:00:ee");
const std::vector<uint8_t> kLanPort = {1, 4, 0, 4, 0, 0x14};

class XdpRelayResv : public XdpRelay {
protected:
    void SetUp() override {
        XdpTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        load(kPorts);
    }
};

}  // namespace

TEST_F(XdpRelayResv, ACircuitIdsReservationIsAnsweredInTheKernel) {
    expect_same_answer(request(MessageType::Discover, kAnyMac, kGiaddr, agent("sw1/7")), MessageType::Offer);
    expect_same_answer(selecting(kAnyMac, kGiaddr, kPort7, kGiaddr, agent("sw1/7")), MessageType::Ack);
    auto reboot = request(MessageType::Request, kAnyMac, kGiaddr, agent("sw1/7"));  // INIT-REBOOT
    reboot.options.set_ip(opt::RequestedIp, kPort7);
    expect_same_answer(reboot, MessageType::Ack);
    // Any MAC: that of whatever machine is on the port. (A fresh engine: the
    // one above holds the lease of the ACK it computed alongside; the daemon
    // of a kernel that answered holds none.)
    engine_ = std::make_unique<Engine>(cfg_);
    expect_same_answer(request(MessageType::Discover, *Mac::parse("52:54:00:00:07:08"), kGiaddr, agent("sw1/7")),
                       MessageType::Offer);
    EXPECT_EQ(stat(PXED_STAT_TX_OFFER), 2u);
    EXPECT_EQ(stat(PXED_STAT_TX_ACK), 2u);
    // The address asked for must be the reservation's.
    expect_pass(frame_of(selecting(kAnyMac, kGiaddr, Ipv4(198, 51, 100, 8), kGiaddr, agent("sw1/7"))),
                PXED_STAT_PASS_REQUESTED_IP);
}

TEST_F(XdpRelayResv, ARemoteIdsReservationCircuitIdFirst) {
    expect_same_answer(request(MessageType::Discover, kAnyMac, kGiaddr, agent("sw9/9", "rack2")), MessageType::Offer);
    expect_same_answer(selecting(kAnyMac, kGiaddr, Ipv4(198, 51, 100, 9), kGiaddr, agent("sw9/9", "rack2")),
                       MessageType::Ack);
    // Both have a reservation: the circuit id's.
    auto both = request(MessageType::Discover, kAnyMac, kGiaddr, agent("sw1/7", "rack2"));
    expect_same_answer(both, MessageType::Offer);
    auto k = run(frame_of(both));
    auto f = parse_udp_frame(k.out);
    ASSERT_TRUE(f);
    EXPECT_EQ(parse(std::vector<uint8_t>(f->payload.begin(), f->payload.end()))->yiaddr, kPort7);
}

TEST_F(XdpRelayResv, SnoopedOnTheLanAndOnlyFromTheReservationsSubnet) {
    // giaddr 0, a snooping switch's circuit id in hex: the LAN's reservation.
    expect_same_answer(request(MessageType::Discover, kAnyMac, Ipv4(), kLanPort), MessageType::Offer);
    // The LAN port's id relayed from 198.51.100.0/24, and the relayed port's on the LAN: passed.
    expect_pass(frame_of(request(MessageType::Discover, kAnyMac, kGiaddr, kLanPort)), PXED_STAT_PASS_WRONG_SUBNET);
    expect_pass(frame_of(request(MessageType::Discover, kAnyMac, Ipv4(), agent("sw1/7"))),
                PXED_STAT_PASS_WRONG_SUBNET);
    // No reservation for the id, or none at all.
    expect_pass(frame_of(request(MessageType::Discover, kAnyMac, kGiaddr, agent("sw1/8"))),
                PXED_STAT_PASS_NOT_RESERVED);
    expect_pass(frame_of(request(MessageType::Discover, kAnyMac, kGiaddr, {})), PXED_STAT_PASS_NOT_RESERVED);
}

TEST_F(XdpRelayResv, AHostEntryAndAMacsReservationComeFirst) {
    expect_pass(frame_of(request(MessageType::Discover, kHosted, kGiaddr, agent("sw1/7"))), PXED_STAT_PASS_DISABLED);
    auto d = engine_->handle(request(MessageType::Discover, kHosted, kGiaddr, agent("sw1/7")), RxInfo{kServerIp}, 1000);
    ASSERT_TRUE(d.reply) << d.note;
    EXPECT_NE(d.reply->packet.yiaddr, kPort7);
    // remote12's own reservation, whatever the port.
    auto r = request(MessageType::Discover, kRemote12, kGiaddr, agent("sw1/7"));
    expect_same_answer(r, MessageType::Offer);
}

TEST_F(XdpRelayResv, ClassesOnTheIdAreDecidedForTheReservationsOwnId) {
    load(kPorts + "\n[[class]]\nname = \"rack\"\nmatch = { circuit-id = \"sw1/7\" }\nboot-file = \"rack.0\"\n");
    auto port7 = request(MessageType::Discover, kAnyMac, kGiaddr, agent("sw1/7"));
    expect_same_answer(port7, MessageType::Offer);
    auto d = engine_->handle(port7, RxInfo{kServerIp}, 1000);
    EXPECT_EQ(d.reply->packet.file_str(), "rack.0");
    // rack2's reservation found by its remote id; the circuit id tested by
    // "rack" is another one, not known to the program: passed.
    expect_pass(frame_of(request(MessageType::Discover, kAnyMac, kGiaddr, agent("sw9/9", "rack2"))),
                PXED_STAT_PASS_UNDECIDED);
    // A MAC's reservation with option 82: its blobs are for requests without.
    expect_pass(frame_of(request(MessageType::Discover, kRemote12, kGiaddr, agent("sw1/7"))),
                PXED_STAT_PASS_RELAY_AGENT);
}

TEST_F(XdpRelayResv, AnAddressALeaseHoldsInTheDaemonIsLeftToIt) {
    load(kPorts, {kPort7});
    expect_pass(frame_of(request(MessageType::Discover, kAnyMac, kGiaddr, agent("sw1/7"))),
                PXED_STAT_PASS_NOT_RESERVED);
    expect_same_answer(request(MessageType::Discover, kAnyMac, kGiaddr, agent("sw9/9", "rack2")), MessageType::Offer);
}

TEST_F(XdpRelayResv, HostileSubOptionsNeverFindAReservationWrongly) {
    std::vector<std::vector<uint8_t>> cases = {
        {1, 9, 's', 'w', '1', '/', '7'},                     // runs past the option: no id read
        {1, 4, 's', 'w', '1', '/', 2, 5, 'r', 'a'},          // a prefix of the id, then a cut remote id
        {1, 0, 2, 0},                                        // empty ids
        {0, 0, 1, 6, 's', 'w', '1', '/', '7', 'x'},          // a longer id
        std::vector<uint8_t>(64, 0x01),                      // 1,1,1,1,...: circuit id "\1"
    };
    for (auto& o82 : cases) {
        SCOPED_TRACE(o82.size());
        expect_pass(frame_of(request(MessageType::Discover, kAnyMac, kGiaddr, o82)), PXED_STAT_PASS_NOT_RESERVED);
        auto d = engine_->handle(request(MessageType::Discover, kAnyMac, kGiaddr, o82), RxInfo{kServerIp}, 1000);
        ASSERT_TRUE(d.reply) << d.note;
        EXPECT_NE(d.reply->packet.yiaddr, kPort7);
    }
    // After a malformed sub-option the remote id is not read (the daemon's rule).
    expect_pass(frame_of(request(MessageType::Discover, kAnyMac, kGiaddr, {3, 9, 'x', 2, 5, 'r', 'a', 'c', 'k', '2'})),
                PXED_STAT_PASS_NOT_RESERVED);
    auto good = frame_of(request(MessageType::Discover, kAnyMac, kGiaddr, agent("sw1/7")));
    ASSERT_EQ(run(good).verdict, uint32_t(XDP_TX));
    for (size_t n = 14; n < good.size(); n++)
        EXPECT_EQ(run(Frame(good.begin(), good.begin() + long(n))).verdict, uint32_t(XDP_PASS)) << "cut at " << n;
}
