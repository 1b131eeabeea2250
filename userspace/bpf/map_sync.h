#pragma once
// Keeps an interface's pinned maps equal to the configuration: the config
// entry, one reservation per reserved MAC, and the reply blobs they point
// at. Works from what the maps hold, so it is the same after a reload and
// after a restart that found the previous pxed's maps pinned.
#include <string>

#include "bpf/xdp_program.h"
#include "config/config.h"
#include "pxed/net.h"
#include "pxed/result.h"

namespace pxed::bpf {

struct IfaceView {
    std::string name;
    int ifindex = 0;
    Mac mac;
    Ipv4 addr;
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
};

// Order of writes: config, new blobs, reservations (upserts), then stale
// reservations and blobs are removed, so a reserved client is never without
// an answer while its entry changes.
Result<SyncReport> sync_maps(int reservations_fd, int blobs_fd, int config_fd, const config::Config& cfg,
                             const IfaceView& iface, const RateLimit& rate);

inline Result<SyncReport> sync_maps(XdpProgram& prog, const config::Config& cfg, const IfaceView& iface,
                                    const RateLimit& rate) {
    return sync_maps(prog.reservations_fd(), prog.reply_blobs_fd(), prog.config_fd(), cfg, iface, rate);
}

// The value the program finds for a reservation, for tests and pxectl.
pxed_mac_key mac_key(const Mac& m);

}  // namespace pxed::bpf
