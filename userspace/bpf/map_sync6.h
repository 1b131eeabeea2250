#pragma once
// Keeps an interface's DHCPv6 maps (bpf/maps6.h) equal to the configuration
// and the daemon's DHCPv6 state: the link entry (the subnet link_subnet()
// picks from the interface's addresses, as Engine6 does; our link-local
// address; the server DUID), the reservations of that subnet by DUID and by
// MAC, the tails (userspace/bpf/tails6.h) and their blobs. Like
// map_sync.cpp it works from what the maps hold, so it is the same after a
// restart that found the previous pxed's maps pinned.
#include <cstdint>
#include <string>
#include <vector>

#include "bpf/xdp_program.h"
#include "config/config.h"
#include "lease/lease6.h"
#include "pxed/abi6.h"
#include "pxed/net.h"
#include "pxed/result.h"

namespace pxed::bpf {

struct Iface6View {
    std::string name;
    Ipv6 link_local;          // the source of replies to a link-local client; zero: none (the path stays off)
    std::vector<Ipv6> addrs;  // global and unique-local, as the daemon's dhcp6::Link holds them
    uint8_t hop_limit = 64;   // net.ipv6.conf.<name>.hop_limit
};

// A lease the daemon's table holds on a reserved address, live (neither
// released nor expired): while it is, LeaseTable6::is_free gives the
// address to that IA alone (not even to it once declined), so the kernel
// does too (PXED6_RESV_HELD), or leaves the reservation to the daemon.
struct Holder6 {
    Ipv6 ip;
    std::vector<uint8_t> duid;
    uint32_t iaid = 0;
    bool declined = false;
    bool operator==(const Holder6&) const = default;
};
std::vector<Holder6> holders6(const config::Config& cfg, const lease::LeaseTable6& leases, int64_t now);

struct Sync6Report {
    bool enabled = false;      // the link has a [[subnet6]], a link-local address and a server DUID
    size_t reservations = 0;   // in the map
    size_t held = 0;           // ... of which answered to one IA only
    size_t withheld = 0;       // left to the daemon: declined, or held by a DUID longer than PXED6_DUID_MAX
    size_t not_in_kernel = 0;  // DUIDs longer than PXED6_DUID_MAX, boot sets past PXED6_BOOT_SETS
    size_t blobs = 0;          // distinct tails in the map
    size_t too_long = 0;       // shapes whose tail is longer than PXED6_TAIL_MAX: passed
    size_t archs = 0;
    bool operator==(const Sync6Report&) const = default;
};

struct Map6Fds {
    int link = -1, reservations = -1, tails = -1, blobs = -1;
};

// `server_duid`: the daemon's (Engine6::server_duid()); empty: DHCPv6 is off.
Result<Sync6Report> sync_maps6(const Map6Fds& fds, const config::Config& cfg, const Iface6View& iface,
                               const std::vector<uint8_t>& server_duid, uint16_t http_port,
                               const std::vector<Holder6>& holders = {});

inline Result<Sync6Report> sync_maps6(XdpProgram& prog, const config::Config& cfg, const Iface6View& iface,
                                      const std::vector<uint8_t>& server_duid, uint16_t http_port,
                                      const std::vector<Holder6>& holders = {}) {
    return sync_maps6(Map6Fds{prog.dhcp6_link_fd(), prog.dhcp6_reservations_fd(), prog.dhcp6_tails_fd(),
                              prog.dhcp6_blobs_fd()},
                      cfg, iface, server_duid, http_port, holders);
}

// The program's keys, for tests and tools.
pxed6_client_key duid_key6(const std::vector<uint8_t>& duid);
pxed6_client_key mac_key6(const Mac& m);

}  // namespace pxed::bpf
