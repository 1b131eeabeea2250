// Argument parsing and the JSON shapes of leases and reservations.
#include "daemon/command_args.h"

#include <ctime>
#include <limits>

namespace pxed::daemon {

using nlohmann::json;

[[noreturn]] void fail(std::string msg) { throw control::CommandError{std::move(msg)}; }

int64_t now_s() { return int64_t(std::time(nullptr)); }

std::string arg_str(const control::Request& r, const char* name, bool required) {
    if (!r.args.contains(name)) {
        if (required) fail(std::string("missing argument \"") + name + "\"");
        return {};
    }
    if (!r.args[name].is_string()) fail(std::string("argument \"") + name + "\" must be a string");
    return r.args[name].get<std::string>();
}

Mac parse_mac(const std::string& s) {
    auto m = Mac::parse(s);
    if (!m) fail("'" + s + "' is not a MAC address (like 52:54:00:12:34:56)");
    return *m;
}

Ipv4 parse_ip(const std::string& s) {
    auto ip = Ipv4::parse(s);
    if (!ip) fail("'" + s + "' is not an IPv4 address");
    return *ip;
}

namespace {

json expiry_json(int64_t expires) {
    if (expires == std::numeric_limits<int64_t>::max()) return "infinite";
    return expires;
}

}  // namespace

json lease_json(const lease::Lease& l, const config::Config& cfg) {
    const config::Subnet* sn = cfg.subnet_for(l.ip);
    return json{{"ip", l.ip.str()},
                {"mac", l.mac.str()},
                {"hostname", l.hostname},
                {"state", std::string(lease::to_string(l.state))},
                {"expires", expiry_json(l.expires)},
                {"subnet", sn ? sn->net.str() : ""},
                {"static", false},
                {"source", "dynamic"}};
}

json resv_json(const config::Reservation& r, const config::Config& cfg, bool runtime, const dhcp::Engine& engine) {
    const config::Subnet* sn = cfg.subnet_for(r.ip);
    uint32_t lt = r.lease_time.value_or(sn ? sn->lease_time : 0);
    json j{{"ip", r.ip.str()},
           {"mac", r.mac.str()},
           {"hostname", r.hostname},
           {"state", "static"},
           {"expires", nullptr},
           {"lease_time", lt == config::kInfiniteLease ? json("infinite") : json(lt)},
           {"subnet", sn ? sn->net.str() : ""},
           {"static", true},
           {"source", runtime ? "pxectl" : "config"}};
    if (auto c = engine.conflict_for(r, now_s())) j["conflict"] = c->describe();
    return j;
}

}  // namespace pxed::daemon
