#pragma once
// Group commits on a thread of their own. The DHCP loop hands over what a
// batch changed and goes on receiving, offering and NAKing while the commit
// waits for the disk; the batch's ACKs leave when its commit has finished
// (the loop learns that from an eventfd). One commit runs at a time and they
// finish in the order they were started, so a lease is never overtaken by an
// older version of itself. While a commit runs the caller must not use the
// store; wait() gives it back.
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "lease/lease_store.h"

namespace pxed::lease {

class Committer {
public:
    // Starts the commit thread. `on_start` runs first on it (the daemon
    // drops that thread's capabilities there: it needs none).
    static Result<std::unique_ptr<Committer>> open(LeaseStore& store, std::function<void()> on_start = {});
    ~Committer();  // waits for the running commit, then stops the thread
    Committer(const Committer&) = delete;
    Committer& operator=(const Committer&) = delete;

    // Readable when a commit has finished; then call finished().
    int fd() const { return efd_; }
    bool busy() const { return busy_; }
    // Starts a commit (precondition: !busy()).
    // DHCPv6 changes go in the same transaction.
    void start(std::vector<Lease> upserts, std::vector<LeaseDelete> deletes, std::vector<Lease6> upserts6 = {},
               std::vector<Ipv6> deletes6 = {});
    // The result of the commit that has finished, if it has (non-blocking).
    std::optional<Result<CommitResult>> finished();
    // Blocks until the running commit has finished and returns its result;
    // nothing if none was running.
    std::optional<Result<CommitResult>> wait();

private:
    Committer(LeaseStore& store, int efd, std::function<void()> on_start);
    void run();
    Result<CommitResult> take();  // with mu_ held and done_ set

    LeaseStore& store_;
    int efd_ = -1;
    bool busy_ = false;  // the caller's view: started and not yet taken
    std::mutex mu_;
    std::condition_variable cv_;
    bool job_ = false, done_ = false, stop_ = false;
    std::vector<Lease> upserts_;
    std::vector<LeaseDelete> deletes_;
    std::vector<Lease6> upserts6_;
    std::vector<Ipv6> deletes6_;
    std::optional<Result<CommitResult>> result_;
    std::thread th_;
};

}  // namespace pxed::lease
