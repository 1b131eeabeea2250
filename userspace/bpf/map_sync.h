#pragma once
// Keeps an interface's pinned maps equal to the configuration: the config
// entry, one reservation per reserved MAC, and the reply blobs they point
// at. Works from what the maps hold, so it is the same after a reload and
// after a restart that found the previous pxed's maps pinned.
#include <string>
#include <vector>

#include "bpf/xdp_program.h"
#include "config/config.h"
#include "pxed/net.h"
#include "pxed/result.h"

namespace pxed::bpf {

// A VLAN of a trunk: the kernel's VLAN device for those ids, whose address
// and MAC the program answers its requests from.
struct VlanView {
    uint16_t outer = 0, inner = 0;
    std::string device;
    Mac mac;
    Ipv4 addr;
};

struct IfaceView {
    std::string name;
    int ifindex = 0;
    Mac mac;
    Ipv4 addr;                    // zero: no IPv4 address (DHCPv6 only): DHCPv4 is passed
    std::vector<VlanView> vlans;  // the trunk's served VLANs (config `vlan`)
};

struct RateLimit {
    uint32_t per_second = 0;  // 0: unlimited
    uint32_t burst = 0;
};

struct SyncReport {
    size_t reservations = 0;   // in the map after the sync
    size_t blobs = 0;          // distinct reply blobs in the map
    size_t removed = 0;        // stale reservations removed
    size_t not_in_kernel = 0;  // reservations whose replies are too large for a blob
    size_t withheld = 0;       // reservations kept out of the map (see `withheld` below)
    size_t relay_reservations = 0;  // reservations by option 82 in relay_reservations
    size_t profiles = 0;       // request profiles the configuration distinguishes
    size_t unmapped_signatures = 0;  // signatures past PXED_PROFILES profiles: passed
    bool proxy = false;        // the interface's subnet (or one of its VLANs') is served in proxy mode
    size_t vlans = 0;          // VLANs of the trunk in the vlans map
    size_t proxy_blobs = 0;    // proxy profiles (of 2 x PXED_PROFILES) answered in the kernel
};

// Order of writes: config, new blobs, reservations (upserts), then stale
// reservations and blobs are removed, so a reserved client is never without
// an answer while its entry changes. The reservations of the MACs in
// `withheld` are left out of the map (removed if present), so XDP passes
// those clients to the daemon: a reservation whose address another client
// still holds, or one held off after a DECLINE (dhcp::ReservationConflict).
struct MapFds {
    int reservations = -1, blobs = -1, profiles = -1, config = -1, proxy = -1, vlans = -1;
    int relay_reservations = -1;  // -1: none (reservations by option 82 stay with the daemon)
};
// `held`: addresses of reservations by option 82 that a lease holds in the
// daemon (dhcp::Engine::agent_addresses_held): left out of relay_reservations,
// so the daemon, which knows the lease, answers that port.
Result<SyncReport> sync_maps(const MapFds& fds, const config::Config& cfg, const IfaceView& iface,
                             const RateLimit& rate, const std::vector<Mac>& withheld = {},
                             const std::vector<Ipv4>& held = {});

inline Result<SyncReport> sync_maps(XdpProgram& prog, const config::Config& cfg, const IfaceView& iface,
                                    const RateLimit& rate, const std::vector<Mac>& withheld = {},
                                    const std::vector<Ipv4>& held = {}) {
    return sync_maps(MapFds{prog.reservations_fd(), prog.reply_blobs_fd(), prog.profiles_fd(), prog.config_fd(),
                            prog.proxy_fd(), prog.vlans_fd(), prog.relay_reservations_fd()},
                     cfg, iface, rate, withheld, held);
}

// The value the program finds for a reservation, for tests and pxectl.
pxed_mac_key mac_key(const Mac& m);
pxed_relay_key relay_key(const config::AgentReservation& a);

}  // namespace pxed::bpf
