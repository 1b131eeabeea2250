#include "tftp/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <queue>
#include <unordered_map>
#include <vector>

#include "tftp/codec.h"
#include "tftp/safe_open.h"

namespace pxed::tftp {

namespace {

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

// RFC 764 netascii: LF -> CR LF, CR -> CR NUL.
std::vector<uint8_t> to_netascii(const std::vector<uint8_t>& in) {
    std::vector<uint8_t> out;
    out.reserve(in.size() + in.size() / 16);
    for (uint8_t c : in) {
        if (c == '\n') { out.push_back('\r'); out.push_back('\n'); }
        else if (c == '\r') { out.push_back('\r'); out.push_back(0); }
        else out.push_back(c);
    }
    return out;
}

constexpr uint64_t kNetasciiMax = 16 << 20;

}  // namespace

struct Server::Impl {
    ServerOptions opt;
    ServerStats* stats = nullptr;
    int root_fd = -1;
    int listen_fd = -1;
    int epfd = -1;
    int stop_fd = -1;

    struct Transfer {
        int fd = -1;
        int file_fd = -1;
        std::vector<uint8_t> mem;  // netascii: the converted file
        std::unique_ptr<Session> session;
        std::vector<std::pair<std::string, std::string>> oack;
        uint64_t gen = 0;
        sockaddr_in peer{};
        std::string file;
    };
    std::unordered_map<int, Transfer> transfers;
    std::unordered_map<uint32_t, size_t> per_client;  // client address -> open transfers
    size_t netascii_bytes = 0;
    size_t session_cap = 0;  // max_sessions, within the open-file limit
    using TimerEntry = std::tuple<int64_t, int, uint64_t>;  // deadline, fd, generation
    std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers;
    uint64_t next_gen = 1;
    std::vector<uint8_t> buf;

    ~Impl() {
        for (auto& [fd, t] : transfers) {
            close(fd);
            if (t.file_fd >= 0) close(t.file_fd);
        }
        for (int fd : {root_fd, listen_fd, epfd, stop_fd})
            if (fd >= 0) close(fd);
    }

    uint16_t mtu_cap(int ifindex) {
        if (opt.max_blksize) return *opt.max_blksize;
        char name[IF_NAMESIZE] = {};
        if (!ifindex || !if_indextoname(unsigned(ifindex), name)) return 1468;
        ifreq ifr{};
        std::memcpy(ifr.ifr_name, name, IFNAMSIZ);  // both IFNAMSIZ, NUL-terminated by if_indextoname
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int rc = s >= 0 ? ioctl(s, SIOCGIFMTU, &ifr) : -1;
        if (s >= 0) close(s);
        if (rc != 0 || ifr.ifr_mtu < 68) return 1468;
        // IPv4 header 20 + UDP 8 + TFTP 4; loopback's 64 KiB MTU caps at the maximum.
        return uint16_t(std::min<int>(ifr.ifr_mtu - 32, kMaxBlksize));
    }

    int session_socket(in_addr local, const sockaddr_in& peer) {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return -1;
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr = local;
        if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            connect(fd, reinterpret_cast<const sockaddr*>(&peer), sizeof peer) != 0) {
            close(fd);
            return -1;
        }
        return fd;
    }

    void send_error(in_addr local, const sockaddr_in& peer, ErrorCode code, const std::string& msg) {
        int fd = session_socket(local, peer);
        if (fd < 0) return;
        auto e = make_error(code, msg);
        if (send(fd, e.data(), e.size(), 0) > 0) stats->errors_sent++;
        close(fd);
    }

    void handle_request(std::span<const uint8_t> pkt, const sockaddr_in& peer, in_addr local, int ifindex) {
        stats->requests++;
        // Only requests are answered on port 69. RFC 1350: an ERROR is never
        // answered; DATA, ACK and OACK belong to a transfer's own port; and
        // answering garbage would let anyone make pxed send a datagram for
        // each one it receives.
        if (pkt.size() < 2 || pkt[0] != 0 || (pkt[1] != uint8_t(Opcode::Rrq) && pkt[1] != uint8_t(Opcode::Wrq))) {
            stats->ignored++;
            return;
        }
        // A client holding its share of transfers gets no more (it retries
        // later); nor does anyone when the server is full. Dropped quietly:
        // a flood must not be answered datagram for datagram.
        if (transfers.size() >= session_cap || per_client[peer.sin_addr.s_addr] >= opt.max_sessions_per_client) {
            if (per_client[peer.sin_addr.s_addr] == 0) per_client.erase(peer.sin_addr.s_addr);
            stats->busy++;
            return;
        }
        auto req = parse_request(pkt);
        if (!req) {
            send_error(local, peer, req.error().code, req.error().message);
            return;
        }
        if (req->op == Opcode::Wrq) {
            send_error(local, peer, ErrorCode::AccessViolation, "write requests are refused: the boot root is read-only");
            return;
        }
        auto f = open_beneath(root_fd, req->filename);
        if (!f) {
            spdlog::debug("tftp peer={} file=\"{}\" refused: {}", peer_str(peer), req->filename, f.error().message);
            send_error(local, peer,
                       f.error().kind == OpenErrorKind::NotFound ? ErrorCode::FileNotFound : ErrorCode::AccessViolation,
                       f.error().message);
            return;
        }
        Transfer t;
        t.file_fd = f->fd;
        t.peer = peer;
        t.file = req->filename;
        uint64_t size = f->size;
        if (req->mode == Mode::Netascii) {
            if (size > kNetasciiMax) {
                close(t.file_fd);
                send_error(local, peer, ErrorCode::NotDefined, "file too large for netascii mode");
                return;
            }
            if (netascii_bytes + 2 * size > opt.max_netascii_bytes) {
                close(t.file_fd);
                stats->busy++;
                send_error(local, peer, ErrorCode::NotDefined, "server busy: too many netascii transfers, use octet");
                return;
            }
            std::vector<uint8_t> raw(size);
            ssize_t n = size ? pread(t.file_fd, raw.data(), size, 0) : 0;
            close(t.file_fd);
            t.file_fd = -1;
            if (n != ssize_t(size)) {
                send_error(local, peer, ErrorCode::NotDefined, "read error");
                return;
            }
            t.mem = to_netascii(raw);
            size = t.mem.size();
            netascii_bytes += t.mem.size();
        }
        Limits lim = opt.limits;
        lim.max_blksize = mtu_cap(ifindex);
        auto neg = negotiate(*req, size, lim);
        if (!neg) {
            if (t.file_fd >= 0) close(t.file_fd);
            send_error(local, peer, neg.error().code, neg.error().message);
            return;
        }
        t.fd = session_socket(local, peer);
        if (t.fd < 0) {
            if (t.file_fd >= 0) close(t.file_fd);
            return;
        }
        t.oack = neg->oack;
        t.session = std::make_unique<Session>(*neg, size, lim);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = t.fd;
        epoll_ctl(epfd, EPOLL_CTL_ADD, t.fd, &ev);
        int fd = t.fd;
        spdlog::debug("tftp peer={} file=\"{}\" size={} blksize={} windowsize={}", peer_str(peer), t.file, size,
                      neg->blksize, neg->windowsize);
        auto [it, ok] = transfers.emplace(fd, std::move(t));
        per_client[peer.sin_addr.s_addr]++;
        stats->sessions_started++;
        stats->active++;
        auto out = it->second.session->start(now_ns());
        emit(it->second, out);
    }

    void emit(Transfer& t, const std::vector<Session::Send>& out) {
        Session& s = *t.session;
        for (auto& o : out) {
            if (o.kind == Session::Send::Oack) {
                auto b = make_oack(t.oack);
                send(t.fd, b.data(), b.size(), 0);
                continue;
            }
            size_t len = s.length_of(o.block);
            buf.resize(4 + size_t(s.blksize()));
            put_data_header(buf.data(), Session::wire(o.block));
            if (len) {
                uint64_t off = s.offset_of(o.block);
                if (t.file_fd >= 0) {
                    ssize_t n = pread(t.file_fd, buf.data() + 4, len, off_t(off));
                    if (n != ssize_t(len)) {
                        finish(t, false, "read error");
                        return;
                    }
                } else {
                    std::memcpy(buf.data() + 4, t.mem.data() + off, len);
                }
            }
            if (send(t.fd, buf.data(), 4 + len, 0) > 0) stats->bytes_sent += len;
        }
        t.gen = next_gen++;
        timers.emplace(s.deadline(), t.fd, t.gen);
    }

    void finish(Transfer& t, bool ok, const char* why) {
        int fd = t.fd;
        spdlog::debug("tftp peer={} file=\"{}\" {} {}", peer_str(t.peer), t.file, ok ? "done" : "failed", why);
        (ok ? stats->sessions_completed : stats->sessions_failed)++;
        stats->retransmissions += t.session->retransmissions();
        stats->active--;
        epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
        close(fd);
        if (t.file_fd >= 0) close(t.file_fd);
        netascii_bytes -= t.mem.size();
        if (auto pc = per_client.find(t.peer.sin_addr.s_addr); pc != per_client.end() && --pc->second == 0)
            per_client.erase(pc);
        transfers.erase(fd);
    }

    void on_session_readable(int fd) {
        auto it = transfers.find(fd);
        if (it == transfers.end()) return;
        uint8_t pkt[516];
        for (int k = 0; k < 64; k++) {
            ssize_t n = recv(fd, pkt, sizeof pkt, 0);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) return;
                if (errno == ECONNREFUSED) {  // the client went away (ICMP port unreachable)
                    finish(it->second, false, "client unreachable");
                    return;
                }
                return;
            }
            std::span<const uint8_t> p(pkt, size_t(n));
            if (is_error(p)) {
                it->second.session->on_error();
                finish(it->second, false, "error from the client");
                return;
            }
            auto ack = parse_ack(p);
            if (!ack) continue;
            Transfer& t = it->second;
            auto out = t.session->on_ack(*ack, now_ns());
            if (t.session->done()) {
                finish(t, true, "");
                return;
            }
            if (!out.empty()) emit(t, out);
        }
    }

    void on_listen_readable() {
        uint8_t pkt[1024];
        for (int k = 0; k < 64; k++) {
            sockaddr_in peer{};
            iovec iov{pkt, sizeof pkt};
            alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(in_pktinfo))];
            msghdr m{};
            m.msg_name = &peer;
            m.msg_namelen = sizeof peer;
            m.msg_iov = &iov;
            m.msg_iovlen = 1;
            m.msg_control = cbuf;
            m.msg_controllen = sizeof cbuf;
            ssize_t n = recvmsg(listen_fd, &m, 0);
            if (n < 0) return;
            in_addr local{};
            int ifindex = 0;
            for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
                if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                    in_pktinfo pi{};
                    std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
                    local = pi.ipi_spec_dst;
                    ifindex = pi.ipi_ifindex;
                }
            }
            handle_request(std::span<const uint8_t>(pkt, size_t(n)), peer, local, ifindex);
        }
    }

    void expire() {
        int64_t now = now_ns();
        while (!timers.empty() && std::get<0>(timers.top()) <= now) {
            auto [deadline, fd, gen] = timers.top();
            timers.pop();
            auto it = transfers.find(fd);
            if (it == transfers.end() || it->second.gen != gen) continue;  // stale entry
            Transfer& t = it->second;
            auto out = t.session->on_timeout(now);
            if (t.session->failed()) {
                finish(t, false, "out of retries");
                continue;
            }
            emit(t, out);
        }
    }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) { impl_->stats = &stats_; }
Server::~Server() = default;

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
    impl->listen_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(impl->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(impl->listen_fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(o.port);
    if (bind(impl->listen_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        return Err("cannot bind TFTP port " + std::to_string(o.port) + ": " + std::strerror(errno));
    impl->epfd = epoll_create1(EPOLL_CLOEXEC);
    impl->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = impl->listen_fd;
    epoll_ctl(impl->epfd, EPOLL_CTL_ADD, impl->listen_fd, &ev);
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
            if (fd == s.listen_fd) s.on_listen_readable();
            else s.on_session_readable(fd);
        }
        s.expire();
    }
}

}  // namespace pxed::tftp
