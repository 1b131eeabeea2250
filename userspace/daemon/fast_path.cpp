#include "daemon/fast_path.h"

#include <spdlog/spdlog.h>

#include "daemon/dhcp6_service.h"

namespace pxed::daemon {

Result<void> FastPath::start(config::XdpMode mode, const std::vector<IfaceInfo>& ifaces) {
    if (mode == config::XdpMode::Off) {
        // Remove what an earlier pxed left, unless another pxed serves an
        // interface of the same name now: then those pins are its own.
        for (auto& i : ifaces) {
            if (auto lock = bpf::PinLock::acquire(i.name, 0); lock)
                bpf::remove_leftover(i.name, i.ifindex);
            else
                spdlog::warn("xdp iface={}: {}; leaving its pins alone", i.name, lock.error());
        }
        spdlog::info("xdp off: the daemon answers every client");
        return {};
    }
    bpf::AttachMode am = mode == config::XdpMode::Native    ? bpf::AttachMode::Native
                         : mode == config::XdpMode::Generic ? bpf::AttachMode::Generic
                                                            : bpf::AttachMode::Auto;
    for (auto& i : ifaces) {
        if (!i.trunk.empty()) continue;  // a VLAN device: the trunk's program answers its VLAN
        auto lock = bpf::PinLock::acquire(i.name);
        if (!lock) return Err("xdp iface=" + i.name + ": " + lock.error());
        pin_locks_.push_back(std::move(lock.value()));
        bpf::IfaceView view{i.name, i.ifindex, i.mac, i.addr, {}};
        for (auto& v : ifaces)
            if (v.trunk == i.name) view.vlans.push_back(bpf::VlanView{v.vlan, v.inner_vlan, v.name, v.mac, v.addr});
        auto p = bpf::XdpProgram::attach(i.name, i.ifindex, am, !view.vlans.empty());
        if (!p) {
            if (am != bpf::AttachMode::Auto) return Err("xdp iface=" + i.name + ": " + p.error());
            spdlog::warn("xdp iface={}: {}; the daemon answers every client there", i.name, p.error());
            continue;
        }
        xdp_.push_back(Attached{std::move(p.value()), std::move(view), std::nullopt});
    }
    return {};
}

Result<void> FastPath::sync6(const config::Config& cfg, const Dhcp6State& v6) {
    std::string failed;
    for (auto& x : xdp_) {
        bpf::Iface6View view{x.iface.name, interface_link_local6(x.iface.name), {}, interface_hop_limit6(x.iface.name)};
        for (auto& l : v6.links)
            if (l.name == x.iface.name) view.addrs = l.addrs;
        auto r = bpf::sync_maps6(*x.prog, cfg, view, v6.server_duid, v6.http_port, v6.holders);
        if (!r) {
            spdlog::error("xdp iface={} DHCPv6 map sync failed: {}", x.iface.name, r.error());
            failed += (failed.empty() ? "" : "; ") + x.iface.name + ": " + r.error();
            continue;
        }
        if (x.last6 == *r) continue;
        x.last6 = *r;
        if (!r->enabled) {
            if (!v6.server_duid.empty())
                spdlog::info("xdp6 iface={} off: no [[subnet6]] on its addresses, or no link-local address", x.iface.name);
            continue;
        }
        spdlog::info("xdp6 iface={} reservations={} held={} blobs={} archs={}{}", x.iface.name, r->reservations, r->held,
                     r->blobs, r->archs,
                     (r->withheld ? " withheld=" + std::to_string(r->withheld) : "") +
                         (r->not_in_kernel ? " not_in_kernel=" + std::to_string(r->not_in_kernel) : "") +
                         (r->too_long ? " too_long=" + std::to_string(r->too_long) : ""));
    }
    if (!failed.empty()) return Err("XDP DHCPv6 map sync failed: " + failed);
    return {};
}

Result<void> FastPath::sync(const config::Config& cfg, const std::vector<Mac>& withheld,
                            const std::vector<Ipv4>& held, const Dhcp6State& v6) {
    std::string failed;
    for (auto& x : xdp_) {
        auto r = bpf::sync_maps(*x.prog, cfg, x.iface, bpf::RateLimit{cfg.xdp_rate_limit, cfg.xdp_rate_burst},
                                withheld, held);
        if (!r) {
            spdlog::error("xdp iface={} map sync failed: {}", x.iface.name, r.error());
            failed += (failed.empty() ? "" : "; ") + x.iface.name + ": " + r.error();
            continue;
        }
        spdlog::info("xdp iface={} mode={} prog_id={} pinned={} reservations={} blobs={} profiles={} removed={}{}",
                     x.iface.name, x.prog->mode_name(), x.prog->prog_id(), bpf::pin_dir(x.iface.name), r->reservations,
                     r->blobs, r->profiles, r->removed,
                     (r->not_in_kernel ? " not_in_kernel=" + std::to_string(r->not_in_kernel) : "") +
                         (r->withheld ? " withheld=" + std::to_string(r->withheld) : "") +
                         (r->vlans ? " vlans=" + std::to_string(r->vlans) : "") +
                         (r->relay_reservations ? " relay_reservations=" + std::to_string(r->relay_reservations) : ""));
        if (r->blobs >= PXED_MAX_BLOBS)
            spdlog::warn("xdp iface={}: the reply blob map is full ({} blobs): {} reservations are answered by the daemon "
                         "for some kinds of client (host names and per-host settings make a reservation's replies its own)",
                         x.iface.name, r->blobs, r->not_in_kernel);
        if (r->unmapped_signatures)
            spdlog::warn("xdp iface={}: the boot policy tells apart more than {} kinds of request; {} of the {} request "
                         "signatures are answered by the daemon (pass_undecided)",
                         x.iface.name, PXED_PROFILES, r->unmapped_signatures, PXED_SIGNATURES);
    }
    auto r6 = sync6(cfg, v6);
    if (!r6) failed += (failed.empty() ? "" : "; ") + r6.error();
    if (!failed.empty()) return Err("XDP map sync failed: " + failed);
    return {};
}

void FastPath::read_into(MetricsSnapshot& s) const {
    for (auto& x : xdp_)
        if (auto st = x.prog->read_stats()) s.xdp.push_back(XdpFigures{x.iface.name, *st});
}

std::vector<std::pair<std::string, int>> FastPath::trace_maps() const {
    std::vector<std::pair<std::string, int>> out;
    for (auto& x : xdp_) out.emplace_back(x.iface.name, x.prog->trace_fd());
    return out;
}

std::vector<std::pair<std::string, int>> FastPath::servers_maps() const {
    std::vector<std::pair<std::string, int>> out;
    for (auto& x : xdp_) out.emplace_back(x.iface.name, x.prog->servers_fd());
    return out;
}

bool FastPath::behind_dispatcher() const {
    for (auto& x : xdp_)
        if (x.prog->behind_dispatcher()) return true;
    return false;
}

std::optional<FastPath::Status> FastPath::status(const std::string& ifname) const {
    for (auto& x : xdp_)
        if (x.iface.name == ifname) return Status{x.prog->mode_name(), x.prog->prog_id(), bpf::pin_dir(ifname)};
    return std::nullopt;
}

void FastPath::keep_on_exit() {
    for (auto& x : xdp_) x.prog->keep_on_exit();
}

void FastPath::detach_all() {
    for (auto& x : xdp_) {
        if (auto st = x.prog->read_stats()) spdlog::info("{}", shutdown_line(XdpFigures{x.iface.name, *st}));
        x.prog->detach_and_unpin();
    }
}

}  // namespace pxed::daemon
