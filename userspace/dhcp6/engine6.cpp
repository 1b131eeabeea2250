#include "dhcp6/engine6.h"

#include <algorithm>

namespace pxed::dhcp6 {

namespace {

constexpr int64_t kOfferHold = 60;  // seconds an Advertise keeps its address from other clients

// RFC 1035 3.1 names, as option 24 carries them.
std::vector<uint8_t> domain_list(const std::vector<std::string>& names) {
    std::vector<uint8_t> out;
    for (auto& n : names) {
        size_t i = 0;
        while (i < n.size()) {
            size_t dot = n.find('.', i);
            if (dot == std::string::npos) dot = n.size();
            size_t len = std::min<size_t>(dot - i, 63);
            if (len) {
                out.push_back(uint8_t(len));
                out.insert(out.end(), n.begin() + long(i), n.begin() + long(i + len));
            }
            i = dot + 1;
        }
        out.push_back(0);
    }
    return out;
}

}  // namespace

const char* to_string(Drop d) {
    static const char* const names[] = {"none",       "malformed", "server-id-present", "not-our-server-id",
                                        "no-server-id", "no-client-id", "unicast",        "no-subnet6",
                                        "not-served"};
    return names[size_t(d)];
}

// What one request is about, as the handlers share it.
struct Engine6::Ctx {
    Parsed p;
    const Request* req = nullptr;
    const config::Subnet6* sn = nullptr;
    Ipv6 server;  // our address for URLs
    std::optional<Mac> mac;
    const config::Reservation6* resv = nullptr;
    Outcome out;
};

Engine6::Engine6(const config::Config& cfg, std::vector<uint8_t> server_duid, uint16_t http_port)
    : cfg_(&cfg), duid_(std::move(server_duid)), http_port_(http_port) {
    configure(cfg);
}

void Engine6::configure(const config::Config& cfg) {
    cfg_ = &cfg;
    by_duid_.clear();
    by_mac_.clear();
    reserved_.clear();
    for (auto& r : cfg.reservations6) {
        if (r.mac) by_mac_[r.mac->key()] = &r;
        else by_duid_[std::string(r.duid.begin(), r.duid.end())] = &r;
        reserved_.insert(std::string(r.ip.b.begin(), r.ip.b.end()));
    }
}

const config::Reservation6* Engine6::reservation(const Ctx& c) const {
    auto& d = c.p.msg.client_id;
    if (auto it = by_duid_.find(std::string(d.begin(), d.end())); it != by_duid_.end()) return it->second;
    if (c.mac)
        if (auto it = by_mac_.find(c.mac->key()); it != by_mac_.end()) return it->second;
    return nullptr;
}

Outcome Engine6::handle(const Request& r, int64_t now) {
    Ctx c;
    c.req = &r;
    auto parsed = parse(r.bytes);
    if (!parsed) {
        counters_.dropped[size_t(Drop::Malformed)]++;
        c.out.drop = Drop::Malformed;
        c.out.detail = parsed.error();
        return c.out;
    }
    c.p = std::move(parsed.value());
    auto& m = c.p.msg;
    c.out.in = m.type;
    counters_.rx[size_t(m.type)]++;
    bool relayed = !c.p.relays.empty();
    // The client's MAC: what the relay saw (option 79), else the EUI-64 of
    // the link-local source (the NIC that sent it), else a DUID-LL/LLT's
    // (which may name another of the machine's interfaces).
    if (!relayed) c.mac = mac_from_link_local(r.src);
    if (!c.mac) c.mac = mac_of(c.p);
    c.out.mac = c.mac;

    auto drop = [&](Drop d, std::string detail = {}) {
        counters_.dropped[size_t(d)]++;
        c.out.drop = d;
        c.out.detail = std::move(detail);
        c.out.reply.clear();
        return c.out;
    };
    // RFC 8415 16: which messages carry which identifiers.
    bool needs_server_id = m.type == MsgType::Request || m.type == MsgType::Renew ||
                           m.type == MsgType::Release || m.type == MsgType::Decline;
    if (m.type != MsgType::InformationRequest && m.client_id.empty()) return drop(Drop::NoClientId);
    if (needs_server_id && !m.has_server_id) return drop(Drop::NoServerId);
    if (!needs_server_id && m.has_server_id && m.type != MsgType::InformationRequest)
        return drop(Drop::ServerIdPresent);
    if (m.has_server_id && m.server_id != duid_) return drop(Drop::NotOurServerId);
    bool unicast = !relayed && !r.dst.is_multicast();
    if (unicast && !needs_server_id) return drop(Drop::Unicast);  // 16.2, 16.5, 16.7, 16.12

    // The link: the innermost relay's link-address, else the interface's.
    if (relayed) {
        auto& link = c.p.relays.back().link;
        c.sn = link.is_zero() ? nullptr : cfg_->subnet6_for(link);
        c.server = r.dst;
    } else if (r.link) {
        for (auto& a : r.link->addrs)
            if ((c.sn = cfg_->subnet6_for(a))) {
                c.server = a;
                break;
            }
    }
    if (!c.sn) return drop(Drop::NoSubnet, relayed ? c.p.relays.back().link.str() : (r.link ? r.link->name : ""));
    if (c.sn->server_ip) c.server = *c.sn->server_ip;
    c.resv = reservation(c);

    if (unicast) {  // 18.3.2 and after: we never sent option 12 (Server Unicast)
        Writer w(MsgType::Reply, m.xid);
        w.option(opt::ServerId, duid_);
        w.option(opt::ClientId, m.client_id);
        w.status(Status::UseMulticast, "use multicast");
        c.out.reply = w.take();
    } else {
        answer(c, now);
    }
    if (c.out.reply.empty()) return c.out;
    // Back through the relays: the innermost Relay-repl goes inside the next.
    for (auto it = c.p.relays.rbegin(); it != c.p.relays.rend(); ++it) {
        Writer w = Writer::relay_repl(*it);
        w.option(opt::RelayMsg, c.out.reply);
        c.out.reply = w.take();
    }
    if (relayed) {
        c.out.dst = r.src;
        c.out.dst_port = kServerPort;
    } else {
        c.out.dst = r.src;
        c.out.dst_port = kClientPort;
    }
    if (c.out.out == MsgType::Advertise) counters_.advertise++;
    else counters_.reply++;
    return c.out;
}

void Engine6::answer(Ctx& c, int64_t now) {
    auto& m = c.p.msg;
    bool commit = m.type != MsgType::Solicit || (m.rapid_commit && c.sn->rapid_commit);
    c.out.out = commit ? MsgType::Reply : MsgType::Advertise;
    Writer w(c.out.out, m.xid);
    w.option(opt::ServerId, duid_);
    if (!m.client_id.empty()) w.option(opt::ClientId, m.client_id);
    switch (m.type) {
    case MsgType::Solicit:
    case MsgType::Request: {
        bool any = false;
        for (auto& ia : m.ia_na) any |= assign(c, ia, w, now, commit);
        if (!m.ia_na.empty() && !any && m.type == MsgType::Solicit) {
            // 18.3.1: no address for any IA: an Advertise that says so
            // (never a Reply: nothing was committed).
            c.out.out = MsgType::Advertise;
            Writer a(MsgType::Advertise, m.xid);
            a.option(opt::ServerId, duid_);
            a.option(opt::ClientId, m.client_id);
            a.status(Status::NoAddrsAvail, "no addresses available");
            c.out.reply = a.take();
            counters_.no_addrs++;
            return;
        }
        if (commit && m.type == MsgType::Solicit) w.option(opt::RapidCommit, std::string_view());
        c.out.hold = commit && any;
        break;
    }
    case MsgType::Renew:
    case MsgType::Rebind:
        for (auto& ia : m.ia_na) c.out.hold |= extend(c, ia, w, now);
        break;
    case MsgType::Release:
    case MsgType::Decline:
        for (auto& ia : m.ia_na) release(c, ia, m.type == MsgType::Decline, now);
        w.status(Status::Success, m.type == MsgType::Release ? "released" : "declined");
        c.out.hold = true;
        break;
    case MsgType::Confirm: {
        // 18.3.3: are the addresses on this link? No addresses: no reply.
        bool seen = false, on_link = true;
        for (auto& ia : m.ia_na)
            for (auto& a : ia.addrs) {
                seen = true;
                on_link &= c.sn->prefix.contains(a.addr);
            }
        if (!seen) return;
        w.status(on_link ? Status::Success : Status::NotOnLink, on_link ? "on link" : "not on link");
        break;
    }
    case MsgType::InformationRequest: break;
    default: return;
    }
    add_options(c, w);
    c.out.reply = w.take();
}

bool Engine6::assign(Ctx& c, const IaNa& ia, Writer& w, int64_t now, bool commit) {
    auto& sn = *c.sn;
    auto key = lease::Lease6::key_of(c.p.msg.client_id, ia.iaid);
    std::optional<Ipv6> ip;
    bool first_ia = &ia == &c.p.msg.ia_na.front();
    if (c.resv && first_ia && sn.prefix.contains(c.resv->ip) && leases_.is_free(c.resv->ip, key, now))
        ip = c.resv->ip;  // else, while another client holds it, an address from the pool
    if (!ip) {
        lease::Pool6 pool{sn.range_start, sn.range_end, &reserved_};
        // The client's hint, when it is ours to give (18.3.1 lets the server use it).
        for (auto& a : ia.addrs)
            if (!ip && a.addr.high64() == sn.range_start.high64() && a.addr.low64() >= sn.range_start.low64() &&
                a.addr.low64() <= sn.range_end.low64() && !reserved_.count(std::string(a.addr.b.begin(), a.addr.b.end())) &&
                leases_.is_free(a.addr, key, now) && !leases_.by_client(key))
                ip = a.addr;
        if (!ip) ip = leases_.pick(key, pool, now);
    }
    size_t at = w.nest(opt::IaNa);
    w.u32(ia.iaid);
    if (!ip) {
        w.u32(0);
        w.u32(0);
        w.status(Status::NoAddrsAvail, "no addresses available");
        w.close(at);
        counters_.no_addrs++;
        return false;
    }
    uint32_t pref = sn.preferred_lifetime, valid = sn.valid_lifetime;
    w.u32(pref / 2);       // T1, RFC 8415 21.4: 0.5 and 0.8 of the preferred lifetime
    w.u32(pref / 5 * 4);   // T2
    w.ia_addr(IaAddr{*ip, pref, valid});
    w.close(at);
    lease::Lease6 l;
    l.ip = *ip;
    l.duid = c.p.msg.client_id;
    l.iaid = ia.iaid;
    l.mac = c.mac;
    if (c.resv) l.hostname = c.resv->hostname;
    l.start = now;
    l.preferred_until = now + pref;
    l.expires = commit ? now + valid : now + kOfferHold;
    l.state = commit ? lease::State::Bound : lease::State::Offered;
    l.is_static = c.resv && c.resv->ip == *ip;
    auto* old = leases_.by_ip(*ip);
    // An offer never replaces the client's own bound lease of the address.
    if (commit || !old || old->key() != key || old->state != lease::State::Bound) leases_.put(l);
    if (c.out.addr.is_zero()) c.out.addr = *ip;
    return true;
}

bool Engine6::extend(Ctx& c, const IaNa& ia, Writer& w, int64_t now) {
    auto& sn = *c.sn;
    auto key = lease::Lease6::key_of(c.p.msg.client_id, ia.iaid);
    auto* l = leases_.by_client(key);
    size_t at = w.nest(opt::IaNa);
    w.u32(ia.iaid);
    bool ok = l && l->state == lease::State::Bound && l->expires > now && sn.prefix.contains(l->ip);
    if (!ok) {  // 18.3.4/18.3.5: the binding is gone
        w.u32(0);
        w.u32(0);
        // Addresses the client still names that are not on this link: zero lifetimes.
        for (auto& a : ia.addrs)
            if (!sn.prefix.contains(a.addr)) w.ia_addr(IaAddr{a.addr, 0, 0});
        w.status(Status::NoBinding, "no binding for this IA");
        w.close(at);
        return false;
    }
    uint32_t pref = sn.preferred_lifetime, valid = sn.valid_lifetime;
    w.u32(pref / 2);
    w.u32(pref / 5 * 4);
    w.ia_addr(IaAddr{l->ip, pref, valid});
    for (auto& a : ia.addrs)  // any other address it names is not its any more
        if (a.addr != l->ip) w.ia_addr(IaAddr{a.addr, 0, 0});
    w.close(at);
    lease::Lease6 n = *l;
    n.preferred_until = now + pref;
    n.expires = now + valid;
    if (c.mac) n.mac = c.mac;
    leases_.put(n);
    if (c.out.addr.is_zero()) c.out.addr = n.ip;
    return true;
}

void Engine6::release(Ctx& c, const IaNa& ia, bool decline, int64_t now) {
    auto key = lease::Lease6::key_of(c.p.msg.client_id, ia.iaid);
    for (auto& a : ia.addrs) {
        auto* l = leases_.by_ip(a.addr);
        if (!l || l->key() != key) continue;  // 18.3.7: not this client's: nothing to do
        lease::Lease6 n = *l;
        n.state = decline ? lease::State::Declined : lease::State::Released;
        // A declined address is held off for the valid lifetime (18.3.8).
        n.expires = decline ? now + c.sn->valid_lifetime : now;
        leases_.put(n);
        if (c.out.addr.is_zero()) c.out.addr = n.ip;
    }
}

std::string Engine6::boot_url(const Ctx& c) const {
    auto& m = c.p.msg;
    auto& sn = *c.sn;
    std::string file;
    if (c.resv && c.resv->boot_file) file = *c.resv->boot_file;
    bool ipxe = std::find(m.user_class.begin(), m.user_class.end(), "iPXE") != m.user_class.end();
    for (const config::BootFiles* b : {&sn.boot, &cfg_->boot}) {
        if (!file.empty()) break;
        if (ipxe && !b->ipxe.empty()) file = b->ipxe;
        else if (!m.archs.empty() && b->by_arch.count(m.archs.front())) file = b->by_arch.at(m.archs.front());
        else file = b->any;
    }
    if (file.empty() || file.find("://") != std::string::npos) return file;
    std::string path = file.front() == '/' ? file : "/" + file;
    if (m.vendor_class_starts("HTTPClient")) {
        std::string url = "http://[" + c.server.str() + "]";
        if (http_port_ != 80) url += ":" + std::to_string(http_port_);
        return url + path;
    }
    return "tftp://[" + c.server.str() + "]" + path;
}

void Engine6::add_options(Ctx& c, Writer& w) {
    auto& m = c.p.msg;
    auto& sn = *c.sn;
    if (!sn.dns.empty() && m.requested(opt::DnsServers)) {
        std::vector<uint8_t> v;
        for (auto& a : sn.dns) v.insert(v.end(), a.b.begin(), a.b.end());
        w.option(opt::DnsServers, v);
    }
    if (!sn.domain_search.empty() && m.requested(opt::DomainList)) w.option(opt::DomainList, domain_list(sn.domain_search));
    // Option 59 to whoever asks for it, and to a PXE client that says its
    // architecture (option 61) even when its ORO forgets it.
    if (!m.requested(opt::BootfileUrl) && m.archs.empty()) return;
    auto url = boot_url(c);
    if (url.empty()) return;
    w.option(opt::BootfileUrl, url);
    if (!sn.boot_params.empty()) {
        std::vector<uint8_t> v;
        for (auto& p : sn.boot_params) {
            auto n = std::min<size_t>(p.size(), 0xffff);
            v.push_back(uint8_t(n >> 8));
            v.push_back(uint8_t(n));
            v.insert(v.end(), p.begin(), p.begin() + long(n));
        }
        w.option(opt::BootfileParam, v);
    }
    // UEFI HTTP boot takes an offer only with vendor class HTTPClient in it.
    if (m.vendor_class_starts("HTTPClient")) {
        std::vector<uint8_t> v = {0, 0, 1, 0x57, 0, 10};  // enterprise 343, one entry of 10 bytes
        std::string_view hc = "HTTPClient";
        v.insert(v.end(), hc.begin(), hc.end());
        w.option(opt::VendorClass, v);
    }
}

}  // namespace pxed::dhcp6
