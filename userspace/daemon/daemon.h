#pragma once
// pxed's daemon: wires the parts and owns what they share.
//
// Owns: the running configuration (the file's configuration merged with the
// reservations added at run time), the DHCP engine and its lease table, the
// lease store, and the parts: the DHCP service (sockets), the commit
// pipeline, the XDP fast path, the file service (TFTP, HTTP) and the control
// socket. Everything runs on the event-loop thread (event_loop.cpp) except
// the metrics that the HTTP thread reads (atomics and the kernel's maps);
// /status.json is built on the loop at the HTTP thread's request (LoopCalls).
//
// A configuration changes in one way only: change_config() takes a
// candidate, validates all of it, then applies it (store, engine, maps) or
// changes nothing.
#include <signal.h>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "config/config.h"
#include "control/control.h"
#include "daemon/boot_trace.h"
#include "daemon/commit_pipeline.h"
#include "daemon/config_source.h"
#include "daemon/deferred_reservations.h"
#include "daemon/dhcp6_service.h"
#include "daemon/dhcp_service.h"
#include "daemon/fast_path.h"
#include "daemon/file_service.h"
#include "daemon/hooks.h"
#include "daemon/loop_calls.h"
#include "daemon/metrics.h"
#include "daemon/other_servers.h"
#include "dhcp/engine.h"
#include "lease/lease_store.h"
#include "lease/postgres/pg_watcher.h"
#include "pxed/result.h"

namespace pxed::daemon {

// A candidate configuration: the file's configuration and the run-time
// reservations to merge into it, and the store write (if any) that makes a
// run-time change durable. The write runs only once the whole candidate has
// validated, and the candidate is in force only once the write succeeded.
struct ConfigChange {
    config::Config file;
    std::vector<lease::StoredReservation> runtime;
    std::function<Result<void>(lease::LeaseStore&)> persist;  // empty: nothing to write
};

class Daemon {
public:
    Daemon(ConfigSource source, config::Config file_cfg);
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Opens the store and loads the leases, binds the sockets, attaches XDP,
    // starts the file service and the control socket, drops capabilities.
    Result<void> start();
    // The event loop, until a signal ends it; returns the exit status.
    int serve();

    // --- the one configuration path ---
    Result<void> change_config(ConfigChange change);
    // SIGHUP and pxectl reload: the file again, with the same run-time
    // reservations. Returns the line for the log and the client.
    Result<std::string> reload();

    // --- what the pxectl commands (commands*.cpp) read and use ---
    const config::Config& cfg() const { return *cfg_; }
    const config::Config& file_cfg() const { return file_cfg_; }
    const ConfigSource& source() const { return source_; }
    const std::vector<lease::StoredReservation>& runtime_reservations() const { return runtime_; }
    bool is_runtime(const Mac& m) const;
    dhcp::Engine& engine() { return *engine_; }
    lease::LeaseStore& store() { return *store_; }
    const DhcpService& dhcp() const { return dhcp_; }
    const Dhcp6Service& dhcp6() const { return dhcp6_; }
    dhcp6::Engine6* engine6() { return engine6_.get(); }
    const FastPath& fast_path() const { return fast_path_; }
    // The boot trace; the commands pull the kernel's events they need first.
    BootTrace& boot_trace() { return *trace_; }
    bool http_running() const { return files_.http_running(); }
    const control::Server* control() const { return control_.get(); }
    int64_t started_at() const { return started_at_; }
    MetricsSnapshot snapshot() const;
    // Every lease change so far is durable and every held ACK has left;
    // fails when the store does not take them (they are kept and retried).
    Result<void> flush_sync() { return pipeline_->flush_sync(); }

    // --- the lease database (lease_db.cpp) ---
    // This daemon's name in a shared database.
    const std::string& node_name() const { return node_name_; }
    // Whether the store takes writes (and, when shared, the watcher is connected).
    bool db_up() const { return db_up_.load(); }
    // Shared store: every node's status as the database last showed it,
    // and when this node last applied a change from it.
    const std::vector<lease::NodeStatus>& db_nodes() const { return nodes_; }
    int64_t last_sync() const { return last_sync_; }
    bool shared_store() const { return watcher_ != nullptr; }
    const std::string& db_error() const { return db_error_; }

private:
    Result<config::Config> merge_runtime(config::Config c, const std::vector<lease::StoredReservation>& rt) const;
    void install(config::Config merged);  // engine, limits, maps
    Result<void> open_store();     // lease_db.cpp
    Result<void> start_watcher();  // shared stores: after the leases are loaded
    void on_signal(int fd, bool& stop, int& status);
    // The kernel maps follow the configuration and the deferred reservations.
    Result<void> sync_maps(int64_t now);
    // After every turn of the loop: re-syncs when a deferral began or ended,
    // and the DHCPv6 maps when the leases on reserved addresses changed.
    void check_deferred(int64_t now);
    // The kernel's DHCPv6 path's inputs (holders6_ taken from the table now).
    Dhcp6State dhcp6_state(int64_t now);
    // The watcher's news: other nodes' leases, the reservation list, the
    // connection's state, the nodes' status.
    void on_db_watch();
    // After every turn of the loop: the engine's store-down mode follows
    // the pipeline and the watcher.
    void check_store();
    // The served interfaces' addresses (once the sockets are open).
    std::vector<Ipv4> served_addrs() const;
    // DHCPv6 (with [[subnet6]]): the engine, its stored leases, the sockets.
    Result<void> start_dhcp6(const std::vector<IfaceInfo>& ifaces);

    ConfigSource source_;
    config::Config file_cfg_;                    // as the source gave it
    std::vector<lease::StoredReservation> runtime_;  // pxectl lease add --static, durable in the store
    std::unique_ptr<config::Config> cfg_;        // file_cfg_ + runtime_: what is in force
    std::unique_ptr<dhcp::Engine> engine_;
    std::unique_ptr<lease::LeaseStore> store_;
    std::unique_ptr<Hooks> hooks_;  // with a dhcp-script; outlives the pipeline that feeds it
    DhcpService dhcp_;
    std::unique_ptr<dhcp6::Engine6> engine6_;  // with [[subnet6]] only
    Dhcp6Service dhcp6_;
    std::unique_ptr<CommitPipeline> pipeline_;  // after store_: stops first
    std::unique_ptr<lease::PgWatcher> watcher_;  // shared stores only
    std::string node_name_;
    bool db_connected_ = true;
    std::atomic<bool> db_up_{true};
    std::string db_error_;
    std::vector<lease::NodeStatus> nodes_;
    int64_t last_sync_ = 0;
    int64_t leases_applied_ = 0;
    FastPath fast_path_;
    std::shared_ptr<BootTrace> trace_;
    int64_t trace_pulled_ms_ = 0;
    OtherServers others_;  // other DHCP servers the kernel saw; pulled with the trace
    DeferredReservations deferred_;
    std::vector<bpf::Holder6> holders6_;  // as the DHCPv6 maps last had them
    int64_t holders6_checked_ = 0;
    // Every TFTP and HTTP transfer, to the boot trace and the hooks.
    std::shared_ptr<trace::TransferFanOut> file_events_ = std::make_shared<trace::TransferFanOut>();
    // The HTTP thread's calls onto the loop (/status.json); before files_,
    // so that it outlives the HTTP thread.
    LoopCalls calls_;
    FileService files_;
    std::unique_ptr<control::Server> control_;
    sigset_t signals_{};
    int64_t started_at_ = 0;
};

}  // namespace pxed::daemon
