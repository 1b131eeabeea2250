// The TFTP server's public face: open() sets up the root, the port 69
// sockets (one per bound address, IPv4 and IPv6) and the session cap; run()
// is the epoll loop that hands readable sockets to request.cpp and
// transfer.cpp and fires the timers; stop() wakes it from another thread.
#include "tftp/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tftp/server_impl.h"

namespace pxed::tftp {

int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

Endpoint Endpoint::v4(Ipv4 a, uint16_t port) {
    Endpoint e;
    auto& in = reinterpret_cast<sockaddr_in&>(e.ss);
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    in.sin_addr.s_addr = htonl(a.v);
    return e;
}

Endpoint Endpoint::v6(const Ipv6& a, uint32_t scope, uint16_t port) {
    Endpoint e;
    auto& in6 = reinterpret_cast<sockaddr_in6&>(e.ss);
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port);
    std::memcpy(&in6.sin6_addr, a.b.data(), 16);
    in6.sin6_scope_id = scope;
    return e;
}

// Appends rather than operator+ chains: GCC 12 at -O3 (Release) warns
// -Wrestrict on `"%" + ...` and `"[" + ...` (a known false positive).
std::string Endpoint::str() const {
    std::string out;
    if (!is_v6()) {
        out = Ipv4(ntohl(in().sin_addr.s_addr)).str();
    } else {
        Ipv6 a;
        std::memcpy(a.b.data(), &in6().sin6_addr, 16);
        out.push_back('[');
        out += a.str();
        if (in6().sin6_scope_id) {
            out += '%';
            out += std::to_string(in6().sin6_scope_id);
        }
        out += ']';
    }
    out += ':';
    out += std::to_string(port());
    return out;
}

std::pair<uint64_t, uint64_t> Endpoint::key() const {
    if (!is_v6()) return {0, 0xffff'0000'0000ull | ntohl(in().sin_addr.s_addr)};
    Ipv6 a;
    std::memcpy(a.b.data(), &in6().sin6_addr, 16);
    return {a.high64(), a.low64()};
}

void Endpoint::to_trace(trace::Transfer& t) const {
    if (is_v6()) {
        Ipv6 a;
        std::memcpy(a.b.data(), &in6().sin6_addr, 16);
        t.client6 = a;
    } else {
        t.client = Ipv4(ntohl(in().sin_addr.s_addr));
    }
    t.client_port = port();
}

Server::Impl::~Impl() {
    for (auto& [fd, t] : transfers) {
        close(fd);
        if (t.file_fd >= 0) close(t.file_fd);
    }
    for (int fd : listen_fds) close(fd);
    for (int fd : {root_fd, epfd, stop_fd})
        if (fd >= 0) close(fd);
}

bool Server::Impl::is_listen_fd(int fd) const {
    return std::find(listen_fds.begin(), listen_fds.end(), fd) != listen_fds.end();
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) { impl_->stats = &stats_; }
Server::~Server() = default;

namespace {
// Port 69 (or the configured port) on `at` (the unspecified address: every
// address of its family), with the packet-info option that tells which
// address and interface a request came to.
Result<int> listen_on(const Endpoint& at, const std::string& text) {
    int fd = socket(at.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Err("TFTP socket for " + text + ": " + std::strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (at.is_v6()) {
        // [::] takes IPv6 only: IPv4 has its own socket (0.0.0.0).
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
        // An address still in duplicate address detection (tentative, for
        // a second or so after the link comes up) cannot be bound without
        // it; it answers once DAD is over.
        setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
    } else {
        setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    }
    if (bind(fd, at.sa(), at.len()) != 0) {
        int e = errno;
        close(fd);
        return Err("cannot bind TFTP to " + text + ": " + std::strerror(e));
    }
    return fd;
}
}  // namespace

Result<std::unique_ptr<Server>> Server::open(const ServerOptions& o) {
    auto impl = std::make_unique<Impl>();
    impl->opt = o;
    // Each transfer holds two descriptors (its socket and its file): the
    // session cap stays inside the open-file limit, raised to its maximum.
    rlimit nofile{};
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
        if (nofile.rlim_cur < nofile.rlim_max) {
            rlimit raised{nofile.rlim_max, nofile.rlim_max};
            if (setrlimit(RLIMIT_NOFILE, &raised) == 0) nofile = raised;
        }
        size_t usable = nofile.rlim_cur > 256 ? size_t(nofile.rlim_cur - 128) / 2 : 64;
        impl->session_cap = std::min(o.max_sessions, usable);
    } else {
        impl->session_cap = std::min<size_t>(o.max_sessions, 448);
    }
    impl->root_fd = ::open(o.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (impl->root_fd < 0) return Err("tftp-root " + o.root + ": " + std::strerror(errno));
    std::string port = std::to_string(o.port);
    if (o.addresses.empty() && o.addresses6.empty()) {
        auto fd = listen_on(Endpoint::v4(Ipv4(), o.port), "0.0.0.0:" + port);
        if (!fd) return Err(fd.error());
        impl->listen_fds.push_back(*fd);
        // A host without IPv6 (ipv6.disable=1) serves IPv4 alone.
        auto fd6 = listen_on(Endpoint::v6(Ipv6(), 0, o.port), "[::]:" + port);
        if (fd6) impl->listen_fds.push_back(*fd6);
        else spdlog::warn("tftp: no IPv6: {}", fd6.error());
    }
    for (Ipv4 a : o.addresses) {
        auto fd = listen_on(Endpoint::v4(a, o.port), a.str() + ":" + port);
        if (!fd) return Err(fd.error());
        impl->listen_fds.push_back(*fd);
    }
    for (auto& a : o.addresses6) {
        std::string what = "[";  // appends: see Endpoint::str()
        what += a.str();
        what += "]:";
        what += port;
        auto fd = listen_on(Endpoint::v6(a.addr, a.scope, o.port), what);
        if (!fd) return Err(fd.error());
        impl->listen_fds.push_back(*fd);
    }
    impl->epfd = epoll_create1(EPOLL_CLOEXEC);
    impl->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    for (int fd : impl->listen_fds) {
        ev.data.fd = fd;
        epoll_ctl(impl->epfd, EPOLL_CTL_ADD, fd, &ev);
    }
    ev.data.fd = impl->stop_fd;
    epoll_ctl(impl->epfd, EPOLL_CTL_ADD, impl->stop_fd, &ev);
    return std::unique_ptr<Server>(new Server(std::move(impl)));
}

void Server::stop() {
    uint64_t one = 1;
    ssize_t r = write(impl_->stop_fd, &one, sizeof one);
    (void)r;
}

void Server::run() {
    Impl& s = *impl_;
    std::vector<epoll_event> events(256);
    for (;;) {
        int timeout_ms = -1;
        if (!s.timers.empty()) {
            int64_t wait = std::get<0>(s.timers.top()) - now_ns();
            timeout_ms = wait <= 0 ? 0 : int(std::min<int64_t>(wait / 1'000'000 + 1, 1000));
        }
        int n = epoll_wait(s.epfd, events.data(), int(events.size()), timeout_ms);
        for (int i = 0; i < n; i++) {
            int fd = events[size_t(i)].data.fd;
            if (fd == s.stop_fd) return;
            if (s.is_listen_fd(fd)) s.on_listen_readable(fd);
            else s.on_session_readable(fd);
        }
        s.expire();
    }
}

}  // namespace pxed::tftp
