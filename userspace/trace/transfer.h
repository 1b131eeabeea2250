#pragma once
// A file transfer (TFTP or HTTP) as the file servers report it: the boot
// trace follows it while it runs (pxectl watch draws its progress), the
// dhcp-script hooks hear of its end. The servers call the observer from
// their own threads; the progress fields are atomics that the daemon reads
// from its thread while the server writes them, so following a transfer
// costs the server no lock per block.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pxed/net.h"

namespace pxed::trace {

enum class Protocol : uint8_t { Tftp, Http };

enum class Outcome : uint8_t {
    Running,
    Done,     // every byte delivered (TFTP: acknowledged)
    Failed,   // ended before the last byte: error (below)
    Probed,   // TFTP: the client asked the size (tsize) and ended the transfer at the OACK, as PXE ROMs do
    Refused,  // no transfer: not found, outside the root, a write request, busy
};

const char* to_string(Protocol p);
const char* to_string(Outcome o);

struct Transfer {
    Protocol protocol = Protocol::Tftp;
    Ipv4 client;
    std::optional<Ipv6> client6;  // an IPv6 client (`client` is then zero)
    uint16_t client_port = 0;
    std::string path;         // as the client asked for it
    std::string file;         // where it is: the boot root and the path (dnsmasq's tftp hook argument)
    uint64_t size = 0;        // bytes the transfer sends (HTTP: the range asked for)
    int64_t started_us = 0;   // CLOCK_REALTIME, microseconds
    std::string error;        // Failed, Refused: why; written before `outcome`
    std::atomic<uint64_t> bytes{0};  // delivered so far
    std::atomic<int64_t> ended_us{0};
    std::atomic<Outcome> outcome{Outcome::Running};

    // The client's address as text, either family.
    std::string client_str() const { return client6 ? client6->str() : client.str(); }

    // Ends the transfer: error first, then the time, then the outcome (the
    // reader loads the outcome first, with acquire).
    void end(Outcome o, std::string why, int64_t now_us) {
        error = std::move(why);
        ended_us.store(now_us, std::memory_order_relaxed);
        outcome.store(o, std::memory_order_release);
    }
};

class TransferObserver {
public:
    virtual ~TransferObserver() = default;
    // A transfer begins (its size known); not called for a refused request.
    virtual void started(const std::shared_ptr<Transfer>& t) = 0;
    // A transfer ended, or a request was refused: t->outcome says which.
    virtual void ended(const std::shared_ptr<Transfer>& t) = 0;
};

// Several observers behind one (the boot trace, the hooks). Observers are
// added before the servers start; then the list is only read.
class TransferFanOut : public TransferObserver {
public:
    void add(std::shared_ptr<TransferObserver> o) { all_.push_back(std::move(o)); }
    bool empty() const { return all_.empty(); }
    void started(const std::shared_ptr<Transfer>& t) override {
        for (auto& o : all_) o->started(t);
    }
    void ended(const std::shared_ptr<Transfer>& t) override {
        for (auto& o : all_) o->ended(t);
    }

private:
    std::vector<std::shared_ptr<TransferObserver>> all_;
};

// CLOCK_REALTIME in microseconds: the time base of every trace event.
int64_t wall_us();

}  // namespace pxed::trace
