#pragma once
// Shared by the TOML front end's files (toml_config.cpp, toml_policy.cpp):
// the error context and the typed getters. Every error names the source,
// line and value.
#include <toml++/toml.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace pxed::config::toml_detail {

struct Ctx {
    std::string source;
    std::string where(const toml::node& n) const {
        auto& s = n.source();
        return source + ":" + std::to_string(s.begin.line);
    }
    std::string where(const toml::node_view<const toml::node>& v, const toml::node& parent) const {
        return v.node() ? where(*v.node()) : where(parent);
    }
};

struct ConfigError {
    std::string msg;
};

[[noreturn]] inline void fail(std::string msg) { throw ConfigError{std::move(msg)}; }

inline void check_keys(const Ctx& c, const toml::table& t, const std::vector<std::string>& allowed, const char* what) {
    for (auto&& [k, v] : t) {
        if (std::find(allowed.begin(), allowed.end(), std::string(k.str())) == allowed.end())
            fail(c.where(v) + ": unknown key '" + std::string(k.str()) + "' in " + what);
    }
}

inline std::string get_str(const Ctx& c, const toml::table& t, const char* key, const char* what) {
    auto v = t[key];
    if (!v) return {};
    auto s = v.value<std::string>();
    if (!s) fail(c.where(*v.node()) + ": " + what + "." + key + " must be a string");
    return *s;
}

inline Ipv4 get_ip(const Ctx& c, const toml::node& n, const std::string& what) {
    auto s = n.value<std::string>();
    if (!s) fail(c.where(n) + ": " + what + " must be a string with an IPv4 address");
    auto ip = Ipv4::parse(*s);
    if (!ip) fail(c.where(n) + ": " + what + " '" + *s + "' is not an IPv4 address");
    return *ip;
}

inline std::optional<Ipv4> opt_ip(const Ctx& c, const toml::table& t, const char* key, const std::string& what) {
    auto v = t[key];
    if (!v) return std::nullopt;
    return get_ip(c, *v.node(), what + "." + key);
}

std::optional<bool> get_bool(const Ctx& c, const toml::table& t, const char* key, const std::string& what);
BootFiles parse_boot(const Ctx& c, const toml::node& n, const std::string& what);
std::vector<OptionValue> parse_options(const Ctx& c, const toml::node& n, const std::string& what);
// boot-file, next-server, server-name, netboot and options of a class or host.
BootPolicy parse_policy(const Ctx& c, const toml::table& t, const std::string& what);
Class parse_class(const Ctx& c, const toml::table& t, size_t idx);
// [pxe]: the boot menu (toml_pxe.cpp).
PxeMenu parse_pxe(const Ctx& c, const toml::node& n);
// server.dhcp-script, dhcp-script-user, dhcp-script-on-renewal, checked
// (toml_hooks.cpp).
void parse_dhcp_script(const Ctx& c, const toml::table& server, Config& cfg);
// A proxy subnet's table holds no address settings (range, router, ...).
void check_proxy_subnet(const Ctx& c, const toml::table& t, const std::string& what);
// A [[reservation]]'s circuit-id, circuit-id-hex, remote-id or remote-id-hex
// (toml_agent.cpp): nullopt when it has none; fails on two, or with mac.
std::optional<std::pair<AgentIdKind, std::string>> parse_agent_id(const Ctx& c, const toml::table& t,
                                                                  const std::string& what);

// [[subnet6]] and [[reservation6]] (toml_subnet6.cpp).
Subnet6 parse_subnet6(const Ctx& c, const toml::table& t, size_t idx);
Reservation6 parse_reservation6(const Ctx& c, const toml::table& t, size_t idx);

}  // namespace pxed::config::toml_detail
