// The lease commands' DHCPv6 side: list, show and del of IA_NA leases
// (pxectl lease list|show|del with an IPv6 address), beside the v4 ones in
// commands_lease.cpp.
#include <spdlog/spdlog.h>

#include "daemon/command_args.h"
#include "daemon/commands.h"
#include "daemon/daemon.h"

namespace pxed::daemon {

using nlohmann::json;

namespace {

json lease6_json(const lease::Lease6& l, const config::Config& cfg) {
    const config::Subnet6* sn = cfg.subnet6_for(l.ip);
    return json{{"ip", l.ip.str()},
                {"mac", l.mac ? l.mac->str() : ""},
                {"duid", hex_colons(l.duid.data(), l.duid.size())},
                {"iaid", l.iaid},
                {"hostname", l.hostname},
                {"state", std::string(lease::to_string(l.state))},
                {"expires", l.expires},
                {"preferred_until", l.preferred_until},
                {"subnet", sn ? sn->prefix.str() : ""},
                {"static", l.is_static},
                {"source", l.is_static ? "config" : "dynamic"}};
}

}  // namespace

void list_leases6(Daemon& d, nlohmann::json& out, const std::optional<Ipv6Net>& net, const std::string& state) {
    auto* eng = d.engine6();
    if (!eng) return;
    int64_t now = now_s();
    for (auto& [ip, l] : eng->leases().all()) {
        if (l.state == lease::State::Offered && l.expires <= now) continue;  // a lapsed offer
        if (net && !net->contains(ip)) continue;
        if (!state.empty() && state != lease::to_string(l.state) && !(state == "static" && l.is_static)) continue;
        out.push_back(lease6_json(l, d.cfg()));
    }
}

std::optional<json> show_lease6(Daemon& d, const std::string& key) {
    auto ip = Ipv6::parse(key);
    if (!ip) return std::nullopt;
    auto* eng = d.engine6();
    if (eng)
        if (auto* l = eng->leases().by_ip(*ip)) return lease6_json(*l, d.cfg());
    fail("no DHCPv6 lease for " + ip->str() + " (pxectl lease list shows them all)");
}

std::optional<json> del_lease6(Daemon& d, const std::string& key) {
    auto ip = Ipv6::parse(key);
    if (!ip) return std::nullopt;
    auto* eng = d.engine6();
    if (!eng || !eng->leases().by_ip(*ip)) fail("no DHCPv6 lease for " + ip->str() + " (pxectl lease list shows them all)");
    eng->leases().erase(*ip);
    if (auto f = d.flush_sync(); !f) fail(f.error());  // gone from the store before we answer
    spdlog::info("lease deleted ip={}", ip->str());
    return json{{"deleted", ip->str()}};
}

}  // namespace pxed::daemon
