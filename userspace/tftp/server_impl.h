#pragma once
// The TFTP server's private state, shared by its three source files:
//   server.cpp    the public face: open (sockets, limits), run (the epoll
//                 loop), stop;
//   request.cpp   a request on port 69 becomes a transfer or an ERROR;
//   transfer.cpp  a running transfer: DATA out, ACKs in, timers, the end.
// Not installed: only the tftp library includes it.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <queue>
#include <span>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tftp/server.h"
#include "tftp/session.h"

namespace pxed::tftp {

int64_t now_ns();

// A UDP endpoint of either family: a client, or the local address a request
// came to (port 0). An IPv6 link-local one carries its interface (scope id).
struct Endpoint {
    sockaddr_storage ss{};

    static Endpoint v4(Ipv4 a, uint16_t port = 0);
    static Endpoint v6(const Ipv6& a, uint32_t scope = 0, uint16_t port = 0);
    int family() const { return ss.ss_family; }
    bool is_v6() const { return ss.ss_family == AF_INET6; }
    const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&ss); }
    sockaddr* sa() { return reinterpret_cast<sockaddr*>(&ss); }
    socklen_t len() const { return is_v6() ? sizeof(sockaddr_in6) : sizeof(sockaddr_in); }
    const sockaddr_in& in() const { return reinterpret_cast<const sockaddr_in&>(ss); }
    const sockaddr_in6& in6() const { return reinterpret_cast<const sockaddr_in6&>(ss); }
    uint16_t port() const { return ntohs(is_v6() ? in6().sin6_port : in().sin_port); }
    std::string str() const;  // 192.0.2.2:1024, [fd00::2]:1024
    // The address alone, the unit of the per-client limit: 128 bits, an
    // IPv4 address as ::ffff:a.b.c.d (on their own sockets the families
    // never meet, so the two cannot be confused).
    std::pair<uint64_t, uint64_t> key() const;
    // The client of a trace record: its address and port.
    void to_trace(trace::Transfer& t) const;
};

struct KeyHash {
    size_t operator()(const std::pair<uint64_t, uint64_t>& k) const {
        return size_t(k.first * 0x9e3779b97f4a7c15ull ^ k.second);
    }
};

struct Server::Impl {
    ServerOptions opt;
    ServerStats* stats = nullptr;
    int root_fd = -1;
    std::vector<int> listen_fds;  // port 69 on each bound address (all: 0.0.0.0 and [::])
    int epfd = -1;
    int stop_fd = -1;

    // One transfer: its own socket (its TID, RFC 1350), bound to the address
    // the request came to, connected to the client.
    struct Transfer {
        int fd = -1;
        int file_fd = -1;
        std::vector<uint8_t> mem;  // netascii: the converted file
        std::unique_ptr<Session> session;
        std::vector<std::pair<std::string, std::string>> oack;
        uint64_t gen = 0;
        Endpoint peer;
        std::string file;
        std::shared_ptr<trace::Transfer> trace;  // with an observer
    };
    std::unordered_map<int, Transfer> transfers;
    std::unordered_map<std::pair<uint64_t, uint64_t>, size_t, KeyHash> per_client;  // client address -> open transfers
    size_t netascii_bytes = 0;
    size_t session_cap = 0;  // max_sessions, within the open-file limit
    using TimerEntry = std::tuple<int64_t, int, uint64_t>;  // deadline, fd, generation
    std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers;
    uint64_t next_gen = 1;
    std::vector<uint8_t> buf;

    ~Impl();
    bool is_listen_fd(int fd) const;

    // request.cpp
    // The largest block to offer on a transfer's (connected) socket.
    uint16_t blksize_cap(int fd, bool v6, int ifindex) const;
    int session_socket(const Endpoint& local, const Endpoint& peer);
    void send_error(const Endpoint& local, const Endpoint& peer, ErrorCode code, const std::string& msg);
    // A request that gets an ERROR instead of a transfer, for the observer.
    void refused(const Endpoint& peer, const std::string& path, const std::string& why);
    void handle_request(std::span<const uint8_t> pkt, const Endpoint& peer, const Endpoint& local, int ifindex);
    void on_listen_readable(int fd);

    // transfer.cpp
    void start(Transfer t, const Negotiated& neg, uint64_t size, const Limits& lim);
    void emit(Transfer& t, const std::vector<Session::Send>& out);
    // probe: the client ended it with an ERROR at the OACK (it asked the size).
    void finish(Transfer& t, bool ok, const char* why, bool probe = false);
    void on_session_readable(int fd);
    void expire();
};

}  // namespace pxed::tftp
