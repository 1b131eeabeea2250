// The pin directory of an interface under /sys/fs/bpf/pxed, the lock that
// keeps one pxed per directory, and the removal of what an earlier pxed left
// on an interface (its programs and pins).
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <xdp/libxdp.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>

#include "bpf/xdp_internal.h"
#include "bpf/xdp_program.h"

namespace pxed::bpf {

using detail::errstr;

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

namespace detail {

namespace {
// Either of the program's two entry points (bpf/pxed_xdp.bpf.c).
bool is_pxed(std::string_view name) { return name == "pxed_xdp" || name == "pxed_xdp_meta"; }
}  // namespace

std::vector<uint32_t> pxed_programs_on(int ifindex) {
    std::vector<uint32_t> ids;
    xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex);
    if (!mp || libxdp_get_error(mp)) return ids;
    for (xdp_program* p = xdp_multiprog__next_prog(nullptr, mp); p; p = xdp_multiprog__next_prog(p, mp))
        if (is_pxed(xdp_program__name(p))) ids.push_back(xdp_program__id(p));
    if (xdp_program* m = xdp_multiprog__main_prog(mp);
        m && xdp_multiprog__is_legacy(mp) && is_pxed(xdp_program__name(m)))
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

}  // namespace detail

void remove_leftover(const std::string& ifname, int ifindex) {
    detail::detach_ids(detail::pxed_programs_on(ifindex), ifindex, 0);
    std::error_code ec;
    std::filesystem::remove_all(pin_dir(ifname), ec);
    std::filesystem::remove(PXED_PIN_ROOT, ec);
}

}  // namespace pxed::bpf
