#pragma once
// Group commit of the daemon's leases, and the ACKs that wait for it.
//
// Owns: the ACKs of this turn of the event loop, of the next commit and of
// the running one; the lease changes not yet handed to the store; the set of
// addresses that have a row in the store; the committer thread.
//
// Every lease a batch changed goes to the store in one transaction (one
// fsync), on the committer's thread, while the event loop goes on receiving,
// offering and NAKing. A batch's ACKs leave once its commit has finished; if
// it fails, they never leave: a client is never told about a lease that is
// not durable.
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "dhcp/engine.h"
#include "lease/committer.h"
#include "lease/lease_store.h"
#include "lease/lease_table.h"

namespace pxed::daemon {

class CommitPipeline {
public:
    // Sends a reply on the daemon's socket number `socket`.
    using Send = std::function<void(size_t socket, const dhcp::Reply&)>;

    // Starts the committer's thread; `on_thread_start` runs first on it.
    static Result<std::unique_ptr<CommitPipeline>> open(lease::LeaseStore& store, lease::LeaseTable& leases,
                                                        Send send, std::function<void()> on_thread_start);

    // A row the store held at start.
    void loaded(Ipv4 ip) { stored_.insert(ip.v); }
    // An ACK that leaves once the lease it promises is durable.
    void hold(size_t socket, dhcp::Reply ack) { pending_.push_back(Held{socket, std::move(ack)}); }

    // Hands what this turn changed to the committer if it is idle. Called
    // after every turn of the loop; never blocks.
    void flush();
    // Everything received so far is durable and answered (commands, exit).
    void flush_sync();
    // Readable when the running commit has finished; then on_readable().
    int fd() const { return committer_->fd(); }
    void on_readable();

private:
    CommitPipeline(lease::LeaseTable& leases, Send send, std::unique_ptr<lease::Committer> committer)
        : leases_(leases), send_(std::move(send)), committer_(std::move(committer)) {}
    struct Held {
        size_t socket;
        dhcp::Reply reply;
    };
    void on_commit(const Result<void>& r);
    void start_commit();
    void send_all(std::vector<Held>& acks);

    lease::LeaseTable& leases_;
    Send send_;
    std::vector<Held> pending_;                                                  // this turn's ACKs
    std::unordered_map<uint32_t, std::optional<lease::Lease>> next_changes_;     // by address; nullopt: delete
    std::vector<Held> next_acks_;      // wait for the next commit
    std::vector<Held> inflight_acks_;  // wait for the running commit
    std::unordered_set<uint32_t> stored_;  // addresses with a row once the queued commits are done
    std::unique_ptr<lease::Committer> committer_;
};

}  // namespace pxed::daemon
