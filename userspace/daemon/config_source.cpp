#include "daemon/config_source.h"

#include <spdlog/spdlog.h>

#include <optional>

#include "daemon/vlan_devices.h"

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
        // With DHCPv6 subnets an interface may be IPv6-only.
        auto info = IfaceInfo::lookup(name, cfg.subnets6.empty());
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
    return add_vlan_devices(cfg, std::move(out));
}

Result<std::vector<IfaceInfo>> add_vlan_devices(const config::Config& cfg, std::vector<IfaceInfo> ifaces) {
    bool any = false;
    for (auto& sn : cfg.subnets) any = any || sn.vlan;
    if (!any) return ifaces;
    auto all = list_vlan_devices();
    if (!all) return Err("reading the VLAN devices: " + all.error());
    size_t listed = ifaces.size();
    for (auto& sn : cfg.subnets) {
        if (!sn.vlan) continue;
        const std::string& at = sn.where.empty() ? cfg.source : sn.where;
        std::string ids = std::to_string(sn.vlan);  // appends: GCC 12 -O3 -Wrestrict on `"." + ...`
        if (sn.inner_vlan) {
            ids += '.';
            ids += std::to_string(sn.inner_vlan);
        }
        bool found = false;
        for (size_t t = 0; t < listed; t++) {
            auto dev = find_vlan_device(*all, ifaces[t].ifindex, sn.vlan, sn.inner_vlan);
            if (!dev) continue;
            for (size_t k = 0; k < listed; k++)
                if (ifaces[k].name == dev->name)
                    return Err(at + ": " + dev->name + " is VLAN " + ids + " of " + ifaces[t].name +
                               ", which this subnet serves through the trunk: list " + ifaces[t].name +
                               " in server.interfaces, not " + dev->name);
            auto info = IfaceInfo::lookup(dev->name);
            if (!info) return Err(at + ": VLAN " + ids + " of " + ifaces[t].name + ": " + info.error());
            if (!sn.net.contains(info->addr))
                return Err(at + ": VLAN " + ids + " of " + ifaces[t].name + " is " + dev->name + ", whose address " +
                           info->addr.str() + " is not in the subnet " + sn.net.str());
            info->trunk = ifaces[t].name;
            info->vlan = sn.vlan;
            info->inner_vlan = sn.inner_vlan;
            ifaces.push_back(std::move(*info));
            found = true;
        }
        if (!found && sn.server_ip && listed) {
            // No VLAN device (a kernel without 802.1Q, or none created):
            // the trunk's program answers the reserved and proxy clients
            // from server-ip; nothing else on that VLAN reaches pxed.
            IfaceInfo k = ifaces[0];
            k.name = ifaces[0].name + " vlan " + ids;
            k.addr = *sn.server_ip;
            k.prefix = sn.net.prefix;
            k.trunk = ifaces[0].name;
            k.vlan = sn.vlan;
            k.inner_vlan = sn.inner_vlan;
            k.kernel_only = true;
            spdlog::warn("{}: subnet {} is on VLAN {} of {}, which has no VLAN device: only its reserved (and proxy) "
                         "clients are answered, by the XDP program, from server-ip {}; the daemon, TFTP and HTTP do not "
                         "serve that VLAN (create {}.{} with an address in the subnet for them)",
                         at, sn.net.str(), ids, k.trunk, sn.server_ip->str(), k.trunk, ids);
            ifaces.push_back(std::move(k));
            found = true;
        }
        if (!found) {
            std::string first = listed ? ifaces[0].name : std::string("<trunk>");
            return Err(at + ": subnet " + sn.net.str() + " is on VLAN " + ids +
                       ", but no interface in server.interfaces has a VLAN device for it (create one with an address "
                       "in the subnet, e.g. ip link add link " + first + " name " + first + "." + ids +
                       " type vlan id " + std::to_string(sn.vlan) + (sn.inner_vlan ? " (and the inner VLAN on it)" : "") +
                       "; or set server-ip to have only its reserved clients answered, by the XDP program)");
        }
    }
    return ifaces;
}

}  // namespace pxed::daemon
