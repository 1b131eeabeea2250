#include <gtest/gtest.h>

#include "config/config.h"
#include "dhcp/engine.h"
#include "support/dhcp_request.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::dhcp;

namespace {

const std::string kToml =
    test::toml::server("eth0") +
    test::toml::lan_subnet("192.0.2.102",
                           "dns = [\"192.0.2.53\"]\n"
                           "lease-time = 600\n" + test::toml::boot4("pxelinux.0", "bootnetx64.efi",
                                                                    "http://192.0.2.1/boot.efi",
                                                                    "http://192.0.2.1/boot.ipxe")) +
    test::toml::relayed_subnet("198.51.100.10", "198.51.100.20") + test::toml::node10();

const Ipv4 kServer(192, 0, 2, 1);

class EngineTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto c = config::parse_toml(kToml, "test.toml");
        ASSERT_TRUE(c.ok()) << c.error();
        cfg_ = std::move(c.value());
        engine_ = std::make_unique<Engine>(cfg_);
    }
    Packet req(MessageType t, const std::string& mac, uint32_t xid = 1) { return test::request(t, mac, xid); }
    Outcome handle(const Packet& p, int64_t now = 1000) {
        return engine_->handle(p, RxInfo{kServer, Ipv4Net{kServer, 24}}, now);
    }
    Packet offer_then_request(const std::string& mac, int64_t now = 1000) {
        auto o = handle(req(MessageType::Discover, mac), now);
        EXPECT_TRUE(o.reply);
        auto r = req(MessageType::Request, mac);
        r.options.set_ip(opt::ServerId, kServer);
        r.options.set_ip(opt::RequestedIp, o.reply->packet.yiaddr);
        auto a = handle(r, now);
        EXPECT_TRUE(a.reply);
        return a.reply->packet;
    }

    config::Config cfg_;
    std::unique_ptr<Engine> engine_;
};

}  // namespace

TEST_F(EngineTest, DiscoverGetsOfferWithOptions) {
    auto p = req(MessageType::Discover, "52:54:00:00:01:01", 0x42);
    p.flags = kFlagBroadcast;
    auto o = handle(p);
    ASSERT_TRUE(o.reply);
    const Packet& r = o.reply->packet;
    EXPECT_EQ(r.op, 2);
    EXPECT_EQ(r.xid, 0x42u);
    EXPECT_EQ(r.message_type(), MessageType::Offer);
    EXPECT_EQ(r.yiaddr, Ipv4(192, 0, 2, 100));
    EXPECT_EQ(r.options.get_ip(opt::ServerId), kServer);
    EXPECT_EQ(r.options.get_u32(opt::LeaseTime), 600u);
    EXPECT_EQ(r.options.get_u32(opt::RenewalT1), 300u);
    EXPECT_EQ(r.options.get_u32(opt::RebindingT2), 525u);
    EXPECT_EQ(r.options.get_u32(opt::SubnetMask), 0xffffff00u);
    EXPECT_EQ(r.options.get_ip(opt::Router), Ipv4(192, 0, 2, 1));
    EXPECT_EQ(r.file_str(), "pxelinux.0");
    EXPECT_EQ(r.siaddr, kServer);
    EXPECT_EQ(o.reply->dest, Dest::Broadcast);
    // The offer is held, not leased.
    auto* l = engine_->leases().by_ip(Ipv4(192, 0, 2, 100));
    ASSERT_TRUE(l);
    EXPECT_EQ(l->state, lease::State::Offered);
}

TEST_F(EngineTest, UnicastToChaddrWithoutBroadcastFlag) {
    auto o = handle(req(MessageType::Discover, "52:54:00:00:01:01"));
    ASSERT_TRUE(o.reply);
    EXPECT_EQ(o.reply->dest, Dest::UnicastChaddr);
    EXPECT_EQ(o.reply->dst_ip, o.reply->packet.yiaddr);
}

TEST_F(EngineTest, SelectingRequestIsAckedAndBound) {
    auto ack = offer_then_request("52:54:00:00:01:01");
    EXPECT_EQ(ack.message_type(), MessageType::Ack);
    auto* l = engine_->leases().by_ip(ack.yiaddr);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->state, lease::State::Bound);
    EXPECT_EQ(l->expires, 1000 + 600);
}

TEST_F(EngineTest, RequestForAnotherServerDropsTheOffer) {
    auto o = handle(req(MessageType::Discover, "52:54:00:00:01:01"));
    auto r = req(MessageType::Request, "52:54:00:00:01:01");
    r.options.set_ip(opt::ServerId, Ipv4(192, 0, 2, 2));
    r.options.set_ip(opt::RequestedIp, o.reply->packet.yiaddr);
    auto out = handle(r);
    EXPECT_FALSE(out.reply);
    EXPECT_EQ(out.drop, Drop::OtherServer);
    EXPECT_EQ(engine_->leases().by_ip(o.reply->packet.yiaddr), nullptr);
}

TEST_F(EngineTest, WithASharedStoreTheAddressAnotherServerIsTakingStaysHeld) {
    engine_->set_shared_store(true);
    auto o = handle(req(MessageType::Discover, "52:54:00:00:01:01"));
    Ipv4 offered = o.reply->packet.yiaddr;
    auto r = req(MessageType::Request, "52:54:00:00:01:01");
    r.options.set_ip(opt::ServerId, Ipv4(192, 0, 2, 2));
    r.options.set_ip(opt::RequestedIp, offered);
    EXPECT_EQ(handle(r).drop, Drop::OtherServer);
    ASSERT_NE(engine_->leases().by_ip(offered), nullptr);  // the other server's lease, soon
    auto next = handle(req(MessageType::Discover, "52:54:00:00:01:02"));
    ASSERT_TRUE(next.reply);
    EXPECT_NE(next.reply->packet.yiaddr, offered);
}

TEST_F(EngineTest, InitRebootUnknownClientIsNakedWhenAuthoritativeElseSilent) {
    auto r = req(MessageType::Request, "52:54:00:00:01:09");
    r.options.set_ip(opt::RequestedIp, Ipv4(192, 0, 2, 101));
    // Not authoritative by default (issue 14.10): silent, RFC 2131 4.3.2.
    auto quiet = handle(r);
    EXPECT_FALSE(quiet.reply);
    EXPECT_EQ(quiet.drop, Drop::UnknownClient);
    cfg_.authoritative = true;
    auto out = handle(r);
    ASSERT_TRUE(out.reply);
    EXPECT_EQ(out.reply->packet.message_type(), MessageType::Nak);
    cfg_.authoritative = false;
    out = handle(r);
    EXPECT_FALSE(out.reply);
    EXPECT_EQ(out.drop, Drop::UnknownClient);
}

TEST_F(EngineTest, InitRebootKnownClientIsAckedWrongAddressNaked) {
    auto ack = offer_then_request("52:54:00:00:01:01");
    auto r = req(MessageType::Request, "52:54:00:00:01:01");
    r.options.set_ip(opt::RequestedIp, ack.yiaddr);
    auto out = handle(r, 2000);
    ASSERT_TRUE(out.reply);
    EXPECT_EQ(out.reply->packet.message_type(), MessageType::Ack);
    r.options.set_ip(opt::RequestedIp, Ipv4(192, 0, 2, 102));
    out = handle(r, 2000);
    ASSERT_TRUE(out.reply);
    EXPECT_EQ(out.reply->packet.message_type(), MessageType::Nak);
    r.options.set_ip(opt::RequestedIp, Ipv4(10, 9, 9, 9));
    out = handle(r, 2000);
    ASSERT_TRUE(out.reply);
    EXPECT_EQ(out.reply->packet.message_type(), MessageType::Nak);
}

TEST_F(EngineTest, RenewingIsUnicastToCiaddrAndExtends) {
    auto ack = offer_then_request("52:54:00:00:01:01");
    auto r = req(MessageType::Request, "52:54:00:00:01:01");
    r.ciaddr = ack.yiaddr;
    auto out = handle(r, 1300);
    ASSERT_TRUE(out.reply);
    EXPECT_EQ(out.reply->packet.message_type(), MessageType::Ack);
    EXPECT_EQ(out.reply->dest, Dest::UnicastCiaddr);
    EXPECT_EQ(engine_->leases().by_ip(ack.yiaddr)->expires, 1300 + 600);
}

TEST_F(EngineTest, ReleaseFreesAndDeclineQuarantines) {
    auto ack = offer_then_request("52:54:00:00:01:01");
    auto rel = req(MessageType::Release, "52:54:00:00:01:01");
    rel.ciaddr = ack.yiaddr;
    EXPECT_FALSE(handle(rel).reply);
    EXPECT_TRUE(engine_->leases().is_free(ack.yiaddr, 1001));

    auto ack2 = offer_then_request("52:54:00:00:01:02");
    auto dec = req(MessageType::Decline, "52:54:00:00:01:02");
    dec.options.set_ip(opt::RequestedIp, ack2.yiaddr);
    EXPECT_FALSE(handle(dec).reply);
    EXPECT_FALSE(engine_->leases().is_free(ack2.yiaddr, 1001));
    // The declining client gets another address.
    auto o = handle(req(MessageType::Discover, "52:54:00:00:01:02"), 1002);
    ASSERT_TRUE(o.reply);
    EXPECT_NE(o.reply->packet.yiaddr, ack2.yiaddr);
}

TEST_F(EngineTest, PoolExhaustionGivesNoOfferAndExpiredLeasesAreReclaimed) {
    for (auto mac : {"52:54:00:00:01:01", "52:54:00:00:01:02", "52:54:00:00:01:03"}) offer_then_request(mac);
    auto out = handle(req(MessageType::Discover, "52:54:00:00:01:04"), 1001);
    EXPECT_FALSE(out.reply);
    EXPECT_EQ(out.drop, Drop::PoolExhausted);
    ASSERT_NE(out.subnet, nullptr);  // the daemon's warning names the pool
    EXPECT_EQ(out.subnet->range_start, cfg_.subnets[0].range_start);
    out = handle(req(MessageType::Discover, "52:54:00:00:01:04"), 1000 + 601);
    EXPECT_TRUE(out.reply);
}

TEST_F(EngineTest, NotesAreBuiltOnlyWhenAsked) {
    auto out = handle(req(MessageType::Discover, "52:54:00:00:01:01"));
    ASSERT_TRUE(out.reply);
    EXPECT_EQ(out.note, "offer " + out.reply->packet.yiaddr.str());
    engine_->set_notes(false);  // the daemon below debug level
    out = handle(req(MessageType::Discover, "52:54:00:00:01:02"));
    ASSERT_TRUE(out.reply);
    EXPECT_EQ(out.note, "");
}

TEST_F(EngineTest, ClientsThatNeverRequestCannotUseUpThePool) {
    // A flood of DISCOVERs from MACs that never REQUEST fills the three
    // addresses with offers; a real client still gets one (the oldest
    // offer yields), and its REQUEST is acknowledged.
    for (int i = 0; i < 100; i++) {
        char mac[32];
        std::snprintf(mac, sizeof mac, "02:00:00:00:%02x:%02x", i / 256, i % 256);
        EXPECT_TRUE(handle(req(MessageType::Discover, mac), 1000 + i / 10).reply);
    }
    auto a = offer_then_request("52:54:00:00:01:01", 1011);
    EXPECT_EQ(a.message_type(), MessageType::Ack);
    // Bound leases never yield: with all three bound, the pool is exhausted.
    offer_then_request("52:54:00:00:01:02", 1011);
    offer_then_request("52:54:00:00:01:03", 1011);
    auto out = handle(req(MessageType::Discover, "02:00:00:00:ff:ff"), 1012);
    EXPECT_FALSE(out.reply);
    EXPECT_EQ(out.drop, Drop::PoolExhausted);
}

TEST_F(EngineTest, ClientIdentityIsOption61WhenPresent) {
    auto d1 = req(MessageType::Discover, "52:54:00:00:01:01");
    const uint8_t id[] = {0xff, 1, 2, 3};
    d1.options.set(opt::ClientId, id);
    auto a = handle(d1);
    auto d2 = req(MessageType::Discover, "52:54:00:00:01:99");  // new NIC, same client id
    d2.options.set(opt::ClientId, id);
    auto b = handle(d2);
    ASSERT_TRUE(a.reply && b.reply);
    EXPECT_EQ(a.reply->packet.yiaddr, b.reply->packet.yiaddr);
}

TEST_F(EngineTest, ReservationGetsItsAddressAndHostname) {
    auto o = handle(req(MessageType::Discover, "52:54:00:00:00:0a"));
    ASSERT_TRUE(o.reply);
    EXPECT_EQ(o.reply->packet.yiaddr, Ipv4(192, 0, 2, 10));
    EXPECT_EQ(o.reply->packet.options.get_str(opt::Hostname), "node10");
    auto r = req(MessageType::Request, "52:54:00:00:00:0a");
    r.options.set_ip(opt::ServerId, kServer);
    r.options.set_ip(opt::RequestedIp, Ipv4(192, 0, 2, 100));
    auto n = handle(r);
    ASSERT_TRUE(n.reply);
    EXPECT_EQ(n.reply->packet.message_type(), MessageType::Nak);
}

TEST_F(EngineTest, ArchitectureSelectsBootFile) {
    auto d = req(MessageType::Discover, "52:54:00:00:01:01");
    d.options.set_str(opt::VendorClass, "PXEClient:Arch:00007:UNDI:003016");
    d.options.set_u16(opt::ClientArch, 7);
    auto o = handle(d);
    EXPECT_EQ(o.reply->packet.file_str(), "bootnetx64.efi");
    EXPECT_EQ(o.reply->packet.options.get_str(opt::VendorClass), "PXEClient");
    // With PXEClient, PXE_DISCOVERY_CONTROL = 8: boot this file, no discovery
    // on port 4011 (EDK2 firmware gives up without it: PXE-E16).
    auto* vendor = o.reply->packet.options.find(opt::VendorSpecific);
    ASSERT_NE(vendor, nullptr);
    EXPECT_EQ(vendor->data, (std::vector<uint8_t>{6, 1, 8, 255}));

    d.options.set_u16(opt::ClientArch, 16);
    d.options.set_str(opt::VendorClass, "HTTPClient:Arch:00016:UNDI:003016");
    o = handle(d);
    EXPECT_EQ(o.reply->packet.file_str(), "http://192.0.2.1/boot.efi");
    EXPECT_EQ(o.reply->packet.options.get_str(opt::VendorClass), "HTTPClient");
    EXPECT_EQ(o.reply->packet.options.find(opt::VendorSpecific), nullptr);

    d.options.set_u16(opt::ClientArch, 0);
    d.options.set_str(opt::UserClass, "iPXE");
    o = handle(d);
    EXPECT_EQ(o.reply->packet.file_str(), "http://192.0.2.1/boot.ipxe");
}

TEST_F(EngineTest, RelayedRequestUsesGiaddrSubnetAndEchoesOption82) {
    auto d = req(MessageType::Discover, "52:54:00:00:01:01");
    d.giaddr = Ipv4(198, 51, 100, 1);
    d.hops = 1;
    const uint8_t o82[] = {1, 3, 'p', 'o', 'e'};
    d.options.set(opt::RelayAgentInfo, o82);
    auto o = handle(d);
    ASSERT_TRUE(o.reply);
    EXPECT_EQ(o.reply->packet.yiaddr, Ipv4(198, 51, 100, 10));
    EXPECT_EQ(o.reply->dest, Dest::Relay);
    EXPECT_EQ(o.reply->dst_ip, Ipv4(198, 51, 100, 1));
    EXPECT_EQ(o.reply->dst_port, 67);
    EXPECT_EQ(o.reply->packet.giaddr, d.giaddr);
    EXPECT_EQ(o.reply->packet.options.find(opt::RelayAgentInfo)->data, std::vector<uint8_t>(o82, o82 + 5));

    d.giaddr = Ipv4(203, 0, 113, 1);  // no such subnet
    EXPECT_EQ(handle(d).drop, Drop::NoSubnet);
}

TEST_F(EngineTest, InformIsAnsweredWithoutAllocating) {
    auto i = req(MessageType::Inform, "52:54:00:00:01:01");
    i.ciaddr = Ipv4(192, 0, 2, 50);
    auto o = handle(i);
    ASSERT_TRUE(o.reply);
    EXPECT_EQ(o.reply->packet.message_type(), MessageType::Ack);
    EXPECT_TRUE(o.reply->packet.yiaddr.is_zero());
    EXPECT_FALSE(o.reply->packet.options.has(opt::LeaseTime));
    EXPECT_EQ(engine_->leases().size(), 0u);
}

TEST_F(EngineTest, RebindingBroadcastIsAckedForOwnLeaseAndNakedForForeign) {
    auto ack = offer_then_request("52:54:00:00:01:01");
    auto r = req(MessageType::Request, "52:54:00:00:01:01");
    r.ciaddr = ack.yiaddr;
    r.flags = kFlagBroadcast;  // REBINDING is broadcast, no server id
    auto out = handle(r, 1500);
    ASSERT_TRUE(out.reply);
    EXPECT_EQ(out.reply->packet.message_type(), MessageType::Ack);
    // Another client rebinding onto that address is refused.
    auto other = req(MessageType::Request, "52:54:00:00:01:02");
    offer_then_request("52:54:00:00:01:02");
    other.ciaddr = ack.yiaddr;
    out = handle(other, 1500);
    ASSERT_TRUE(out.reply);
    EXPECT_EQ(out.reply->packet.message_type(), MessageType::Nak);
}

TEST_F(EngineTest, GuidIsKeptOnTheLease) {
    auto d = req(MessageType::Discover, "52:54:00:00:01:01");
    const uint8_t guid[] = {0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x10};
    auto o = handle(d);
    auto r = req(MessageType::Request, "52:54:00:00:01:01");
    r.options.set_ip(opt::ServerId, kServer);
    r.options.set_ip(opt::RequestedIp, o.reply->packet.yiaddr);
    r.options.set(opt::ClientGuid, guid);
    handle(r);
    EXPECT_EQ(engine_->leases().by_ip(o.reply->packet.yiaddr)->guid, std::vector<uint8_t>(std::begin(guid), std::end(guid)));
}

TEST_F(EngineTest, GarbageMessagesAreDroppedNotAnswered) {
    auto p = req(MessageType::Offer, "52:54:00:00:01:01");  // a server message from a client
    EXPECT_FALSE(handle(p).reply);
    p.op = 2;
    EXPECT_EQ(handle(p).drop, Drop::NotRequest);
    Packet none;
    EXPECT_EQ(handle(none).drop, Drop::NoMessageType);
    auto dec = req(MessageType::Decline, "52:54:00:00:01:01");  // decline of nothing
    EXPECT_EQ(handle(dec).drop, Drop::NotOurs);
    auto rel = req(MessageType::Release, "52:54:00:00:01:01");
    rel.ciaddr = Ipv4(192, 0, 2, 100);
    EXPECT_EQ(handle(rel).drop, Drop::NotOurs);
}

// The lease database down (engine.h, set_store_down): reservations and
// stored leases are answered, nothing is written, the rest is dropped.
TEST_F(EngineTest, StoreDownAnswersOnlyReservationsAndStoredLeases) {
    auto ack = offer_then_request("52:54:00:00:01:01", 1000);
    engine_->leases().set_version(ack.yiaddr, 7);  // the commit stored it
    auto unstored = offer_then_request("52:54:00:00:01:02", 1000);  // its commit never finished: version 0
    engine_->leases().take_dirty();
    engine_->set_store_down(true);

    // A new client: no offer, counted as store_unavailable.
    auto n = handle(req(MessageType::Discover, "52:54:00:00:01:03"), 1100);
    EXPECT_FALSE(n.reply);
    EXPECT_EQ(n.drop, Drop::StoreUnavailable);

    // The stored lease: offered and renewed for the time it has left, unchanged.
    auto o = handle(req(MessageType::Discover, "52:54:00:00:01:01"), 1100);
    ASSERT_TRUE(o.reply);
    EXPECT_EQ(o.reply->packet.yiaddr, ack.yiaddr);
    EXPECT_EQ(o.reply->packet.options.get_u32(opt::LeaseTime), 500u);
    auto r = req(MessageType::Request, "52:54:00:00:01:01");
    r.ciaddr = ack.yiaddr;
    auto renewed = handle(r, 1300);
    ASSERT_TRUE(renewed.reply);
    EXPECT_EQ(renewed.reply->packet.message_type(), MessageType::Ack);
    EXPECT_EQ(renewed.reply->packet.options.get_u32(opt::LeaseTime), 300u);
    EXPECT_TRUE(renewed.nothing_to_commit);
    EXPECT_EQ(engine_->leases().by_ip(ack.yiaddr)->expires, 1000 + 600);
    EXPECT_TRUE(engine_->leases().take_dirty().empty());

    // A lease whose commit never finished is not proven: dropped, not NAKed.
    auto u = req(MessageType::Request, "52:54:00:00:01:02");
    u.ciaddr = unstored.yiaddr;
    auto un = handle(u, 1300);
    EXPECT_FALSE(un.reply);
    EXPECT_EQ(un.drop, Drop::StoreUnavailable);

    // A reservation is answered as ever, without a write.
    auto rv = req(MessageType::Request, "52:54:00:00:00:0a");
    rv.options.set_ip(opt::ServerId, kServer);
    rv.options.set_ip(opt::RequestedIp, Ipv4(192, 0, 2, 10));
    auto ra = handle(rv, 1300);
    ASSERT_TRUE(ra.reply);
    EXPECT_EQ(ra.reply->packet.message_type(), MessageType::Ack);
    EXPECT_TRUE(ra.nothing_to_commit);
    EXPECT_TRUE(engine_->leases().take_dirty().empty());

    // Back up: new clients get leases again.
    engine_->set_store_down(false);
    EXPECT_TRUE(handle(req(MessageType::Discover, "52:54:00:00:01:03"), 1400).reply);
}

// The NAK that replaces an ACK whose lease another server stored first
// (reply.h, nak_instead_of): same transaction, no address, RFC 2131 4.3.2's
// destination (broadcast; to the relay with the broadcast bit).
TEST_F(EngineTest, NakInsteadOfAnAckKeepsTheTransactionAndGoesWhereANakGoes) {
    auto o = handle(req(MessageType::Discover, "52:54:00:00:01:01", 0x77));
    ASSERT_TRUE(o.reply);
    auto r = req(MessageType::Request, "52:54:00:00:01:01", 0x77);
    r.options.set_ip(opt::ServerId, kServer);
    r.options.set_ip(opt::RequestedIp, o.reply->packet.yiaddr);
    auto a = handle(r);
    ASSERT_TRUE(a.reply);
    auto nak = nak_instead_of(*a.reply, "address in use");
    EXPECT_EQ(nak.packet.message_type(), MessageType::Nak);
    EXPECT_EQ(nak.packet.xid, 0x77u);
    EXPECT_EQ(nak.packet.mac(), a.reply->packet.mac());
    EXPECT_TRUE(nak.packet.yiaddr.is_zero());
    EXPECT_EQ(nak.packet.options.get_ip(opt::ServerId), kServer);
    EXPECT_EQ(nak.packet.options.get_str(opt::Message), "address in use");
    EXPECT_FALSE(nak.packet.options.has(opt::LeaseTime));
    EXPECT_EQ(nak.dest, Dest::Broadcast);
    EXPECT_EQ(nak.dst_ip, Ipv4(0xffffffff));

    Reply relayed = *a.reply;
    relayed.dest = Dest::Relay;
    relayed.dst_ip = Ipv4(198, 51, 100, 1);
    relayed.dst_port = 67;
    relayed.packet.giaddr = Ipv4(198, 51, 100, 1);
    auto rn = nak_instead_of(relayed, "address in use");
    EXPECT_EQ(rn.dest, Dest::Relay);
    EXPECT_EQ(rn.dst_ip, Ipv4(198, 51, 100, 1));
    EXPECT_EQ(rn.dst_port, 67);
    EXPECT_TRUE(rn.packet.broadcast());
    EXPECT_EQ(rn.packet.giaddr, Ipv4(198, 51, 100, 1));
}
