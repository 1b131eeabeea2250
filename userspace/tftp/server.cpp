// The TFTP server's public face: open() sets up the root, the port 69
// sockets (one per bound address) and the session cap; run() is the epoll
// loop that hands readable sockets to request.cpp and transfer.cpp and fires
// the timers; stop() wakes it from another thread.
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

std::string peer_str(const sockaddr_in& a) {
    char b[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a.sin_addr, b, sizeof b);
    return std::string(b) + ":" + std::to_string(ntohs(a.sin_port));
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
// Port `port` on `addr` (0.0.0.0: every address), with IP_PKTINFO so that a
// request tells which address and interface it came to.
Result<int> listen_on(Ipv4 addr, uint16_t port) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Err(std::string("TFTP socket: ") + std::strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(addr.v);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        int e = errno;
        close(fd);
        return Err("cannot bind TFTP to " + addr.str() + ":" + std::to_string(port) + ": " + std::strerror(e));
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
    std::vector<Ipv4> addrs = o.addresses.empty() ? std::vector<Ipv4>{Ipv4()} : o.addresses;
    for (Ipv4 a : addrs) {
        auto fd = listen_on(a, o.port);
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
