#pragma once
// The TFTP server: one thread, one epoll loop, a socket per transfer (its
// own TID, as RFC 1350 asks), timers in a heap. File bytes come from the
// page cache with pread.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/listen6.h"
#include "pxed/net.h"
#include "pxed/result.h"
#include "tftp/session.h"
#include "trace/transfer.h"

namespace pxed::tftp {

struct ServerOptions {
    std::string root;
    uint16_t port = 69;
    // Port 69 on each of these addresses (the served interfaces'); both
    // empty: on every address (0.0.0.0, and [::] where the host has IPv6).
    // A transfer always answers from the address its request came to.
    std::vector<Ipv4> addresses;
    std::vector<Listen6> addresses6;
    std::optional<uint16_t> max_blksize;  // default: what fits the MTU of the route to the client
    size_t max_sessions = 20000;            // also capped by the open-file limit (two fds each)
    size_t max_sessions_per_client = 256;   // per client address (IPv4 or IPv6); more are dropped
    size_t max_netascii_bytes = 64 << 20;   // converted netascii files held at once
    Limits limits;
    // Hears of every transfer and refused request (the boot trace, hooks);
    // none: nobody listens.
    std::shared_ptr<trace::TransferObserver> observer;
};

struct ServerStats {
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> sessions_started{0};
    std::atomic<uint64_t> sessions_completed{0};
    std::atomic<uint64_t> sessions_failed{0};  // out of retries or ERROR from the client
    std::atomic<uint64_t> errors_sent{0};
    std::atomic<uint64_t> bytes_sent{0};
    std::atomic<uint64_t> retransmissions{0};
    std::atomic<uint64_t> active{0};
    std::atomic<uint64_t> ignored{0};  // ERROR, DATA, ACK on port 69: never answered
    std::atomic<uint64_t> busy{0};     // requests dropped or refused: session limits
};

class Server {
public:
    static Result<std::unique_ptr<Server>> open(const ServerOptions& o);
    ~Server();
    void run();   // serves until stop()
    void stop();  // from any thread
    const ServerStats& stats() const { return stats_; }

private:
    struct Impl;
    explicit Server(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
    ServerStats stats_;
};

}  // namespace pxed::tftp
