// The daemon's event loop: one epoll set for the DHCP sockets, the control
// socket and its connections, the commit pipeline's eventfd, the other
// threads' calls (LoopCalls) and the signals.
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstring>
#include <ctime>

#include "common/unique_fd.h"
#include "daemon/daemon.h"
#include "pxed/version.h"

namespace pxed::daemon {

namespace {

// epoll tags: a DHCP socket's index, a control connection's fd with the
// high bit set, or one of these.
constexpr uint64_t kSignal = UINT64_MAX, kControlListen = UINT64_MAX - 1, kCommit = UINT64_MAX - 2,
                   kDbWatch = UINT64_MAX - 3, kHooks = UINT64_MAX - 4, kCalls = UINT64_MAX - 5;
constexpr uint64_t kControlConn = 1ull << 62;
constexpr uint64_t kBootServer = 1ull << 61;  // | interface index: its port 4011 socket
constexpr uint64_t kDhcp6 = 1ull << 60;       // | index of a DHCPv6 socket
constexpr int kMaxEvents = 16;
constexpr int kTickMs = 1000;  // control connections' deadlines are checked at least this often

int64_t now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

void add(int ep, int fd, uint64_t tag) {
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.u64 = tag;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

}  // namespace

void Daemon::on_signal(int fd, bool& stop, int& status) {
    signalfd_siginfo si{};
    while (read(fd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGHUP) {
            sd_notify(0, "RELOADING=1");
            (void)reload();
            sd_notify(0, "READY=1");
        } else if (si.ssi_signo == SIGUSR2) {
            // Exit for a restart: the kernel keeps answering reserved
            // clients until the next pxed takes over the pinned maps.
            fast_path_.keep_on_exit();
            if (auto r = pipeline_->flush_sync(); !r) spdlog::error("exiting with lease changes not stored: {}", r.error());
            dhcp_.flush_replies();
            calls_.close();  // before joining the HTTP thread: its waiters return at once
            files_.stop();
            spdlog::info("signal=SIGUSR2 exiting for a restart; XDP stays attached on {} interface(s)",
                         fast_path_.size());
            stop = true;
            status = 0;
            return;
        } else {
            spdlog::info("signal={} shutting down", strsignal(int(si.ssi_signo)));
            sd_notify(0, "STOPPING=1");
            if (auto r = pipeline_->flush_sync(); !r) spdlog::error("exiting with lease changes not stored: {}", r.error());
            dhcp_.flush_replies();
            fast_path_.detach_all();
            calls_.close();
            files_.stop();
            stop = true;
            status = 0;
            return;
        }
    }
}

int Daemon::serve() {
    UniqueFd sfd(signalfd(-1, &signals_, SFD_CLOEXEC | SFD_NONBLOCK));
    UniqueFd ep(epoll_create1(EPOLL_CLOEXEC));
    if (!sfd || !ep) {
        spdlog::critical("cannot create the event loop: {}", std::strerror(errno));
        return 1;
    }
    int epfd = ep.get();
    auto watch = [epfd](int fd) { add(epfd, fd, kControlConn | uint64_t(fd)); };
    auto unwatch = [epfd](int fd) { epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr); };
    add(epfd, control_->listen_fd(), kControlListen);
    add(epfd, sfd.get(), kSignal);
    add(epfd, pipeline_->fd(), kCommit);
    if (watcher_) add(epfd, watcher_->fd(), kDbWatch);
    if (hooks_) {
        // Edge-triggered EPOLLOUT: told when the helper's full socket has
        // room again (the hooks' queue then drains).
        epoll_event e{};
        e.events = EPOLLOUT | EPOLLET;
        e.data.u64 = kHooks;
        epoll_ctl(epfd, EPOLL_CTL_ADD, hooks_->fd(), &e);
    }
    add(epfd, calls_.fd(), kCalls);
    for (size_t i = 0; i < dhcp_.sockets().size(); i++) {
        add(epfd, dhcp_.sockets()[i].fd(), i);
        if (int fd = dhcp_.sockets()[i].boot_server_fd(); fd >= 0) add(epfd, fd, kBootServer | i);
    }
    for (size_t i = 0; i < dhcp6_.sockets().size(); i++) add(epfd, dhcp6_.sockets()[i].fd.get(), kDhcp6 | i);
    spdlog::info("pxed {} ready", PXED_VERSION);
    sd_notify(0, "READY=1");

    epoll_event events[kMaxEvents];
    bool stop = false;
    int status = 0;
    while (!stop) {
        int n = epoll_wait(epfd, events, kMaxEvents, kTickMs);
        if (n < 0 && errno == EINTR) continue;
        control_->expire(unwatch);
        for (int i = 0; i < n && !stop; i++) {
            uint64_t tag = events[i].data.u64;
            if (tag == kControlListen) control_->on_listen(watch);
            else if (tag == kCommit) pipeline_->on_readable();
            else if (tag == kDbWatch) on_db_watch();
            else if (tag == kHooks) hooks_->on_writable();
            else if (tag == kCalls) calls_.run_pending();
            else if (tag == kSignal) on_signal(sfd.get(), stop, status);
            else if (tag & kControlConn) control_->on_readable(int(tag & ~kControlConn), unwatch);
            else if (tag & kBootServer) dhcp_.on_readable(size_t(tag & ~kBootServer), true);
            else if (tag & kDhcp6) dhcp6_.on_readable(size_t(tag & ~kDhcp6));
            else dhcp_.on_readable(size_t(tag));
        }
        if (stop) break;
        pipeline_->flush();
        dhcp_.flush_replies();  // the ACKs whose commit finished in this turn
        check_deferred(int64_t(std::time(nullptr)));
        check_store();
        // The kernel path's boot trace and the other servers it saw, once a second.
        if (int64_t ms = now_ms(); ms - trace_pulled_ms_ >= kTickMs) {
            trace_->pull(fast_path_);
            others_.pull(fast_path_);
            trace_pulled_ms_ = ms;
        }
        if (hooks_) hooks_->after_turn(engine_->leases());
    }
    return status;
}

}  // namespace pxed::daemon
