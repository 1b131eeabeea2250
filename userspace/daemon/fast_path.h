#pragma once
// The XDP fast path on the served interfaces.
//
// Owns: the attached programs, their pinned maps (kept equal to the running
// configuration by sync()) and the pin locks that keep a second pxed off
// the same pin directories.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bpf/map_sync.h"
#include "bpf/map_sync6.h"
#include "bpf/xdp_program.h"
#include "dhcp6/engine6.h"
#include "config/config.h"
#include "daemon/interface.h"
#include "daemon/metrics.h"
#include "pxed/result.h"

namespace pxed::daemon {

// What the kernel's DHCPv6 path follows besides the configuration: the
// daemon's server DUID (empty: no DHCPv6, the path stays off) and HTTP
// port, its view of each interface's addresses (the Links Engine6 picks the
// subnet by), and the leases its table holds on reserved addresses.
struct Dhcp6State {
    std::vector<uint8_t> server_duid;
    uint16_t http_port = 0;  // the engine's, in boot file URLs
    std::vector<dhcp6::Link> links;
    std::vector<bpf::Holder6> holders;
};

class FastPath {
public:
    // Attaches the program to every interface as `mode` says. With "auto" an
    // interface where it cannot attach is answered by the daemon alone; with
    // "off" the pins an earlier pxed left are removed.
    Result<void> start(config::XdpMode mode, const std::vector<IfaceInfo>& ifaces);
    // The maps follow `cfg`: at start, at every change of configuration, and
    // when a reservation's conflict begins or ends (`withheld`: MACs whose
    // reservations stay out of the maps). Every interface is synced; the
    // error names those that failed.
    // `held`: addresses of reservations by option 82 a lease holds (left to the daemon).
    // `v6`: the DHCPv6 maps follow it too (sync6).
    Result<void> sync(const config::Config& cfg, const std::vector<Mac>& withheld, const std::vector<Ipv4>& held = {},
                      const Dhcp6State& v6 = {});
    // The DHCPv6 maps alone: when the leases on reserved addresses change.
    Result<void> sync6(const config::Config& cfg, const Dhcp6State& v6);

    void read_into(MetricsSnapshot& s) const;
    // Attached behind libxdp's dispatcher somewhere (detaching needs CAP_SYS_ADMIN).
    bool behind_dispatcher() const;
    size_t size() const { return xdp_.size(); }
    // Each attached interface's boot trace map.
    std::vector<std::pair<std::string, int>> trace_maps() const;
    // Each attached interface's map of other DHCP servers' replies.
    std::vector<std::pair<std::string, int>> servers_maps() const;

    struct Status {
        std::string mode;
        uint32_t prog_id = 0;
        std::string pin_dir;
    };
    std::optional<Status> status(const std::string& ifname) const;

    // Exit for a restart: programs and maps stay in the kernel.
    void keep_on_exit();
    // Clean shutdown: detach and unpin, with a log line of each interface's figures.
    void detach_all();

private:
    struct Attached {
        std::unique_ptr<bpf::XdpProgram> prog;
        bpf::IfaceView iface;
        std::optional<bpf::Sync6Report> last6;  // logged when it changes
    };
    std::vector<Attached> xdp_;
    std::vector<bpf::PinLock> pin_locks_;  // held while serving; see PinLock
};

}  // namespace pxed::daemon
