// Reservations whose address another client holds (issue 14 items 4 and 9):
// a reservation added by a reload for a leased address is deferred, not
// enforced by evicting the other client; a DECLINE of a reserved address
// holds the reservation off. The reserved host gets a dynamic address
// meanwhile, as in Kea and dnsmasq.
#include <gtest/gtest.h>

#include "config/config.h"
#include "dhcp/engine.h"
#include "support/dhcp_request.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::dhcp;

namespace {

const std::string kBase = test::toml::server("eth0") +
                          test::toml::lan_subnet("192.0.2.102", "lease-time = 600\n", /*router=*/false) +
                          test::toml::reservation("52:54:00:00:00:0a", "192.0.2.10");

// The reload: a reservation for an address of the pool.
const std::string kReserved = test::toml::reservation("52:54:00:00:00:0b", "192.0.2.100");

const Ipv4 kServer(192, 0, 2, 1);
const char* kHolder = "52:54:00:00:01:02";
const char* kReservedMac = "52:54:00:00:00:0b";
const Ipv4 kAddr(192, 0, 2, 100);

class ReservationConflictTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto a = config::parse_toml(kBase, "a.toml");
        auto b = config::parse_toml(kBase + kReserved, "b.toml");
        ASSERT_TRUE(a.ok()) << a.error();
        ASSERT_TRUE(b.ok()) << b.error();
        before_ = std::move(a.value());
        after_ = std::move(b.value());
        engine_ = std::make_unique<Engine>(before_);
    }
    Packet req(MessageType t, const std::string& mac) { return test::request(t, mac, 7); }
    Outcome handle(const Packet& p, int64_t now) { return engine_->handle(p, RxInfo{kServer}, now); }
    Ipv4 lease(const std::string& mac, int64_t now) {
        auto o = handle(req(MessageType::Discover, mac), now);
        EXPECT_TRUE(o.reply) << o.note;
        if (!o.reply) return Ipv4();
        auto r = req(MessageType::Request, mac);
        r.options.set_ip(opt::ServerId, kServer);
        r.options.set_ip(opt::RequestedIp, o.reply->packet.yiaddr);
        auto a = handle(r, now);
        EXPECT_TRUE(a.reply && a.reply->packet.message_type() == MessageType::Ack) << a.note;
        return o.reply->packet.yiaddr;
    }
    // The holder got kAddr before the reservation existed; then the reload.
    void holder_then_reload() {
        ASSERT_EQ(lease(kHolder, 1000), kAddr);
        engine_->set_config(after_);
    }
    Ipv4 offered(const std::string& mac, int64_t now) {
        auto o = handle(req(MessageType::Discover, mac), now);
        return o.reply ? o.reply->packet.yiaddr : Ipv4();
    }

    config::Config before_, after_;
    std::unique_ptr<Engine> engine_;
};

}  // namespace

TEST_F(ReservationConflictTest, ReservationForALeasedAddressIsDeferredAndTheHolderKeepsIt) {
    holder_then_reload();
    auto c = engine_->conflict_for(*after_.reservation_for(*Mac::parse(kReservedMac)), 1001);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->holder, *Mac::parse(kHolder));
    EXPECT_EQ(c->state, lease::State::Bound);
    EXPECT_EQ(c->until, 1600);
    EXPECT_EQ(c->describe(), "192.0.2.100 is leased to 52:54:00:00:01:02 until 1970-01-01T00:26:40Z; "
                             "this host gets a dynamic address meanwhile");
    ASSERT_EQ(engine_->reservation_conflicts(1001).size(), 1u);

    // The reserved host gets a dynamic address; the holder keeps its lease.
    Ipv4 dyn = lease(kReservedMac, 1001);
    EXPECT_NE(dyn, kAddr);
    EXPECT_GE(dyn, Ipv4(192, 0, 2, 101));
    auto* held = engine_->leases().by_ip(kAddr);
    ASSERT_TRUE(held);
    EXPECT_EQ(held->mac, *Mac::parse(kHolder));
    EXPECT_EQ(held->state, lease::State::Bound);
    // Asking for the reserved address is refused while the conflict lasts.
    auto ir = req(MessageType::Request, kReservedMac);
    ir.options.set_ip(opt::RequestedIp, kAddr);
    auto n = handle(ir, 1002);
    ASSERT_TRUE(n.reply);
    EXPECT_EQ(n.reply->packet.message_type(), MessageType::Nak);
    EXPECT_EQ(engine_->leases().by_ip(kAddr)->mac, *Mac::parse(kHolder));
}

TEST_F(ReservationConflictTest, HolderRefusedAtRenewalThenTheReservationTakesEffect) {
    holder_then_reload();
    auto renew = req(MessageType::Request, kHolder);
    renew.ciaddr = kAddr;
    auto n = handle(renew, 1300);
    ASSERT_TRUE(n.reply);
    EXPECT_EQ(n.reply->packet.message_type(), MessageType::Nak);
    EXPECT_TRUE(n.reservations_changed);
    EXPECT_TRUE(engine_->reservation_conflicts(1300).empty());
    EXPECT_EQ(offered(kReservedMac, 1301), kAddr);
    EXPECT_NE(lease(kHolder, 1302), kAddr);
}

TEST_F(ReservationConflictTest, ReleaseOrExpiryEndsTheConflict) {
    holder_then_reload();
    EXPECT_FALSE(engine_->reservation_conflicts(1599).empty());
    EXPECT_TRUE(engine_->reservation_conflicts(1600).empty());  // the holder's lease ended
    EXPECT_EQ(offered(kReservedMac, 1600), kAddr);

    SetUp();
    holder_then_reload();
    auto rel = req(MessageType::Release, kHolder);
    rel.ciaddr = kAddr;
    auto o = handle(rel, 1100);
    EXPECT_TRUE(o.reservations_changed);
    EXPECT_TRUE(engine_->reservation_conflicts(1100).empty());
    EXPECT_EQ(offered(kReservedMac, 1101), kAddr);
}

TEST_F(ReservationConflictTest, DeclineOfAReservedAddressHoldsTheReservationOff) {
    // The kernel answered 52:54:00:00:00:0a with 192.0.2.10: no lease in the table.
    const char* mac = "52:54:00:00:00:0a";
    const Ipv4 reserved(192, 0, 2, 10);
    ASSERT_FALSE(engine_->leases().by_ip(reserved));
    auto dec = req(MessageType::Decline, mac);
    dec.options.set_ip(opt::RequestedIp, reserved);
    auto o = handle(dec, 1000);
    EXPECT_FALSE(o.reply);
    EXPECT_NE(o.drop, Drop::NotOurs) << o.note;
    EXPECT_TRUE(o.reservations_changed);
    EXPECT_NE(o.warning.find("192.0.2.10"), std::string::npos) << o.warning;
    EXPECT_NE(o.warning.find("another host on the wire"), std::string::npos) << o.warning;
    EXPECT_NE(o.warning.find(mac), std::string::npos) << o.warning;

    auto c = engine_->conflict_for(*before_.reservation_for(*Mac::parse(mac)), 1001);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->state, lease::State::Declined);
    EXPECT_EQ(c->until, 1000 + Engine::kReservedDeclineHoldSeconds);
    EXPECT_NE(c->describe().find("192.0.2.10 was declined"), std::string::npos) << c->describe();
    // Meanwhile a dynamic address (dnsmasq and Kea both fall back to the pool).
    Ipv4 dyn = lease(mac, 1001);
    EXPECT_GE(dyn, Ipv4(192, 0, 2, 100));
    EXPECT_LE(dyn, Ipv4(192, 0, 2, 102));
    // After the hold, the reservation is back.
    EXPECT_TRUE(engine_->reservation_conflicts(1000 + Engine::kReservedDeclineHoldSeconds).empty());
    EXPECT_EQ(offered(mac, 1000 + Engine::kReservedDeclineHoldSeconds), reserved);
}

TEST_F(ReservationConflictTest, DeclineOfADeferredReservationLeavesTheHolderAlone) {
    holder_then_reload();
    auto dec = req(MessageType::Decline, kReservedMac);
    dec.options.set_ip(opt::RequestedIp, kAddr);
    handle(dec, 1001);
    auto* held = engine_->leases().by_ip(kAddr);
    ASSERT_TRUE(held);
    EXPECT_EQ(held->mac, *Mac::parse(kHolder));
    EXPECT_EQ(held->state, lease::State::Bound);
}

TEST_F(ReservationConflictTest, DeferredReservationGetsNothingWhenThePoolIsFull) {
    holder_then_reload();
    // .100 is the holder's; the other two pool addresses are bound too.
    EXPECT_EQ(lease("52:54:00:00:01:03", 1001), Ipv4(192, 0, 2, 101));
    EXPECT_EQ(lease("52:54:00:00:01:04", 1001), Ipv4(192, 0, 2, 102));
    auto o = handle(req(MessageType::Discover, kReservedMac), 1002);
    EXPECT_FALSE(o.reply);
    EXPECT_EQ(o.drop, Drop::PoolExhausted);
    EXPECT_EQ(engine_->leases().by_ip(kAddr)->mac, *Mac::parse(kHolder));
}
