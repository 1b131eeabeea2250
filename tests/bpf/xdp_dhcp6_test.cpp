// DHCPv6 in the kernel (BPF_PROG_TEST_RUN): a reserved client's Solicit
// with rapid commit and Request are answered with XDP_TX, and the reply's
// DHCPv6 message is Engine6::handle()'s for the same request and
// configuration, byte for byte (the differential), for every kind of
// request shape; everything the program is not sure of is passed untouched.
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "bpf/dhcp6_fixture.h"
#include "bpf/map_sync.h"
#include "dhcp/frame.h"
#include "dhcp/packet.h"

using namespace pxed;
using namespace pxed::test6;
using dhcp6::MsgType;
namespace opt = dhcp6::opt;

namespace {

const Mac kByMac = *Mac::parse("52:54:00:00:66:0a");       // reserved by MAC: fd00:6::10
const Mac kOwnFile = *Mac::parse("52:54:00:00:66:0c");     // by MAC, boot-file of its own: fd00:6::12
const Mac kInDuidLL = *Mac::parse("52:54:00:00:66:0d");    // by MAC, found in its DUID-LL: fd00:6::14
const Mac kOtherLink = *Mac::parse("52:54:00:00:66:0e");   // reserved on fd00:7::/64, not this link
const Mac kStranger = *Mac::parse("52:54:00:00:66:77");
const std::vector<uint8_t> kUuidDuid = {0, 4, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99,
                                        0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0};  // reserved: fd00:6::11
const Ipv6 kRandomLL = *Ipv6::parse("fe80::1c2b:3a49:5867:7685");               // no EUI-64

std::vector<uint8_t> duid_ll(const Mac& m) { return {0, 3, 0, 1, m.b[0], m.b[1], m.b[2], m.b[3], m.b[4], m.b[5]}; }
std::vector<uint8_t> duid_llt(const Mac& m) {
    return {0, 1, 0, 1, 0x2a, 0x3b, 0x4c, 0x5d, m.b[0], m.b[1], m.b[2], m.b[3], m.b[4], m.b[5]};
}
const std::vector<uint8_t> kSomeDuid = {0, 2, 0, 0, 0x01, 0x37, 0xde, 0xad, 0xbe, 0xef};  // DUID-EN, unreserved

Msg6 solicit(std::vector<uint8_t> duid = kSomeDuid) {
    Msg6 m;
    m.duid = std::move(duid);
    return m;
}

Msg6 request(std::vector<uint8_t> duid = kSomeDuid) {
    Msg6 m = solicit(std::move(duid));
    m.type = MsgType::Request;
    m.rapid = false;
    m.server_id = server_duid();
    return m;
}

class Dhcp6Kernel : public Dhcp6Xdp {};

}  // namespace

TEST_F(Dhcp6Kernel, ReservedByMacSolicitWithRapidCommitAndRequestGetTheDaemonsReply) {
    expect_same(solicit(), kByMac);
    expect_same(request(), kByMac);
    EXPECT_EQ(stat(PXED_STAT_TX6_SOLICIT), 1u);
    EXPECT_EQ(stat(PXED_STAT_TX6_REQUEST), 1u);
    EXPECT_EQ(stat(PXED_STAT_RX_DHCP6), 2u);
    // The address is the reservation's.
    auto d = engine_reply(solicit(), eui64_link_local(kByMac));
    EXPECT_EQ(d.addr, *Ipv6::parse("fd00:6::10"));
}

TEST_F(Dhcp6Kernel, ReservedByDuidAndByTheMacOfADuidLlOrLlt) {
    expect_same(solicit(kUuidDuid), kStranger, kRandomLL);
    expect_same(request(kUuidDuid), kStranger, kRandomLL);
    expect_same(solicit(duid_ll(kInDuidLL)), kInDuidLL, kRandomLL);
    expect_same(request(duid_llt(kInDuidLL)), kInDuidLL, kRandomLL);
    EXPECT_EQ(engine_reply(solicit(kUuidDuid), kRandomLL).addr, *Ipv6::parse("fd00:6::11"));
    EXPECT_EQ(engine_reply(solicit(duid_ll(kInDuidLL)), kRandomLL).addr, *Ipv6::parse("fd00:6::14"));
}

TEST_F(Dhcp6Kernel, PrecedenceIsTheEnginesDuidThenLinkLocalMacThenDuidMac) {
    // A reserved DUID from a reserved MAC: the DUID's address.
    expect_same(solicit(kUuidDuid), kByMac);
    EXPECT_EQ(engine_reply(solicit(kUuidDuid), eui64_link_local(kByMac)).addr, *Ipv6::parse("fd00:6::11"));
    // An EUI-64 link-local address names the MAC: a reserved MAC in the
    // DUID-LL is not looked at, so neither answers it.
    auto m = solicit(duid_ll(kInDuidLL));
    EXPECT_NE(engine_reply(m, eui64_link_local(kStranger)).addr, *Ipv6::parse("fd00:6::14"));
    expect_pass6(frame6(Wire6{kStranger, *Mac::parse("33:33:00:01:00:02"), eui64_link_local(kStranger)}, m.bytes()),
                 PXED_STAT_PASS6_NOT_RESERVED);
}

// Every shape of request the tails tell apart, for each kind of reservation
// (and the one with a boot file of its own), Solicit and Request.
TEST_F(Dhcp6Kernel, EveryShapeGetsTheDaemonsTail) {
    struct Shape {
        const char* name;
        std::vector<uint16_t> oro;
        std::optional<uint16_t> arch;
        std::vector<std::string> vendor, user;
    } shapes[] = {
        {"no ORO", {}, {}, {}, {}},
        {"ORO 23", {opt::DnsServers}, {}, {}, {}},
        {"ORO 23 24", {opt::DnsServers, opt::DomainList}, {}, {}, {}},
        {"ORO 24 59", {opt::DomainList, opt::BootfileUrl}, {}, {}, {}},
        {"ORO 23 24 59 and others", {7, opt::DnsServers, 31, opt::DomainList, opt::BootfileUrl, 82}, {}, {}, {}},
        {"arch 0", {opt::BootfileUrl}, 0, {}, {}},
        {"arch 7 without 59 in the ORO", {opt::DnsServers}, 7, {}, {}},
        {"arch 7 PXEClient", {opt::BootfileUrl}, 7, {"PXEClient:Arch:00007:UNDI:003016"}, {}},
        {"arch 9", {opt::BootfileUrl, opt::DnsServers}, 9, {}, {}},
        {"arch 16 HTTPClient", {opt::BootfileUrl}, 16, {"HTTPClient:Arch:00016:UNDI:003016"}, {}},
        {"arch 16, HTTPClient second", {opt::BootfileUrl}, 16, {"other", "HTTPClient"}, {}},
        {"HTTPClient without option 61", {opt::BootfileUrl}, {}, {"HTTPClient:Arch:00016"}, {}},
        {"HTTPClient, no boot asked", {opt::DnsServers}, {}, {"HTTPClient"}, {}},
        {"arch 11 (a URL)", {opt::BootfileUrl}, 11, {}, {}},
        {"arch 27 (global [boot])", {opt::BootfileUrl}, 27, {}, {}},
        {"arch 300 (no table names it)", {opt::BootfileUrl}, 300, {}, {}},
        {"iPXE", {opt::BootfileUrl}, 7, {}, {"iPXE"}},
        {"iPXE second entry", {opt::BootfileUrl}, 0, {}, {"gPXE", "iPXE"}},
        {"iPXE, HTTPClient", {opt::BootfileUrl, opt::DnsServers}, 16, {"HTTPClient"}, {"iPXE"}},
        {"user class not iPXE", {opt::BootfileUrl}, 7, {}, {"iPXEx"}},
    };
    struct Client {
        const char* name;
        Mac mac;
        std::vector<uint8_t> duid;
        Ipv6 src;
    } clients[] = {
        {"by MAC", kByMac, kSomeDuid, eui64_link_local(kByMac)},
        {"own boot file", kOwnFile, kSomeDuid, eui64_link_local(kOwnFile)},
        {"by DUID", kStranger, kUuidDuid, kRandomLL},
    };
    for (auto& c : clients)
        for (auto& s : shapes)
            for (bool req : {false, true}) {
                SCOPED_TRACE(std::string(c.name) + ", " + s.name + (req ? ", Request" : ", Solicit"));
                Msg6 m = req ? request(c.duid) : solicit(c.duid);
                m.oro = s.oro;
                m.arch = s.arch;
                m.vendor = s.vendor;
                m.user = s.user;
                m.xid = 0x10203 + uint32_t(&s - shapes);
                expect_same(m, c.mac, c.src);
            }
}

// Item 1's list: what the program passes, counted, the frame untouched.
TEST_F(Dhcp6Kernel, WhatTheProgramIsNotSureOfIsPassed) {
    auto frame = [](const Msg6& m, const Mac& mac = kByMac) {
        return frame6(Wire6{mac, *Mac::parse("33:33:00:01:00:02"), eui64_link_local(mac)}, m.bytes());
    };
    auto no_rc = solicit();
    no_rc.rapid = false;
    EXPECT_EQ(engine_reply(no_rc, eui64_link_local(kByMac)).out, MsgType::Advertise);
    expect_pass6(frame(no_rc), PXED_STAT_PASS6_NO_RAPID_COMMIT);

    auto two = solicit();
    two.iaids = {1, 2};
    expect_pass6(frame(two), PXED_STAT_PASS6_UNSURE);
    auto none = solicit();
    none.iaids = {};
    expect_pass6(frame(none), PXED_STAT_PASS6_UNSURE);
    for (uint16_t ia : {opt::IaTa, opt::IaPd}) {
        auto m = solicit();
        m.raw = {{ia, std::vector<uint8_t>(ia == opt::IaTa ? 4 : 12, 0)}};
        expect_pass6(frame(m), PXED_STAT_PASS6_UNSURE);
    }
    auto other = request();
    other.server_id = {0, 3, 0, 1, 2, 0, 0, 0, 0, 2};
    EXPECT_TRUE(engine_reply(other, eui64_link_local(kByMac)).reply.empty());
    expect_pass6(frame(other), PXED_STAT_PASS6_SERVER_ID);
    auto no_sid = request();
    no_sid.server_id.clear();
    expect_pass6(frame(no_sid), PXED_STAT_PASS6_SERVER_ID);
    auto sol_sid = solicit();
    sol_sid.server_id = server_duid();
    expect_pass6(frame(sol_sid), PXED_STAT_PASS6_SERVER_ID);
    auto no_cid = solicit({});
    expect_pass6(frame(no_cid), PXED_STAT_PASS6_SERVER_ID);
    // A DUID longer than the key: reserved, but the daemon's.
    std::vector<uint8_t> long_duid = {0, 2, 0, 0, 1, 0x37};
    for (uint8_t b = 1; b <= 0x22; b++) long_duid.push_back(b);
    EXPECT_EQ(engine_reply(solicit(long_duid), kRandomLL).addr, *Ipv6::parse("fd00:6::13"));
    expect_pass6(frame6(Wire6{kStranger, *Mac::parse("33:33:00:01:00:02"), kRandomLL}, solicit(long_duid).bytes()),
                 PXED_STAT_PASS6_UNSURE);
    auto bad = solicit();
    bad.raw = {{opt::Oro, {0, 23, 0}}};  // odd length
    EXPECT_TRUE(engine_reply(bad, eui64_link_local(kByMac)).reply.empty());
    expect_pass6(frame(bad), PXED_STAT_PASS6_MALFORMED);
    expect_pass6(frame(solicit(), kStranger), PXED_STAT_PASS6_NOT_RESERVED);
    expect_pass6(frame(solicit(), kOtherLink), PXED_STAT_PASS6_NOT_RESERVED);
    for (auto t : {MsgType::Renew, MsgType::Rebind, MsgType::Confirm, MsgType::InformationRequest, MsgType::Release}) {
        auto m = request();
        m.type = t;
        expect_pass6(frame(m), PXED_STAT_PASS6_MSG_TYPE);
    }
    // Relayed: a Relay-forw holding the Solicit.
    auto inner = solicit().bytes();
    std::vector<uint8_t> fw = {12, 0};
    fw.insert(fw.end(), 32, 0);
    fw.insert(fw.end(), {0, 9, uint8_t(inner.size() >> 8), uint8_t(inner.size())});
    fw.insert(fw.end(), inner.begin(), inner.end());
    expect_pass6(frame6(Wire6{kByMac, *Mac::parse("33:33:00:01:00:02"), eui64_link_local(kByMac), kAllServers, 547},
                        fw),
                 PXED_STAT_PASS6_NOT_LINK);  // a relay sends from port 547
    expect_pass6(frame6(Wire6{kByMac, *Mac::parse("33:33:00:01:00:02"), eui64_link_local(kByMac)}, fw),
                 PXED_STAT_PASS6_MSG_TYPE);
    EXPECT_EQ(stat(PXED_STAT_TX6_SOLICIT) + stat(PXED_STAT_TX6_REQUEST), 0u);
}

TEST_F(Dhcp6Kernel, SubnetWithoutRapidCommitLeavesTheSolicitToTheDaemon) {
    cfg_.subnets6[0].rapid_commit = false;
    ASSERT_NO_FATAL_FAILURE(sync());
    EXPECT_EQ(engine_reply(solicit(), eui64_link_local(kByMac)).out, MsgType::Advertise);
    expect_pass6(frame6(Wire6{kByMac, *Mac::parse("33:33:00:01:00:02"), eui64_link_local(kByMac)}, solicit().bytes()),
                 PXED_STAT_PASS6_NO_RAPID_COMMIT);
    expect_same(request(), kByMac);
}

TEST_F(Dhcp6Kernel, MissingTailOrBlobIsPassed) {
    auto f = frame6(Wire6{kByMac, *Mac::parse("33:33:00:01:00:02"), eui64_link_local(kByMac)}, solicit().bytes());
    // solicit(): ORO 23, no option 61: boot set 0, shape DNS, slot 0.
    uint32_t idx = PXED6_TAIL_INDEX(0, PXED6_SHAPE_DNS, 0);
    uint16_t id = 0, none = PXED6_NO_BLOB;
    ASSERT_EQ(bpf_map_lookup_elem(prog_->dhcp6_tails_fd(), &idx, &id), 0);
    ASSERT_NE(id, none);
    ASSERT_EQ(bpf_map_update_elem(prog_->dhcp6_tails_fd(), &idx, &none, BPF_ANY), 0);
    expect_pass6(f, PXED_STAT_PASS6_NO_BLOB);
    ASSERT_EQ(bpf_map_update_elem(prog_->dhcp6_tails_fd(), &idx, &id, BPF_ANY), 0);
    uint32_t key = id;
    ASSERT_EQ(bpf_map_delete_elem(prog_->dhcp6_blobs_fd(), &key), 0);
    expect_pass6(f, PXED_STAT_PASS6_NO_BLOB);
    // The next sync puts it back.
    ASSERT_NO_FATAL_FAILURE(sync());
    expect_same(solicit(), kByMac);
}

// A lease the daemon holds on a reserved address (after it answered the
// client itself): the kernel answers that IA alone, as is_free() does.
TEST_F(Dhcp6Kernel, AReservedAddressTheDaemonHoldsGoesToItsHolderOnly) {
    dhcp6::Engine6 daemon(cfg_, server_duid(), kHttpPort);
    auto held = solicit();
    held.rapid = false;  // the daemon's Advertise: an offered lease for IA 0x0a0b0c0d
    ASSERT_EQ(engine_reply(held, eui64_link_local(kByMac), &daemon).addr, *Ipv6::parse("fd00:6::10"));
    auto holders = bpf::holders6(cfg_, daemon.leases(), 1000);
    ASSERT_EQ(holders.size(), 1u);
    ASSERT_NO_FATAL_FAILURE(sync(holders));
    // The holder's Request: the kernel's reply is the daemon's.
    auto k = run(frame6(Wire6{kByMac, *Mac::parse("33:33:00:01:00:02"), eui64_link_local(kByMac)}, request().bytes()));
    ASSERT_STREQ(pxed::test::verdict_name(k.verdict), "XDP_TX") << stats_line();
    auto d = engine_reply(request(), eui64_link_local(kByMac), &daemon);
    EXPECT_EQ(parse_reply6(k.out)->payload, d.reply);
    // Another IA of the same MAC: a pool address from the daemon, passed here.
    auto other = solicit({0, 2, 0, 0, 1, 0x37, 9, 9});
    EXPECT_NE(engine_reply(other, eui64_link_local(kByMac), &daemon).addr, *Ipv6::parse("fd00:6::10"));
    expect_pass6(frame6(Wire6{kByMac, *Mac::parse("33:33:00:01:00:02"), eui64_link_local(kByMac)}, other.bytes()),
                 PXED_STAT_PASS6_HELD);
    // Declined: no one gets it, the reservation is the daemon's.
    holders[0].declined = true;
    ASSERT_NO_FATAL_FAILURE(sync(holders));
    expect_pass6(frame6(Wire6{kByMac, *Mac::parse("33:33:00:01:00:02"), eui64_link_local(kByMac)}, request().bytes()),
                 PXED_STAT_PASS6_NOT_RESERVED);
}

TEST_F(Dhcp6Kernel, BootTablesNamingMoreArchitecturesThanSlotsPassTheRest) {
    for (uint16_t a = 100; a < 120; a++) cfg_.boot.by_arch[a] = "arch" + std::to_string(a) + ".efi";
    ASSERT_NO_FATAL_FAILURE(sync());
    auto m = solicit();
    m.oro = {opt::BootfileUrl};
    m.arch = 7;  // among the first 15 (sorted): its own slot
    expect_same(m, kByMac);
    m.arch = 119;  // named, but past the slots
    expect_pass6(frame6(Wire6{kByMac, *Mac::parse("33:33:00:01:00:02"), eui64_link_local(kByMac)}, m.bytes()),
                 PXED_STAT_PASS6_UNSURE);
}

// An interface without an IPv4 address, attached for DHCPv6: the v4 sync
// turns DHCPv4 off there, DHCPv6 stays on.
TEST_F(Dhcp6Kernel, AnInterfaceWithoutIpv4PassesEveryDhcpv4Frame) {
    auto c4 = config::parse_toml("[server]\ninterfaces = [\"test0\"]\n[[subnet]]\ncidr = \"192.0.2.0/24\"\n"
                                 "range = [\"192.0.2.100\", \"192.0.2.200\"]\n[[reservation]]\nmac = \"52:54:00:00:66:0a\"\n"
                                 "ip = \"192.0.2.10\"\n",
                                 "v4.toml");
    ASSERT_TRUE(c4.ok()) << c4.error();
    auto rep = bpf::sync_maps(*prog_, *c4, bpf::IfaceView{"test0", 7, kServerMac, Ipv4(), {}}, bpf::RateLimit{});
    ASSERT_TRUE(rep.ok()) << rep.error();
    dhcp::Packet p;
    p.xid = 1;
    p.set_mac(kByMac);
    p.options.set_u8(dhcp::opt::MessageType, uint8_t(dhcp::MessageType::Discover));
    dhcp::UdpEndpoints ep{kByMac, *Mac::parse("ff:ff:ff:ff:ff:ff"), Ipv4(), Ipv4(0xffffffff), 68, 67};
    expect_pass6(dhcp::build_udp_frame(ep, dhcp::serialize(p)), PXED_STAT_PASS_DISABLED);
    expect_same(solicit(), kByMac);
}
