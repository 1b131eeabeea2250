#pragma once
// Keeps a daemon's view in step with the PostgreSQL database that other
// daemons write too, on a thread of its own so that the event loop never
// waits for the database.
//
// The thread holds its own connection, LISTENs on pxed_leases (each commit
// notifies the range of change numbers it wrote) and pxed_reservations, and
// hands what changed to the event loop through an eventfd: other daemons'
// lease rows, the reservation list, whether the database is reachable, and
// every node's status (pxed_nodes, for pxectl status). When the connection
// breaks it says so, reconnects with backoff (0.5 s doubling to 8 s) and
// starts over with a full resync: LISTEN first, then read everything, so no
// change committed meanwhile is missed.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "lease/lease_store.h"

typedef struct pg_conn PGconn;

namespace pxed::lease {

struct NodeStatus {
    std::string name;
    int64_t connected_since = 0;  // seconds since the epoch; 0: not connected
    int64_t last_sync = 0;        // the last change it applied
    int64_t last_seen = 0;        // its last heartbeat
    int64_t leases_applied = 0;
    int64_t reservations = 0;
};

// What changed since the event loop last looked.
struct WatchBatch {
    std::optional<bool> connected;  // the connection came up (true) or broke (false)
    std::string error;              // why it broke or could not connect
    bool full = false;              // `leases` is the whole table (after a (re)connect)
    std::vector<Lease> leases;      // rows other daemons wrote
    std::vector<LeaseDelete> deleted;  // rows other daemons deleted (address, the version deleted)
    std::optional<std::vector<StoredReservation>> reservations;  // the whole list, when it changed
    std::optional<std::vector<NodeStatus>> nodes;
};

class PgWatcher {
public:
    // Starts the thread; `on_start` runs first on it (capabilities).
    static Result<std::unique_ptr<PgWatcher>> start(std::string url, std::string node, std::function<void()> on_start);
    ~PgWatcher();  // stops the thread
    PgWatcher(const PgWatcher&) = delete;
    PgWatcher& operator=(const PgWatcher&) = delete;

    // Readable when take() has something.
    int fd() const { return efd_; }
    WatchBatch take();
    // What the event loop applied, written to pxed_nodes at the next heartbeat.
    void applied(int64_t leases, int64_t reservations, int64_t last_sync) {
        leases_applied_ = leases;
        reservations_ = reservations;
        last_sync_ = last_sync;
    }

    static constexpr int kHeartbeatMs = 2000;

private:
    PgWatcher(std::string url, std::string node, int efd, int stop_fd);
    void run();
    // One connection's life; false when stopping. `up`: whether the event
    // loop was last told the database is reachable.
    bool session(PGconn* c, bool& up);
    void post(WatchBatch b);
    bool sleep_ms(int ms);  // false when stopping

    std::string url_, node_;
    int efd_ = -1, stop_fd_ = -1;
    std::mutex mu_;
    WatchBatch pending_;
    bool has_pending_ = false;
    std::atomic<int64_t> leases_applied_{0}, reservations_{0}, last_sync_{0};
    std::thread th_;
};

}  // namespace pxed::lease
