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
    // The kernel path's events since the last pull (every second, and before
    // the trace is read).
    void pull(const FastPath& fp);

    // The file servers' transfers (their threads), to the recorder while on.
    void started(const std::shared_ptr<trace::Transfer>& t) override {
        if (on()) recorder_->started(t);
    }
    void ended(const std::shared_ptr<trace::Transfer>& t) override {
        if (on()) recorder_->ended(t);
    }

private:
    void record(const std::string& ifname, const dhcp::Packet& req, trace::DhcpEvent e);

    std::atomic<bool> on_{true};
    std::shared_ptr<trace::Recorder> recorder_;
    // Per interface and client: the ring's event count already pulled.
    std::unordered_map<std::string, std::unordered_map<uint64_t, uint32_t>> pulled_;
};

// The neighbour table's MAC for an address (/proc/net/arp), for transfers
// from addresses the trace has not seen a lease for.
std::optional<Mac> neighbour_mac(Ipv4 ip);

}  // namespace pxed::daemon
