// [[subnet6]] and [[reservation6]] of the TOML front end, and their
// cross-field checks (validate6, part of validate()).
#include <unordered_map>

#include "config/option_value.h"
#include "config/toml_internal.h"

namespace pxed::config {

namespace toml_detail {

namespace {

const std::vector<std::string> kSubnet6Keys = {"prefix",        "range",          "dns",       "domain-search",
                                               "preferred-lifetime", "valid-lifetime", "rapid-commit", "preference", "server-ip",
                                               "boot",          "boot-params"};
const std::vector<std::string> kResv6Keys = {"duid", "mac", "ip", "hostname", "boot-file"};

Ipv6 get_ip6(const Ctx& c, const toml::node& n, const std::string& what) {
    auto s = n.value<std::string>();
    if (!s) fail(c.where(n) + ": " + what + " must be a string with an IPv6 address");
    auto ip = Ipv6::parse(*s);
    if (!ip) fail(c.where(n) + ": " + what + " '" + *s + "' is not an IPv6 address");
    return *ip;
}

uint32_t get_lifetime(const Ctx& c, const toml::table& t, const char* key, const std::string& what, uint32_t dflt) {
    auto n = t[key];
    if (!n) return dflt;
    auto i = n.value<int64_t>();
    if (!n.is_integer() || !i || *i < 60 || *i > 0xfffffffe)
        fail(c.where(*n.node()) + ": " + what + "." + key + " must be between 60 and 4294967294 seconds");
    return uint32_t(*i);
}

std::vector<std::string> get_strings(const Ctx& c, const toml::table& t, const char* key, const std::string& what) {
    std::vector<std::string> out;
    auto n = t[key];
    if (!n) return out;
    auto arr = n.as_array();
    if (!arr) fail(c.where(*n.node()) + ": " + what + "." + key + " must be an array of strings");
    for (auto& e : *arr) {
        auto s = e.value<std::string>();
        if (!s) fail(c.where(e) + ": " + what + "." + key + " must be an array of strings");
        out.push_back(*s);
    }
    return out;
}

}  // namespace

Subnet6 parse_subnet6(const Ctx& c, const toml::table& t, size_t idx) {
    std::string what = "subnet6[" + std::to_string(idx) + "]";
    check_keys(c, t, kSubnet6Keys, what.c_str());
    Subnet6 s;
    std::string p = get_str(c, t, "prefix", what.c_str());
    if (p.empty()) fail(c.where(t) + ": " + what + " needs prefix = \"2001:db8:1::/64\"");
    auto net = Ipv6Net::parse(p);
    if (!net) fail(c.where(*t["prefix"].node()) + ": " + what + ".prefix '" + p + "' is not an IPv6 prefix addr/n");
    s.prefix = *net;
    auto range = t["range"].as_array();
    if (!range || range->size() != 2) fail(c.where(t) + ": " + what + " needs range = [\"first\", \"last\"]");
    s.range_start = get_ip6(c, *range->get(0), what + ".range[0]");
    s.range_end = get_ip6(c, *range->get(1), what + ".range[1]");
    if (auto dns = t["dns"]) {
        auto arr = dns.as_array();
        if (!arr) fail(c.where(*dns.node()) + ": " + what + ".dns must be an array of IPv6 addresses");
        for (auto& n : *arr) s.dns.push_back(get_ip6(c, n, what + ".dns"));
    }
    s.domain_search = get_strings(c, t, "domain-search", what);
    s.preferred_lifetime = get_lifetime(c, t, "preferred-lifetime", what, s.preferred_lifetime);
    s.valid_lifetime = get_lifetime(c, t, "valid-lifetime", what, std::max(s.valid_lifetime, s.preferred_lifetime));
    s.rapid_commit = get_bool(c, t, "rapid-commit", what).value_or(true);
    if (auto n = t["preference"]) {
        auto i = n.value<int64_t>();
        if (!n.is_integer() || !i || *i < 0 || *i > 255)
            fail(c.where(*n.node()) + ": " + what + ".preference must be between 0 and 255");
        s.preference = uint8_t(*i);
    }
    if (auto v = t["server-ip"]) s.server_ip = get_ip6(c, *v.node(), what + ".server-ip");
    if (auto b = t["boot"]) s.boot = parse_boot(c, *b.node(), what + ".boot");
    s.boot_params = get_strings(c, t, "boot-params", what);
    s.where = c.where(t);
    return s;
}

Reservation6 parse_reservation6(const Ctx& c, const toml::table& t, size_t idx) {
    std::string what = "reservation6[" + std::to_string(idx) + "]";
    check_keys(c, t, kResv6Keys, what.c_str());
    Reservation6 r;
    if (auto d = t["duid"]) {
        auto s = d.value<std::string>();
        auto h = s ? parse_hex(*s) : std::nullopt;
        if (!h || h->size() < 2 || h->size() > 130)
            fail(c.where(*d.node()) + ": " + what + ".duid '" + s.value_or("?") +
                 "' is not a DUID in hex like \"00:03:00:01:52:54:00:12:34:56\" (2 to 130 bytes)");
        r.duid = *h;
    }
    if (auto m = t["mac"]) {
        auto s = m.value<std::string>();
        auto mac = s ? Mac::parse(*s) : std::nullopt;
        if (!mac) fail(c.where(*m.node()) + ": " + what + ".mac '" + s.value_or("?") + "' is not a MAC address");
        r.mac = *mac;
    }
    if (r.duid.empty() == !r.mac) fail(c.where(t) + ": " + what + " needs exactly one of duid and mac");
    auto ip = t["ip"];
    if (!ip) fail(c.where(t) + ": " + what + " needs ip");
    r.ip = get_ip6(c, *ip.node(), what + ".ip");
    r.hostname = get_str(c, t, "hostname", what.c_str());
    if (t["boot-file"]) r.boot_file = get_str(c, t, "boot-file", what.c_str());
    r.where = c.where(t);
    return r;
}

}  // namespace toml_detail

Result<void> validate6(const Config& c) {
    for (size_t i = 0; i < c.subnets6.size(); i++) {
        auto& s = c.subnets6[i];
        std::string what = s.where + ": subnet6 " + s.prefix.str();
        if (s.prefix.prefix > 120) return Err(what + ": the prefix is longer than /120");
        if (!s.prefix.contains(s.range_start) || !s.prefix.contains(s.range_end))
            return Err(what + ": range " + s.range_start.str() + "-" + s.range_end.str() + " is outside the prefix");
        if (s.range_start.high64() != s.range_end.high64() || s.range_start.low64() > s.range_end.low64())
            return Err(what + ": range " + s.range_start.str() + "-" + s.range_end.str() +
                       " must go upwards within one /64");
        if (s.preferred_lifetime > s.valid_lifetime)
            return Err(what + ": preferred-lifetime " + std::to_string(s.preferred_lifetime) +
                       " is longer than valid-lifetime " + std::to_string(s.valid_lifetime));
        for (size_t j = 0; j < i; j++) {
            auto& o = c.subnets6[j];
            if (o.prefix.contains(s.prefix.addr) || s.prefix.contains(o.prefix.addr))
                return Err(what + " overlaps subnet6 " + o.prefix.str() + " (" + o.where + ")");
        }
    }
    std::unordered_map<std::string, size_t> duid_at, ip_at;
    std::unordered_map<uint64_t, size_t> mac_at;
    for (size_t i = 0; i < c.reservations6.size(); i++) {
        auto& r = c.reservations6[i];
        std::string who = r.mac ? "mac " + r.mac->str() : "duid " + hex_colons(r.duid.data(), r.duid.size());
        std::string what = r.where + ": reservation6 " + who + " -> " + r.ip.str();
        if (!c.subnet6_for(r.ip)) return Err(what + ": the address is outside every subnet6");
        bool fresh = r.mac ? mac_at.try_emplace(r.mac->key(), i).second
                           : duid_at.try_emplace(std::string(r.duid.begin(), r.duid.end()), i).second;
        if (!fresh) return Err(what + ": " + who + " has two reservations");
        std::string ipk(r.ip.b.begin(), r.ip.b.end());
        if (auto [at, f] = ip_at.try_emplace(ipk, i); !f)
            return Err(what + ": the address is reserved twice (also at " + c.reservations6[at->second].where + ")");
    }
    return {};
}

}  // namespace pxed::config
