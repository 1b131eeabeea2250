// DHCPv6 (RFC 8415): the codec, the server state machine, the lease table
// and the SQLite store's v6 table, without sockets or root.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "dhcp6/engine6.h"
#include "lease/lease_store.h"

using namespace pxed;
using namespace pxed::dhcp6;

namespace {

// A client's message, as dhclient -6 or firmware would build it.
struct ClientMsg {
    MsgType type = MsgType::Solicit;
    uint32_t xid = 0x123456;
    std::vector<uint8_t> duid = {0, 3, 0, 1, 0x52, 0x54, 0, 0x12, 0x34, 0x56};
    std::vector<uint8_t> server_id;
    std::vector<uint32_t> iaids = {1};
    std::vector<Ipv6> hints;
    std::vector<uint16_t> oro = {opt::DnsServers, opt::BootfileUrl};
    bool rapid = false;
    std::optional<uint16_t> arch;
    std::string vendor;  // option 16 entry, enterprise 343

    std::vector<uint8_t> bytes() const {
        Writer w(type, xid);
        if (!duid.empty()) w.option(opt::ClientId, duid);
        if (!server_id.empty()) w.option(opt::ServerId, server_id);
        for (auto id : iaids) {
            size_t at = w.nest(opt::IaNa);
            w.u32(id);
            w.u32(0);
            w.u32(0);
            for (auto& h : hints) w.ia_addr(IaAddr{h, 0, 0});
            w.close(at);
        }
        std::vector<uint8_t> o;
        for (auto c : oro) o.insert(o.end(), {uint8_t(c >> 8), uint8_t(c)});
        w.option(opt::Oro, o);
        w.u16_option(opt::ElapsedTime, 0);
        if (rapid) w.option(opt::RapidCommit, std::string_view());
        if (arch) w.u16_option(opt::ClientArch, *arch);
        if (!vendor.empty()) {
            std::vector<uint8_t> v = {0, 0, 1, 0x57, uint8_t(vendor.size() >> 8), uint8_t(vendor.size())};
            v.insert(v.end(), vendor.begin(), vendor.end());
            w.option(opt::VendorClass, v);
        }
        return w.take();
    }
};

// What a reply carries, read back with the codec's own walk rules.
struct ReplyView {
    uint8_t type = 0;
    uint32_t xid = 0;
    std::map<uint16_t, std::vector<uint8_t>> opts;
    std::vector<IaNa> ias;
    std::vector<uint16_t> ia_status;
};

uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

ReplyView view(const std::vector<uint8_t>& b) {
    ReplyView v;
    EXPECT_GE(b.size(), 4u);
    v.type = b[0];
    v.xid = uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
    for (size_t i = 4; i + 4 <= b.size();) {
        uint16_t code = be16(&b[i]), len = be16(&b[i + 2]);
        EXPECT_LE(i + 4 + len, b.size());
        std::vector<uint8_t> val(b.begin() + long(i + 4), b.begin() + long(i + 4 + len));
        if (code == opt::IaNa) {
            IaNa ia;
            ia.iaid = be32(&val[0]);
            ia.t1 = be32(&val[4]);
            ia.t2 = be32(&val[8]);
            uint16_t status = 0;
            for (size_t j = 12; j + 4 <= val.size();) {
                uint16_t c = be16(&val[j]), l = be16(&val[j + 2]);
                if (c == opt::IaAddr) {
                    IaAddr a;
                    std::copy_n(val.begin() + long(j + 4), 16, a.addr.b.begin());
                    a.preferred = be32(&val[j + 20]);
                    a.valid = be32(&val[j + 24]);
                    ia.addrs.push_back(a);
                } else if (c == opt::StatusCode) {
                    status = be16(&val[j + 4]);
                }
                j += 4 + l;
            }
            v.ias.push_back(ia);
            v.ia_status.push_back(status);
        } else {
            v.opts[code] = val;
        }
        i += 4 + len;
    }
    return v;
}

std::string text(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

config::Config make_cfg() {
    auto c = config::parse_toml(R"(
[server]
interfaces = ["eth0"]
[[subnet6]]
prefix = "fd00:6::/64"
range = ["fd00:6::100", "fd00:6::1ff"]
dns = ["fd00:6::53"]
boot-params = ["console=ttyS0"]
[subnet6.boot]
uefi-x64 = "grubx64.efi"
x64-uefi-http = "/boot/grubx64.efi"
[[reservation6]]
duid = "00:02:00:00:ab:11:01:02"
ip = "fd00:6::10"
[[reservation6]]
mac = "52:54:00:aa:bb:cc"
ip = "fd00:6::11"
boot-file = "http://[fd00:6::1]/special.efi"
)",
                              "test.toml");
    EXPECT_TRUE(c.ok()) << (c ? "" : c.error());
    return *c;
}

struct Dhcp6Engine : ::testing::Test {
    config::Config cfg = make_cfg();
    std::vector<uint8_t> sid = {0, 3, 0, 1, 2, 0, 0, 0, 0, 1};
    Engine6 eng{cfg, sid, 80};
    Link link{"eth0", 2, Mac{{2, 0, 0, 0, 0, 1}}, {*Ipv6::parse("fd00:6::1")}};
    Ipv6 client_ll = *Ipv6::parse("fe80::5054:ff:fe12:3456");
    int64_t now = 1'000'000;

    Outcome send(const ClientMsg& m, std::optional<Ipv6> dst = std::nullopt) {
        auto b = m.bytes();
        Request r{b, client_ll, dst.value_or(*Ipv6::parse("ff02::1:2")), &link};
        return eng.handle(r, now);
    }
};

}  // namespace

TEST(Dhcp6Codec, ParsesWhatItWritesAndRefusesCutMessages) {
    ClientMsg m;
    m.arch = 7;
    m.vendor = "PXEClient:Arch:00007:UNDI:003016";
    m.rapid = true;
    auto b = m.bytes();
    auto p = parse(b);
    ASSERT_TRUE(p.ok()) << p.error();
    EXPECT_EQ(p->msg.xid, 0x123456u);
    EXPECT_EQ(p->msg.client_id, m.duid);
    ASSERT_EQ(p->msg.ia_na.size(), 1u);
    EXPECT_TRUE(p->msg.rapid_commit);
    EXPECT_EQ(p->msg.archs, std::vector<uint16_t>{7});
    EXPECT_TRUE(p->msg.vendor_class_starts("PXEClient"));
    EXPECT_EQ(mac_of(*p), (Mac{{0x52, 0x54, 0, 0x12, 0x34, 0x56}}));
    for (size_t cut = 0; cut < b.size(); cut++) {
        auto q = parse(std::span(b.data(), cut));
        // A cut on an option boundary is a shorter valid message; a cut
        // inside an option or the header fails.
        if (cut < 4) {
            EXPECT_FALSE(q.ok()) << cut;
        } else if (q.ok()) {
            EXPECT_LE(q->msg.ia_na.size(), 1u);
        }
    }
    std::vector<uint8_t> adv = {2, 0, 0, 1};
    EXPECT_FALSE(parse(adv).ok());  // a server never takes an Advertise
}

TEST(Dhcp6Codec, UnwrapsRelayLayersAndBoundsThem) {
    ClientMsg m;
    auto inner = m.bytes();
    RelayHop hop;
    hop.link = *Ipv6::parse("fd00:7::1");
    hop.peer = *Ipv6::parse("fe80::1");
    // A Relay-forw is a Relay-repl with another type byte.
    auto wrap = [&](std::vector<uint8_t> in, bool with_mac) {
        Writer w = Writer::relay_repl(hop);
        auto b = w.take();
        b[0] = uint8_t(MsgType::RelayForw);
        Writer o = Writer::relay_repl(hop);
        (void)o;
        std::vector<uint8_t> opt = {0, 9, uint8_t(in.size() >> 8), uint8_t(in.size())};
        opt.insert(opt.end(), in.begin(), in.end());
        b.insert(b.end(), opt.begin(), opt.end());
        std::vector<uint8_t> iid = {0, 18, 0, 3, 'p', '1', '7'};
        b.insert(b.end(), iid.begin(), iid.end());
        if (with_mac) {
            std::vector<uint8_t> ll = {0, 79, 0, 8, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
            b.insert(b.end(), ll.begin(), ll.end());
        }
        return b;
    };
    auto one = wrap(inner, true);
    auto p = parse(one);
    ASSERT_TRUE(p.ok()) << p.error();
    ASSERT_EQ(p->relays.size(), 1u);
    EXPECT_EQ(p->relays[0].link, hop.link);
    EXPECT_EQ(*p->relays[0].interface_id, (std::vector<uint8_t>{'p', '1', '7'}));
    EXPECT_EQ(mac_of(*p), (Mac{{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}}));
    auto deep = inner;
    for (int i = 0; i < kHopCountLimit + 2; i++) deep = wrap(deep, false);
    EXPECT_FALSE(parse(deep).ok());
}

TEST(Dhcp6Codec, MacFromEui64LinkLocal) {
    EXPECT_EQ(mac_from_link_local(*Ipv6::parse("fe80::5054:ff:fe12:3456")), (Mac{{0x52, 0x54, 0, 0x12, 0x34, 0x56}}));
    EXPECT_FALSE(mac_from_link_local(*Ipv6::parse("fe80::1")));
    EXPECT_FALSE(mac_from_link_local(*Ipv6::parse("fd00::5054:ff:fe12:3456")));
}

TEST_F(Dhcp6Engine, SolicitAdvertiseRequestReplyRenewRelease) {
    ClientMsg sol;
    auto adv = send(sol);
    ASSERT_FALSE(adv.reply.empty()) << to_string(adv.drop);
    EXPECT_FALSE(adv.hold);
    auto a = view(adv.reply);
    EXPECT_EQ(a.type, uint8_t(MsgType::Advertise));
    EXPECT_EQ(a.xid, sol.xid);
    EXPECT_EQ(a.opts[opt::ServerId], sid);
    EXPECT_EQ(a.opts[opt::ClientId], sol.duid);
    ASSERT_EQ(a.ias.size(), 1u);
    ASSERT_EQ(a.ias[0].addrs.size(), 1u);
    Ipv6 got = a.ias[0].addrs[0].addr;
    EXPECT_TRUE(got >= *Ipv6::parse("fd00:6::100") && got <= *Ipv6::parse("fd00:6::1ff")) << got.str();
    EXPECT_EQ(a.ias[0].addrs[0].preferred, 3600u);
    EXPECT_EQ(a.ias[0].addrs[0].valid, 7200u);
    EXPECT_EQ(a.ias[0].t1, 1800u);
    EXPECT_EQ(a.ias[0].t2, 2880u);
    EXPECT_EQ(a.opts[opt::DnsServers].size(), 16u);
    EXPECT_FALSE(a.opts.count(opt::BootfileUrl));  // no file for an unknown architecture
    EXPECT_EQ(adv.dst, client_ll);
    EXPECT_EQ(adv.dst_port, kClientPort);
    EXPECT_TRUE(eng.leases().take_dirty().size() == 1 && eng.leases().by_ip(got)->state == lease::State::Offered);

    ClientMsg req = sol;
    req.type = MsgType::Request;
    req.server_id = sid;
    req.hints = {got};
    auto rep = send(req);
    ASSERT_FALSE(rep.reply.empty());
    EXPECT_TRUE(rep.hold);
    auto r = view(rep.reply);
    EXPECT_EQ(r.type, uint8_t(MsgType::Reply));
    ASSERT_EQ(r.ias.size(), 1u);
    EXPECT_EQ(r.ias[0].addrs[0].addr, got);
    auto* l = eng.leases().by_ip(got);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->state, lease::State::Bound);
    EXPECT_EQ(l->expires, now + 7200);
    EXPECT_EQ(l->mac, (Mac{{0x52, 0x54, 0, 0x12, 0x34, 0x56}}));

    // A Request for another server's Advertise is not ours to answer.
    ClientMsg other = req;
    other.server_id = {0, 3, 0, 1, 9, 9, 9, 9, 9, 9};
    EXPECT_TRUE(send(other).reply.empty());
    EXPECT_EQ(send(other).drop, Drop::NotOurServerId);

    now += 1800;
    ClientMsg ren = req;
    ren.type = MsgType::Renew;
    auto rn = view(send(ren).reply);
    ASSERT_EQ(rn.ias.size(), 1u);
    EXPECT_EQ(rn.ias[0].addrs[0].addr, got);
    EXPECT_EQ(eng.leases().by_ip(got)->expires, now + 7200);

    ClientMsg rel = req;
    rel.type = MsgType::Release;
    auto rl = send(rel);
    EXPECT_TRUE(rl.hold);
    EXPECT_EQ(view(rl.reply).opts[opt::StatusCode][1], uint8_t(Status::Success));
    EXPECT_EQ(eng.leases().by_ip(got)->state, lease::State::Released);

    // Renewing what was released: no binding.
    auto nb = view(send(ren).reply);
    ASSERT_EQ(nb.ias.size(), 1u);
    EXPECT_EQ(nb.ia_status[0], uint16_t(Status::NoBinding));
}

TEST_F(Dhcp6Engine, RapidCommitAnswersSolicitWithAHeldReply) {
    ClientMsg sol;
    sol.rapid = true;
    auto out = send(sol);
    EXPECT_TRUE(out.hold);
    auto r = view(out.reply);
    EXPECT_EQ(r.type, uint8_t(MsgType::Reply));
    EXPECT_TRUE(r.opts.count(opt::RapidCommit));
    EXPECT_EQ(eng.leases().by_ip(r.ias[0].addrs[0].addr)->state, lease::State::Bound);
}

TEST_F(Dhcp6Engine, PreferenceGoesInAdvertisesOnlyWhenSet) {
    ClientMsg sol;
    EXPECT_FALSE(view(send(sol).reply).opts.count(opt::Preference)) << "none unless configured";
    cfg.subnets6[0].preference = 255;
    Engine6 pref{cfg, sid, 80};
    auto b = sol.bytes();
    Request r{b, client_ll, *Ipv6::parse("ff02::1:2"), &link};
    auto a = view(pref.handle(r, now).reply);
    EXPECT_EQ(a.type, uint8_t(MsgType::Advertise));
    EXPECT_EQ(a.opts[opt::Preference], std::vector<uint8_t>{255});
    // 21.8: an Advertise option; a Reply (here to a rapid-commit Solicit) has none.
    sol.rapid = true;
    b = sol.bytes();
    Request rr{b, client_ll, *Ipv6::parse("ff02::1:2"), &link};
    auto rep = view(pref.handle(rr, now).reply);
    EXPECT_EQ(rep.type, uint8_t(MsgType::Reply));
    EXPECT_FALSE(rep.opts.count(opt::Preference));
}

TEST_F(Dhcp6Engine, BootFileUrlByArchitectureAndHttpClient) {
    ClientMsg pxe;
    pxe.arch = 7;
    pxe.vendor = "PXEClient:Arch:00007:UNDI:003016";
    pxe.oro = {};  // option 61 alone earns option 59
    auto a = view(send(pxe).reply);
    EXPECT_EQ(text(a.opts[opt::BootfileUrl]), "tftp://[fd00:6::1]/grubx64.efi");
    EXPECT_EQ(a.opts[opt::BootfileParam], (std::vector<uint8_t>{0, 13, 'c', 'o', 'n', 's', 'o', 'l', 'e', '=', 't', 't', 'y', 'S', '0'}));
    EXPECT_FALSE(a.opts.count(opt::VendorClass));

    ClientMsg http = pxe;
    http.duid = {0, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};  // DUID-UUID, as firmware sends
    http.arch = 16;
    http.vendor = "HTTPClient:Arch:00016:UNDI:003016";
    auto h = view(send(http).reply);
    EXPECT_EQ(text(h.opts[opt::BootfileUrl]), "http://[fd00:6::1]/boot/grubx64.efi");
    ASSERT_TRUE(h.opts.count(opt::VendorClass));
    EXPECT_EQ(text(h.opts[opt::VendorClass]).substr(6), "HTTPClient");
}

TEST_F(Dhcp6Engine, ReservationsByDuidAndByMac) {
    ClientMsg byduid;
    byduid.duid = {0, 2, 0, 0, 0xab, 0x11, 1, 2};
    EXPECT_EQ(view(send(byduid).reply).ias[0].addrs[0].addr, *Ipv6::parse("fd00:6::10"));
    // By MAC: the EUI-64 of the link-local source (firmware's DUID-UUID shows none).
    ClientMsg bymac;
    bymac.duid = {0, 4, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
    client_ll = *Ipv6::parse("fe80::5054:ff:feaa:bbcc");
    auto v = view(send(bymac).reply);
    EXPECT_EQ(v.ias[0].addrs[0].addr, *Ipv6::parse("fd00:6::11"));
    EXPECT_EQ(text(v.opts[opt::BootfileUrl]), "http://[fd00:6::1]/special.efi");
}

TEST_F(Dhcp6Engine, DropsWhatRfc8415SaysToDiscard) {
    ClientMsg nocid;
    nocid.duid = {};
    EXPECT_EQ(send(nocid).drop, Drop::NoClientId);
    ClientMsg withsid;
    withsid.server_id = sid;
    EXPECT_EQ(send(withsid).drop, Drop::ServerIdPresent);
    ClientMsg req;
    req.type = MsgType::Request;
    EXPECT_EQ(send(req).drop, Drop::NoServerId);
    ClientMsg uni;
    EXPECT_EQ(send(uni, *Ipv6::parse("fd00:6::1")).drop, Drop::Unicast);
    // A unicast Request: answered with UseMulticast (we never sent option 12).
    req.server_id = sid;
    auto u = view(send(req, *Ipv6::parse("fd00:6::1")).reply);
    EXPECT_EQ(be16(u.opts[opt::StatusCode].data()), uint16_t(Status::UseMulticast));
    link.addrs = {*Ipv6::parse("fd00:99::1")};
    EXPECT_EQ(send(ClientMsg{}).drop, Drop::NoSubnet);
    std::vector<uint8_t> junk = {1, 2, 3, 4, 0, 1, 0, 200};
    Request r{junk, client_ll, *Ipv6::parse("ff02::1:2"), &link};
    EXPECT_EQ(eng.handle(r, now).drop, Drop::Malformed);
}

TEST_F(Dhcp6Engine, RelayedSolicitGetsARelayReplyToTheRelay) {
    ClientMsg m;
    auto inner = m.bytes();
    RelayHop hop;
    hop.link = *Ipv6::parse("fd00:6::fe");
    hop.peer = client_ll;
    hop.interface_id = std::vector<uint8_t>{'e', 't', '1'};
    auto b = Writer::relay_repl(hop).take();
    b[0] = uint8_t(MsgType::RelayForw);
    std::vector<uint8_t> opt = {0, 9, uint8_t(inner.size() >> 8), uint8_t(inner.size())};
    opt.insert(opt.end(), inner.begin(), inner.end());
    b.insert(b.end(), opt.begin(), opt.end());
    link.addrs = {};  // the interface's own prefix does not matter: the relay's link-address does
    Ipv6 relay = *Ipv6::parse("fd00:5::2");
    Request r{b, relay, *Ipv6::parse("fd00:5::1"), &link};
    auto out = eng.handle(r, now);
    ASSERT_FALSE(out.reply.empty()) << to_string(out.drop);
    EXPECT_EQ(out.dst, relay);
    EXPECT_EQ(out.dst_port, kServerPort);
    EXPECT_EQ(out.reply[0], uint8_t(MsgType::RelayRepl));
    auto back = Writer::relay_repl(hop).take();  // header and interface-id echoed
    EXPECT_TRUE(std::equal(back.begin(), back.end(), out.reply.begin()));
}

TEST(LeaseTable6, PicksEveryAddressOfASmallPoolOnceAndNoMore) {
    lease::LeaseTable6 t;
    lease::Pool6 pool{*Ipv6::parse("fd00::10"), *Ipv6::parse("fd00::1f"), nullptr};
    std::set<Ipv6> seen;
    for (uint32_t i = 0; i < 16; i++) {
        auto key = lease::Lease6::key_of({0, 1, uint8_t(i)}, i);
        auto ip = t.pick(key, pool, 100);
        ASSERT_TRUE(ip) << i;
        EXPECT_TRUE(seen.insert(*ip).second);
        lease::Lease6 l;
        l.ip = *ip;
        l.duid = {0, 1, uint8_t(i)};
        l.iaid = i;
        l.expires = 1000;
        l.state = lease::State::Bound;
        t.put(l);
    }
    EXPECT_FALSE(t.pick("another", pool, 100));
    EXPECT_TRUE(t.pick("another", pool, 1000));  // they all expired
}

TEST(LeaseStore6, SqliteKeepsV6LeasesInTheSameCommit) {
    auto dir = std::filesystem::temp_directory_path() / ("pxed-l6-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    auto path = (dir / "leases.db").string();
    lease::Lease6 l;
    l.ip = *Ipv6::parse("fd00::42");
    l.duid = {0, 3, 0, 1, 1, 2, 3, 4, 5, 6};
    l.iaid = 7;
    l.mac = Mac{{1, 2, 3, 4, 5, 6}};
    l.start = 10;
    l.preferred_until = 20;
    l.expires = 30;
    l.state = lease::State::Bound;
    {
        auto s = lease::open_sqlite_store(path);
        ASSERT_TRUE(s.ok()) << s.error();
        std::vector<lease::Lease6> ups = {l};
        ASSERT_TRUE((*s)->commit_all({}, {}, lease::Changes6{ups, {}}).ok());
    }
    auto s = lease::open_sqlite_store(path);
    ASSERT_TRUE(s.ok()) << s.error();
    std::vector<lease::Lease6> back;
    ASSERT_TRUE((*s)->load_each6([&](lease::Lease6&& x) { back.push_back(std::move(x)); }).ok());
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].ip, l.ip);
    EXPECT_EQ(back[0].duid, l.duid);
    EXPECT_EQ(back[0].iaid, 7u);
    EXPECT_EQ(back[0].mac, l.mac);
    EXPECT_EQ(back[0].expires, 30);
    std::vector<Ipv6> dels = {l.ip};
    ASSERT_TRUE((*s)->commit_all({}, {}, lease::Changes6{{}, dels}).ok());
    back.clear();
    ASSERT_TRUE((*s)->load_each6([&](lease::Lease6&& x) { back.push_back(std::move(x)); }).ok());
    EXPECT_TRUE(back.empty());
    std::filesystem::remove_all(dir);
}

TEST(Config6, ErrorsNameTheValueAndTheLine) {
    auto bad = [](const char* body) {
        std::string t = std::string("[server]\ninterfaces = [\"eth0\"]\n") + body;
        auto c = config::parse_toml(t, "x.toml");
        EXPECT_FALSE(c.ok());
        return c.ok() ? std::string() : c.error();
    };
    EXPECT_NE(bad("[[subnet6]]\nprefix = \"fd00::/64\"\nrange = [\"fd00::1\", \"fd01::9\"]\n").find("outside the prefix"),
              std::string::npos);
    EXPECT_NE(bad("[[subnet6]]\nprefix = \"fd00::/64\"\nrange = [\"fd00::9\", \"fd00::1\"]\n").find("upwards"),
              std::string::npos);
    EXPECT_NE(bad("[[subnet6]]\nprefix = \"fd00::/6x\"\nrange = [\"fd00::1\", \"fd00::9\"]\n").find("x.toml:4"),
              std::string::npos);
    EXPECT_NE(bad("[[subnet6]]\nprefix = \"fd00::/64\"\nrange = [\"fd00::1\", \"10.0.0.1\"]\n").find("'10.0.0.1'"),
              std::string::npos);
    EXPECT_NE(bad("[[subnet6]]\nprefix = \"fd00::/64\"\nrange = [\"fd00::1\", \"fd00::9\"]\n[[reservation6]]\nip = \"fd00::5\"\n")
                  .find("exactly one of duid and mac"),
              std::string::npos);
    EXPECT_NE(bad("[[subnet6]]\nprefix = \"fd00::/64\"\nrange = [\"fd00::1\", \"fd00::9\"]\n[[reservation6]]\nmac = \"52:54:00:00:00:01\"\nip = \"fd01::5\"\n")
                  .find("outside every subnet6"),
              std::string::npos);
    EXPECT_NE(bad("[[subnet6]]\nprefix = \"fd00::/64\"\nrange = [\"fd00::1\", \"fd00::9\"]\npreference = 256\n")
                  .find("x.toml:6"),
              std::string::npos);
    auto ok = config::parse_toml(
        "[server]\ninterfaces = [\"eth0\"]\n[[subnet6]]\nprefix = \"fd00::/64\"\nrange = [\"fd00::1\", \"fd00::9\"]\npreference = 255\n",
        "x.toml");
    ASSERT_TRUE(ok.ok()) << ok.error();
    EXPECT_EQ(ok->subnets6[0].preference, uint8_t(255));
}

// dnsmasq's PXEv6 set-up (as in its man page and the usual UEFI IPv6
// tutorials) imported into [[subnet6]].
TEST(Dnsmasq6, RangesOptionsAndArchitectureTagsImport) {
    std::vector<std::string> w;
    auto c = config::parse_dnsmasq(R"(
interface=br0
dhcp-range=fd00:e6::100,fd00:e6::1ff,64,2h
dhcp-match=set:efi-x64,option6:61,7
dhcp-match=set:efi-http,option6:61,16
dhcp-option=tag:efi-x64,option6:bootfile-url,tftp://[fd00:e6::1]/grubx64.efi
dhcp-option=tag:efi-http,option6:bootfile-url,http://[fd00:e6::1]/grubx64.efi
dhcp-option=option6:bootfile-url,tftp://[fd00:e6::1]/other.efi
dhcp-option=option6:dns-server,[fd00:e6::53]
dhcp-option=option6:bootfile-param,"console=ttyS0"
)",
                                   "dnsmasq.conf", nullptr, w);
    ASSERT_TRUE(c.ok()) << c.error();
    ASSERT_EQ(c->subnets6.size(), 1u);
    auto& s = c->subnets6[0];
    EXPECT_EQ(s.prefix.str(), "fd00:e6::/64");
    EXPECT_EQ(s.range_end.str(), "fd00:e6::1ff");
    EXPECT_EQ(s.valid_lifetime, 7200u);
    EXPECT_EQ(s.boot.by_arch.at(7), "tftp://[fd00:e6::1]/grubx64.efi");
    EXPECT_EQ(s.boot.by_arch.at(16), "http://[fd00:e6::1]/grubx64.efi");
    EXPECT_EQ(s.boot.any, "tftp://[fd00:e6::1]/other.efi");
    ASSERT_EQ(s.dns.size(), 1u);
    EXPECT_EQ(s.dns[0].str(), "fd00:e6::53");
    EXPECT_EQ(s.boot_params, std::vector<std::string>{"console=ttyS0"});

    auto bad = [](const char* text) {
        std::vector<std::string> w2;
        auto r = config::parse_dnsmasq(text, "d.conf", nullptr, w2);
        EXPECT_FALSE(r.ok());
        return r.ok() ? std::string() : r.error();
    };
    EXPECT_NE(bad("interface=br0\ndhcp-range=fd00::1,constructor:br0\n").find("d.conf:2"), std::string::npos);
    EXPECT_NE(bad("interface=br0\ndhcp-range=fd00::1,fd00::9\ndhcp-option=tag:x,option6:bootfile-url,tftp://[fd00::1]/a\n")
                  .find("tag x"),
              std::string::npos);
    EXPECT_NE(bad("interface=br0\ndhcp-range=fd00::1,fd00::9\ndhcp-option=option6:dns-server,[::]\n").find("[::]"),
              std::string::npos);
}

// A reserved client whose Request the kernel path answered renews here:
// its reserved address is its binding, not "no binding".
TEST_F(Dhcp6Engine, ReservedClientRenewsWithoutABindingHere) {
    ClientMsg ren;
    ren.type = MsgType::Renew;
    ren.server_id = sid;
    ren.duid = {0, 2, 0, 0, 0xab, 0x11, 1, 2};
    ren.hints = {*Ipv6::parse("fd00:6::10")};
    auto out = send(ren);
    EXPECT_TRUE(out.hold);
    auto v = view(out.reply);
    ASSERT_EQ(v.ias.size(), 1u);
    EXPECT_EQ(v.ia_status[0], 0);
    ASSERT_EQ(v.ias[0].addrs.size(), 1u);
    EXPECT_EQ(v.ias[0].addrs[0].addr, *Ipv6::parse("fd00:6::10"));
    EXPECT_EQ(v.ias[0].addrs[0].valid, 7200u);
    ASSERT_TRUE(eng.leases().by_ip(*Ipv6::parse("fd00:6::10")));
    EXPECT_TRUE(eng.leases().by_ip(*Ipv6::parse("fd00:6::10"))->is_static);
}

// Every client message captured from real clients and probes against Kea
// (tests/fixtures/dhcp6/query_*.hex) parses, and pxed answers the ones Kea
// answers with the same message type and, for addresses, an IA_NA.
TEST(Dhcp6Fixtures, KeaQueriesParseAndGetTheSameKindOfAnswer) {
    namespace fs = std::filesystem;
    auto read_hex = [](const fs::path& p) {
        std::ifstream in(p);
        std::string h((std::istreambuf_iterator<char>(in)), {});
        std::vector<uint8_t> b;
        for (size_t i = 0; i + 1 < h.size(); i += 2) {
            if (!isxdigit(h[i])) break;
            b.push_back(uint8_t(std::stoi(h.substr(i, 2), nullptr, 16)));
        }
        return b;
    };
    auto cfg = config::parse_toml(R"(
[server]
interfaces = ["eth0"]
[[subnet6]]
prefix = "fd00:6b::/64"
range = ["fd00:6b::100", "fd00:6b::1ff"]
dns = ["fd00:6b::1"]
rapid-commit = false
[subnet6.boot]
any = "grubx64.efi"
)",
                                  "kea.toml");
    ASSERT_TRUE(cfg.ok()) << cfg.error();
    size_t seen = 0;
    for (auto& e : fs::directory_iterator(fs::path(PXED_SOURCE_DIR) / "tests/fixtures/dhcp6")) {
        auto name = e.path().filename().string();
        if (!name.starts_with("query_")) continue;
        auto q = read_hex(e.path());
        auto p = parse(q);
        ASSERT_TRUE(p.ok()) << name << ": " << p.error();
        auto kea = read_hex(e.path().parent_path() / ("kea_" + name.substr(6)));
        if (kea.empty()) continue;
        // Each query alone, against a fresh server whose DUID is Kea's, so
        // that Requests and Renews name us.
        auto kea_view = view(kea);
        // Kea's rapid-commit fixture was made with rapid commit on for the subnet.
        config::Config c = *cfg;
        c.subnets6[0].rapid_commit = name == "query_reply_rapid_commit.hex";
        Engine6 eng(c, kea_view.opts[opt::ServerId], 80);
        Link link{"eth0", 2, Mac{{2, 0, 0, 0, 0, 1}}, {*Ipv6::parse("fd00:6b::1")}};
        Request r{q, *Ipv6::parse("fe80::5054:ff:fe6b:1001"), *Ipv6::parse("ff02::1:2"), &link};
        auto out = eng.handle(r, 1'000'000);
        seen++;
        if (name.find("information_request_with_ia") != std::string::npos) {
            EXPECT_EQ(out.drop, Drop::IaInInfoRequest) << name;  // RFC 8415 16.12, as dnsmasq (Kea answers)
            continue;
        }
        ASSERT_FALSE(out.reply.empty()) << name << ": " << to_string(out.drop) << " " << out.detail;
        auto mine = view(out.reply);
        EXPECT_EQ(mine.type, kea_view.type) << name;
        EXPECT_EQ(mine.xid, kea_view.xid) << name;
        EXPECT_EQ(mine.opts[opt::ClientId], kea_view.opts[opt::ClientId]) << name;
        EXPECT_EQ(mine.ias.size(), kea_view.ias.size()) << name;
        EXPECT_EQ(mine.opts.count(opt::DnsServers), kea_view.opts.count(opt::DnsServers)) << name;
    }
    EXPECT_GE(seen, 20u);
}

// A flood of Solicits from ever new DUIDs in a /64 pool: the held offers
// stay bounded (the oldest yields), bound leases are never dropped for it.
TEST(Dhcp6Flood, OffersStayBounded) {
    auto cfg = config::parse_toml(
        "[server]\ninterfaces = [\"eth0\"]\n[[subnet6]]\nprefix = \"fd00:6::/64\"\n"
        "range = [\"fd00:6::\", \"fd00:6::ffff:ffff:ffff:ffff\"]\n",
        "flood.toml");
    ASSERT_TRUE(cfg.ok()) << cfg.error();
    std::vector<uint8_t> sid = {0, 3, 0, 1, 2, 0, 0, 0, 0, 1};
    Engine6 eng(*cfg, sid, 80);
    Link link{"eth0", 2, Mac{{2, 0, 0, 0, 0, 1}}, {*Ipv6::parse("fd00:6::1")}};
    auto run = [&](const ClientMsg& m) {
        auto b = m.bytes();
        Request r{b, *Ipv6::parse("fe80::1"), *Ipv6::parse("ff02::1:2"), &link};
        return eng.handle(r, 1000);
    };
    ClientMsg bound;
    bound.rapid = true;
    auto got = view(run(bound).reply).ias.at(0).addrs.at(0).addr;
    for (uint32_t i = 0; i < Engine6::kMaxOffers + 1000; i++) {
        ClientMsg m;
        m.duid = {0, 2, 0, 0, 0, 9, uint8_t(i >> 24), uint8_t(i >> 16), uint8_t(i >> 8), uint8_t(i)};
        ASSERT_FALSE(run(m).reply.empty());
    }
    EXPECT_LE(eng.leases().size(), Engine6::kMaxOffers + 1);
    ASSERT_TRUE(eng.leases().by_ip(got));
    EXPECT_EQ(eng.leases().by_ip(got)->state, lease::State::Bound);
}
