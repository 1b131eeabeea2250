#pragma once
// The daemon's side of the boot trace (trace/recorder.h): it records the
// daemon's own DHCP verdicts, pulls the kernel path's from each interface's
// trace map, tells the recorder which address is whose (reservations, ACKs,
// port 4011 requests), and is the file servers' observer through the
// recorder. Runs on the event loop, except the recorder's file callbacks.
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>

#include "config/config.h"
#include "dhcp/engine.h"
#include "dhcp/packet.h"
#include "pxed/abi.h"
#include "trace/recorder.h"

namespace pxed::daemon {

class FastPath;

class BootTrace : public trace::TransferObserver {
public:
    explicit BootTrace(const config::Config& cfg);

    bool on() const { return on_.load(std::memory_order_relaxed); }
    const std::shared_ptr<trace::Recorder>& recorder() const { return recorder_; }
    // A configuration took effect: on/off and the reservations' addresses.
    void configure(const config::Config& cfg);

    // The daemon's verdict on a request (`out`), or a drop before the
    // engine (`reason`: the counter's name).
    void on_request(const std::string& ifname, const dhcp::Packet& req, const dhcp::Outcome& out, bool boot_server);
    void on_dropped(const std::string& ifname, const dhcp::Packet& req, const std::string& reason);
    // A datagram that did not parse: filed under its chaddr when the fixed
    // header is there and says Ethernet.
    void on_unparsed(const std::string& ifname, std::span<const uint8_t> bytes, const std::string& error);
    // The kernel path's events since the last pull: a part of each
    // interface's map per call (kPullBatch clients, so that a map full of
    // a flood's MACs costs the event loop a bounded pause each second),
    // and every client of it when `all`.
    void pull(const FastPath& fp, bool all = false);
    // One machine's kernel events (before pxectl trace).
    void pull_one(const FastPath& fp, const Mac& mac);
    static constexpr size_t kPullBatch = 2048;

    // The file servers' transfers (their threads), to the recorder while on.
    void started(const std::shared_ptr<trace::Transfer>& t) override {
        if (on()) recorder_->started(t);
    }
    void ended(const std::shared_ptr<trace::Transfer>& t) override {
        if (on()) recorder_->ended(t);
    }

private:
    void record(const std::string& ifname, const dhcp::Packet& req, trace::DhcpEvent e);
    struct Pulled {
        std::unordered_map<uint64_t, uint32_t> next;  // per client: the ring's event count already pulled
        std::optional<Mac> cursor;                    // where the last partial walk stopped
    };
    // The ring's events past what was pulled before.
    void take(Pulled& p, const std::string& ifname, const Mac& mac, const pxed_trace_ring& ring, int64_t offset);

    std::atomic<bool> on_{true};
    std::shared_ptr<trace::Recorder> recorder_;
    std::unordered_map<std::string, Pulled> pulled_;  // by interface
};

// The neighbour table's MAC for an address (/proc/net/arp), for transfers
// from addresses the trace has not seen a lease for.
std::optional<Mac> neighbour_mac(Ipv4 ip);

}  // namespace pxed::daemon
