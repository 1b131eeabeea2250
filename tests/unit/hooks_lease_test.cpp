// When the dhcp-script is called for a lease (hooks/lease_events.h): the
// sequence dnsmasq 2.90 gave for the same client exchange (new lease, renewal,
// release, a new name, restart, SIGHUP), expiry, and the bounded work.
#include <gtest/gtest.h>

#include "hooks/lease_events.h"
#include "support/dhcp_request.h"

using namespace pxed;
using namespace pxed::hooks;

namespace {

const int64_t kNow = 1000000;
const Ipv4 kIp(192, 0, 2, 100);

class LeaseEventsTest : public ::testing::Test {
protected:
    void SetUp() override { ev_.set_networks({{Ipv4Net{Ipv4(192, 0, 2, 1), 24}, "s0", ""}}); }

    lease::Lease bound(const std::string& mac, Ipv4 ip, const std::string& name, int64_t expires) {
        lease::Lease l;
        l.ip = ip;
        l.mac = *Mac::parse(mac);
        l.client = "id:" + std::string("\x01", 1) + std::string(reinterpret_cast<const char*>(l.mac.b.data()), 6);
        l.hostname = name;
        l.start = expires - 120;
        l.expires = expires;
        l.state = lease::State::Bound;
        return l;
    }
    // An ACK of a REQUEST, stored.
    std::vector<ScriptEvent> ack(const lease::Lease& l, bool selecting, int64_t now = kNow) {
        auto p = test::request(dhcp::MessageType::Request, l.mac.str(), 1);
        if (selecting) p.options.set_ip(dhcp::opt::RequestedIp, l.ip);
        if (!l.hostname.empty()) p.options.set_str(dhcp::opt::Hostname, l.hostname);
        ev_.note_request(l.ip, request_facts(p, "s0", {"s0"}));
        table_.put(l);
        return stored({{l.ip, &table_.all().at(l.ip)}}, now);
    }
    std::vector<ScriptEvent> stored(const std::vector<LeaseEvents::Change>& batch, int64_t now = kNow) {
        std::vector<ScriptEvent> out;
        ev_.on_stored(batch, now, out);
        return out;
    }
    static std::vector<std::string> calls(const std::vector<ScriptEvent>& evs) {
        std::vector<std::string> s;
        for (auto& e : evs) {
            std::string line;
            for (auto& a : e.args) line += (line.empty() ? "" : " ") + a;
            s.push_back(line);
        }
        return s;
    }

    LeaseEvents ev_{LeaseEvents::Options{}};
    lease::LeaseTable table_;
};

using V = std::vector<std::string>;

}  // namespace

TEST_F(LeaseEventsTest, DnsmasqSequenceForOneClient) {
    auto l = bound("52:54:00:aa:00:01", kIp, "alpha", kNow + 120);
    EXPECT_EQ(calls(ack(l, true)), V{"add 52:54:00:aa:00:01 192.0.2.100 alpha"});
    // A renewal (RENEWING: no option 50) changes only the expiry: no call.
    l.expires += 60;
    EXPECT_TRUE(ack(l, false).empty());
    // Released: del, with the expiry the lease had.
    auto r = l;
    r.state = lease::State::Released;
    r.expires = kNow + 5;
    table_.put(r);
    auto del = stored({{kIp, &table_.all().at(kIp)}});
    ASSERT_EQ(calls(del), V{"del 52:54:00:aa:00:01 192.0.2.100 alpha"});
    EXPECT_EQ(*del[0].get("DNSMASQ_LEASE_EXPIRES"), std::to_string(kNow + 180));
    EXPECT_FALSE(del[0].get("DNSMASQ_TIME_REMAINING"));
    // Back with a name: add; again with another name (SELECTING): the old
    // name's call, then the lease's.
    l.hostname = "beta";
    EXPECT_EQ(calls(ack(l, true)), V{"add 52:54:00:aa:00:01 192.0.2.100 beta"});
    l.hostname = "gamma";
    auto renamed = ack(l, true);
    EXPECT_EQ(calls(renamed), (V{"old 52:54:00:aa:00:01 192.0.2.100", "old 52:54:00:aa:00:01 192.0.2.100 gamma"}));
    EXPECT_EQ(*renamed[0].get("DNSMASQ_OLD_HOSTNAME"), "beta");
    EXPECT_EQ(*renamed[1].get("DNSMASQ_SUPPLIED_HOSTNAME"), "gamma");
    // The same request again (SELECTING, nothing changed): dnsmasq still says old.
    EXPECT_EQ(calls(ack(l, true)), V{"old 52:54:00:aa:00:01 192.0.2.100 gamma"});
    // A request without a name keeps the name the script knows.
    l.hostname.clear();
    EXPECT_EQ(calls(ack(l, true)), V{"old 52:54:00:aa:00:01 192.0.2.100 gamma"});
}

TEST_F(LeaseEventsTest, ScriptOnRenewalCallsOldWithoutRequestData) {
    ev_ = LeaseEvents(LeaseEvents::Options{.on_renewal = true, .event = {}});
    SetUp();
    auto l = bound("52:54:00:aa:00:01", kIp, "alpha", kNow + 120);
    ack(l, true);
    l.expires += 60;
    auto e = ack(l, false);
    ASSERT_EQ(calls(e), V{"old 52:54:00:aa:00:01 192.0.2.100 alpha"});
    EXPECT_EQ(*e[0].get("DNSMASQ_DATA_MISSING"), "1");
}

TEST_F(LeaseEventsTest, StartAndReloadReplayOldAtTheGivenPace) {
    for (uint8_t i = 0; i < 5; i++) table_.put(bound("52:54:00:aa:01:0" + std::to_string(i), Ipv4(192, 0, 2, 100 + i), "", kNow + 100));
    table_.put(bound("52:54:00:aa:01:09", Ipv4(192, 0, 2, 109), "", kNow - 1));  // expired: nothing
    ev_.load(table_, kNow);
    EXPECT_EQ(ev_.known(), 5u);
    std::vector<ScriptEvent> out;
    ev_.replay(table_, kNow, 2, out);
    EXPECT_EQ(out.size(), 2u);
    EXPECT_TRUE(ev_.replaying());
    ev_.replay(table_, kNow, 10, out);
    ASSERT_EQ(out.size(), 5u);
    EXPECT_FALSE(ev_.replaying());
    EXPECT_EQ(calls(out)[4], "old 52:54:00:aa:01:04 192.0.2.104");
    EXPECT_EQ(*out[0].get("DNSMASQ_INTERFACE"), "s0");
    EXPECT_EQ(*out[0].get("DNSMASQ_DATA_MISSING"), "1");
    // Known at once: the client's next ACK is an "old", not an "add".
    auto l = bound("52:54:00:aa:01:00", kIp, "", kNow + 100);
    EXPECT_EQ(calls(ack(l, true))[0].substr(0, 3), "old");
    ev_.replay_all();
    out.clear();
    ev_.replay(table_, kNow, 100, out);
    EXPECT_EQ(out.size(), 5u);
}

TEST_F(LeaseEventsTest, ExpiryGivesDelOnceWithinTheBudget) {
    for (uint8_t i = 0; i < 3; i++)
        ack(bound("52:54:00:aa:02:0" + std::to_string(i), Ipv4(192, 0, 2, 100 + i), "", kNow + 10 + i), true);
    std::vector<ScriptEvent> out;
    ev_.expire(table_, kNow + 5, 10, out);
    EXPECT_TRUE(out.empty());
    // The second lease was renewed in the table, its commit not yet stored: left alone.
    auto renewed = bound("52:54:00:aa:02:01", Ipv4(192, 0, 2, 101), "", kNow + 500);
    table_.put(renewed);
    ev_.expire(table_, kNow + 20, 1, out);
    EXPECT_EQ(calls(out), V{"del 52:54:00:aa:02:00 192.0.2.100"});
    ev_.expire(table_, kNow + 20, 10, out);
    EXPECT_EQ(calls(out), (V{"del 52:54:00:aa:02:00 192.0.2.100", "del 52:54:00:aa:02:02 192.0.2.102"}));
    ev_.expire(table_, kNow + 1000, 10, out);
    EXPECT_EQ(out.size(), 2u);  // the renewed one waits for its commit
    // The client comes back after its del: a new lease again.
    EXPECT_EQ(calls(ack(bound("52:54:00:aa:02:00", Ipv4(192, 0, 2, 100), "", kNow + 300), true, kNow + 30))[0].substr(0, 3),
              "add");
}

TEST_F(LeaseEventsTest, AddressTakenByAnotherClientDeletesFirst) {
    ack(bound("52:54:00:aa:03:01", kIp, "one", kNow + 120), true);
    auto other = bound("52:54:00:aa:03:02", kIp, "two", kNow + 120);
    EXPECT_EQ(calls(ack(other, true)),
              (V{"del 52:54:00:aa:03:01 192.0.2.100 one", "add 52:54:00:aa:03:02 192.0.2.100 two"}));
    // Deleted (pxectl lease del): the row is gone.
    EXPECT_EQ(calls(stored({{kIp, nullptr}})), V{"del 52:54:00:aa:03:02 192.0.2.100 two"});
    EXPECT_TRUE(stored({{kIp, nullptr}}).empty());
}

TEST_F(LeaseEventsTest, MoveToAnotherAddressIsDelThenAdd) {
    ack(bound("52:54:00:aa:04:01", kIp, "", kNow + 120), true);
    auto moved = bound("52:54:00:aa:04:01", Ipv4(192, 0, 2, 101), "", kNow + 120);
    table_.put(moved);  // drops the client's lease on .100
    auto e = stored({{Ipv4(192, 0, 2, 101), &table_.all().at(Ipv4(192, 0, 2, 101))}, {kIp, nullptr}});
    EXPECT_EQ(calls(e), (V{"del 52:54:00:aa:04:01 192.0.2.100", "add 52:54:00:aa:04:01 192.0.2.101"}));
}
