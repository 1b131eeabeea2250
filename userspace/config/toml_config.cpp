// TOML front end (toml++). Every error names the source, line and the value.
#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <tuple>
#include <unordered_map>

#include "config/config.h"
#include "config/toml_internal.h"

namespace pxed::config {

namespace {

using namespace toml_detail;

const std::vector<std::string> kServerKeys = {"interfaces",     "lease-db",       "tftp-root", "authoritative",
                                              "xdp",            "xdp-rate-limit", "xdp-rate-burst", "dhcp-rate-limit", "dhcp-rate-burst", "relay-rate-limit", "relay-rate-burst",
                                              "tftp-max-blksize", "tftp-max-sessions-per-client", "http-port", "file-service-bind", "control-socket", "control-group", "node-name",
                                              "boot-trace", "boot-trace-machines", "boot-trace-events", "status-page",
                                              "dhcp-script", "dhcp-script-user", "dhcp-script-on-renewal"};
const std::vector<std::string> kSubnetKeys = {"cidr", "range", "router", "dns", "domain", "lease-time",
                                              "server-ip", "boot", "options", "known-clients-only", "proxy",
                                              "vlan", "inner-vlan"};
const std::vector<std::string> kResvKeys = {"mac",         "ip",          "hostname", "lease-time", "boot-file",
                                            "next-server", "server-name", "netboot",  "options",    "classes",
                                            "ignore",      "circuit-id",  "circuit-id-hex", "remote-id", "remote-id-hex"};

uint32_t get_lease_time(const Ctx& c, const toml::node& n, const std::string& what) {
    if (auto s = n.value<std::string>()) {
        if (*s == "infinite") return kInfiniteLease;
        fail(c.where(n) + ": " + what + " '" + *s + "' must be a number of seconds or \"infinite\"");
    }
    auto i = n.value<int64_t>();
    if (!i || *i < 60 || *i >= int64_t(kInfiniteLease))
        fail(c.where(n) + ": " + what + " must be between 60 and 4294967294 seconds, or \"infinite\"");
    return uint32_t(*i);
}

// A VLAN id of `vlan` or `inner-vlan`; 0 when the key is absent.
uint16_t get_vid(const Ctx& c, const toml::table& t, const char* key, const std::string& what) {
    auto n = t[key];
    if (!n) return 0;
    auto i = n.value<int64_t>();
    if (!n.is_integer() || !i || *i < 1 || *i > 4094)
        fail(c.where(*n.node()) + ": " + what + "." + key + " must be a VLAN id from 1 to 4094");
    return uint16_t(*i);
}

// Each table of the array of tables `key` ([[key]]), with its index.
template <class F>
void parse_tables(const Ctx& c, const toml::table& root, const char* key, F&& each) {
    auto n = root[key];
    if (!n) return;
    auto arr = n.as_array();
    if (!arr) fail(c.where(*n.node()) + ": " + key + " must be an array of tables: [[" + key + "]]");
    for (size_t i = 0; i < arr->size(); i++) {
        auto t = arr->get(i)->as_table();
        if (!t) fail(c.where(*arr->get(i)) + ": " + key + " entries must be tables");
        each(*t, i);
    }
}

Subnet parse_subnet(const Ctx& c, const toml::table& t, size_t idx) {
    std::string what = "subnet[" + std::to_string(idx) + "]";
    check_keys(c, t, kSubnetKeys, what.c_str());
    Subnet s;
    std::string cidr = get_str(c, t, "cidr", what.c_str());
    if (cidr.empty()) fail(c.where(t) + ": " + what + " needs cidr = \"a.b.c.d/n\"");
    auto net = Ipv4Net::parse(cidr);
    if (!net) fail(c.where(*t["cidr"].node()) + ": " + what + ".cidr '" + cidr + "' is not a.b.c.d/n");
    s.net = *net;
    s.proxy = get_bool(c, t, "proxy", what).value_or(false);
    if (s.proxy) {
        check_proxy_subnet(c, t, what);
    } else {
        auto range = t["range"].as_array();
        if (!range || range->size() != 2)
            fail(c.where(t) + ": " + what + " needs range = [\"first\", \"last\"] (or proxy = true)");
        s.range_start = get_ip(c, *range->get(0), what + ".range[0]");
        s.range_end = get_ip(c, *range->get(1), what + ".range[1]");
    }
    s.router = opt_ip(c, t, "router", what);
    if (auto dns = t["dns"]) {
        auto arr = dns.as_array();
        if (!arr) fail(c.where(*dns.node()) + ": " + what + ".dns must be an array of addresses");
        for (auto& n : *arr) s.dns.push_back(get_ip(c, n, what + ".dns"));
    }
    s.domain = get_str(c, t, "domain", what.c_str());
    if (auto lt = t["lease-time"]) s.lease_time = get_lease_time(c, *lt.node(), what + ".lease-time");
    s.server_ip = opt_ip(c, t, "server-ip", what);
    if (auto b = t["boot"]) s.boot = parse_boot(c, *b.node(), what + ".boot");
    if (auto o = t["options"]) s.options = parse_options(c, *o.node(), what + ".options");
    s.known_clients_only = get_bool(c, t, "known-clients-only", what).value_or(false);
    s.vlan = get_vid(c, t, "vlan", what);
    s.inner_vlan = get_vid(c, t, "inner-vlan", what);
    if (s.inner_vlan && !s.vlan)
        fail(c.where(*t["inner-vlan"].node()) + ": " + what + ".inner-vlan needs vlan, the outer tag's id (QinQ)");
    s.where = c.where(t);
    return s;
}

// A [[reservation]]: with ip, a reserved address; without, a host entry
// (a known client with its own settings and an address from the pool).
void parse_reservation(const Ctx& c, const toml::table& t, size_t idx, Config& cfg) {
    std::string what = "reservation[" + std::to_string(idx) + "]";
    check_keys(c, t, kResvKeys, what.c_str());
    auto agent = parse_agent_id(c, t, what);
    std::string mac = agent ? "" : get_str(c, t, "mac", what.c_str());
    auto m = agent ? std::optional<Mac>(Mac{}) : Mac::parse(mac);
    if (!m) fail((t["mac"] ? c.where(*t["mac"].node()) : c.where(t)) + ": " + what + ".mac '" + mac +
                 "' is not a MAC address like 52:54:00:12:34:56");
    std::string hostname = get_str(c, t, "hostname", what.c_str());
    if (hostname.size() > 63) fail(c.where(t) + ": " + what + ".hostname '" + hostname + "' is longer than 63 bytes");
    BootPolicy set = parse_policy(c, t, what);
    std::vector<std::string> classes;
    if (auto cl = t["classes"]) {
        auto arr = cl.as_array();
        if (!arr) fail(c.where(*cl.node()) + ": " + what + ".classes must be an array of class names");
        for (auto& n : *arr) {
            auto s = n.value<std::string>();
            if (!s) fail(c.where(n) + ": " + what + ".classes: each entry must be a class name");
            classes.push_back(*s);
        }
    }
    auto ignore = get_bool(c, t, "ignore", what);
    auto ip = opt_ip(c, t, "ip", what);
    if (!ip && t["lease-time"])
        fail(c.where(*t["lease-time"].node()) + ": " + what + ".lease-time needs ip: an entry without ip takes the subnet's lease time");
    if (!ip) {
        Host h{*m, hostname, std::move(set), std::move(classes), ignore.value_or(false)};
        cfg.hosts.push_back(std::move(h));
        return;
    }
    if (ignore) fail(c.where(*t["ignore"].node()) + ": " + what + ".ignore: a reservation with an address is answered; " +
                     "ignore is for an entry without ip");
    Reservation r;
    r.mac = *m;
    r.ip = *ip;
    r.hostname = hostname;
    if (auto lt = t["lease-time"]) r.lease_time = get_lease_time(c, *lt.node(), what + ".lease-time");
    r.set = std::move(set);
    r.classes = std::move(classes);
    if (agent) {
        cfg.agent_reservations.push_back({agent->first, std::move(agent->second), std::move(r), c.where(t)});
        return;
    }
    cfg.reservations.push_back(std::move(r));
}

}  // namespace

namespace {
// Every class a match refers to by name is defined before `upto`.
Result<void> check_members(const Config& c, const Match& m, size_t upto, const std::string& what) {
    if (m.kind == Match::Kind::Member) {
        bool found = false;
        for (size_t i = 0; i < upto; i++) found = found || c.classes[i].name == m.name;
        if (!found)
            return Err(what + ": class '" + m.name + "' is not defined before it (classes are evaluated in order)");
    }
    for (auto& s : m.sub)
        if (auto r = check_members(c, s, upto, what); !r) return r;
    return {};
}

Result<void> check_policy_classes(const Config& c, const std::vector<std::string>& names, const std::string& what) {
    for (auto& n : names)
        if (!c.class_named(n)) return Err(what + ": class '" + n + "' is not defined");
    return {};
}
}  // namespace

Result<void> validate(const Config& c) {
    const std::string& src = c.source;
    if (c.interfaces.empty()) return Err(src + ": no interface to serve: set server.interfaces");
    if (c.subnets.empty() && c.subnets6.empty())
        return Err(src + ": no subnet: add at least one [[subnet]] or [[subnet6]]");
    for (size_t i = 0; i < c.subnets.size(); i++) {
        auto& s = c.subnets[i];
        std::string what = src + ": subnet " + s.net.str();
        for (size_t j = 0; j < i; j++)
            if (c.subnets[j].net.contains(s.net.network()) || s.net.contains(c.subnets[j].net.network()))
                return Err(what + " overlaps subnet " + c.subnets[j].net.str());
        if (s.proxy) continue;  // no range (validate_pxe)
        if (!s.net.contains(s.range_start) || !s.net.contains(s.range_end))
            return Err(what + ": range " + s.range_start.str() + "-" + s.range_end.str() + " is outside the subnet");
        if (s.range_end < s.range_start)
            return Err(what + ": range end " + s.range_end.str() + " is before its start " + s.range_start.str());
        if (s.range_start == s.net.network() || s.range_end == s.net.broadcast())
            return Err(what + ": range includes the network or broadcast address");
        if (uint64_t n = uint64_t(s.range_end.v) - s.range_start.v + 1; n > kMaxPoolAddresses)
            return Err(what + ": range " + s.range_start.str() + "-" + s.range_end.str() + " has " + std::to_string(n) +
                       " addresses; a pool holds at most " + std::to_string(kMaxPoolAddresses) +
                       " (a /8): split it into several subnets");
    }
    if (auto r = validate_pxe(c); !r) return r;
    if (c.xdp_rate_limit > 0 && c.xdp_rate_burst == 0)
        return Err(src + ": xdp-rate-burst = 0 with xdp-rate-limit = " + std::to_string(c.xdp_rate_limit) +
                   " would drop every reply of the kernel path: set a burst of at least 1");
    if (c.dhcp_rate_limit > 0 && c.dhcp_rate_burst == 0)
        return Err(src + ": dhcp-rate-burst = 0 with dhcp-rate-limit = " + std::to_string(c.dhcp_rate_limit) +
                   " would drop every request: set a burst of at least 1");
    for (size_t i = 0; i < c.classes.size(); i++) {
        auto& k = c.classes[i];
        std::string what = (k.where.empty() ? src : k.where) + ": class '" + k.name + "'";
        for (size_t j = 0; j < i; j++)
            if (c.classes[j].name == k.name) return Err(what + " is defined twice");
        if (k.match)
            if (auto r = check_members(c, *k.match, i, what); !r) return r;
    }
    for (auto& r : c.reservations)
        if (auto v = check_policy_classes(c, r.classes, src + ": reservation " + r.mac.str()); !v) return v;
    for (auto& a : c.agent_reservations)
        if (auto v = check_policy_classes(c, a.resv.classes, a.where + ": reservation by " + a.describe()); !v) return v;
    if (auto v = validate_agent_reservations(c); !v) return v;
    if (auto v = validate6(c); !v) return v;
    for (size_t i = 0; i < c.hosts.size(); i++) {
        auto& h = c.hosts[i];
        if (auto v = check_policy_classes(c, h.classes, src + ": host " + h.mac.str()); !v) return v;
        if (c.reservation_for(h.mac)) return Err(src + ": " + h.mac.str() + " has both a reservation and a host entry");
        for (size_t j = 0; j < i; j++)
            if (c.hosts[j].mac == h.mac) return Err(src + ": host " + h.mac.str() + " appears twice");
    }
    // Duplicates found by hash: a scan of the earlier ones per reservation
    // made every run-time change (pxectl, the lease database) quadratic,
    // a second of CPU with 10,000 reservations.
    std::unordered_map<uint64_t, size_t> mac_at;
    std::unordered_map<uint32_t, size_t> ip_at;
    mac_at.reserve(c.reservations.size());
    ip_at.reserve(c.reservations.size());
    for (size_t i = 0; i < c.reservations.size(); i++) {
        auto& r = c.reservations[i];
        const Subnet* sn = c.subnet_for(r.ip);
        if (!sn)
            return Err(src + ": reservation " + r.mac.str() + " -> " + r.ip.str() + ": the address is outside every subnet");
        if (r.ip == sn->net.network() || r.ip == sn->net.broadcast())
            return Err(src + ": reservation " + r.mac.str() + " -> " + r.ip.str() + ": the network or broadcast address");
        if ((sn->server_ip && r.ip == *sn->server_ip) || (sn->router && r.ip == *sn->router))
            return Err(src + ": reservation " + r.mac.str() + " -> " + r.ip.str() +
                       ": the address of the server or router itself");
        if (!mac_at.try_emplace(r.mac.key(), i).second)
            return Err(src + ": reservation " + r.mac.str() + " appears twice");
        if (auto [at, fresh] = ip_at.try_emplace(r.ip.v, i); !fresh)
            return Err(src + ": address " + r.ip.str() + " is reserved for both " +
                       c.reservations[at->second].mac.str() + " and " + r.mac.str());
    }
    return {};
}

Result<Config> parse_toml(std::string_view text, const std::string& source_name) {
    Ctx c{source_name};
    Config cfg;
    cfg.source = source_name;
    try {
        toml::table root = toml::parse(text, source_name);
        check_keys(c, root, {"server", "subnet", "reservation", "boot", "option", "class", "pxe", "subnet6", "reservation6"},
                   "the top level");
        if (auto px = root["pxe"]) cfg.pxe = parse_pxe(c, *px.node());
        if (auto b = root["boot"]) cfg.boot = parse_boot(c, *b.node(), "boot");
        if (auto o = root["option"]) cfg.options = parse_options(c, *o.node(), "option");
        if (auto cl = root["class"]) {
            auto arr = cl.as_array();
            if (!arr) fail(c.where(*cl.node()) + ": class must be an array of tables: [[class]]");
            for (size_t i = 0; i < arr->size(); i++) {
                auto t = arr->get(i)->as_table();
                if (!t) fail(c.where(*arr->get(i)) + ": class entries must be tables");
                cfg.classes.push_back(parse_class(c, *t, i));
            }
        }
        if (auto srv = root["server"].as_table()) {
            check_keys(c, *srv, kServerKeys, "[server]");
            if (auto ifs = (*srv)["interfaces"]) {
                auto arr = ifs.as_array();
                if (!arr) fail(c.where(*ifs.node()) + ": server.interfaces must be an array of names");
                for (auto& n : *arr) {
                    auto s = n.value<std::string>();
                    if (!s || s->empty() || s->size() >= 16)
                        fail(c.where(n) + ": server.interfaces: each entry must be an interface name (1-15 bytes)");
                    cfg.interfaces.push_back(*s);
                }
            }
            if (auto v = get_str(c, *srv, "lease-db", "server"); !v.empty()) cfg.lease_db = v;
            cfg.node_name = get_str(c, *srv, "node-name", "server");
            cfg.tftp_root = get_str(c, *srv, "tftp-root", "server");
            if (auto v = get_str(c, *srv, "control-socket", "server"); !v.empty()) cfg.control_socket = v;
            if (auto v = get_str(c, *srv, "control-group", "server"); !v.empty()) cfg.control_group = v;
            parse_dhcp_script(c, *srv, cfg);
            for (auto [key, field] : {std::pair{"authoritative", &cfg.authoritative},
                                      std::pair{"boot-trace", &cfg.boot_trace},
                                      std::pair{"status-page", &cfg.status_page}}) {
                if (auto a = (*srv)[key]) {
                    auto b = a.value<bool>();
                    if (!b) fail(c.where(*a.node()) + ": server." + key + " must be true or false");
                    *field = *b;
                }
            }
            for (auto [key, field, lo, hi] : {std::tuple{"boot-trace-machines", &cfg.boot_trace_machines, 1, 1000000},
                                              std::tuple{"boot-trace-events", &cfg.boot_trace_events, 8, 4096}}) {
                if (auto v = (*srv)[key]) {
                    auto i = v.value<int64_t>();
                    if (!i || *i < lo || *i > hi)
                        fail(c.where(*v.node()) + ": server." + key + " must be a number from " + std::to_string(lo) +
                             " to " + std::to_string(hi));
                    *field = uint32_t(*i);
                }
            }
            for (auto [key, field] : {std::pair{"xdp-rate-limit", &cfg.xdp_rate_limit},
                                      std::pair{"xdp-rate-burst", &cfg.xdp_rate_burst},
                                      std::pair{"dhcp-rate-limit", &cfg.dhcp_rate_limit},
                                      std::pair{"dhcp-rate-burst", &cfg.dhcp_rate_burst},
                                      std::pair{"relay-rate-limit", &cfg.relay_rate_limit},
                                      std::pair{"relay-rate-burst", &cfg.relay_rate_burst}}) {
                if (auto v = (*srv)[key]) {
                    auto i = v.value<int64_t>();
                    if (!i || *i < 0 || *i > 1000000)
                        fail(c.where(*v.node()) + ": server." + key + " must be a number from 0 to 1000000");
                    *field = uint32_t(*i);
                }
            }
            // A token bucket that holds no token drops everything: in the
            // kernel that is every reserved client. relay-rate-burst = 0 is
            // documented as "the same as the limit" and stays allowed.
            for (auto [limit_key, burst_key, limit, burst] :
                 {std::tuple{"xdp-rate-limit", "xdp-rate-burst", cfg.xdp_rate_limit, cfg.xdp_rate_burst},
                  std::tuple{"dhcp-rate-limit", "dhcp-rate-burst", cfg.dhcp_rate_limit, cfg.dhcp_rate_burst}}) {
                auto bv = (*srv)[burst_key];
                if (limit > 0 && burst == 0)
                    fail((bv.node() ? c.where(*bv.node()) : c.where(*srv)) + ": server." + burst_key + " = 0 with " + limit_key +
                         " = " + std::to_string(limit) +
                         " would drop every request it limits (a bucket that never holds a token): set " + burst_key +
                         " to at least 1, or " + limit_key + " = 0 for no limit");
            }
            if (auto v = (*srv)["tftp-max-sessions-per-client"]) {
                auto i = v.value<int64_t>();
                if (!i || *i < 1 || *i > 20000)
                    fail(c.where(*v.node()) + ": server.tftp-max-sessions-per-client must be from 1 to 20000");
                cfg.tftp_max_sessions_per_client = uint32_t(*i);
            }
            if (auto v = (*srv)["tftp-max-blksize"]) {
                auto i = v.value<int64_t>();
                if (!i || *i < 8 || *i > 65464)
                    fail(c.where(*v.node()) + ": server.tftp-max-blksize must be from 8 to 65464");
                cfg.tftp_max_blksize = uint16_t(*i);
            }
            if (auto v = (*srv)["http-port"]) {
                auto i = v.value<int64_t>();
                if (!i || *i < 0 || *i > 65535) fail(c.where(*v.node()) + ": server.http-port must be from 0 to 65535");
                cfg.http_port = uint16_t(*i);
            }
            if (auto x = (*srv)["file-service-bind"]) {
                auto s = x.value<std::string>();
                if (s == "interfaces") cfg.file_service_bind = FileServiceBind::Interfaces;
                else if (s == "all") cfg.file_service_bind = FileServiceBind::All;
                else fail(c.where(*x.node()) + ": server.file-service-bind must be \"interfaces\" or \"all\"");
            }
            if (auto x = (*srv)["xdp"]) {
                auto s = x.value<std::string>();
                if (s == "off") cfg.xdp = XdpMode::Off;
                else if (s == "native") cfg.xdp = XdpMode::Native;
                else if (s == "generic") cfg.xdp = XdpMode::Generic;
                else if (s == "auto") cfg.xdp = XdpMode::Auto;
                else fail(c.where(*x.node()) + ": server.xdp '" + s.value_or("?") + "' must be off, native, generic or auto");
            }
        }
        if (auto subs = root["subnet"]) {
            auto arr = subs.as_array();
            if (!arr) fail(c.where(*subs.node()) + ": subnet must be an array of tables: [[subnet]]");
            for (size_t i = 0; i < arr->size(); i++) {
                auto t = arr->get(i)->as_table();
                if (!t) fail(c.where(*arr->get(i)) + ": subnet entries must be tables");
                cfg.subnets.push_back(parse_subnet(c, *t, i));
                for (size_t j = 0; j + 1 < cfg.subnets.size(); j++)
                    if (cfg.subnets.back().vlan && cfg.subnets[j].vlan == cfg.subnets.back().vlan &&
                        cfg.subnets[j].inner_vlan == cfg.subnets.back().inner_vlan)
                        fail(c.where(*t) + ": subnet[" + std::to_string(i) + "] has the VLAN of subnet[" +
                             std::to_string(j) + "] (" + cfg.subnets[j].where + "): one subnet per VLAN");
            }
        }
        if (auto rs = root["reservation"]) {
            auto arr = rs.as_array();
            if (!arr) fail(c.where(*rs.node()) + ": reservation must be an array of tables: [[reservation]]");
            for (size_t i = 0; i < arr->size(); i++) {
                auto t = arr->get(i)->as_table();
                if (!t) fail(c.where(*arr->get(i)) + ": reservation entries must be tables");
                parse_reservation(c, *t, i, cfg);
            }
        }
        parse_tables(c, root, "subnet6", [&](const toml::table& t, size_t i) {
            cfg.subnets6.push_back(parse_subnet6(c, t, i));
        });
        parse_tables(c, root, "reservation6", [&](const toml::table& t, size_t i) {
            cfg.reservations6.push_back(parse_reservation6(c, t, i));
        });
    } catch (const toml::parse_error& e) {
        return Err(source_name + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
    } catch (const ConfigError& e) {
        return Err(e.msg);
    }
    auto v = validate(cfg);
    if (!v) return Err(v.error());
    return cfg;
}

Result<Config> load_toml_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) return Err("cannot read configuration file " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_toml(ss.str(), path);
}

}  // namespace pxed::config
