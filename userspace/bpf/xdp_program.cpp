// The XDP program's lifecycle: load for tests, attach through libxdp with
// pinned maps (replacing an earlier pxed's program without a gap), detach,
// and the map fds. Pins and the pin lock live in pins.cpp, counters in
// stats.cpp.
#include "bpf/xdp_program.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/libxdp.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "bpf/xdp_internal.h"
#include "pxed_xdp.skel.h"

#ifndef BPF_F_XDP_DEV_BOUND_ONLY  // Linux 6.3; Debian 12's headers are 6.1's
#define BPF_F_XDP_DEV_BOUND_ONLY (1U << 6)
#endif

namespace pxed::bpf {

using detail::errstr;
using detail::detach_ids;
using detail::pxed_programs_on;

namespace {

const char* kMapNames[] = {"reservations", "reply_blobs", "profiles", "config", "stats", "rate_limit", "proxy", "trace", "vlans", "servers", "relay_reservations",
                           "dhcp6_link", "dhcp6_reservations", "dhcp6_tails", "dhcp6_blobs"};

bpf_map* map_by_name(pxed_xdp* s, std::string_view n) {
    if (n == "reservations") return s->maps.reservations;
    if (n == "reply_blobs") return s->maps.reply_blobs;
    if (n == "profiles") return s->maps.profiles;
    if (n == "config") return s->maps.config;
    if (n == "stats") return s->maps.stats;
    if (n == "rate_limit") return s->maps.rate_limit;
    if (n == "proxy") return s->maps.proxy;
    if (n == "trace") return s->maps.trace;
    if (n == "vlans") return s->maps.vlans;
    if (n == "servers") return s->maps.servers;
    if (n == "relay_reservations") return s->maps.relay_reservations;
    if (n == "dhcp6_link") return s->maps.dhcp6_link;
    if (n == "dhcp6_reservations") return s->maps.dhcp6_reservations;
    if (n == "dhcp6_tails") return s->maps.dhcp6_tails;
    if (n == "dhcp6_blobs") return s->maps.dhcp6_blobs;
    return nullptr;
}

// A map pinned by an earlier pxed whose shape differs from ours (the stats
// array grows when a counter is appended) cannot be reused: libbpf would
// refuse the whole load. Its pin is removed so that a fresh map is pinned;
// the earlier program keeps its own map until ours replaces it.
void unpin_if_incompatible(bpf_map* m, const std::string& path) {
    int fd = bpf_obj_get(path.c_str());
    if (fd < 0) return;
    bpf_map_info info{};
    uint32_t len = sizeof info;
    bool same = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.type == uint32_t(bpf_map__type(m)) &&
                info.key_size == bpf_map__key_size(m) && info.value_size == bpf_map__value_size(m) &&
                info.max_entries == bpf_map__max_entries(m) && info.map_flags == bpf_map__map_flags(m);
    close(fd);
    if (same) return;
    spdlog::warn("xdp pinned map replaced path={} reason=\"its shape differs from this pxed's (an upgrade)\"", path);
    unlink(path.c_str());
}

int lib_log(const char* who, const char* fmt, va_list ap) {
    char buf[1024];
    int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
    std::string line(buf, n > 0 ? std::min<size_t>(size_t(n), sizeof buf - 1) : 0);
    while (!line.empty() && line.back() == '\n') line.pop_back();
    (void)who;  // both libraries prefix their own name
    spdlog::debug("{}", line);
    return n;
}
int libbpf_log(enum libbpf_print_level, const char* fmt, va_list ap) { return lib_log("libbpf", fmt, ap); }
int libxdp_log(enum libxdp_print_level, const char* fmt, va_list ap) { return lib_log("libxdp", fmt, ap); }
}  // namespace

void route_library_logs() {
    libbpf_set_print(libbpf_log);
    libxdp_set_print(libxdp_log);
}

Result<std::unique_ptr<XdpProgram>> XdpProgram::load() {
    pxed_xdp* skel = pxed_xdp__open();
    if (!skel) return Err(std::string("opening the embedded XDP object failed: ") + std::strerror(errno));
    int err = pxed_xdp__load(skel);
    if (err) {
        pxed_xdp__destroy(skel);
        return Err("loading the XDP program into the kernel failed: " + errstr(err) +
                   " (needs root or CAP_BPF+CAP_NET_ADMIN)");
    }
    return std::unique_ptr<XdpProgram>(new XdpProgram(skel));
}

namespace {
// The kernel driver of an interface ("veth", "bridge", "virtio_net", ...).
std::string driver_name(const std::string& ifname) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return {};
    ethtool_drvinfo info{};
    info.cmd = ETHTOOL_GDRVINFO;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
    ifr.ifr_data = reinterpret_cast<char*>(&info);
    int rc = ioctl(fd, SIOCETHTOOL, &ifr);
    close(fd);
    return rc == 0 ? std::string(info.driver) : std::string();
}
}  // namespace

namespace {
// Opens the embedded object with its maps pinned under `dir`.
Result<pxed_xdp*> open_pinned(const std::string& dir) {
    pxed_xdp* skel = pxed_xdp__open();
    if (!skel) return Err(std::string("opening the embedded XDP object failed: ") + std::strerror(errno));
    for (const char* n : kMapNames) {
        std::string path = dir + "/" + n;
        unpin_if_incompatible(map_by_name(skel, n), path);
        if (int e = bpf_map__set_pin_path(map_by_name(skel, n), path.c_str()); e) {
            pxed_xdp__destroy(skel);
            return Err("pin path " + path + ": " + errstr(e));
        }
    }
    return skel;
}
}  // namespace

// The device-bound variant (bpf/vlan.h: a VLAN tag the driver took out of
// the frame), attached directly: libxdp's dispatcher is not bound to a
// device, and the kernel lets a device-bound program call the RX metadata
// kfuncs only. The error says why it could not be; the object is then spent.
Result<void> XdpProgram::attach_device_bound(int ifindex) {
    bpf_program__set_autoload(skel_->progs.pxed_xdp, false);
    bpf_program__set_autoload(skel_->progs.pxed_xdp_meta, true);
    bpf_program__set_ifindex(skel_->progs.pxed_xdp_meta, uint32_t(ifindex));
    bpf_program__set_flags(skel_->progs.pxed_xdp_meta, BPF_F_XDP_DEV_BOUND_ONLY);
    if (int e = pxed_xdp__load(skel_); e) return Err("loading it bound to the device failed: " + errstr(e));
    meta_ = true;
    if (int e = bpf_xdp_attach(ifindex, prog_fd(), XDP_FLAGS_DRV_MODE, nullptr); e)
        return Err("attaching it failed: " + errstr(e));
    raw_flags_ = XDP_FLAGS_DRV_MODE;
    mode_name_ = "native";
    return {};
}

Result<std::unique_ptr<XdpProgram>> XdpProgram::attach(const std::string& ifname, int ifindex, AttachMode mode,
                                                       bool vlan_meta) {
    if (auto r = ensure_bpffs(); !r) return Err(r.error());
    std::string dir = pin_dir(ifname);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Err("cannot create " + dir + ": " + ec.message());

    auto opened = open_pinned(dir);
    if (!opened) return Err(opened.error());
    pxed_xdp* skel = *opened;
    std::unique_ptr<XdpProgram> self(new XdpProgram(skel));
    self->ifname_ = ifname;
    self->ifindex_ = ifindex;

    // A trunk in native mode: the variant that also reads the tag a NIC
    // (or a veth's sender) kept out of the frame; else the plain program.
    bool veth = driver_name(ifname) == "veth";
    if (vlan_meta && (mode == AttachMode::Native || (mode == AttachMode::Auto && !veth))) {
        std::vector<uint32_t> before = pxed_programs_on(ifindex);
        auto bound = self->attach_device_bound(ifindex);
        if (bound) {
            detach_ids(before, ifindex, self->prog_id());
            spdlog::info("xdp iface={} device-bound program: VLAN tags the driver takes out of frames are read", ifname);
            return self;
        }
        spdlog::warn("xdp iface={}: device-bound program: {}; VLAN tags the driver takes out of frames are not seen "
                     "(docs/XDP.md, VLAN trunks)",
                     ifname, bound.error());
        self->meta_ = false;
        self->raw_flags_ = 0;
        self->mode_name_ = "none";
        pxed_xdp__destroy(self->skel_);
        self->skel_ = nullptr;
        auto again = open_pinned(dir);
        if (!again) return Err(again.error());
        self->skel_ = skel = *again;
    }

    // An earlier pxed attached without a dispatcher (libxdp's legacy mode, as
    // on kernels that refuse freplace programs): replace it atomically, so
    // reserved clients are answered throughout the restart.
    if (xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex); mp && !libxdp_get_error(mp)) {
        xdp_program* m = xdp_multiprog__main_prog(mp);
        std::string_view name = m ? xdp_program__name(m) : "";
        bool legacy_pxed = m && xdp_multiprog__is_legacy(mp) && (name == "pxed_xdp" || name == "pxed_xdp_meta");
        uint32_t old_id = legacy_pxed ? xdp_program__id(m) : 0;
        bool skb = xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB;
        xdp_multiprog__close(mp);
        if (legacy_pxed) {
            if (int e = pxed_xdp__load(skel); e) return Err("loading the XDP program failed: " + errstr(e));
            int old_fd = bpf_prog_get_fd_by_id(old_id);
            if (old_fd < 0) return Err("cannot open the running pxed XDP program " + std::to_string(old_id));
            uint32_t flags = XDP_FLAGS_REPLACE | (skb ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
            LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = old_fd);
            int e = bpf_xdp_attach(ifindex, self->prog_fd(), flags, &opts);
            close(old_fd);
            if (e) return Err("cannot replace the running pxed XDP program on " + ifname + ": " + errstr(e));
            self->raw_flags_ = skb ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
            self->mode_name_ = skb ? "generic" : "native";
            return self;
        }
    }

    // Programs of an earlier pxed on this interface, to detach once ours runs.
    std::vector<uint32_t> old_ids = pxed_programs_on(ifindex);

    self->xdp_ = xdp_program__from_bpf_obj(skel->obj, "xdp");
    if (long e = libxdp_get_error(self->xdp_); e) {
        self->xdp_ = nullptr;
        return Err("libxdp cannot use the XDP object: " + errstr(int(e)));
    }
    std::vector<std::pair<xdp_attach_mode, const char*>> tries;
    // A veth delivers native XDP_TX frames only to a peer whose NAPI runs
    // (an XDP program or GRO on the peer); otherwise they are dropped
    // silently. Generic mode always reaches the peer, so auto picks it there.
    if (mode == AttachMode::Native || (mode == AttachMode::Auto && !veth)) tries.push_back({XDP_MODE_NATIVE, "native"});
    if (mode == AttachMode::Generic || mode == AttachMode::Auto) tries.push_back({XDP_MODE_SKB, "generic"});
    std::string errors;
    for (auto& [m, name] : tries) {
        int e = xdp_program__attach(self->xdp_, ifindex, m, 0);
        if (e == 0) {
            self->attach_mode_ = m;
            self->mode_name_ = name;
            break;
        }
        errors += std::string(errors.empty() ? "" : "; ") + name + ": " + errstr(e);
    }
    if (self->mode_name_ == "none")
        return Err("cannot attach the XDP program to " + ifname + " (" + errors + ")");

    // libxdp attaches a single program without its dispatcher where the
    // kernel refuses freplace: then it is ours to detach over netlink.
    uint32_t attached = 0;
    uint32_t mode_flag = self->attach_mode_ == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
    if (bpf_xdp_query_id(ifindex, int(mode_flag), &attached) == 0 && attached == self->prog_id())
        self->raw_flags_ = mode_flag;

    detach_ids(old_ids, ifindex, self->prog_id());
    return self;
}

void XdpProgram::detach_and_unpin() {
    if (raw_flags_ && ifindex_) {
        // Netlink only (CAP_NET_ADMIN), and only if it is still ours.
        LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = prog_fd());
        bpf_xdp_detach(ifindex_, raw_flags_ | XDP_FLAGS_REPLACE, &opts);
        ifindex_ = 0;
    }
    if (xdp_ && ifindex_) {
        xdp_program__detach(xdp_, ifindex_, xdp_attach_mode(attach_mode_), 0);
        ifindex_ = 0;
    }
    if (!ifname_.empty()) {
        for (const char* n : kMapNames) bpf_map__unpin(map_by_name(skel_, n), nullptr);
        std::error_code ec;
        std::filesystem::remove(pin_dir(ifname_), ec);
        std::filesystem::remove(PXED_PIN_ROOT, ec);  // only when empty
    }
}

XdpProgram::~XdpProgram() {
    // Closing the libxdp handle neither detaches the program nor closes the
    // skeleton's object (libxdp got it from us); the skeleton frees it.
    if (xdp_) xdp_program__close(xdp_);
    if (skel_) pxed_xdp__destroy(skel_);
}

int XdpProgram::prog_fd() const { return bpf_program__fd(meta_ ? skel_->progs.pxed_xdp_meta : skel_->progs.pxed_xdp); }
uint32_t XdpProgram::prog_id() const {
    if (xdp_) return xdp_program__id(xdp_);
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(prog_fd(), &info, &len) != 0) return 0;
    return info.id;
}
int XdpProgram::reservations_fd() const { return bpf_map__fd(skel_->maps.reservations); }
int XdpProgram::reply_blobs_fd() const { return bpf_map__fd(skel_->maps.reply_blobs); }
int XdpProgram::profiles_fd() const { return bpf_map__fd(skel_->maps.profiles); }
int XdpProgram::config_fd() const { return bpf_map__fd(skel_->maps.config); }
int XdpProgram::stats_fd() const { return bpf_map__fd(skel_->maps.stats); }
int XdpProgram::proxy_fd() const { return bpf_map__fd(skel_->maps.proxy); }
int XdpProgram::trace_fd() const { return bpf_map__fd(skel_->maps.trace); }
int XdpProgram::vlans_fd() const { return bpf_map__fd(skel_->maps.vlans); }
int XdpProgram::servers_fd() const { return bpf_map__fd(skel_->maps.servers); }
int XdpProgram::relay_reservations_fd() const { return bpf_map__fd(skel_->maps.relay_reservations); }
int XdpProgram::dhcp6_link_fd() const { return bpf_map__fd(skel_->maps.dhcp6_link); }
int XdpProgram::dhcp6_reservations_fd() const { return bpf_map__fd(skel_->maps.dhcp6_reservations); }
int XdpProgram::dhcp6_tails_fd() const { return bpf_map__fd(skel_->maps.dhcp6_tails); }
int XdpProgram::dhcp6_blobs_fd() const { return bpf_map__fd(skel_->maps.dhcp6_blobs); }

Result<void> XdpProgram::set_config(const pxed_xdp_config& c) {
    uint32_t key = 0;
    if (bpf_map_update_elem(config_fd(), &key, &c, BPF_ANY) != 0)
        return Err(std::string("updating the XDP config map failed: ") + std::strerror(errno));
    return {};
}

}  // namespace pxed::bpf
