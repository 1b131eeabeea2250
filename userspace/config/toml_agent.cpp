// Reservations by option 82 (config.h AgentReservation): the TOML keys
// circuit-id, circuit-id-hex, remote-id, remote-id-hex of a [[reservation]],
// and the checks every front end shares.
#include <unordered_map>

#include "config/option_value.h"
#include "config/toml_internal.h"

namespace pxed::config {

namespace toml_detail {

std::optional<std::pair<AgentIdKind, std::string>> parse_agent_id(const Ctx& c, const toml::table& t,
                                                                  const std::string& what) {
    static const char* const kKeys[] = {"circuit-id", "circuit-id-hex", "remote-id", "remote-id-hex"};
    const char* found = nullptr;
    for (const char* k : kKeys) {
        if (!t[k]) continue;
        if (found)
            fail(c.where(*t[k].node()) + ": " + what + " has both " + found + " and " + k +
                 ": a reservation is found by one identifier (circuit ids are tried before remote ids, so a "
                 "second one would never be used); write two reservations, or a class that tests both");
        found = k;
    }
    if (!found) return std::nullopt;
    const toml::node& n = *t[found].node();
    std::string key = found;
    if (t["mac"])
        fail(c.where(*t["mac"].node()) + ": " + what + " has both mac and " + key +
             ": the MAC's reservation always comes first, so the " + key +
             " would never be used; keep one of the two");
    auto s = n.value<std::string>();
    if (!s || s->empty()) fail(c.where(n) + ": " + what + "." + key + " must be a non-empty string");
    std::string id = *s;
    if (key.ends_with("-hex")) {
        auto h = parse_hex(*s);
        if (!h || h->empty())
            fail(c.where(n) + ": " + what + "." + key + " '" + *s + "' is not hex bytes like \"00:04:00:64\"");
        id.assign(h->begin(), h->end());
    }
    if (id.size() > kAgentIdMax)
        fail(c.where(n) + ": " + what + "." + key + " '" + *s + "' is " + std::to_string(id.size()) +
             " bytes; an id holds at most " + std::to_string(kAgentIdMax));
    if (!t["ip"])
        fail(c.where(n) + ": " + what + " by " + key + " needs ip: it reserves an address for whatever machine " +
             "is behind that " + (key.starts_with("circuit") ? "switch port" : "relay"));
    return std::pair{key.starts_with("circuit") ? AgentIdKind::Circuit : AgentIdKind::Remote, std::move(id)};
}

}  // namespace toml_detail

// Addresses on a served, non-proxy subnet; no address or id twice, also
// not an address of a MAC's reservation.
Result<void> validate_agent_reservations(const Config& c) {
    std::unordered_map<uint32_t, std::string> ip_owner;
    for (auto& r : c.reservations) ip_owner.emplace(r.ip.v, r.mac.str());
    for (size_t i = 0; i < c.agent_reservations.size(); i++) {
        auto& a = c.agent_reservations[i];
        std::string what = (a.where.empty() ? c.source : a.where) + ": reservation by " + a.describe() + " -> " +
                           a.resv.ip.str();
        const Subnet* sn = c.subnet_for(a.resv.ip);
        if (!sn) return Err(what + ": the address is outside every subnet");
        if (sn->proxy)
            return Err(what + ": subnet " + sn->net.str() +
                       " is served in proxy mode, where another server hands out the addresses");
        if (a.resv.ip == sn->net.network() || a.resv.ip == sn->net.broadcast())
            return Err(what + ": the network or broadcast address");
        if ((sn->server_ip && a.resv.ip == *sn->server_ip) || (sn->router && a.resv.ip == *sn->router))
            return Err(what + ": the address of the server or router itself");
        for (size_t j = 0; j < i; j++)
            if (c.agent_reservations[j].kind == a.kind && c.agent_reservations[j].id == a.id)
                return Err(what + ": " + a.describe() + " appears twice");
        if (auto [at, fresh] = ip_owner.try_emplace(a.resv.ip.v, a.describe()); !fresh)
            return Err(what + ": the address is reserved for " + at->second + " too");
    }
    return {};
}

}  // namespace pxed::config
