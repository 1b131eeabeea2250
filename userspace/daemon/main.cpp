// pxed: the PXE boot server daemon. Wiring only: configuration, sockets, the
// event loop and signals; protocol decisions live in userspace/dhcp.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <ctime>
#include <array>
#include <atomic>
#include <memory>
#include <sstream>
#include <thread>
#include <unordered_set>
#include <vector>

#include "config/config.h"
#include "daemon/interface.h"
#include "dhcp/engine.h"
#include "dhcp/packet.h"
#include "bpf/map_sync.h"
#include "bpf/xdp_program.h"
#include "http/http_server.h"
#include "lease/lease_store.h"
#include "tftp/server.h"
#include "pxed/version.h"

#include "daemon/daemon.h"

using namespace pxed;
using pxed::daemon::ConfigSource;
using pxed::daemon::Daemon;
using pxed::daemon::check_interfaces;

namespace {

// Attaches the fast path to every served interface as configured. With
// xdp = "auto" a failure leaves the daemon answering everything itself.
int start_xdp(Daemon& d, const std::vector<daemon::IfaceInfo>& infos) {
    if (d.cfg->xdp == config::XdpMode::Off) {
        // Remove what an earlier pxed left, unless another pxed serves an
        // interface of the same name now: then those pins are its own.
        for (auto& i : infos) {
            if (auto lock = bpf::PinLock::acquire(i.name, 0); lock)
                bpf::remove_leftover(i.name, i.ifindex);
            else
                spdlog::warn("xdp iface={}: {}; leaving its pins alone", i.name, lock.error());
        }
        spdlog::info("xdp off: the daemon answers every client");
        return 0;
    }
    bpf::AttachMode mode = d.cfg->xdp == config::XdpMode::Native    ? bpf::AttachMode::Native
                           : d.cfg->xdp == config::XdpMode::Generic ? bpf::AttachMode::Generic
                                                                    : bpf::AttachMode::Auto;
    for (auto& i : infos) {
        auto lock = bpf::PinLock::acquire(i.name);
        if (!lock) {
            spdlog::critical("xdp iface={}: {}", i.name, lock.error());
            return 1;
        }
        d.pin_locks.push_back(std::move(lock.value()));
        auto p = bpf::XdpProgram::attach(i.name, i.ifindex, mode);
        if (!p) {
            if (mode != bpf::AttachMode::Auto) {
                spdlog::critical("xdp iface={}: {}", i.name, p.error());
                return 1;
            }
            spdlog::warn("xdp iface={}: {}; the daemon answers every client there", i.name, p.error());
            continue;
        }
        d.xdp.push_back(Daemon::Xdp{std::move(p.value()), bpf::IfaceView{i.name, i.ifindex, i.mac, i.addr}});
    }
    if (!d.sync_xdp()) return 1;
    return 0;
}

int run(Daemon& d) {
    // Blocked before any thread starts, so every thread inherits the mask and
    // the signals reach only the signalfd below.
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR2}) sigaddset(&mask, sig);
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);

    std::error_code ec;
    auto parent = std::filesystem::path(d.cfg->lease_db).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) {
        spdlog::critical("cannot create the directory {} for lease-db {}: {}", parent.string(), d.cfg->lease_db,
                         ec.message());
        return 1;
    }
    auto store = lease::open_sqlite_store(d.cfg->lease_db);
    if (!store) {
        spdlog::critical("{}", store.error());
        return 1;
    }
    d.store = std::move(store.value());
    auto leases = d.store->load_all();
    if (!leases) {
        spdlog::critical("{}", leases.error());
        return 1;
    }
    for (auto& l : *leases) {
        d.engine->leases().put(l);
        d.stored.insert(l.ip.v);
    }
    auto runtime = d.store->load_reservations();
    if (!runtime) {
        spdlog::critical("{}", runtime.error());
        return 1;
    }
    d.runtime_resv = std::move(runtime.value());
    {
        auto merged = d.merge_runtime(*d.cfg);
        if (!merged) {
            spdlog::critical("{}", merged.error());
            return 1;
        }
        d.apply(std::move(merged.value()));
    }
    d.engine->leases().take_dirty();
    spdlog::info("leases store={} loaded={}", d.store->describe(), leases->size());
    d.committer = std::make_unique<lease::Committer>(*d.store, [] {
        spdlog::info("lease commit thread: {}", daemon::drop_capabilities(daemon::Keep::Nothing));
    });

    auto infos = check_interfaces(*d.cfg);
    if (!infos) {
        spdlog::critical("{}", infos.error());
        return 1;
    }
    for (auto& info : *infos) {
        auto s = daemon::DhcpSocket::open(info);
        if (!s) {
            spdlog::critical("{}", s.error());
            return 1;
        }
        spdlog::info("serving iface={} ifindex={} addr={}/{} mac={}", info.name, info.ifindex, info.addr.str(),
                     info.prefix, info.mac.str());
        d.sockets.push_back(std::move(s.value()));
    }
    if (int rc = start_xdp(d, *infos); rc != 0) return rc;
    if (int rc = d.start_file_service(); rc != 0) return rc;

    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    constexpr uint64_t kSignal = UINT64_MAX, kControlListen = UINT64_MAX - 1, kCommit = UINT64_MAX - 2,
                       kControlConn = 1ull << 62;
    auto control = control::Server::open(d.cfg->control_socket, d.cfg->control_group,
                                         [&d](const control::Request& r) { return d.handle(r); });
    if (!control) {
        spdlog::critical("{}", control.error());
        return 1;
    }
    d.control = std::move(control.value());
    spdlog::info("control socket={} group={}", d.control->path(), d.cfg->control_group);
    auto watch = [ep](int fd) {
        epoll_event e{};
        e.events = EPOLLIN;
        e.data.u64 = kControlConn | uint64_t(fd);
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
    };
    auto unwatch = [ep](int fd) { epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr); };
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kControlListen;
    epoll_ctl(ep, EPOLL_CTL_ADD, d.control->listen_fd(), &ev);
    ev.events = EPOLLIN;
    ev.data.u64 = kSignal;
    epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
    ev.data.u64 = kCommit;
    epoll_ctl(ep, EPOLL_CTL_ADD, d.committer->fd(), &ev);
    for (size_t i = 0; i < d.sockets.size(); i++) {
        ev.data.u64 = i;
        epoll_ctl(ep, EPOLL_CTL_ADD, d.sockets[i].fd(), &ev);
    }
    // Everything privileged is done: sockets bound, XDP attached, maps pinned.
    bool dispatcher = false;
    for (auto& x : d.xdp) dispatcher = dispatcher || x.prog->behind_dispatcher();
    spdlog::info("main thread: {}", daemon::drop_capabilities(daemon::Keep::ControlPlane, dispatcher));
    d.started_at = int64_t(std::time(nullptr));
    spdlog::info("pxed {} ready", PXED_VERSION);
    sd_notify(0, "READY=1");

    std::vector<uint8_t> buf(65536);
    epoll_event events[16];
    for (;;) {
        int n = epoll_wait(ep, events, 16, 1000);
        if (n < 0 && errno == EINTR) continue;
        d.control->expire(unwatch);
        for (int i = 0; i < n; i++) {
            uint64_t tag = events[i].data.u64;
            if (tag == kControlListen) {
                d.control->on_listen(watch);
                continue;
            }
            if (tag == kCommit) {
                d.on_commit_readable();
                continue;
            }
            if (tag != kSignal && (tag & kControlConn)) {
                d.control->on_readable(int(tag & ~kControlConn), unwatch);
                continue;
            }
            if (tag == kSignal) {
                signalfd_siginfo si{};
                while (read(sfd, &si, sizeof si) == sizeof si) {
                    if (si.ssi_signo == SIGHUP) {
                        sd_notify(0, "RELOADING=1");
                        (void)d.reload();
                        sd_notify(0, "READY=1");
                    } else if (si.ssi_signo == SIGUSR2) {
                        // Exit for a restart: the kernel keeps answering reserved
                        // clients until the next pxed takes over the pinned maps.
                        for (auto& x : d.xdp) x.prog->keep_on_exit();
                        d.flush_sync();
                        d.stop_file_service();
                        spdlog::info("signal=SIGUSR2 exiting for a restart; XDP stays attached on {} interface(s)",
                                     d.xdp.size());
                        close(ep);
                        close(sfd);
                        return 0;
                    } else {
                        spdlog::info("signal={} shutting down", strsignal(int(si.ssi_signo)));
                        sd_notify(0, "STOPPING=1");
                        d.flush_sync();
                        for (auto& x : d.xdp) {
                            if (auto st = x.prog->read_stats())
                                spdlog::info("xdp iface={} tx_offer={} tx_ack={} passed={} rate_limited={}", x.iface.name,
                                             (*st)[PXED_STAT_TX_OFFER], (*st)[PXED_STAT_TX_ACK],
                                             (*st)[PXED_STAT_RX_TOTAL] - (*st)[PXED_STAT_TX_OFFER] -
                                                 (*st)[PXED_STAT_TX_ACK] - (*st)[PXED_STAT_DROP_RATE_LIMIT],
                                             (*st)[PXED_STAT_DROP_RATE_LIMIT]);
                            x.prog->detach_and_unpin();
                        }
                        d.stop_file_service();
                        close(ep);
                        close(sfd);
                        return 0;
                    }
                }
                continue;
            }
            size_t si = events[i].data.u64;
            // Drain the socket, bounded so one busy interface cannot starve the rest.
            for (int k = 0; k < 256; k++) {
                ssize_t len = d.sockets[si].recv(buf.data(), buf.size());
                if (len <= 0) break;
                d.on_packet(si, std::span<const uint8_t>(buf.data(), size_t(len)));
            }
        }
        d.flush();
        d.check_conflicts(int64_t(std::time(nullptr)));
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"pxed: PXE boot server (DHCPv4 with an XDP fast path, TFTP, HTTP boot)", "pxed"};
    app.set_version_flag("-V,--version", "pxed " PXED_VERSION);
    ConfigSource source;
    std::string dnsmasq_path;
    std::string log_level = "info";
    bool check_only = false;
    auto* toml_opt = app.add_option("-c,--config", source.path, "TOML configuration file");
    auto* dm_opt = app.add_option("--dnsmasq-conf", dnsmasq_path, "read a dnsmasq.conf (PXE subset) instead");
    toml_opt->excludes(dm_opt);
    app.add_option("-l,--log-level", log_level, "trace, debug, info, warn, error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
    app.add_flag("--check", check_only, "validate the configuration (and the interfaces it names) and exit");
    CLI11_PARSE(app, argc, argv);
    if (!dnsmasq_path.empty()) {
        source.path = dnsmasq_path;
        source.dnsmasq = true;
    }
    if (source.path.empty()) {
        std::fprintf(stderr, "pxed: give a configuration: --config FILE (TOML) or --dnsmasq-conf FILE\n");
        return 2;
    }

    spdlog::set_level(spdlog::level::from_str(log_level));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
    bpf::route_library_logs();

    auto c = source.load();
    if (!c) {
        std::fprintf(stderr, "pxed: %s\n", c.error().c_str());
        return 1;
    }
    if (check_only) {
        if (auto chk = check_interfaces(*c); !chk) {
            std::fprintf(stderr, "pxed: %s\n", chk.error().c_str());
            return 1;
        }
        std::printf("%s: ok (%zu interfaces, %zu subnets, %zu reservations)\n", source.path.c_str(),
                    c->interfaces.size(), c->subnets.size(), c->reservations.size());
        return 0;
    }
    Daemon d;
    d.source = source;
    d.cfg = std::make_unique<config::Config>(std::move(c.value()));
    d.engine = std::make_unique<dhcp::Engine>(*d.cfg);
    d.configure_limits(*d.cfg);
    return run(d);
}
