#pragma once
// The daemon's dhcp-script hooks (dnsmasq's --dhcp-script): where the
// daemon's events reach hooks::LeaseEvents (when to call the script) and
// the helper process (hooks::ScriptRunner, which calls it).
//
// Owns: the helper, the lease events' state, the file observer. Lives on
// the event loop's thread; the TFTP threads reach only the helper's queue.
//   - an ACK that waits for its commit: on_ack() keeps what the request said;
//   - a commit stored: on_stored() gives add/old/del;
//   - every turn of the loop: after_turn() sends what waits, and once a
//     second "del" for leases that expired (at most kExpiryBudget a second)
//     and the paced "old" calls of a start or a reload;
//   - a TFTP transfer completed: "tftp" from the file observer.
// Not seen here, so not reported: the kernel path's ACKs to reserved
// clients (XDP answers them; no lease changes), and leases another pxed
// wrote to a shared lease database.
#include <ctime>
#include <memory>
#include <vector>

#include "config/config.h"
#include "daemon/interface.h"
#include "daemon/metrics.h"
#include "hooks/lease_events.h"
#include "hooks/script_runner.h"
#include "trace/transfer.h"

namespace pxed::daemon {

class Hooks {
public:
    // Null when the configuration names no dhcp-script. Forks the helper:
    // call before any thread starts and before capabilities are dropped.
    static Result<std::unique_ptr<Hooks>> start(const config::Config& c);

    // The served interfaces and the subnets' domains (at start, at reload).
    void configure(const config::Config& c, const std::vector<DhcpSocket>& sockets);
    // The leases the store held at start: "old" for each, paced.
    void loaded(const lease::LeaseTable& t);
    // A reload (SIGHUP): "old" for every lease again, as dnsmasq.
    void reloaded() { events_.replay_all(); }

    // An ACK that leaves once its lease is stored.
    void on_ack(const config::Config& cfg, const DhcpSocket& s, const dhcp::Packet& req, Ipv4 ip);
    void on_stored(const std::vector<hooks::LeaseEvents::Change>& batch);
    void after_turn(const lease::LeaseTable& t);
    // The helper's socket, watched for EPOLLOUT (edge-triggered).
    int fd() const { return runner_->fd(); }
    void on_writable() { runner_->flush(); }

    std::shared_ptr<trace::TransferObserver> file_observer() const { return files_; }
    HookFigures figures() const;

    static constexpr size_t kExpiryBudget = 256;  // "del" calls for expiries, a second at most
    static constexpr size_t kLiveReserve = 256;   // queue room the paced "old" calls leave free

private:
    Hooks(std::shared_ptr<hooks::ScriptRunner> r, hooks::LeaseEvents::Options o);
    void submit_all();

    std::shared_ptr<hooks::ScriptRunner> runner_;
    hooks::LeaseEvents events_;
    std::shared_ptr<trace::TransferObserver> files_;
    std::vector<hooks::ScriptEvent> out_;
    int64_t last_second_ = 0;
};

}  // namespace pxed::daemon
