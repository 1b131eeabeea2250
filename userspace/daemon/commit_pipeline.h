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
// not durable. A failed batch's changes are kept and tried again, with
// backoff (0.5 s doubling to 8 s), until the store takes them; meanwhile
// failing() is true and the engine answers only what is already stored.
//
// With a store shared by several daemons (PostgreSQL), a commit can lose
// an address to another daemon: that ACK never leaves, a NAK goes instead
// (the client starts over and gets another address), and the table learns
// the winning row. Rows other daemons wrote come in through apply_remote().
#include <atomic>
#include <map>
#include <set>
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
#include "lease/lease6.h"
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
    void loaded(Ipv4 ip, int64_t version) { stored_[ip.v] = version; }
    // Rows other daemons wrote (the watcher): applied to the table unless a
    // change of this daemon's to the same address is still on its way to
    // the store (its commit decides), or the table's row is as new.
    // Returns how many were applied.
    size_t apply_remote(const std::vector<lease::Lease>& rows);
    // Rows other daemons deleted: erased from the table when the table
    // holds exactly that version and has no change of its own on the way.
    size_t apply_remote_deletes(const std::vector<lease::LeaseDelete>& rows);
    // Told each commit's stored changes, lost addresses left out (the
    // dhcp-script hooks: add/old/del only once a change is durable).
    using Stored = std::function<void(const std::vector<std::pair<Ipv4, const lease::Lease*>>&)>;
    void set_on_stored(Stored f) { on_stored_ = std::move(f); }
    // An ACK that leaves once the lease it promises is durable.
    void hold(size_t socket, dhcp::Reply ack) { pending_.push_back(Held{socket, std::move(ack)}); }

    // DHCPv6: the table whose changes ride in the same commits, and how a
    // held Reply leaves (socket index, bytes, destination, port).
    struct Held6 {
        size_t socket;
        std::vector<uint8_t> bytes;
        Ipv6 dst;
        uint16_t port;
    };
    using Send6 = std::function<void(const Held6&)>;
    void set_v6(lease::LeaseTable6* table, Send6 send) {
        leases6_ = table;
        send6_ = std::move(send);
    }
    void loaded6(const Ipv6& ip) { stored6_.insert(ip); }
    void hold6(Held6 reply) { pending6_.push_back(std::move(reply)); }

    // Hands what this turn changed to the committer if it is idle. Called
    // after every turn of the loop; never blocks.
    void flush();
    // Everything received so far is durable and answered (commands, exit);
    // fails (trying at once, whatever the backoff) when the store does.
    Result<void> flush_sync();
    // The last commit failed; its changes wait for the next try.
    bool failing() const { return failing_; }
    const std::string& last_error() const { return last_error_; }
    uint64_t lost_to_other_servers() const { return lost_.load(); }
    uint64_t failed_commits() const { return failed_.load(); }
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
    // Moves the table's changes and this turn's ACKs to the next batch.
    void collect();
    void on_commit(const Result<lease::CommitResult>& r);
    void on_failure(const std::string& error);
    void on_lost(const lease::Lease& winner);
    void start_commit();
    void tell_stored(const std::vector<lease::Lease>& lost);
    void send_all(std::vector<Held>& acks);
    void send_all6(std::vector<Held6>& acks);

    lease::LeaseTable& leases_;
    Send send_;
    std::vector<Held> pending_;                                                  // this turn's ACKs
    using Changes = std::unordered_map<uint32_t, std::optional<lease::Lease>>;  // by address; nullopt: delete
    Changes next_changes_;
    Changes inflight_changes_;  // the running commit's: tried again if it fails
    std::vector<Held> next_acks_;      // wait for the next commit
    std::vector<Held> inflight_acks_;  // wait for the running commit
    std::unordered_map<uint32_t, int64_t> stored_;  // addresses with a row once the queued commits are done: its version
    // The same for DHCPv6 (a store of this daemon's alone: no versions).
    lease::LeaseTable6* leases6_ = nullptr;
    Send6 send6_;
    using Changes6 = std::map<Ipv6, std::optional<lease::Lease6>>;
    Changes6 next_changes6_, inflight_changes6_;
    std::vector<Held6> pending6_, next_acks6_, inflight_acks6_;
    std::set<Ipv6> stored6_;
    bool failing_ = false;
    std::string last_error_;
    int64_t retry_at_ms_ = 0;
    int backoff_ms_ = 0;
    std::atomic<uint64_t> lost_{0}, failed_{0};  // read by the metrics (HTTP thread)
    Stored on_stored_;
    std::unique_ptr<lease::Committer> committer_;
};

}  // namespace pxed::daemon
