#pragma once
// The daemon's DHCP path: what the XDP program passed up.
//
// Owns: the DHCP sockets of the served interfaces, the per-client and
// per-relay rate limits, and the daemon-path counters. Each request goes to
// the engine; OFFERs and NAKs leave at once, ACKs wait in the commit
// pipeline until their lease is durable.
#include <cstdint>
#include <functional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/config.h"
#include "daemon/boot_trace.h"
#include "daemon/commit_pipeline.h"
#include "daemon/datagram_batch.h"
#include "daemon/interface.h"
#include "daemon/metrics.h"
#include "dhcp/engine.h"
#include "dhcp/rate_limit.h"
#include "pxed/result.h"

namespace pxed::daemon {

class DhcpService {
public:
    explicit DhcpService(dhcp::Engine& engine) : engine_(engine) {}

    // Binds a socket on each interface; boot_server: port 4011 too.
    Result<void> open(const std::vector<IfaceInfo>& ifaces, bool boot_server);
    void set_pipeline(CommitPipeline* p) { pipeline_ = p; }
    void set_trace(BootTrace* t) { trace_ = t; }
    // Told each ACK held for its commit, with its request (dhcp-script hooks).
    using AckObserver = std::function<void(const DhcpSocket&, const dhcp::Packet& req, const dhcp::Reply& ack)>;
    void set_ack_observer(AckObserver f) { on_ack_ = std::move(f); }
    void configure_limits(const config::Config& c);

    // Socket `si` is readable: reads a bounded number of datagrams, so one
    // busy interface cannot starve the rest.
    // boot_server: the port 4011 socket of interface `si`.
    void on_readable(size_t si, bool boot_server = false);
    // Queues a reply on socket `si`; it leaves at the next flush_replies()
    // (the event loop calls it after every turn) or at the end of the
    // on_readable() that produced it.
    void send(size_t si, const dhcp::Reply& r);
    void flush_replies();
    // Per-request debug lines and the engine's notes: off unless the log
    // level is debug, so no string is built per request.
    void set_debug(bool on);

    const std::vector<DhcpSocket>& sockets() const { return sockets_; }
    const DhcpCounters& counters() const { return counters_; }
    // Whether an outcome since the last call said a reservation's conflict
    // began or ended (DeferredReservations).
    bool take_reservations_changed() { return std::exchange(reservations_changed_, false); }

private:
    void on_packet(size_t si, std::span<const uint8_t> bytes, const sockaddr_in* boot_server_src);
    void warn_exhausted(const config::Subnet& sn, const Mac& mac, int64_t now_ms);
    struct Exhausted {
        int64_t last_ms = 0;
        uint64_t count = 0;
    };

    dhcp::Engine& engine_;
    CommitPipeline* pipeline_ = nullptr;
    BootTrace* trace_ = nullptr;
    AckObserver on_ack_;
    std::vector<DhcpSocket> sockets_;
    dhcp::RateLimiter client_limit_{0, 0};
    dhcp::RateLimiter relay_limit_{0, 0};
    DhcpCounters counters_;
    bool reservations_changed_ = false;
    bool debug_ = true;
    std::unordered_map<uint32_t, Exhausted> exhausted_;  // by subnet network address
    RecvBatch rx_;
};

}  // namespace pxed::daemon
