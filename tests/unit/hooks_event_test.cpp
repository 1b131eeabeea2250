// The dhcp-script calls as dnsmasq 2.90 makes them (hooks/script_event.h):
// arguments and DNSMASQ_* variables from a request and a lease. The
// expected values of the first tests are what the real dnsmasq gave a
// busybox udhcpc (tests/netns/dhcp_script_test.cpp compares both live).
#include <gtest/gtest.h>

#include <limits>
#include <map>

#include "hooks/outbox.h"
#include "hooks/script_event.h"
#include "support/dhcp_request.h"

using namespace pxed;
using namespace pxed::hooks;

namespace {

const int64_t kNow = 1796031368;

// A REQUEST (SELECTING) as busybox udhcpc 1.35 sends it with -x hostname:alpha -V myvendor.
dhcp::Packet udhcpc_request() {
    auto p = test::request(dhcp::MessageType::Request, "52:54:00:aa:00:01", 7);
    const uint8_t id[] = {1, 0x52, 0x54, 0, 0xaa, 0, 1};
    p.options.set(dhcp::opt::ClientId, id);
    p.options.set_ip(dhcp::opt::RequestedIp, Ipv4(192, 0, 2, 100));
    p.options.set_ip(dhcp::opt::ServerId, Ipv4(192, 0, 2, 1));
    p.options.set_str(dhcp::opt::VendorClass, "myvendor");
    p.options.set_str(dhcp::opt::Hostname, "alpha");
    const uint8_t prl[] = {1, 3, 6, 12, 15, 28, 42};
    p.options.set(dhcp::opt::ParamRequestList, prl);
    return p;
}

LeaseView lease_100(const std::string& hostname = "alpha") {
    LeaseView v;
    v.mac = *Mac::parse("52:54:00:aa:00:01");
    v.ip = Ipv4(192, 0, 2, 100);
    v.hostname = hostname;
    v.client_id = std::string("\x01\x52\x54\x00\xaa\x00\x01", 7);
    v.expires = kNow + 120;
    v.iface = "s0";
    return v;
}

std::map<std::string, std::string> env_of(const ScriptEvent& e) { return {e.env.begin(), e.env.end()}; }

}  // namespace

TEST(ScriptEvent, AddIsWhatDnsmasqGaveUdhcpc) {
    auto f = request_facts(udhcpc_request(), "s0", {"s0"});
    auto e = lease_event(Action::Add, lease_100(), &f, kNow, {});
    EXPECT_EQ(e.args, (std::vector<std::string>{"add", "52:54:00:aa:00:01", "192.0.2.100", "alpha"}));
    std::map<std::string, std::string> want = {
        {"DNSMASQ_CLIENT_ID", "01:52:54:00:aa:00:01"},   {"DNSMASQ_INTERFACE", "s0"},
        {"DNSMASQ_LEASE_EXPIRES", std::to_string(kNow + 120)}, {"DNSMASQ_REQUESTED_OPTIONS", "1,3,6,12,15,28,42"},
        {"DNSMASQ_SUPPLIED_HOSTNAME", "alpha"},          {"DNSMASQ_TAGS", "s0"},
        {"DNSMASQ_TIME_REMAINING", "120"},               {"DNSMASQ_VENDOR_CLASS", "myvendor"}};
    EXPECT_EQ(env_of(e), want);
    EXPECT_TRUE(f.selecting);
}

TEST(ScriptEvent, DelHasNoTimeRemainingAndNoRequestData) {
    auto e = lease_event(Action::Del, lease_100(), nullptr, kNow, {});
    EXPECT_EQ(e.args, (std::vector<std::string>{"del", "52:54:00:aa:00:01", "192.0.2.100", "alpha"}));
    std::map<std::string, std::string> want = {{"DNSMASQ_CLIENT_ID", "01:52:54:00:aa:00:01"},
                                               {"DNSMASQ_DATA_MISSING", "1"},
                                               {"DNSMASQ_INTERFACE", "s0"},
                                               {"DNSMASQ_LEASE_EXPIRES", std::to_string(kNow + 120)}};
    EXPECT_EQ(env_of(e), want);
}

TEST(ScriptEvent, OldHostnameCallHasNoNameArgument) {
    auto f = request_facts(udhcpc_request(), "s0", {"s0"});
    std::string old = "beta";
    auto e = lease_event(Action::Old, lease_100("gamma"), &f, kNow, {}, &old);
    EXPECT_EQ(e.args, (std::vector<std::string>{"old", "52:54:00:aa:00:01", "192.0.2.100"}));
    ASSERT_TRUE(e.get("DNSMASQ_OLD_HOSTNAME"));
    EXPECT_EQ(*e.get("DNSMASQ_OLD_HOSTNAME"), "beta");
}

TEST(ScriptEvent, InfiniteLeaseExpiresZeroWithoutTimeRemaining) {
    auto v = lease_100();
    v.expires = std::numeric_limits<int64_t>::max();
    auto e = lease_event(Action::Old, v, nullptr, kNow, {});
    EXPECT_EQ(*e.get("DNSMASQ_LEASE_EXPIRES"), "0");
    EXPECT_FALSE(e.get("DNSMASQ_TIME_REMAINING"));
}

TEST(ScriptEvent, NameBeforeTheDotAndTheDomain) {
    auto v = lease_100("myhost.other.org");
    v.domain = "lab.test";
    auto e = lease_event(Action::Add, v, nullptr, kNow, {});
    EXPECT_EQ(e.args.back(), "myhost");
    EXPECT_EQ(*e.get("DNSMASQ_DOMAIN"), "lab.test");
    // An illegal name is left out (dnsmasq's legal_hostname), and so is the domain.
    auto bad = lease_event(Action::Add, lease_100("-bad name"), nullptr, kNow, {});
    EXPECT_EQ(bad.args.size(), 3u);
    EXPECT_FALSE(bad.get("DNSMASQ_DOMAIN"));
    EXPECT_TRUE(legal_hostname("a_b-c"));
    EXPECT_FALSE(legal_hostname("_x"));
    EXPECT_FALSE(legal_hostname("a b"));
}

TEST(ScriptEvent, UserClassesRelayAgentAndCpeWan) {
    auto p = udhcpc_request();
    const uint8_t uc[] = {3, 'f', 'o', 'o', 3, 'b', 'a', 'r'};  // RFC 3004: two classes
    p.options.set(dhcp::opt::UserClass, uc);
    // Option 82: circuit id (1), remote id (2), subscriber id (6).
    const uint8_t ri[] = {1, 3, 'c', 'i', 'd', 2, 3, 'r', 'i', 'd', 6, 3, 's', 'u', 'b'};
    p.options.set(dhcp::opt::RelayAgentInfo, ri);
    // Option 125, Broadband Forum (3561): OUI, serial, product class.
    const uint8_t vi[] = {0, 0, 0x0d, 0xe9, 12, 1, 2, 'O', 'U', 2, 2, 'S', 'N', 3, 2, 'P', 'C'};
    p.options.set(125, vi);
    p.options.set_str(161, "https://mud.example/x");
    p.giaddr = Ipv4(198, 51, 100, 1);
    auto f = request_facts(p, "s0", {"lan", "known", "s0"});
    auto v = lease_100();
    v.giaddr = p.giaddr;
    auto env = env_of(lease_event(Action::Add, v, &f, kNow, {}));
    EXPECT_EQ(env["DNSMASQ_USER_CLASS0"], "foo");
    EXPECT_EQ(env["DNSMASQ_USER_CLASS1"], "bar");
    EXPECT_FALSE(env.count("DNSMASQ_USER_CLASS2"));
    EXPECT_EQ(env["DNSMASQ_CIRCUIT_ID"], "cid");
    EXPECT_EQ(env["DNSMASQ_REMOTE_ID"], "rid");
    EXPECT_EQ(env["DNSMASQ_SUBSCRIBER_ID"], "sub");
    EXPECT_EQ(env["DNSMASQ_CPEWAN_OUI"], "OU");
    EXPECT_EQ(env["DNSMASQ_CPEWAN_SERIAL"], "SN");
    EXPECT_EQ(env["DNSMASQ_CPEWAN_CLASS"], "PC");
    EXPECT_EQ(env["DNSMASQ_MUD_URL"], "https://mud.example/x");
    EXPECT_EQ(env["DNSMASQ_TAGS"], "lan known s0");
    EXPECT_EQ(env["DNSMASQ_RELAY_ADDRESS"], "198.51.100.1");
}

TEST(ScriptEvent, ValuesStopAtNulAndEquals) {
    auto p = udhcpc_request();
    const uint8_t vc[] = {'a', '=', 'b'};
    p.options.set(dhcp::opt::VendorClass, vc);
    const uint8_t hn[] = {'h', 0, 'x'};
    p.options.set(dhcp::opt::Hostname, hn);
    p.options.set_str(dhcp::opt::UserClass, "iPXE");  // not counted strings: one class
    auto f = request_facts(p, "s0", {});
    auto env = env_of(lease_event(Action::Add, lease_100(), &f, kNow, {}));
    EXPECT_EQ(env["DNSMASQ_VENDOR_CLASS"], "a");
    EXPECT_EQ(env["DNSMASQ_SUPPLIED_HOSTNAME"], "h");
    EXPECT_EQ(env["DNSMASQ_USER_CLASS0"], "iPXE");
    EXPECT_FALSE(env.count("DNSMASQ_TAGS"));
}

TEST(ScriptEvent, TftpHasFourArgumentsAndNoVariables) {
    auto e = tftp_event(6, "192.0.2.100", "/srv/tftp/f.txt");
    EXPECT_EQ(e.args, (std::vector<std::string>{"tftp", "6", "192.0.2.100", "/srv/tftp/f.txt"}));
    EXPECT_TRUE(e.env.empty());
    EXPECT_EQ(tftp_event(6, "fd00:6::2", "/srv/tftp/f.txt").args[2], "fd00:6::2");
}

TEST(ScriptEvent, RecordRoundTripAndRefusals) {
    auto f = request_facts(udhcpc_request(), "s0", {"s0"});
    auto e = lease_event(Action::Add, lease_100(), &f, kNow, {.log_dhcp = true});
    auto back = decode(encode(e));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, e);
    EXPECT_EQ(*back->get("DNSMASQ_LOG_DHCP"), "1");
    ScriptEvent evil = e;
    evil.env.emplace_back("LD_PRELOAD", "/tmp/x.so");
    EXPECT_FALSE(decode(encode(evil)));
    std::string rec = encode(e);
    EXPECT_FALSE(decode(rec.substr(0, rec.size() - 1)));
    EXPECT_FALSE(decode(rec + "x"));
    EXPECT_FALSE(decode(""));
}

TEST(Outbox, SendsQueuesInOrderAndDropsWhenFull) {
    std::vector<std::string> wire;
    bool full = false, gone = false;
    Outbox box(2, [&](const std::string& r) {
        if (gone) return SendResult::Gone;
        if (full) return SendResult::WouldBlock;
        wire.push_back(r);
        return SendResult::Sent;
    });
    EXPECT_EQ(box.submit("a"), Outbox::Taken::Sent);
    full = true;
    EXPECT_EQ(box.submit("b"), Outbox::Taken::Queued);
    EXPECT_EQ(box.submit("c"), Outbox::Taken::Queued);
    EXPECT_EQ(box.submit("d"), Outbox::Taken::Dropped);
    EXPECT_EQ(box.submit("e"), Outbox::Taken::Dropped);
    EXPECT_TRUE(box.take_warning());  // one warning for the run of drops
    EXPECT_FALSE(box.take_warning());
    EXPECT_EQ(box.room(), 0u);
    full = false;
    box.flush();
    EXPECT_EQ(wire, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(box.submit("f"), Outbox::Taken::Sent);
    EXPECT_EQ(box.accepted(), 4u);
    EXPECT_EQ(box.sent(), 4u);
    EXPECT_EQ(box.dropped(), 2u);
    // Drained: the next drop warns again.
    full = true;
    box.submit("g");
    box.submit("h");
    EXPECT_EQ(box.submit("i"), Outbox::Taken::Dropped);
    EXPECT_TRUE(box.take_warning());
    // The helper is gone: what waits is lost, counted, and nothing more is taken.
    gone = true;
    box.flush();
    EXPECT_TRUE(box.helper_gone());
    EXPECT_EQ(box.waiting(), 0u);
    EXPECT_EQ(box.dropped(), 5u);
    EXPECT_EQ(box.submit("j"), Outbox::Taken::Dropped);
    EXPECT_EQ(box.room(), 0u);
}
