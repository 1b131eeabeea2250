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

uint16_t Server::Impl::mtu_cap(int ifindex) {
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

// A transfer's socket sends from the address the request came to: on a host
// with several addresses the client hears its answer from the server it asked.
int Server::Impl::session_socket(in_addr local, const sockaddr_in& peer) {
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

void Server::Impl::send_error(in_addr local, const sockaddr_in& peer, ErrorCode code, const std::string& msg) {
    int fd = session_socket(local, peer);
    if (fd < 0) return;
    auto e = make_error(code, msg);
    if (send(fd, e.data(), e.size(), 0) > 0) stats->errors_sent++;
    close(fd);
}

void Server::Impl::refused(const sockaddr_in& peer, const std::string& path, const std::string& why) {
    if (!opt.observer) return;
    auto t = std::make_shared<trace::Transfer>();
    t->protocol = trace::Protocol::Tftp;
    t->client = Ipv4(ntohl(peer.sin_addr.s_addr));
    t->client_port = ntohs(peer.sin_port);
    t->path = path;
    t->started_us = trace::wall_us();
    t->end(trace::Outcome::Refused, why, t->started_us);
    opt.observer->ended(t);
}

void Server::Impl::handle_request(std::span<const uint8_t> pkt, const sockaddr_in& peer, in_addr local,
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
        refused(peer, req->filename, "write request");
        return;
    }
    auto f = open_beneath(root_fd, req->filename);
    if (!f) {
        spdlog::debug("tftp peer={} file=\"{}\" refused: {}", peer_str(peer), req->filename, f.error().message);
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
    Limits lim = opt.limits;
    lim.max_blksize = mtu_cap(ifindex);
    auto neg = negotiate(*req, size, lim);
    if (!neg) {
        if (t.file_fd >= 0) close(t.file_fd);
        send_error(local, peer, neg.error().code, neg.error().message);
        refused(peer, req->filename, neg.error().message);
        return;
    }
    t.fd = session_socket(local, peer);
    if (t.fd < 0) {
        if (t.file_fd >= 0) close(t.file_fd);
        return;
    }
    start(std::move(t), *neg, size, lim);
}

void Server::Impl::on_listen_readable(int fd) {
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
        ssize_t n = recvmsg(fd, &m, 0);
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

}  // namespace pxed::tftp
