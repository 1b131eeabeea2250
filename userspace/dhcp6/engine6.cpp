#include "dhcp6/engine6.h"

#include <algorithm>
#include <tuple>

namespace pxed::dhcp6 {

namespace {

constexpr int64_t kOfferHold = 60;  // seconds an Advertise keeps its address from other clients

}  // namespace

const char* to_string(Drop d) {
    static const char* const names[] = {"none",       "malformed", "server-id-present", "not-our-server-id",
                                        "no-server-id", "no-client-id", "unicast",        "no-subnet6",
                                        "not-served", "ia-in-information-request"};
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

const config::Reservation6* Engine6::reservation_for(const std::vector<uint8_t>& d, const std::optional<Mac>& mac) const {
    if (auto it = by_duid_.find(std::string(d.begin(), d.end())); it != by_duid_.end()) return it->second;
    if (mac)
        if (auto it = by_mac_.find(mac->key()); it != by_mac_.end()) return it->second;
    return nullptr;
}

Outcome Engine6::handle(const Request& r, int64_t now) {
    Ctx c;
    c.req = &r;
    auto parsed = parse(r.bytes);
    if (!parsed) {
        c.out.drop = Drop::Malformed;
        c.out.detail = parsed.error();
        return c.out;
    }
    c.p = std::move(parsed.value());
    auto& m = c.p.msg;
    c.out.in = m.type;
    bool relayed = !c.p.relays.empty();
    // The client's MAC: what the relay saw (option 79), else the EUI-64 of
    // the link-local source (the NIC that sent it), else a DUID-LL/LLT's
    // (which may name another of the machine's interfaces).
    if (!relayed) c.mac = mac_from_link_local(r.src);
    if (!c.mac) c.mac = mac_of(c.p);
    c.out.mac = c.mac;

    auto drop = [&](Drop d, std::string detail = {}) {
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
    if (m.type == MsgType::InformationRequest && (!m.ia_na.empty() || m.has_ia_ta || m.has_ia_pd))
        return drop(Drop::IaInInfoRequest);  // 16.12
    bool unicast = !relayed && !r.dst.is_multicast();
    if (unicast && !needs_server_id) return drop(Drop::Unicast);  // 16.2, 16.5, 16.7, 16.12

    // The link: the innermost relay's link-address, else the interface's.
    if (relayed) {
        auto& link = c.p.relays.back().link;
        c.sn = link.is_zero() ? nullptr : cfg_->subnet6_for(link);
        c.server = r.dst;
        if (c.sn && c.sn->server_ip) c.server = *c.sn->server_ip;
    } else if (r.link) {
        std::tie(c.sn, c.server) = link_subnet(*cfg_, r.link->addrs);
    }
    if (!c.sn) return drop(Drop::NoSubnet, relayed ? c.p.relays.back().link.str() : (r.link ? r.link->name : ""));
    c.resv = reservation_for(m.client_id, c.mac);

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
    return c.out;
}

void Engine6::answer(Ctx& c, int64_t now) {
    auto& m = c.p.msg;
    bool commit = m.type != MsgType::Solicit || (m.rapid_commit && c.sn->rapid_commit);
    c.out.out = commit ? MsgType::Reply : MsgType::Advertise;
    Writer w(c.out.out, m.xid);
    w.option(opt::ServerId, duid_);
    if (!m.client_id.empty()) w.option(opt::ClientId, m.client_id);
    if (!commit && c.sn->preference) w.option(opt::Preference, std::span<const uint8_t>(&*c.sn->preference, 1));
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
        // 18.3.7/18.3.8: an IA the client has no binding in comes back
        // holding NoBinding; the message says Success.
        for (auto& ia : m.ia_na) {
            if (release(c, ia, m.type == MsgType::Decline, now)) continue;
            size_t at = w.nest(opt::IaNa);
            w.u32(ia.iaid);
            w.u32(0);
            w.u32(0);
            w.status(Status::NoBinding, "no binding for this IA");
            w.close(at);
        }
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
    w.raw(render_tail(*cfg_, http_port_, *c.sn, c.resv, c.server, Shape::of(m)));
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
        c.out.no_addrs++;
        return false;
    }
    auto lt = lifetimes(sn, ia.iaid, *ip);
    w.u32(lt.t1);
    w.u32(lt.t2);
    w.ia_addr(lt.addrs[0]);
    w.close(at);
    uint32_t pref = lt.addrs[0].preferred, valid = lt.addrs[0].valid;
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
    if (!commit) {
        offers_.push_back(*ip);
        while (offers_.size() > kMaxOffers) {
            auto* o = leases_.by_ip(offers_.front());
            if (o && o->state == lease::State::Offered) leases_.erase(offers_.front());
            offers_.pop_front();
        }
    }
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
    // A reserved client the kernel path answered has no binding here: its
    // reserved address is its binding (the first IA's), while no one else holds it.
    if (!ok && c.resv && &ia == &c.p.msg.ia_na.front() && sn.prefix.contains(c.resv->ip) &&
        leases_.is_free(c.resv->ip, key, now)) {
        lease::Lease6 b;
        b.ip = c.resv->ip;
        b.duid = c.p.msg.client_id;
        b.iaid = ia.iaid;
        b.hostname = c.resv->hostname;
        b.start = now;
        b.state = lease::State::Bound;
        b.is_static = true;
        leases_.put(b);
        l = leases_.by_ip(b.ip);
        ok = true;
    }
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
    auto lt = lifetimes(sn, ia.iaid, l->ip);
    w.u32(lt.t1);
    w.u32(lt.t2);
    w.ia_addr(lt.addrs[0]);
    uint32_t pref = lt.addrs[0].preferred, valid = lt.addrs[0].valid;
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

bool Engine6::release(Ctx& c, const IaNa& ia, bool decline, int64_t now) {
    auto key = lease::Lease6::key_of(c.p.msg.client_id, ia.iaid);
    bool found = false;
    for (auto& a : ia.addrs) {
        auto* l = leases_.by_ip(a.addr);
        if (!l || l->key() != key) continue;  // 18.3.7: not this client's: nothing to do
        found = true;
        lease::Lease6 n = *l;
        n.state = decline ? lease::State::Declined : lease::State::Released;
        // A declined address is held off for the valid lifetime (18.3.8).
        n.expires = decline ? now + c.sn->valid_lifetime : now;
        leases_.put(n);
        if (c.out.addr.is_zero()) c.out.addr = n.ip;
    }
    return found;
}

}  // namespace pxed::dhcp6
