// The lookups of a configuration (config.h), shared by every front end.
#include "config/config.h"

#include <algorithm>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace pxed::config {

const Subnet* Config::subnet_for(Ipv4 a) const {
    for (auto& s : subnets)
        if (s.net.contains(a)) return &s;
    return nullptr;
}

const Subnet6* Config::subnet6_for(const Ipv6& a) const {
    for (auto& s : subnets6)
        if (s.prefix.contains(a)) return &s;
    return nullptr;
}

const Reservation* Config::reservation_for(const Mac& m) const {
    for (auto& r : reservations)
        if (r.mac == m) return &r;
    return nullptr;
}

const AgentReservation* Config::agent_reservation_for(AgentIdKind k, std::string_view id) const {
    for (auto& a : agent_reservations)
        if (a.kind == k && a.id == id) return &a;
    return nullptr;
}

std::string AgentReservation::describe() const {
    std::string out = kind == AgentIdKind::Circuit ? "circuit-id" : "remote-id";
    bool printable = std::all_of(id.begin(), id.end(), [](char ch) { return ch >= 0x20 && ch < 0x7f && ch != '"'; });
    if (printable) return out + " \"" + id + "\"";
    out += "-hex \"";
    out += hex_colons(id);
    out += '"';
    return out;
}

const Host* Config::host_for(const Mac& m) const {
    for (auto& h : hosts)
        if (h.mac == m) return &h;
    return nullptr;
}

const Class* Config::class_named(std::string_view name) const {
    for (auto& c : classes)
        if (c.name == name) return &c;
    return nullptr;
}

std::vector<const PxeService*> PxeMenu::for_arch(uint16_t arch) const {
    std::vector<const PxeService*> out;
    for (auto& s : services)
        if (s.arch == arch) out.push_back(&s);
    return out;
}

const PxeService* PxeMenu::by_type(uint16_t type) const {
    for (auto& s : services)
        if (s.type == type) return &s;
    return nullptr;
}

Result<void> check_dhcp_script(const std::string& path) {
    if (path.empty() || path[0] != '/')
        return Err("dhcp-script '" + path + "' must be an absolute path (dnsmasq does no PATH search either)");
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return Err("dhcp-script '" + path + "' does not exist");
    if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111) || access(path.c_str(), X_OK) != 0)
        return Err("dhcp-script '" + path + "' is not an executable file");
    return {};
}

Result<void> check_script_user(const std::string& user) {
    passwd pw{}, *found = nullptr;
    char buf[4096];
    if (getpwnam_r(user.c_str(), &pw, buf, sizeof buf, &found) != 0 || !found)
        return Err("dhcp-script-user '" + user + "' is not a user on this system");
    return {};
}

bool Config::has_proxy() const {
    for (auto& s : subnets)
        if (s.proxy) return true;
    return false;
}

}  // namespace pxed::config
