#include "bpf/xdp_program.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <xdp/libxdp.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "pxed_xdp.skel.h"

namespace pxed::bpf {

namespace {
std::string errstr(int e) { return std::strerror(e < 0 ? -e : e); }

const char* kMapNames[] = {"reservations", "reply_blobs", "config", "stats", "rate_limit"};

bpf_map* map_by_name(pxed_xdp* s, std::string_view n) {
    if (n == "reservations") return s->maps.reservations;
    if (n == "reply_blobs") return s->maps.reply_blobs;
    if (n == "config") return s->maps.config;
    if (n == "stats") return s->maps.stats;
    if (n == "rate_limit") return s->maps.rate_limit;
    return nullptr;
}

Result<Stats> sum_stats(int fd) {
    int ncpu = libbpf_num_possible_cpus();
    if (ncpu <= 0) return Err(std::string("cannot count possible CPUs"));
    Stats out{};
    std::vector<uint64_t> per_cpu(static_cast<size_t>(ncpu));
    for (uint32_t i = 0; i < PXED_STAT_MAX; i++) {
        if (bpf_map_lookup_elem(fd, &i, per_cpu.data()) != 0)
            return Err(std::string("reading the stats map failed: ") + std::strerror(errno));
        for (auto v : per_cpu) out[i] += v;
    }
    return out;
}
}  // namespace

std::string_view stat_name(pxed_stat s) {
    switch (s) {
    case PXED_STAT_RX_TOTAL: return "rx_total";
    case PXED_STAT_RX_DHCP: return "rx_dhcp";
    case PXED_STAT_TX_OFFER: return "tx_offer";
    case PXED_STAT_TX_ACK: return "tx_ack";
    case PXED_STAT_PASS_NOT_IPV4: return "pass_not_ipv4";
    case PXED_STAT_PASS_VLAN: return "pass_vlan";
    case PXED_STAT_PASS_NOT_UDP: return "pass_not_udp";
    case PXED_STAT_PASS_NOT_DHCP: return "pass_not_dhcp";
    case PXED_STAT_PASS_IP_OPTIONS: return "pass_ip_options";
    case PXED_STAT_PASS_FRAGMENT: return "pass_fragment";
    case PXED_STAT_PASS_MALFORMED: return "pass_malformed";
    case PXED_STAT_PASS_NOT_RESERVED: return "pass_not_reserved";
    case PXED_STAT_PASS_MSG_TYPE: return "pass_msg_type";
    case PXED_STAT_PASS_OVERLOAD: return "pass_overload";
    case PXED_STAT_PASS_SRC_MISMATCH: return "pass_src_mismatch";
    case PXED_STAT_PASS_REQUESTED_IP: return "pass_requested_ip";
    case PXED_STAT_PASS_DISABLED: return "pass_disabled";
    case PXED_STAT_PASS_OTHER_SERVER: return "pass_other_server";
    case PXED_STAT_PASS_NO_BLOB: return "pass_no_blob";
    case PXED_STAT_DROP_RATE_LIMIT: return "drop_rate_limit";
    case PXED_STAT_PASS_RELAY_AGENT: return "pass_relay_agent";
    case PXED_STAT_PASS_UNSURE: return "pass_unsure";
    case PXED_STAT_PASS_WRONG_SUBNET: return "pass_wrong_subnet";
    case PXED_STAT_PASS_TX_FAILED: return "pass_tx_failed";
    case PXED_STAT_MAX: break;
    }
    return "unknown";
}

namespace {
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

Result<void> ensure_bpffs() {
    struct statfs st{};
    if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC) return {};
    std::error_code ec;
    std::filesystem::create_directories("/sys/fs/bpf", ec);
    if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") != 0)
        return Err("cannot mount bpffs on /sys/fs/bpf: " + errstr(errno) + " (needs CAP_SYS_ADMIN)");
    return {};
}

std::string pin_dir(const std::string& ifname) { return std::string(PXED_PIN_ROOT) + "/" + ifname; }

namespace {
// The pid holding an flock on the inode, from /proc/locks ("1: FLOCK
// ADVISORY WRITE <pid> <maj>:<min>:<inode> 0 EOF"); 0 if not found.
long flock_holder(ino_t ino) {
    std::ifstream in("/proc/locks");
    std::string line;
    while (std::getline(in, line)) {
        if (line.find(" FLOCK ") == std::string::npos) continue;
        std::string id, kind, adv, rw, pid, dev;
        std::istringstream f(line);
        f >> id >> kind >> adv >> rw >> pid >> dev;
        auto colon = dev.rfind(':');
        if (colon != std::string::npos && dev.substr(colon + 1) == std::to_string(ino)) return std::atol(pid.c_str());
    }
    return 0;
}
}  // namespace

Result<PinLock> PinLock::acquire(const std::string& ifname, int wait_ms) {
    if (auto r = ensure_bpffs(); !r) return Err(r.error());
    std::string dir = pin_dir(ifname);
    auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    for (;;) {
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec) return Err("cannot create " + dir + ": " + ec.message());
        int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return Err("cannot open " + dir + ": " + errstr(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            // The holder may have removed the directory between our open and
            // our lock: then the lock is on an orphan; take the new one.
            struct stat a{}, b{};
            if (fstat(fd, &a) == 0 && stat(dir.c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
                return PinLock(fd);
            close(fd);
            continue;
        }
        int err = errno;
        struct stat st{};
        fstat(fd, &st);
        close(fd);
        if (err != EWOULDBLOCK) return Err("cannot lock " + dir + ": " + errstr(err));
        if (std::chrono::steady_clock::now() >= give_up) {
            long pid = flock_holder(st.st_ino);
            return Err("another pxed" + (pid > 0 ? " (pid " + std::to_string(pid) + ")" : std::string()) +
                       " holds " + dir + ": it serves an interface named " + ifname +
                       ", perhaps in another network namespace; BPF pins are keyed by interface name, so "
                       "only one pxed at a time may serve each name with XDP");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

PinLock& PinLock::operator=(PinLock&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) close(fd_);
        fd_ = o.fd_;
        o.fd_ = -1;
    }
    return *this;
}

PinLock::~PinLock() {
    if (fd_ >= 0) close(fd_);
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
std::vector<uint32_t> pxed_programs_on(int ifindex);
void detach_ids(const std::vector<uint32_t>& ids, int ifindex, uint32_t except);
}  // namespace

Result<std::unique_ptr<XdpProgram>> XdpProgram::attach(const std::string& ifname, int ifindex, AttachMode mode) {
    if (auto r = ensure_bpffs(); !r) return Err(r.error());
    std::string dir = pin_dir(ifname);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Err("cannot create " + dir + ": " + ec.message());

    pxed_xdp* skel = pxed_xdp__open();
    if (!skel) return Err(std::string("opening the embedded XDP object failed: ") + std::strerror(errno));
    std::unique_ptr<XdpProgram> self(new XdpProgram(skel));
    self->ifname_ = ifname;
    self->ifindex_ = ifindex;
    for (const char* n : kMapNames) {
        std::string path = dir + "/" + n;
        if (int e = bpf_map__set_pin_path(map_by_name(skel, n), path.c_str()); e)
            return Err("pin path " + path + ": " + errstr(e));
    }

    // An earlier pxed attached without a dispatcher (libxdp's legacy mode, as
    // on kernels that refuse freplace programs): replace it atomically, so
    // reserved clients are answered throughout the restart.
    if (xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex); mp && !libxdp_get_error(mp)) {
        xdp_program* m = xdp_multiprog__main_prog(mp);
        bool legacy_pxed = m && xdp_multiprog__is_legacy(mp) && std::string_view(xdp_program__name(m)) == "pxed_xdp";
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
    bool veth = driver_name(ifname) == "veth";
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
    pxed_xdp__destroy(skel_);
}

int XdpProgram::prog_fd() const { return bpf_program__fd(skel_->progs.pxed_xdp); }
uint32_t XdpProgram::prog_id() const {
    if (xdp_) return xdp_program__id(xdp_);
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(prog_fd(), &info, &len) != 0) return 0;
    return info.id;
}
int XdpProgram::reservations_fd() const { return bpf_map__fd(skel_->maps.reservations); }
int XdpProgram::reply_blobs_fd() const { return bpf_map__fd(skel_->maps.reply_blobs); }
int XdpProgram::config_fd() const { return bpf_map__fd(skel_->maps.config); }
int XdpProgram::stats_fd() const { return bpf_map__fd(skel_->maps.stats); }

Result<void> XdpProgram::set_config(const pxed_xdp_config& c) {
    uint32_t key = 0;
    if (bpf_map_update_elem(config_fd(), &key, &c, BPF_ANY) != 0)
        return Err(std::string("updating the XDP config map failed: ") + std::strerror(errno));
    return {};
}

Result<Stats> XdpProgram::read_stats() const { return sum_stats(stats_fd()); }

namespace {
std::vector<uint32_t> pxed_programs_on(int ifindex) {
    std::vector<uint32_t> ids;
    xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex);
    if (!mp || libxdp_get_error(mp)) return ids;
    for (xdp_program* p = xdp_multiprog__next_prog(nullptr, mp); p; p = xdp_multiprog__next_prog(p, mp))
        if (std::string_view(xdp_program__name(p)) == "pxed_xdp") ids.push_back(xdp_program__id(p));
    if (xdp_program* m = xdp_multiprog__main_prog(mp);
        m && xdp_multiprog__is_legacy(mp) && std::string_view(xdp_program__name(m)) == "pxed_xdp")
        ids.push_back(xdp_program__id(m));
    xdp_multiprog__close(mp);
    return ids;
}

void detach_ids(const std::vector<uint32_t>& ids, int ifindex, uint32_t except) {
    for (uint32_t id : ids) {
        if (id == except) continue;
        xdp_program* old = xdp_program__from_id(id);
        if (!old || libxdp_get_error(old)) continue;
        xdp_program__detach(old, ifindex, XDP_MODE_UNSPEC, 0);
        xdp_program__close(old);
    }
}
}  // namespace

void remove_leftover(const std::string& ifname, int ifindex) {
    detach_ids(pxed_programs_on(ifindex), ifindex, 0);
    std::error_code ec;
    std::filesystem::remove_all(pin_dir(ifname), ec);
    std::filesystem::remove(PXED_PIN_ROOT, ec);
}

Result<Stats> read_pinned_stats(const std::string& ifname) {
    std::string path = pin_dir(ifname) + "/stats";
    int fd = bpf_obj_get(path.c_str());
    if (fd < 0) return Err("cannot open " + path + ": " + errstr(errno) + " (is pxed serving " + ifname + " with XDP?)");
    auto r = sum_stats(fd);
    close(fd);
    return r;
}

}  // namespace pxed::bpf
