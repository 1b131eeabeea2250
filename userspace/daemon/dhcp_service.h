#pragma once
// The daemon's DHCP path: what the XDP program passed up.
//
// Owns: the DHCP sockets of the served interfaces, the per-client and
// per-relay rate limits, and the daemon-path counters. Each request goes to
// the engine; OFFERs and NAKs leave at once, ACKs wait in the commit
// pipeline until their lease is durable.
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "config/config.h"
#include "daemon/commit_pipeline.h"
#include "daemon/interface.h"
#include "daemon/metrics.h"
#include "dhcp/engine.h"
#include "dhcp/rate_limit.h"
#include "pxed/result.h"

namespace pxed::daemon {

class DhcpService {
public:
    explicit DhcpService(dhcp::Engine& engine) : engine_(engine) {}

    // Binds a socket on each interface.
    Result<void> open(const std::vector<IfaceInfo>& ifaces);
    void set_pipeline(CommitPipeline* p) { pipeline_ = p; }
    void configure_limits(const config::Config& c);

    // Socket `si` is readable: reads a bounded number of datagrams, so one
    // busy interface cannot starve the rest.
    void on_readable(size_t si);
    void send(size_t si, const dhcp::Reply& r);

    const std::vector<DhcpSocket>& sockets() const { return sockets_; }
    const DhcpCounters& counters() const { return counters_; }
    // Whether an outcome since the last call said a reservation's conflict
    // began or ended (DeferredReservations).
    bool take_reservations_changed() { return std::exchange(reservations_changed_, false); }

private:
    void on_packet(size_t si, std::span<const uint8_t> bytes);

    dhcp::Engine& engine_;
    CommitPipeline* pipeline_ = nullptr;
    std::vector<DhcpSocket> sockets_;
    dhcp::RateLimiter client_limit_{0, 0};
    dhcp::RateLimiter relay_limit_{0, 0};
    DhcpCounters counters_;
    bool reservations_changed_ = false;
    std::vector<uint8_t> buf_ = std::vector<uint8_t>(65536);
};

}  // namespace pxed::daemon
