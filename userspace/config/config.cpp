// The lookups of a configuration (config.h), shared by every front end.
#include "config/config.h"

namespace pxed::config {

const Subnet* Config::subnet_for(Ipv4 a) const {
    for (auto& s : subnets)
        if (s.net.contains(a)) return &s;
    return nullptr;
}

const Reservation* Config::reservation_for(const Mac& m) const {
    for (auto& r : reservations)
        if (r.mac == m) return &r;
    return nullptr;
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

bool Config::has_proxy() const {
    for (auto& s : subnets)
        if (s.proxy) return true;
    return false;
}

}  // namespace pxed::config
