#include "dhcp/engine.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "dhcp/agent_reservation.h"
#include "dhcp/proxy.h"
#include "dhcp/render.h"

namespace pxed::dhcp {

using lease::Lease;
using lease::State;

std::string_view to_string(Drop d) {
    switch (d) {
    case Drop::None: return "none";
    case Drop::NotRequest: return "not_bootrequest";
    case Drop::NoMessageType: return "no_message_type";
    case Drop::NoSubnet: return "no_subnet";
    case Drop::PoolExhausted: return "pool_exhausted";
    case Drop::OtherServer: return "other_server";
    case Drop::UnknownClient: return "unknown_client";
    case Drop::NotOurs: return "not_ours";
    case Drop::NotEthernet: return "not_ethernet";
    case Drop::Ignored: return "ignored";
    case Drop::NotPxe: return "not_pxe";
    case Drop::NothingToBoot: return "nothing_to_boot";
    case Drop::StoreUnavailable: return "store_unavailable";
    }
    return "unknown";
}

struct Engine::Ctx {
    const Packet& req;
    const RxInfo& rx;
    int64_t now;
    const config::Subnet* subnet;
    const config::Reservation* resv;
    lease::ClientKey client;
    Ipv4 server_ip;
    // The client's reservation while another client holds its address
    // (resv is then null: the client is served as one without a reservation).
    const config::Reservation* deferred = nullptr;
    std::optional<ReservationConflict> conflict;
    Policy policy;
};

namespace {
// Member by member: Outcome has optional fields (warning, reservations_changed).
Outcome drop(Drop d, std::string note = {}) {
    Outcome o;
    o.drop = d;
    o.note = std::move(note);
    return o;
}
Outcome reply(Reply r, std::string note) {
    Outcome o;
    o.reply = std::move(r);
    o.note = std::move(note);
    return o;
}
int64_t expiry(int64_t now, uint32_t lease_time) {
    return lease_time == config::kInfiniteLease ? std::numeric_limits<int64_t>::max() : now + lease_time;
}
}  // namespace

Outcome Engine::handle(const Packet& req, const RxInfo& rx, int64_t now) {
    if (req.op != 1) return drop(Drop::NotRequest);
    auto type = req.message_type();
    if (!type) return drop(Drop::NoMessageType);
    // chaddr is an Ethernet address everywhere below (unicast to chaddr,
    // reservations by MAC); the XDP program passes anything else too.
    if (req.htype != 1 || req.hlen != 6)
        return drop(Drop::NotEthernet,
                    note([&] { return "htype " + std::to_string(req.htype) + " hlen " + std::to_string(req.hlen); }));
    // The subnet: by giaddr for relayed requests; else by ciaddr when the
    // client has one we serve (a RENEW unicast, or an INFORM, from a routed
    // client of a relayed subnet; Kea and dnsmasq do the same; a DISCOVER's
    // ciaddr is a client bug dnsmasq ignores too); else by the receiving
    // interface's address.
    Ipv4 selector = rx.server_ip;
    if (!req.giaddr.is_zero()) selector = req.giaddr;
    else if (!req.ciaddr.is_zero() && *type != MessageType::Discover && cfg_->subnet_for(req.ciaddr))
        selector = req.ciaddr;
    const config::Subnet* subnet = cfg_->subnet_for(selector);
    if (!subnet) return drop(Drop::NoSubnet, note([&] { return "no subnet for " + selector.str(); }));
    Ipv4 server_ip = subnet->server_ip.value_or(rx.server_ip);
    const config::Reservation* resv = cfg_->reservation_for(req.mac());
    if (resv && !subnet->net.contains(resv->ip)) resv = nullptr;  // reserved on another subnet
    // The boot policy: classes, boot file, options. A deferred reservation
    // (below) still makes the client known and brings its settings.
    const config::Host* host = resv ? nullptr : cfg_->host_for(req.mac());
    // Then a reservation by option 82, as the MAC's own for this request
    // (docs/CONFIG.md, "Reservations by switch port"). Its address leased
    // to another MAC (the machine that was on the port before) defers it
    // below, as any reservation's.
    std::optional<config::Reservation> by_agent;
    if (!resv && !host)
        if (auto* a = agent_reservation(req, *subnet, now)) {
            by_agent = a->resv;
            by_agent->mac = req.mac();
            resv = &*by_agent;
        }
    Facts facts = Facts::exact(req, subnet, resv || host);
    Policy policy = *resolve(*cfg_, HostRef::of(resv, host), facts);  // exact facts always decide
    if (policy.ignore)
        return drop(Drop::Ignored, note([&] {
                        std::string why = host && host->ignore ? "host entry says ignore" : "class says ignore:";
                        for (auto* c : policy.classes)
                            if (c->ignore) why += " " + c->name;
                        return why;
                    }));
    if (subnet->proxy) {
        Ctx c{req, rx, now, subnet, nullptr, {}, server_ip, nullptr, std::nullopt, std::move(policy)};
        return proxy(c);
    }
    if (rx.boot_server_port) return drop(Drop::NotOurs, "port 4011 request on a subnet that is not served in proxy mode");
    if (subnet->known_clients_only && !facts.known)
        return drop(Drop::Ignored, note([&] { return "unknown client on known-clients-only subnet " + subnet->net.str(); }));
    Ctx c{req, rx, now, subnet, resv, identify(req), server_ip, nullptr, std::nullopt, std::move(policy)};
    if (resv && (c.conflict = conflict_for(*resv, now))) {
        c.deferred = resv;
        c.resv = nullptr;
    }
    switch (*type) {
    case MessageType::Discover: return discover(c);
    case MessageType::Request: return request(c);
    case MessageType::Decline: return decline(c);
    case MessageType::Release: return release(c);
    case MessageType::Inform: return inform(c);
    default: return drop(Drop::NotRequest, "server message type from a client");
    }
}

uint32_t Engine::lease_time_for(const Ctx& c) const {
    if (c.resv && c.resv->lease_time) return *c.resv->lease_time;
    return c.subnet->lease_time;
}

void Engine::set_config(const config::Config& cfg) {
    cfg_ = &cfg;
    std::vector<lease::PoolSpec> pools;
    for (auto& s : cfg.subnets) {
        if (s.proxy) continue;  // no addresses
        lease::PoolSpec p{s.range_start, s.range_end, {}};
        for (auto& r : cfg.reservations)
            if (p.first <= r.ip && r.ip <= p.last) p.reserved.push_back(r.ip);
        for (auto& a : cfg.agent_reservations)
            if (p.first <= a.resv.ip && a.resv.ip <= p.last) p.reserved.push_back(a.resv.ip);
        pools.push_back(std::move(p));
    }
    leases_.set_pools(pools);
}

Reply Engine::make_reply(const Ctx& c, MessageType t, Ipv4 yiaddr, uint32_t lease_time) const {
    Reply r;
    RenderInput in;
    in.subnet = c.subnet;
    in.server_ip = c.server_ip;
    in.lease_time = lease_time;
    in.policy = &c.policy;
    in.requested = c.req.options.find(opt::ParamRequestList);
    r.packet = render_reply(c.req, t, in, yiaddr);
    r.max_len = max_reply_size(c.req);
    fit_reply(r.packet, r.max_len, c.req);
    address_reply(r, c.req, c.rx);
    return r;
}

Reply Engine::make_nak(const Ctx& c, std::string_view why) const {
    Reply r;
    r.packet = reply_header(c.req);
    Packet& p = r.packet;
    p.options.set_u8(opt::MessageType, uint8_t(MessageType::Nak));
    p.options.set_ip(opt::ServerId, c.server_ip);
    p.options.set_str(opt::Message, why);
    if (auto* ri = c.req.options.find(opt::RelayAgentInfo)) p.options.set(opt::RelayAgentInfo, ri->data);  // RFC 3046
    r.max_len = max_reply_size(c.req);
    fit_reply(r.packet, r.max_len, c.req);
    address_reply(r, c.req, c.rx);
    return r;
}

const lease::Lease* Engine::stored_lease(const Ctx& c) const {
    auto* l = leases_.by_client(c.client);
    if (!l || l->state != State::Bound || l->version == 0 || l->expires <= c.now) return nullptr;
    if (!c.subnet->net.contains(l->ip)) return nullptr;
    return l;
}

Outcome Engine::discover(Ctx& c) {
    uint32_t lt = lease_time_for(c);
    Ipv4 ip;
    if (store_down_ && !c.resv) {
        // Only what the store already holds: the client's own bound lease,
        // for the time it has left.
        auto* l = stored_lease(c);
        if (!l) return drop(Drop::StoreUnavailable, "lease database down: no new lease");
        uint32_t left = l->expires == INT64_MAX ? lt : uint32_t(std::min<int64_t>(l->expires - c.now, lt));
        return reply(make_reply(c, MessageType::Offer, l->ip, left),
                     note([&] { return "offer " + l->ip.str() + " (stored lease, database down)"; }));
    }
    if (c.resv) {
        ip = c.resv->ip;
    } else {
        auto picked = leases_.pick(c.client, c.subnet->range_start, c.subnet->range_end, c.now);
        if (!picked) {
            Outcome o = drop(Drop::PoolExhausted);
            o.subnet = c.subnet;  // the daemon's warning names the pool
            return o;
        }
        ip = *picked;
    }
    auto* existing = leases_.by_ip(ip);
    // A client that already holds a bound lease keeps it bound; otherwise the
    // address is held briefly for this client, not leased.
    if (!(existing && existing->client == c.client && existing->state == State::Bound && existing->expires > c.now)) {
        Lease l;
        l.ip = ip;
        l.mac = c.req.mac();
        l.client = c.client;
        l.start = c.now;
        l.expires = c.now + kOfferHoldSeconds;
        l.state = State::Offered;
        l.is_static = c.resv != nullptr;
        leases_.put(l);
    }
    return reply(make_reply(c, MessageType::Offer, ip, lt), note([&] {
                     return "offer " + ip.str() +
                            (c.conflict ? " (reservation deferred: " + c.conflict->describe() + ")" : "");
                 }));
}

Outcome Engine::request(Ctx& c) {
    auto server_id = c.req.options.get_ip(opt::ServerId);
    auto requested = c.req.options.get_ip(opt::RequestedIp);
    const Lease* mine = leases_.by_client(c.client);
    Ipv4 want;
    if (server_id) {
        // SELECTING: the client chose a server.
        if (*server_id != c.server_ip) {
            bool taken_there = shared_store_ && requested && mine && *requested == mine->ip;
            if (mine && mine->state == State::Offered && !taken_there) leases_.erase(mine->ip);
            return drop(Drop::OtherServer, note([&] { return "client chose server " + server_id->str(); }));
        }
        if (!requested) return reply(make_nak(c, "SELECTING request without requested address"), "nak");
        want = *requested;
    } else if (requested && c.req.ciaddr.is_zero()) {
        want = *requested;  // INIT-REBOOT
        if (!c.subnet->net.contains(want)) return reply(make_nak(c, "address not on this network"), "nak wrong network");
        if (!mine && !c.resv) {
            if (cfg_->authoritative) return reply(make_nak(c, "no lease for this client"), "nak unknown client");
            return drop(Drop::UnknownClient, "init-reboot from unknown client");
        }
    } else if (!c.req.ciaddr.is_zero()) {
        want = c.req.ciaddr;  // RENEWING or REBINDING
        if (!mine && !c.resv) {
            if (cfg_->authoritative) return reply(make_nak(c, "no lease for this client"), "nak unknown client");
            return drop(Drop::UnknownClient, "renew from unknown client");
        }
    } else {
        return reply(make_nak(c, "request without address"), "nak no address");
    }

    if (c.resv) {
        if (want != c.resv->ip) return reply(make_nak(c, "address is reserved elsewhere"), "nak not the reservation");
    } else {
        if (agent_reservation_at(*cfg_, want)) {
            // Reserved for a switch port this request did not come through
            // (the client moved): its lease ends, so that the machine now
            // on that port gets the address (as a MAC's reservation below).
            Outcome o = reply(make_nak(c, "address is reserved"), "nak reserved");
            if (auto* h = leases_.by_ip(want); h && h->client == c.client) {
                leases_.erase(want);
                o.reservations_changed = true;
            }
            return o;
        }
        if (want < c.subnet->range_start || want > c.subnet->range_end)
            return reply(make_nak(c, "address outside the pool"), "nak outside pool");
        auto* holder = leases_.by_ip(want);
        if (holder && holder->client != c.client && !leases_.is_free(want, c.now))
            return reply(make_nak(c, "address in use"), "nak in use");
        if (!holder && !server_id && (!mine || mine->ip != want))
            return reply(make_nak(c, "no lease for this address"), "nak no lease");
        if (c.deferred && want == c.deferred->ip)
            return reply(make_nak(c, "reserved address is still in use by another client"), "nak reservation deferred");
        for (auto& r : cfg_->reservations) {
            if (r.ip != want) continue;
            // Reserved for another host since this client got it (as Kea and
            // dnsmasq, refused at renewal): the lease ends here, the client
            // starts over with another address and the reservation can take
            // effect.
            Outcome o = reply(make_nak(c, "address is reserved"), "nak reserved");
            if (holder && holder->client == c.client && holder->mac != r.mac) {
                leases_.erase(want);
                o.reservations_changed = true;
            }
            return o;
        }
    }

    uint32_t lt = lease_time_for(c);
    if (store_down_) {
        // Nothing is written: a reservation is answered as the kernel does;
        // a stored lease is renewed for the time it has left; the rest waits.
        Outcome o;
        if (c.resv) {
            o = reply(make_reply(c, MessageType::Ack, want, lt), note([&] { return "ack " + want.str() + " (reserved, database down)"; }));
        } else if (auto* s = stored_lease(c); s && s->ip == want) {
            uint32_t left = s->expires == INT64_MAX ? lt : uint32_t(std::min<int64_t>(s->expires - c.now, lt));
            o = reply(make_reply(c, MessageType::Ack, want, left),
                      note([&] { return "ack " + want.str() + " (stored lease, database down)"; }));
        } else {
            return drop(Drop::StoreUnavailable, "lease database down: nothing stored to renew");
        }
        o.nothing_to_commit = true;
        return o;
    }
    Lease l;
    l.ip = want;
    l.mac = c.req.mac();
    l.client = c.client;
    l.start = c.now;
    l.expires = expiry(c.now, lt);
    l.state = State::Bound;
    l.is_static = c.resv != nullptr;
    if (c.resv) l.hostname = c.resv->hostname;
    else if (auto h = c.req.options.get_str(opt::Hostname)) l.hostname = *h;
    if (auto* g = c.req.options.find(opt::ClientGuid)) l.guid = g->data;
    // A new lease on a reservation by option 82: the kernel leaves the
    // address to the daemon from now on (agent_addresses_held).
    bool agent_held = c.resv && agent_reservation_at(*cfg_, want) && !stored_bound(want, c.client, c.now);
    leases_.put(l);
    Outcome o = reply(make_reply(c, MessageType::Ack, want, lt), note([&] { return "ack " + want.str(); }));
    o.reservations_changed = agent_held;
    return o;
}

Outcome Engine::decline(Ctx& c) {
    auto requested = c.req.options.get_ip(opt::RequestedIp);
    if (!requested) return drop(Drop::NotOurs, "decline without address");
    if (auto* r = c.resv ? c.resv : c.deferred; r && r->ip == *requested) return decline_reserved(*r, c.now);
    const Lease* l = leases_.by_ip(*requested);
    if (!l || l->client != c.client) return drop(Drop::NotOurs, "decline of an address not leased to the client");
    Lease q;
    q.ip = *requested;
    q.client = "declined:" + requested->str();  // owned by nobody while quarantined
    q.start = c.now;
    q.expires = c.now + kDeclineProbationSeconds;
    q.state = State::Declined;
    leases_.erase(*requested);
    leases_.put(q);
    return drop(Drop::None, note([&] { return "declined " + requested->str(); }));
}

Outcome Engine::release(Ctx& c) {
    const Lease* l = leases_.by_ip(c.req.ciaddr);
    if (!l || l->client != c.client) return drop(Drop::NotOurs, "release of an address not leased to the client");
    Lease r = *l;
    r.state = State::Released;
    r.expires = c.now;
    leases_.put(r);
    Outcome o = drop(Drop::None, note([&] { return "released " + c.req.ciaddr.str(); }));
    for (auto& res : cfg_->reservations)
        if (res.ip == r.ip && res.mac != r.mac) o.reservations_changed = true;  // a deferred reservation can take effect
    if (agent_reservation_at(*cfg_, r.ip)) o.reservations_changed = true;  // the kernel may answer that port again
    return o;
}

// proxyDHCP (dhcp/proxy.h): no lease, no allocation, no NAK.
Outcome Engine::proxy(Ctx& c) {
    ProxyInput in;
    in.subnet = c.subnet;
    in.server_ip = c.server_ip;
    in.policy = &c.policy;
    in.menu = &cfg_->pxe;
    in.boot_server_port = c.rx.boot_server_port;
    auto p = render_proxy_reply(c.req, in);
    if (!p) {
        ProxySkip why = p.error();
        Drop d = why == ProxySkip::NotPxe ? Drop::NotPxe
               : why == ProxySkip::AddressServers ? Drop::OtherServer : Drop::NothingToBoot;
        return drop(d, note([&] { return "proxy: " + std::string(to_string(why)); }));
    }
    Reply r;
    r.packet = std::move(*p);
    r.max_len = max_reply_size(c.req);
    fit_reply(r.packet, r.max_len, c.req);
    address_reply(r, c.req, c.rx);
    bool ack = r.packet.message_type() == MessageType::Ack;
    std::string n = note([&] {
        std::string f = r.packet.file_str();
        return std::string(ack ? "proxy ack" : "proxy offer") + (f.empty() ? "" : " file " + f);
    });
    Outcome o = reply(std::move(r), std::move(n));
    o.proxy = true;
    return o;
}

Outcome Engine::inform(Ctx& c) {
    return reply(make_reply(c, MessageType::Ack, Ipv4(), 0), "inform ack");
}

}  // namespace pxed::dhcp
