#pragma once
// The XDP program and its maps: the userspace edge of bpf/pxed_xdp.bpf.c.
// Either loaded for BPF_PROG_TEST_RUN (tests, benchmarks) or attached to an
// interface through libxdp with its maps pinned under
// /sys/fs/bpf/pxed/<ifname>/.
#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "pxed/abi.h"
#include "pxed/result.h"

struct pxed_xdp;     // libbpf skeleton
struct xdp_program;  // libxdp

namespace pxed::bpf {

std::string_view stat_name(pxed_stat s);

using Stats = std::array<uint64_t, PXED_STAT_MAX>;

enum class AttachMode { Native, Generic, Auto };

// Sends libbpf's and libxdp's messages to spdlog at debug level (they are
// chatty about fallbacks pxed reports itself).
void route_library_logs();

// Mounts bpffs on /sys/fs/bpf when it is not mounted there.
Result<void> ensure_bpffs();
std::string pin_dir(const std::string& ifname);

// One pxed at a time per pin directory. Pins are keyed by interface name, so
// two daemons serving interfaces of the same name (in different network
// namespaces) would share maps and remove each other's pins; the second is
// refused instead. An flock on the directory itself: the kernel releases it
// however the holder exits, so a restart after kill -9 finds it free.
class PinLock {
public:
    // Creates pin_dir(ifname) if needed and locks it, waiting up to wait_ms
    // for a previous pxed that is exiting. The error names the holder's pid.
    static Result<PinLock> acquire(const std::string& ifname, int wait_ms = 3000);
    PinLock() = default;
    PinLock(PinLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    PinLock& operator=(PinLock&& o) noexcept;
    PinLock(const PinLock&) = delete;
    PinLock& operator=(const PinLock&) = delete;
    ~PinLock();

private:
    explicit PinLock(int fd) : fd_(fd) {}
    int fd_ = -1;
};

class XdpProgram {
public:
    // Opens and loads the embedded object into the kernel (not attached, no pins).
    static Result<std::unique_ptr<XdpProgram>> load();
    // Loads with the maps pinned under pin_dir(ifname) (reused when they
    // exist, so a restarted pxed keeps the state of the previous one) and
    // attaches through libxdp. Programs of an earlier pxed on the interface
    // are detached after the new one is attached: no gap in service.
    // vlan_meta: the interface is a VLAN trunk; in native mode the program
    // is loaded bound to the device, to read tags the driver takes out of
    // frames (bpf/vlan.h), where the kernel allows it.
    static Result<std::unique_ptr<XdpProgram>> attach(const std::string& ifname, int ifindex, AttachMode mode,
                                                      bool vlan_meta = false);
    ~XdpProgram();
    XdpProgram(const XdpProgram&) = delete;
    XdpProgram& operator=(const XdpProgram&) = delete;

    // Clean shutdown: detach from the interface and remove the pins.
    void detach_and_unpin();
    // Exit for a restart: leave program and maps in the kernel.
    void keep_on_exit() { keep_ = true; }

    int prog_fd() const;
    uint32_t prog_id() const;
    int reservations_fd() const;
    int reply_blobs_fd() const;
    int profiles_fd() const;
    int proxy_fd() const;
    int config_fd() const;
    int stats_fd() const;
    int trace_fd() const;  // the boot trace (struct pxed_trace_ring per MAC)
    int vlans_fd() const;  // VLAN ids -> struct pxed_vlan (trunks)
    int servers_fd() const;  // other DHCP servers seen (struct pxed_server_seen)
    int relay_reservations_fd() const;  // reservations by option 82 (struct pxed_relay_key)
    // DHCPv6 (bpf/dhcp6.h, userspace/bpf/map_sync6.h).
    int dhcp6_link_fd() const;
    int dhcp6_reservations_fd() const;
    int dhcp6_tails_fd() const;
    int dhcp6_blobs_fd() const;
    const std::string& mode_name() const { return mode_name_; }
    // Attached through libxdp's dispatcher (not as the interface's only
    // program): detaching then needs CAP_SYS_ADMIN, as libxdp opens the
    // dispatcher by id. A program attached directly detaches over netlink
    // with CAP_NET_ADMIN alone.
    bool behind_dispatcher() const { return xdp_ && !raw_flags_; }
    // Loaded bound to the device: reads VLAN tags the driver kept out of frames.
    bool device_bound() const { return meta_; }
    const std::string& ifname() const { return ifname_; }

    Result<void> set_config(const pxed_xdp_config& c);
    // Sum of the per-CPU counters.
    Result<Stats> read_stats() const;

private:
    explicit XdpProgram(pxed_xdp* skel) : skel_(skel) {}
    Result<void> attach_device_bound(int ifindex);
    pxed_xdp* skel_;
    bool meta_ = false;  // pxed_xdp_meta was loaded, not pxed_xdp
    xdp_program* xdp_ = nullptr;
    int ifindex_ = 0;
    int attach_mode_ = 0;
    uint32_t raw_flags_ = 0;  // attached with bpf_xdp_attach (legacy replace), not libxdp
    bool keep_ = false;
    std::string ifname_;
    std::string mode_name_ = "none";
};

// Detaches programs an earlier pxed left on the interface and removes its pins
// (used when XDP is configured off).
void remove_leftover(const std::string& ifname, int ifindex);

// Reads the pinned stats map of an interface served by a running pxed.
Result<Stats> read_pinned_stats(const std::string& ifname);

}  // namespace pxed::bpf
