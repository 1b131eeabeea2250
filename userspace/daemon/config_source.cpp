#include "daemon/config_source.h"

#include <spdlog/spdlog.h>

#include <optional>

namespace pxed::daemon {

Result<config::Config> ConfigSource::load() const {
    if (!dnsmasq) return config::load_toml_file(path);
    std::vector<std::string> warnings;
    auto lookup = [](const std::string& ifname) -> std::optional<Ipv4Net> {
        auto i = IfaceInfo::lookup(ifname);
        if (!i) return std::nullopt;
        return Ipv4Net{i->addr, i->prefix};
    };
    auto c = config::load_dnsmasq_file(path, lookup, warnings);
    for (auto& w : warnings) spdlog::warn("{}", w);
    return c;
}

Result<std::vector<IfaceInfo>> check_interfaces(const config::Config& cfg) {
    std::vector<IfaceInfo> out;
    for (auto& name : cfg.interfaces) {
        auto info = IfaceInfo::lookup(name);
        if (!info) return Err(info.error());
        for (auto& r : cfg.reservations)
            if (r.ip == info->addr)
                return Err(cfg.source + ": reservation " + r.mac.str() + " -> " + r.ip.str() +
                           " is the address of interface " + name + " itself");
        for (auto& sn : cfg.subnets)
            if (info->addr >= sn.range_start && info->addr <= sn.range_end)
                return Err(cfg.source + ": range " + sn.range_start.str() + "-" + sn.range_end.str() + " contains " +
                           info->addr.str() + ", the address of interface " + name);
        out.push_back(*info);
    }
    return out;
}

}  // namespace pxed::daemon
