// Requests on port 69: each one read with the address it came to, checked
// against the session limits, parsed, its file opened beneath the root and
// its options negotiated; it becomes a transfer (transfer.cpp) or one ERROR.
// Netascii files are converted here, whole, into memory.
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "tftp/codec.h"
#include "tftp/safe_open.h"
#include "tftp/server_impl.h"

namespace pxed::tftp {

namespace {

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

uint16_t Server::Impl::blksize_cap(int fd, bool v6, int ifindex) const {
    if (opt.max_blksize) return *opt.max_blksize;
    // The MTU of the route to the client (the connected socket knows it: a
    // route's mtu, a learnt path MTU, the interface's IPv6 MTU), else the
    // MTU of the interface the request came in on.
    int mtu = 0;
    socklen_t len = sizeof mtu;
    if (getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU : IP_MTU, &mtu, &len) != 0) mtu = 0;
    char name[IF_NAMESIZE] = {};
    if (mtu <= 0 && ifindex && if_indextoname(unsigned(ifindex), name)) {
        ifreq ifr{};
        std::memcpy(ifr.ifr_name, name, IFNAMSIZ);  // both IFNAMSIZ, NUL-terminated by if_indextoname
        if (ioctl(fd, SIOCGIFMTU, &ifr) == 0) mtu = ifr.ifr_mtu;
    }
    return blksize_for_mtu(mtu, v6);
}

// A transfer's socket sends from the address the request came to: on a host
// with several addresses the client hears its answer from the server it asked.
int Server::Impl::session_socket(const Endpoint& local, const Endpoint& peer) {
    int fd = socket(local.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (bind(fd, local.sa(), local.len()) != 0 || connect(fd, peer.sa(), peer.len()) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void Server::Impl::send_error(const Endpoint& local, const Endpoint& peer, ErrorCode code, const std::string& msg) {
    int fd = session_socket(local, peer);
    if (fd < 0) return;
    auto e = make_error(code, msg);
    if (send(fd, e.data(), e.size(), 0) > 0) stats->errors_sent++;
    close(fd);
}

void Server::Impl::refused(const Endpoint& peer, const std::string& path, const std::string& why) {
    if (!opt.observer) return;
    auto t = std::make_shared<trace::Transfer>();
    t->protocol = trace::Protocol::Tftp;
    peer.to_trace(*t);
    t->path = path;
    t->started_us = trace::wall_us();
    t->end(trace::Outcome::Refused, why, t->started_us);
    opt.observer->ended(t);
}

void Server::Impl::handle_request(std::span<const uint8_t> pkt, const Endpoint& peer, const Endpoint& local,
                                  int ifindex) {
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
    auto client = peer.key();
    if (transfers.size() >= session_cap || per_client[client] >= opt.max_sessions_per_client) {
        if (per_client[client] == 0) per_client.erase(client);
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
        refused(peer, req->filename, "write request");
        return;
    }
    auto f = open_beneath(root_fd, req->filename);
    if (!f) {
        spdlog::debug("tftp peer={} file=\"{}\" refused: {}", peer.str(), req->filename, f.error().message);
        send_error(local, peer,
                   f.error().kind == OpenErrorKind::NotFound ? ErrorCode::FileNotFound : ErrorCode::AccessViolation,
                   f.error().message);
        refused(peer, req->filename, f.error().message);
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
            refused(peer, req->filename, "file too large for netascii mode");
            return;
        }
        if (netascii_bytes + 2 * size > opt.max_netascii_bytes) {
            close(t.file_fd);
            stats->busy++;
            send_error(local, peer, ErrorCode::NotDefined, "server busy: too many netascii transfers, use octet");
            refused(peer, req->filename, "server busy: too many netascii transfers");
            return;
        }
        std::vector<uint8_t> raw(size);
        ssize_t n = size ? pread(t.file_fd, raw.data(), size, 0) : 0;
        close(t.file_fd);
        t.file_fd = -1;
        if (n != ssize_t(size)) {
            send_error(local, peer, ErrorCode::NotDefined, "read error");
            refused(peer, req->filename, "read error");
            return;
        }
        t.mem = to_netascii(raw);
        size = t.mem.size();
    }
    t.fd = session_socket(local, peer);
    if (t.fd < 0) {
        if (t.file_fd >= 0) close(t.file_fd);
        return;
    }
    Limits lim = opt.limits;
    lim.max_blksize = blksize_cap(t.fd, peer.is_v6(), ifindex);
    auto neg = negotiate(*req, size, lim);
    if (!neg) {
        if (t.file_fd >= 0) close(t.file_fd);
        auto e = make_error(neg.error().code, neg.error().message);
        if (send(t.fd, e.data(), e.size(), 0) > 0) stats->errors_sent++;
        close(t.fd);
        refused(peer, req->filename, neg.error().message);
        return;
    }
    start(std::move(t), *neg, size, lim);
}

void Server::Impl::on_listen_readable(int fd) {
    uint8_t pkt[1024];
    for (int k = 0; k < 64; k++) {
        Endpoint peer;
        iovec iov{pkt, sizeof pkt};
        alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(in6_pktinfo))];
        msghdr m{};
        m.msg_name = &peer.ss;
        m.msg_namelen = sizeof peer.ss;
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        m.msg_control = cbuf;
        m.msg_controllen = sizeof cbuf;
        ssize_t n = recvmsg(fd, &m, 0);
        if (n < 0) return;
        // The address the request came to, which its transfer answers from.
        Endpoint local;
        int ifindex = 0;
        for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
            if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                in_pktinfo pi{};
                std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
                local = Endpoint::v4(Ipv4(ntohl(pi.ipi_spec_dst.s_addr)));
                ifindex = pi.ipi_ifindex;
            } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
                in6_pktinfo pi{};
                std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
                Ipv6 a;
                std::memcpy(a.b.data(), &pi.ipi6_addr, 16);
                // A link-local address is bound with its interface.
                local = Endpoint::v6(a, a.is_link_local() ? uint32_t(pi.ipi6_ifindex) : 0);
                ifindex = int(pi.ipi6_ifindex);
            }
        }
        if (local.family() != peer.family()) continue;  // no packet info: nowhere to answer from
        handle_request(std::span<const uint8_t>(pkt, size_t(n)), peer, local, ifindex);
    }
}

}  // namespace pxed::tftp
