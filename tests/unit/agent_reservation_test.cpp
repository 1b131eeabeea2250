// Reservations by option 82 (circuit id, remote id): the TOML keys and
// their errors, and the engine's answers: the address of the switch port's
// reservation whatever the MAC, relayed from its subnet only, after a MAC's
// own reservation, and deferred while the machine that was on the port
// before still holds the address (reservation_conflict.cpp).
#include <gtest/gtest.h>

#include "config/config.h"
#include "dhcp/agent_reservation.h"
#include "dhcp/engine.h"
#include "support/dhcp_request.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::dhcp;

namespace {

namespace toml = pxed::test::toml;
const std::string kBase = toml::server("eth0") + toml::lan_subnet("192.0.2.200", "lease-time = 600\n") +
                          toml::relayed_subnet("198.51.100.100", "198.51.100.200", "server-ip = \"198.51.100.1\"\n");

std::string resv(const std::string& keys) { return "\n[[reservation]]\n" + keys; }

std::string error_of(const std::string& text) {
    auto r = config::parse_toml(text, "pxed.toml");
    return r.ok() ? std::string("(accepted)") : r.error();
}

const Ipv4 kServer(192, 0, 2, 1);
const Ipv4 kGiaddr(198, 51, 100, 1);
const Ipv4 kPort7(198, 51, 100, 7);

std::vector<uint8_t> agent(std::string_view circuit, std::string_view remote = {}) {
    std::vector<uint8_t> v;
    for (auto [code, s] : {std::pair{uint8_t(1), circuit}, std::pair{uint8_t(2), remote}}) {
        if (s.empty()) continue;
        v.push_back(code);
        v.push_back(uint8_t(s.size()));
        v.insert(v.end(), s.begin(), s.end());
    }
    return v;
}

Packet relayed(MessageType t, const std::string& mac, std::vector<uint8_t> o82, Ipv4 giaddr = kGiaddr) {
    auto p = test::request(t, mac, 9);
    p.giaddr = giaddr;
    if (!o82.empty()) p.options.set(opt::RelayAgentInfo, std::move(o82));
    return p;
}

}  // namespace

TEST(AgentReservationConfig, CircuitAndRemoteIdsAsTextOrHex) {
    auto r = config::parse_toml(
        kBase + resv("circuit-id = \"sw1/7\"\nip = \"198.51.100.7\"\nhostname = \"port7\"\nboot-file = \"p7.0\"\n") +
            resv("circuit-id-hex = \"00:04:00:07\"\nip = \"198.51.100.8\"\n") +
            resv("remote-id = \"rack2\"\nip = \"198.51.100.9\"\n") +
            resv("remote-id-hex = \"de:ad\"\nip = \"198.51.100.10\"\nlease-time = \"infinite\"\n"),
        "pxed.toml");
    ASSERT_TRUE(r.ok()) << r.error();
    ASSERT_EQ(r->agent_reservations.size(), 4u);
    EXPECT_TRUE(r->reservations.empty());
    auto& a = r->agent_reservations;
    EXPECT_EQ(a[0].kind, config::AgentIdKind::Circuit);
    EXPECT_EQ(a[0].id, "sw1/7");
    EXPECT_EQ(a[0].resv.hostname, "port7");
    EXPECT_EQ(a[0].resv.set.boot_file, "p7.0");
    EXPECT_EQ(a[0].where, "pxed.toml:16");
    EXPECT_EQ(a[1].id, std::string("\0\4\0\7", 4));
    EXPECT_EQ(a[1].describe(), "circuit-id-hex \"00:04:00:07\"");
    EXPECT_EQ(a[2].kind, config::AgentIdKind::Remote);
    EXPECT_EQ(a[3].id, "\xde\xad");
    EXPECT_EQ(r->agent_reservation_for(config::AgentIdKind::Remote, "rack2"), &a[2]);
    EXPECT_EQ(r->agent_reservation_for(config::AgentIdKind::Circuit, "rack2"), nullptr);
}

TEST(AgentReservationConfig, ErrorsNameFileLineValueAndWhy) {
    EXPECT_EQ(error_of(kBase + resv("circuit-id = \"a\"\nremote-id = \"b\"\nip = \"198.51.100.7\"\n")),
              "pxed.toml:18: reservation[0] has both circuit-id and remote-id: a reservation is found by one "
              "identifier (circuit ids are tried before remote ids, so a second one would never be used); write "
              "two reservations, or a class that tests both");
    EXPECT_EQ(error_of(kBase + resv("mac = \"52:54:00:00:00:01\"\ncircuit-id = \"a\"\nip = \"198.51.100.7\"\n")),
              "pxed.toml:17: reservation[0] has both mac and circuit-id: the MAC's reservation always comes first, "
              "so the circuit-id would never be used; keep one of the two");
    EXPECT_EQ(error_of(kBase + resv("circuit-id-hex = \"zz\"\nip = \"198.51.100.7\"\n")),
              "pxed.toml:17: reservation[0].circuit-id-hex 'zz' is not hex bytes like \"00:04:00:64\"");
    EXPECT_EQ(error_of(kBase + resv("remote-id = \"" + std::string(33, 'x') + "\"\nip = \"198.51.100.7\"\n")),
              "pxed.toml:17: reservation[0].remote-id '" + std::string(33, 'x') +
                  "' is 33 bytes; an id holds at most 32");
    EXPECT_EQ(error_of(kBase + resv("circuit-id = \"\"\nip = \"198.51.100.7\"\n")),
              "pxed.toml:17: reservation[0].circuit-id must be a non-empty string");
    EXPECT_EQ(error_of(kBase + resv("circuit-id = \"sw1/7\"\nhostname = \"x\"\n")),
              "pxed.toml:17: reservation[0] by circuit-id needs ip: it reserves an address for whatever machine "
              "is behind that switch port");
    // Cross-field checks name where the reservation is and its id.
    EXPECT_EQ(error_of(kBase + resv("circuit-id = \"a\"\nip = \"198.51.100.7\"\n") +
                       resv("circuit-id = \"a\"\nip = \"198.51.100.8\"\n")),
              "pxed.toml:20: reservation by circuit-id \"a\" -> 198.51.100.8: circuit-id \"a\" appears twice");
    EXPECT_EQ(error_of(kBase + toml::reservation("52:54:00:00:00:01", "198.51.100.7") +
                       resv("remote-id = \"r\"\nip = \"198.51.100.7\"\n")),
              "pxed.toml:20: reservation by remote-id \"r\" -> 198.51.100.7: the address is reserved for "
              "52:54:00:00:00:01 too");
    EXPECT_EQ(error_of(kBase + resv("circuit-id = \"a\"\nip = \"10.0.0.1\"\n")),
              "pxed.toml:16: reservation by circuit-id \"a\" -> 10.0.0.1: the address is outside every subnet");
    EXPECT_EQ(error_of(kBase + resv("circuit-id = \"a\"\nip = \"198.51.100.1\"\n")),
              "pxed.toml:16: reservation by circuit-id \"a\" -> 198.51.100.1: the address of the server or router "
              "itself");
    EXPECT_NE(error_of(kBase + resv("circuit-id = \"a\"\nip = \"198.51.100.7\"\nclasses = [\"nope\"]\n"))
                  .find("pxed.toml:16: reservation by circuit-id \"a\""),
              std::string::npos);
}

TEST(AgentReservationConfig, SubOptionsAreReadAsTheKernelReadsThem) {
    Packet p;
    p.options.set(opt::RelayAgentInfo, std::vector<uint8_t>{9, 1, 'z', 1, 2, 'a', 'b', 2, 1, 'r', 1, 1, 'c'});
    EXPECT_EQ(agent_sub_option(p, 1), "ab");  // the first
    EXPECT_EQ(agent_sub_option(p, 2), "r");
    p.options.set(opt::RelayAgentInfo, std::vector<uint8_t>{2, 9, 'r', 1, 1, 'c'});  // a sub-option past the end
    EXPECT_EQ(agent_sub_option(p, 1), std::nullopt);
    EXPECT_EQ(agent_sub_option(p, 2), std::nullopt);
}

class AgentReservationEngine : public ::testing::Test {
protected:
    void load(const std::string& extra) {
        auto c = config::parse_toml(kBase + extra, "pxed.toml");
        ASSERT_TRUE(c.ok()) << c.error();
        cfg_ = std::move(c.value());
        engine_ = std::make_unique<Engine>(cfg_);
    }
    void SetUp() override {
        load(resv("circuit-id = \"sw1/7\"\nip = \"198.51.100.7\"\nhostname = \"port7\"\n") +
             resv("remote-id = \"rack2\"\nip = \"198.51.100.9\"\n") +
             toml::reservation("52:54:00:00:00:0c", "198.51.100.12"));
    }
    Outcome handle(const Packet& p, int64_t now = 1000) { return engine_->handle(p, RxInfo{kServer}, now); }
    Ipv4 offered(const Packet& p, int64_t now = 1000) {
        auto o = handle(p, now);
        EXPECT_TRUE(o.reply) << o.note;
        return o.reply ? o.reply->packet.yiaddr : Ipv4();
    }
    // DISCOVER, then REQUEST of what was offered: the ACK's address.
    Ipv4 lease(const std::string& mac, const std::vector<uint8_t>& o82, int64_t now = 1000) {
        Ipv4 ip = offered(relayed(MessageType::Discover, mac, o82), now);
        auto r = relayed(MessageType::Request, mac, o82);
        r.options.set_ip(opt::ServerId, Ipv4(198, 51, 100, 1));
        r.options.set_ip(opt::RequestedIp, ip);
        auto a = handle(r, now);
        EXPECT_TRUE(a.reply && a.reply->packet.message_type() == MessageType::Ack) << a.note;
        return ip;
    }
    config::Config cfg_;
    std::unique_ptr<Engine> engine_;
};

TEST_F(AgentReservationEngine, TheSwitchPortsAddressWhateverTheMac) {
    // Circuit id first (offers only: an offer does not hold the address against another MAC).
    EXPECT_EQ(offered(relayed(MessageType::Discover, "52:54:00:00:01:03", agent("sw1/7", "rack2"))), kPort7);
    EXPECT_EQ(lease("52:54:00:00:01:01", agent("sw1/7")), kPort7);
    auto o = handle(relayed(MessageType::Discover, "52:54:00:00:01:01", agent("sw1/7")));
    ASSERT_TRUE(o.reply);
    EXPECT_EQ(o.reply->packet.options.get_str(opt::Hostname), "port7");
    EXPECT_EQ(o.reply->packet.options.find(opt::RelayAgentInfo)->data, agent("sw1/7"));
    // Remote id when the circuit id has no reservation.
    EXPECT_EQ(offered(relayed(MessageType::Discover, "52:54:00:00:01:02", agent("sw9/1", "rack2"))),
              Ipv4(198, 51, 100, 9));
    // No match: a dynamic address.
    Ipv4 dyn = offered(relayed(MessageType::Discover, "52:54:00:00:01:04", agent("sw9/1")));
    EXPECT_GE(dyn, Ipv4(198, 51, 100, 100));
}

TEST_F(AgentReservationEngine, AMacsReservationComesFirstAndOnlyTheReservationsSubnetMatches) {
    EXPECT_EQ(offered(relayed(MessageType::Discover, "52:54:00:00:00:0c", agent("sw1/7"))), Ipv4(198, 51, 100, 12));
    // The same circuit id on a request served from 192.0.2.0/24 (snooped, giaddr 0): not this reservation.
    auto snooped = relayed(MessageType::Discover, "52:54:00:00:01:05", agent("sw1/7"), Ipv4());
    Ipv4 ip = offered(snooped);
    EXPECT_TRUE(Ipv4(192, 0, 2, 100) <= ip && ip <= Ipv4(192, 0, 2, 200)) << ip.str();
}

TEST_F(AgentReservationEngine, UnicastRenewalWithoutOption82KeepsTheAddress) {
    EXPECT_EQ(lease("52:54:00:00:01:01", agent("sw1/7")), kPort7);
    auto renew = test::request(MessageType::Request, "52:54:00:00:01:01", 10);
    renew.ciaddr = kPort7;  // RENEWING: unicast, past the relay, no option 82
    auto a = handle(renew, 1300);
    ASSERT_TRUE(a.reply) << a.note;
    EXPECT_EQ(a.reply->packet.message_type(), MessageType::Ack);
    // Another MAC renewing that address while the first holds it: not
    // its reservation; an unknown client, dropped (NAKed when authoritative).
    auto other = test::request(MessageType::Request, "52:54:00:00:01:09", 11);
    other.ciaddr = kPort7;
    auto n = handle(other, 1300);
    EXPECT_FALSE(n.reply) << n.note;
    EXPECT_EQ(n.note, "renew from unknown client");
}

// The machine on the port is replaced: the new one is deferred (a dynamic
// address) while the old one's lease lasts, as a MAC reservation whose
// address another client holds; it gets the port's address once the old
// lease ends.
TEST_F(AgentReservationEngine, ANewMachineOnThePortWaitsForTheOldLease) {
    EXPECT_EQ(lease("52:54:00:00:01:01", agent("sw1/7"), 1000), kPort7);
    auto o = handle(relayed(MessageType::Discover, "52:54:00:00:02:02", agent("sw1/7")), 1100);
    ASSERT_TRUE(o.reply) << o.note;
    EXPECT_NE(o.reply->packet.yiaddr, kPort7);
    EXPECT_NE(o.note.find("reservation deferred: 198.51.100.7 is leased to 52:54:00:00:01:01"), std::string::npos)
        << o.note;
    auto sel = relayed(MessageType::Request, "52:54:00:00:02:02", agent("sw1/7"));
    sel.options.set_ip(opt::ServerId, Ipv4(198, 51, 100, 1));
    sel.options.set_ip(opt::RequestedIp, kPort7);
    auto n = handle(sel, 1100);
    ASSERT_TRUE(n.reply);
    EXPECT_EQ(n.reply->packet.message_type(), MessageType::Nak);
    // After the old lease (600 s) ends.
    EXPECT_EQ(lease("52:54:00:00:02:02", agent("sw1/7"), 1000 + 601), kPort7);
}

// The old machine, moved to another port, renews through the relay there:
// NAKed and its lease ended, so the port's next machine gets the address.
TEST_F(AgentReservationEngine, AMachineThatMovedLosesThePortsAddress) {
    EXPECT_EQ(lease("52:54:00:00:01:01", agent("sw1/7"), 1000), kPort7);
    auto rebind = relayed(MessageType::Request, "52:54:00:00:01:01", agent("sw1/8"));
    rebind.ciaddr = kPort7;
    auto n = handle(rebind, 1200);
    ASSERT_TRUE(n.reply) << n.note;
    EXPECT_EQ(n.reply->packet.message_type(), MessageType::Nak);
    EXPECT_EQ(lease("52:54:00:00:02:02", agent("sw1/7"), 1201), kPort7);
}
