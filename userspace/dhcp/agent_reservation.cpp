#include "dhcp/agent_reservation.h"

namespace pxed::dhcp {

std::optional<std::string_view> agent_sub_option(const Packet& req, uint8_t code) {
    const Option* o = req.options.find(opt::RelayAgentInfo);
    if (!o) return std::nullopt;
    std::string_view v(reinterpret_cast<const char*>(o->data.data()), o->data.size());
    size_t i = 0;
    while (i + 2 <= v.size()) {
        uint8_t c = uint8_t(v[i]), n = uint8_t(v[i + 1]);
        if (i + 2 + n > v.size()) break;
        if (c == code) return v.substr(i + 2, n);
        i += 2 + n;
    }
    return std::nullopt;
}

const config::AgentReservation* agent_reservation_for(const config::Config& cfg, const Packet& req,
                                                      const config::Subnet& subnet) {
    if (cfg.agent_reservations.empty()) return nullptr;
    for (auto kind : {config::AgentIdKind::Circuit, config::AgentIdKind::Remote}) {
        auto id = agent_sub_option(req, uint8_t(kind));
        if (!id) continue;
        if (auto* a = cfg.agent_reservation_for(kind, *id)) return subnet.net.contains(a->resv.ip) ? a : nullptr;
    }
    return nullptr;
}

const config::AgentReservation* agent_reservation_at(const config::Config& cfg, Ipv4 ip) {
    for (auto& a : cfg.agent_reservations)
        if (a.resv.ip == ip) return &a;
    return nullptr;
}

}  // namespace pxed::dhcp

#include "dhcp/engine.h"

namespace pxed::dhcp {

// By option 82; or, for a request without it, by the address it renews: a
// RENEW goes unicast to the server, past the relay, so it carries no option
// 82 (RFC 3046 2.1: the relay adds it only to what it relays). Kea keeps the
// option 82 of the lease for this (stash-agent-options); here the address
// itself says which reservation it is, and only its holder, or anyone when
// nobody holds it (the kernel, which answered, stored no lease), renews it.
const config::AgentReservation* Engine::agent_reservation(const Packet& req, const config::Subnet& subnet,
                                                          int64_t now) const {
    if (cfg_->agent_reservations.empty()) return nullptr;
    if (req.options.has(opt::RelayAgentInfo)) return agent_reservation_for(*cfg_, req, subnet);
    if (req.ciaddr.is_zero() || !req.giaddr.is_zero() || !subnet.net.contains(req.ciaddr)) return nullptr;
    auto* a = agent_reservation_at(*cfg_, req.ciaddr);
    if (!a || leases_.held_against(req.ciaddr, req.mac(), now)) return nullptr;
    return a;
}

std::vector<Ipv4> Engine::agent_addresses_held(int64_t now) const {
    std::vector<Ipv4> out;
    for (auto& a : cfg_->agent_reservations) {
        auto* l = leases_.by_ip(a.resv.ip);
        if (l && !leases_.is_free(a.resv.ip, now) && (l->state == lease::State::Bound || l->state == lease::State::Declined))
            out.push_back(a.resv.ip);
    }
    return out;
}

}  // namespace pxed::dhcp
