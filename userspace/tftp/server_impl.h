#pragma once
// The TFTP server's private state, shared by its three source files:
//   server.cpp    the public face: open (sockets, limits), run (the epoll
//                 loop), stop;
//   request.cpp   a request on port 69 becomes a transfer or an ERROR;
//   transfer.cpp  a running transfer: DATA out, ACKs in, timers, the end.
// Not installed: only the tftp library includes it.
#include <netinet/in.h>

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
std::string peer_str(const sockaddr_in& a);

struct Server::Impl {
    ServerOptions opt;
    ServerStats* stats = nullptr;
    int root_fd = -1;
    std::vector<int> listen_fds;  // port 69 on each bound address (one: 0.0.0.0)
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
        sockaddr_in peer{};
        std::string file;
        std::shared_ptr<trace::Transfer> trace;  // with an observer
    };
    std::unordered_map<int, Transfer> transfers;
    std::unordered_map<uint32_t, size_t> per_client;  // client address -> open transfers
    size_t netascii_bytes = 0;
    size_t session_cap = 0;  // max_sessions, within the open-file limit
    using TimerEntry = std::tuple<int64_t, int, uint64_t>;  // deadline, fd, generation
    std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers;
    uint64_t next_gen = 1;
    std::vector<uint8_t> buf;

    ~Impl();
    bool is_listen_fd(int fd) const;

    // request.cpp
    uint16_t mtu_cap(int ifindex);
    int session_socket(in_addr local, const sockaddr_in& peer);
    void send_error(in_addr local, const sockaddr_in& peer, ErrorCode code, const std::string& msg);
    // A request that gets an ERROR instead of a transfer, for the observer.
    void refused(const sockaddr_in& peer, const std::string& path, const std::string& why);
    void handle_request(std::span<const uint8_t> pkt, const sockaddr_in& peer, in_addr local, int ifindex);
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
