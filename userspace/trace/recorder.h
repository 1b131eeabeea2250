#pragma once
// The boot trace: per machine, a bounded ring of what happened to its boot.
// DHCP verdicts of the kernel path (pulled from the XDP program's trace map,
// daemon/trace_pull.cpp) and of the daemon, and every TFTP/HTTP transfer,
// matched to the machine through the address it was given (an ACK, a
// reservation, a port 4011 request's ciaddr) or, failing that, the
// neighbour table the daemon passes in as a resolver.
//
// Memory is bounded: at most `machines` machines (the least recently active
// is forgotten first) of at most `events` events each, and at most
// kMaxAddresses remembered addresses. Thread-safe: the DHCP path records on
// the event loop, the file servers on their own threads; one mutex, held
// for a copy or an insert, never for I/O.
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "pxed/net.h"
#include "trace/transfer.h"

namespace pxed::trace {

enum class Path : uint8_t { Kernel, Daemon };
enum class Verdict : uint8_t {
    Answered,  // a reply left (kernel: XDP_TX; daemon: OFFER, ACK, NAK)
    Passed,    // the kernel passed it to the daemon (the daemon's own event follows)
    Dropped,   // nothing answered: reason says why
};

const char* to_string(Path p);
const char* to_string(Verdict v);

struct DhcpEvent {
    Path path = Path::Daemon;
    Verdict verdict = Verdict::Answered;
    uint8_t request = 0;  // DHCP message type received (1 DISCOVER, 3 REQUEST, ...); 0: none or unparsed
    uint8_t reply = 0;    // message type sent; 0: none
    uint32_t xid = 0;     // host order
    Ipv4 address;         // the reply's yiaddr; a request's option 50 or ciaddr
    std::string reason;   // the counter's name: not_reserved, drop_rate_limit, pool_exhausted, ...
    std::optional<uint16_t> arch;  // option 93's first entry
    std::string vendor_class;      // option 60 (the kernel: PXEClient, HTTPClient, other)
    std::string user_class;        // option 77 (the kernel: iPXE)
    std::string interface;
    bool boot_server_port = false;  // to port 4011
    bool relayed = false;
};

struct Event {
    int64_t at_us = 0;  // CLOCK_REALTIME
    enum class Kind : uint8_t { Dhcp, File } kind = Kind::Dhcp;
    DhcpEvent dhcp;                     // Kind::Dhcp
    std::shared_ptr<Transfer> file;     // Kind::File: read its atomics for progress
};

// A machine's trace: its MAC (unknown for transfers from an address no
// lease, reservation or neighbour names) and address, and its events.
struct Machine {
    std::optional<Mac> mac;
    Ipv4 address;
    std::vector<Event> events;  // oldest first
};

struct Limits {
    size_t machines = 1024;
    size_t events = 64;
};

class Recorder : public TransferObserver {
public:
    static constexpr size_t kMaxAddresses = 16384;
    using Resolver = std::function<std::optional<Mac>(Ipv4)>;

    explicit Recorder(Limits l = {}, Resolver neighbour = {});

    void record(const Mac& mac, int64_t at_us, DhcpEvent e);
    // `ip` is `mac`'s (an ACK, a reservation, a 4011 request's ciaddr).
    void learn(Ipv4 ip, const Mac& mac);

    // TransferObserver: the file servers' threads.
    void started(const std::shared_ptr<Transfer>& t) override;
    void ended(const std::shared_ptr<Transfer>& t) override;

    // Copies, for the readers (pxectl trace/watch, /status).
    std::optional<Machine> machine(const Mac& mac) const;
    std::optional<Machine> machine_at(Ipv4 ip) const;
    // The MAC an address is known to belong to (learn(), record()).
    std::optional<Mac> mac_at(Ipv4 ip) const;
    // The machines with an event at or after `since_us`, most recent first,
    // each with at most `events` of its latest events.
    std::vector<Machine> recent(int64_t since_us, size_t max_machines, size_t events) const;
    size_t size() const;
    const Limits& limits() const { return limits_; }

private:
    // A machine's key: its MAC (48 bits), or the address of transfers no
    // MAC could be found for (bit 63 set; an IPv6 one's also bit 62).
    using Key = uint64_t;
    struct Slot {
        std::optional<Mac> mac;
        Ipv4 address;
        std::deque<Event> events;  // oldest first
        std::list<Key>::iterator lru;
        int64_t last_us = 0;
    };
    static Key key_of(const Mac& m) { return m.key(); }
    static Machine copy(const Slot& s, size_t events);
    Slot& touch(Key k, int64_t at_us);  // mu_ held
    void insert(Slot& s, Event e);      // mu_ held: in time order, within limits_.events
    void learn_locked(Ipv4 ip, const Mac& mac);
    // The machine a transfer from `ip` belongs to; takes mu_ itself and
    // calls the resolver without it.
    Key key_for_address(Ipv4 ip);
    Key key_for_client(const Transfer& t);  // the above for IPv4; IPv6 by its address

    Limits limits_;
    Resolver neighbour_;
    mutable std::mutex mu_;
    std::unordered_map<Key, Slot> slots_;
    std::list<Key> lru_;  // most recent first
    struct Known {
        Mac mac;
        std::list<uint32_t>::iterator order;
    };
    std::unordered_map<uint32_t, Known> by_ip_;
    std::list<uint32_t> ip_order_;  // most recently learnt first, to bound by_ip_
    // Addresses the resolver did not know, and when it was asked: not asked
    // again for kUnknownUs (a flood of requests from unknown addresses must
    // not read the neighbour table once per request). Cleared when full.
    static constexpr int64_t kUnknownUs = 10'000'000;
    static constexpr size_t kMaxUnknown = 4096;
    std::unordered_map<uint32_t, int64_t> unknown_;
};

}  // namespace pxed::trace
