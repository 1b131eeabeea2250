// Fuzzes the daemon's DHCP engine: a fuzzed request against a fixed
// configuration (two subnets, a small range, reservations, boot files) and
// an in-memory lease table that already holds leases. No sockets. The reply
// must encode and decode again, and what it hands out must be right. The
// same bytes also go to pxed --check's probe classifier (dhcp/probe.h).
#include <cstdlib>
#include <cstdio>

#include "config/config.h"
#include "dhcp/engine.h"
#include "dhcp/packet.h"
#include "dhcp/probe.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::dhcp;

namespace {

namespace toml = pxed::test::toml;
const std::string kToml =
    toml::server("eth0") +
    toml::lan_subnet("192.0.2.103",
                     "dns = [\"192.0.2.53\", \"192.0.2.54\"]\n"
                     "domain = \"lab.example\"\n"
                     "lease-time = 600\n" + toml::boot4("pxelinux.0", "debian-installer/amd64/bootnetx64.efi",
                                                        "http://192.0.2.1/boot.efi", "http://192.0.2.1/boot.ipxe")) +
    toml::relayed_subnet("198.51.100.10", "198.51.100.12",
                         "boot = { bios = \"pxelinux.0\", next-server = \"198.51.100.2\" }\n") +
    toml::node10() + toml::reservation("52:54:00:00:00:0b", "198.51.100.11", "lease-time = \"infinite\"\n") +
    toml::reservation("52:54:00:00:00:0c", "192.0.2.101");

const Ipv4 kServer(192, 0, 2, 1);

const config::Config& cfg() {
    static config::Config c = [] {
        auto r = config::parse_toml(kToml, "fuzz.toml");
        if (!r) {
            std::fprintf(stderr, "fuzz config: %s\n", r.error().c_str());
            std::abort();
        }
        return std::move(r.value());
    }();
    return c;
}

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "dhcp_engine invariant broken: %s\n", what);
    std::abort();
}

Packet client(MessageType t, uint8_t last, uint32_t xid) {
    Packet p;
    p.xid = xid;
    Mac m{};
    m.b = {0x02, 0, 0, 0, 0, last};
    p.set_mac(m);
    p.options.set_u8(opt::MessageType, uint8_t(t));
    return p;
}

// Checks a reply against the request it answers.
void check(const Packet& req, const Outcome& o) {
    if (!o.reply) return;
    const Packet& r = o.reply->packet;
    auto bytes = serialize(r);
    auto back = parse(bytes);
    if (!back.ok()) fail("the reply does not parse");
    if (back->message_type() != r.message_type()) fail("the reply's message type does not survive encoding");
    if (r.op != 2) fail("reply is not a BOOTREPLY");
    if (r.xid != req.xid) fail("reply xid differs from the request's");
    if (r.chaddr != req.chaddr) fail("reply chaddr differs from the request's");
    auto t = r.message_type();
    if (!t || (*t != MessageType::Offer && *t != MessageType::Ack && *t != MessageType::Nak))
        fail("reply message type is not OFFER, ACK or NAK");
    if (!r.options.get_ip(opt::ServerId)) fail("reply without a server identifier");
    if (o.reply->dest == Dest::Relay && o.reply->dst_ip != req.giaddr) fail("relayed reply not sent to giaddr");
    if (*t == MessageType::Nak) {
        if (!r.yiaddr.is_zero()) fail("NAK with a yiaddr");
        return;
    }
    // The engine's subnet choice: giaddr, else a served ciaddr (not for a
    // DISCOVER), else the interface (issue 14.3).
    Ipv4 selector = req.giaddr.is_zero() ? kServer : req.giaddr;
    if (req.giaddr.is_zero() && !req.ciaddr.is_zero() && req.message_type() != MessageType::Discover &&
        cfg().subnet_for(req.ciaddr))
        selector = req.ciaddr;
    const config::Subnet* s = cfg().subnet_for(selector);
    if (!s) fail("a reply for a request without a subnet");
    if (r.yiaddr.is_zero()) {
        if (!(*t == MessageType::Ack && req.message_type() == MessageType::Inform)) fail("OFFER/ACK without yiaddr");
        return;
    }
    if (!s->net.contains(r.yiaddr)) fail("yiaddr outside the request's subnet");
    if (r.yiaddr == s->net.network() || r.yiaddr == s->net.broadcast()) fail("yiaddr is the network or broadcast address");
    const config::Reservation* resv = cfg().reservation_for(req.mac());
    if (resv && s->net.contains(resv->ip)) {
        if (r.yiaddr != resv->ip) fail("a reserved client got another address than its reservation");
    } else {
        if (r.yiaddr < s->range_start || r.yiaddr > s->range_end) fail("dynamic address outside the range");
        for (auto& x : cfg().reservations)
            if (x.ip == r.yiaddr) fail("a reserved address handed to another client");
    }
    if (*t == MessageType::Offer || *t == MessageType::Ack) {
        auto lt = r.options.get_u32(opt::LeaseTime);
        if (!lt) fail("OFFER/ACK without a lease time");
        auto mask = r.options.get_ip(opt::SubnetMask);
        if (mask && mask->v != s->net.mask()) fail("subnet mask differs from the subnet's");
    }
}

void check_table(const Engine& e) {
    for (auto& [ip, l] : e.leases().all()) {
        if (l.ip != ip) fail("lease table keyed by another address");
        if (l.state == lease::State::Bound && !cfg().subnet_for(ip)) fail("bound lease outside every subnet");
        if (auto* c = e.leases().by_client(l.client); c && l.state != lease::State::Declined && c->ip != ip)
            fail("a client holds two leases");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto p = parse(std::span<const uint8_t>(data, size));
    if (!p.ok()) return 0;
    const Packet& req = *p;

    // The same bytes as an answer to pxed --check's test DISCOVER.
    ProbeFindings found(req.xid, req.mac(), {kServer});
    if (found.add(req, Ipv4(192, 0, 2, 9)) && found.answers().size() != 1) fail("probe answer not taken once");
    if (found.add(req, Ipv4(192, 0, 2, 9))) fail("probe answer taken twice");
    if (found.warnings("eth0", 3).empty() != (found.answers().size() == 1 && found.answers()[0].address_server() &&
                                              found.answers()[0].boot.empty()))
        fail("probe warnings disagree with the answers");

    Engine e(cfg());
    const RxInfo rx{kServer};
    int64_t now = 1'000'000;
    // Some history: two bound clients and one pending offer in the first range.
    for (uint8_t k = 1; k <= 2; k++) {
        auto o = e.handle(client(MessageType::Discover, k, k), rx, now);
        if (!o.reply) fail("setup: no offer");
        auto r = client(MessageType::Request, k, k);
        r.options.set_ip(opt::ServerId, kServer);
        r.options.set_ip(opt::RequestedIp, o.reply->packet.yiaddr);
        if (!e.handle(r, rx, now).reply) fail("setup: no ack");
    }
    (void)e.handle(client(MessageType::Discover, 3, 3), rx, now);

    auto o = e.handle(req, rx, now);
    check(req, o);
    check_table(e);

    // Follow an OFFER with the REQUEST a client would send, then send the
    // fuzzed request again later (renewal, expiry, hold yielding).
    if (o.reply && o.reply->packet.message_type() == MessageType::Offer) {
        Packet r = req;
        r.options.set_u8(opt::MessageType, uint8_t(MessageType::Request));
        r.options.set_ip(opt::ServerId, *o.reply->packet.options.get_ip(opt::ServerId));
        r.options.set_ip(opt::RequestedIp, o.reply->packet.yiaddr);
        auto a = e.handle(r, rx, now + 1);
        check(r, a);
        check_table(e);
    }
    for (int64_t later : {int64_t(40), int64_t(700), int64_t(1) << 40}) {
        check(req, e.handle(req, rx, now + later));
        check_table(e);
    }
    (void)e.leases().size();
    return 0;
}
