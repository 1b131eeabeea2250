#pragma once
// The daemon's state and the operations on it. Everything here runs on the
// main event-loop thread, except metrics(), which only reads atomics and
// the kernel's maps (called from the HTTP thread).
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <ctime>
#include <array>
#include <chrono>
#include <atomic>
#include <memory>
#include <sstream>
#include <thread>
#include <unordered_set>
#include <vector>

#include "config/config.h"
#include "daemon/interface.h"
#include "dhcp/engine.h"
#include "dhcp/rate_limit.h"
#include "daemon/privileges.h"
#include "dhcp/packet.h"
#include "bpf/map_sync.h"
#include "bpf/xdp_program.h"
#include "http/http_server.h"
#include <optional>
#include <unordered_map>
#include <map>

#include "lease/committer.h"
#include "lease/lease_store.h"
#include "tftp/server.h"
#include "pxed/version.h"
#include "lease/lease_store.h"

#include "control/control.h"

namespace pxed::daemon {

struct Pending {
    size_t socket;
    dhcp::Reply reply;
};

// The configuration front end chosen on the command line.
struct ConfigSource {
    std::string path;
    bool dnsmasq = false;

    Result<config::Config> load() const {
        if (!dnsmasq) return config::load_toml_file(path);
        std::vector<std::string> warnings;
        auto lookup = [](const std::string& ifname) -> std::optional<Ipv4Net> {
            auto i = daemon::IfaceInfo::lookup(ifname);
            if (!i) return std::nullopt;
            return Ipv4Net{i->addr, i->prefix};
        };
        auto c = config::load_dnsmasq_file(path, lookup, warnings);
        for (auto& w : warnings) spdlog::warn("{}", w);
        return c;
    }
};

// Start-up checks that need the live interfaces: each must exist and have an
// address, and no reservation or range may hand out a server's own address.
inline Result<std::vector<daemon::IfaceInfo>> check_interfaces(const config::Config& cfg) {
    std::vector<daemon::IfaceInfo> out;
    for (auto& name : cfg.interfaces) {
        auto info = daemon::IfaceInfo::lookup(name);
        if (!info) return Err(info.error());
        for (auto& r : cfg.reservations)
            if (r.ip == info->addr)
                return Err(cfg.source + ": reservation " + r.mac.str() + " -> " + r.ip.str() +
                           " is the address of interface " + name + " itself");
        for (auto& sn : cfg.subnets)
            if (info->addr >= sn.range_start && info->addr <= sn.range_end)
                return Err(cfg.source + ": range " + sn.range_start.str() + "-" + sn.range_end.str() + " contains " +
                           info->addr.str() + ", the address of interface " + name);
        out.push_back(*info);
    }
    return out;
}

// Daemon-path DHCP counters, read by /metrics from the HTTP thread.
struct DhcpCounters {
    std::array<std::atomic<uint64_t>, 9> received{};  // by message type 1..8 (0: none)
    std::array<std::atomic<uint64_t>, 9> sent{};      // OFFER, ACK, NAK
    std::atomic<uint64_t> parse_errors{0};
    std::atomic<uint64_t> pool_exhausted{0};
    std::atomic<uint64_t> rate_limited_client{0};  // over dhcp-rate-limit for its MAC
    std::atomic<uint64_t> rate_limited_relay{0};   // over relay-rate-limit for its giaddr
};

struct Daemon {
    std::unique_ptr<control::Server> control;
    int64_t started_at = 0;
    // Reservations added at run time (pxectl lease add --static), durable in
    // the lease store and merged into every configuration that is loaded.
    std::vector<lease::StoredReservation> runtime_resv;

    // The pxectl commands (commands.cpp).
    nlohmann::json handle(const control::Request& r);
    Result<config::Config> merge_runtime(config::Config c) const;

    std::unique_ptr<config::Config> cfg;
    DhcpCounters counters;
    std::unique_ptr<tftp::Server> tftp;
    std::unique_ptr<http::Server> http;
    std::thread tftp_thread, http_thread;
    ConfigSource source;
    std::unique_ptr<dhcp::Engine> engine;
    dhcp::RateLimiter client_limit{0, 0};
    dhcp::RateLimiter relay_limit{0, 0};
    std::unique_ptr<lease::LeaseStore> store;
    std::unique_ptr<lease::Committer> committer;  // declared after store: stops first
    std::vector<daemon::DhcpSocket> sockets;
    std::vector<Pending> pending;  // ACKs of this turn of the loop
    std::unordered_map<uint32_t, std::optional<lease::Lease>> next_changes;  // by address; nullopt: delete
    std::vector<Pending> next_acks;      // wait for the next commit
    std::vector<Pending> inflight_acks;  // wait for the running commit
    std::unordered_set<uint32_t> stored;  // addresses with a row in the lease store
    struct Xdp {
        std::unique_ptr<bpf::XdpProgram> prog;
        bpf::IfaceView iface;
    };
    std::vector<Xdp> xdp;
    std::vector<bpf::PinLock> pin_locks;  // held while serving; see PinLock

    // Reservations the engine cannot honour yet (dhcp::ReservationConflict),
    // by MAC: kept out of the kernel maps so XDP passes those clients here.
    std::map<Mac, dhcp::ReservationConflict> resv_conflicts;
    bool resv_conflicts_dirty = false;   // an engine outcome said one began or ended
    int64_t resv_conflicts_checked = 0;  // leases end with time: checked once a second

    // Takes the engine's current conflicts as resv_conflicts: warns once when
    // one begins (naming both MACs and the address), logs when one ends.
    std::vector<Mac> note_conflicts(int64_t now) {
        std::map<Mac, dhcp::ReservationConflict> cur;
        for (auto& c : engine->reservation_conflicts(now)) cur.emplace(c.mac, c);
        for (auto& [m, c] : cur)
            if (!resv_conflicts.count(m))
                spdlog::warn("reservation deferred mac={} ip={} holder={} state={}: {}", m.str(), c.ip.str(),
                             c.holder.str(), lease::to_string(c.state), c.describe());
        for (auto& [m, c] : resv_conflicts)
            if (!cur.count(m)) spdlog::info("reservation in force mac={} ip={}: its conflict ended", m.str(), c.ip.str());
        resv_conflicts = std::move(cur);
        std::vector<Mac> out;
        for (auto& [m, c] : resv_conflicts) out.push_back(m);
        return out;
    }

    // After every turn of the loop: re-syncs the maps when the set of
    // deferred reservations changed (at once after a DECLINE or RELEASE that
    // said so, else within a second of a lease ending).
    void check_conflicts(int64_t now) {
        if (!resv_conflicts_dirty && now == resv_conflicts_checked) return;
        resv_conflicts_dirty = false;
        resv_conflicts_checked = now;
        auto cur = engine->reservation_conflicts(now);
        bool same = cur.size() == resv_conflicts.size();
        for (auto& c : cur) same = same && resv_conflicts.count(c.mac);
        if (!same) sync_xdp(now);
    }

    // The XDP maps follow the configuration: at start, at every reload, and
    // when a reservation's conflict begins or ends.
    bool sync_xdp(int64_t now = int64_t(std::time(nullptr))) {
        bool ok = true;
        auto withheld = note_conflicts(now);
        for (auto& x : xdp) {
            auto r = bpf::sync_maps(*x.prog, *cfg, x.iface, bpf::RateLimit{cfg->xdp_rate_limit, cfg->xdp_rate_burst},
                                    withheld);
            if (!r) {
                spdlog::error("xdp iface={} map sync failed: {}", x.iface.name, r.error());
                ok = false;
                continue;
            }
            spdlog::info("xdp iface={} mode={} prog_id={} pinned={} reservations={} blobs={} removed={}{}",
                         x.iface.name, x.prog->mode_name(), x.prog->prog_id(), bpf::pin_dir(x.iface.name),
                         r->reservations, r->blobs, r->removed,
                         (r->not_in_kernel ? " not_in_kernel=" + std::to_string(r->not_in_kernel) : "") +
                             (r->withheld ? " withheld=" + std::to_string(r->withheld) : ""));
        }
        return ok;
    }

    static uint64_t mac_key(const Mac& m) {
        uint64_t k = 0;
        for (auto b : m.b) k = k << 8 | b;
        return k;
    }

    void on_packet(size_t si, std::span<const uint8_t> bytes) {
        auto& s = sockets[si];
        auto p = dhcp::parse(bytes);
        if (!p) {
            counters.parse_errors++;
            spdlog::debug("dhcp drop iface={} reason=parse error=\"{}\" len={}", s.info().name,
                          dhcp::to_string(p.error()), bytes.size());
            return;
        }
        auto type = p->message_type();
        counters.received[type ? size_t(*type) : 0]++;
        // Before the engine: a flood costs a hash lookup per datagram, not
        // an allocation or a store write.
        int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now().time_since_epoch()).count();
        if (!p->giaddr.is_zero() && !relay_limit.allow(p->giaddr.v, now_ms)) {
            counters.rate_limited_relay++;
            spdlog::debug("dhcp drop iface={} reason=relay-rate-limit giaddr={}", s.info().name, p->giaddr.str());
            return;
        }
        if (!client_limit.allow(mac_key(p->mac()), now_ms)) {
            counters.rate_limited_client++;
            spdlog::debug("dhcp drop iface={} reason=client-rate-limit mac={}", s.info().name, p->mac().str());
            return;
        }
        dhcp::RxInfo rx{s.info().addr};
        auto out = engine->handle(*p, rx, int64_t(std::time(nullptr)));
        spdlog::debug("dhcp iface={} type={} mac={} xid={:#010x} result=\"{}\"", s.info().name,
                      type ? dhcp::to_string(*type) : "none", p->mac().str(), p->xid, out.note);
        if (!out.warning.empty()) spdlog::warn("dhcp iface={} mac={} {}", s.info().name, p->mac().str(), out.warning);
        if (out.reservations_changed) resv_conflicts_dirty = true;
        if (out.drop == dhcp::Drop::PoolExhausted) {
            counters.pool_exhausted++;
            spdlog::warn("dhcp {}", out.note);
        }
        if (!out.reply) return;
        if (auto t = out.reply->packet.message_type()) counters.sent[size_t(*t)]++;
        // Only an ACK promises a lease: it waits for the batch's commit.
        // OFFERs and NAKs leave at once, whatever the disk is doing.
        if (out.reply->packet.message_type() == dhcp::MessageType::Ack) {
            pending.push_back(Pending{si, std::move(*out.reply)});
        } else if (auto r = s.send(*out.reply); !r) {
            spdlog::warn("dhcp send failed: {}", r.error());
        }
    }

    // Group commit: every lease changed by a batch goes to the store in one
    // transaction (one fsync), on the committer's thread, while this loop
    // goes on receiving. A batch's ACKs leave once its commit has finished;
    // if it fails, they never leave: a client is never told about a lease
    // that is not durable. Called after every turn of the loop; never blocks.
    void flush() {
        for (auto ip : engine->leases().take_dirty()) {
            auto* l = engine->leases().by_ip(ip);
            if (l && l->state != lease::State::Offered) {
                next_changes[ip.v] = *l;
                stored.insert(ip.v);  // what the store holds once the queued commits are done
            } else if (stored.erase(ip.v)) {
                next_changes[ip.v] = std::nullopt;  // offers never reach the store
            }
        }
        for (auto& p : pending) next_acks.push_back(std::move(p));
        pending.clear();
        if (!committer->busy()) start_commit();
    }

    // Everything received so far is durable and answered (commands, exit).
    void flush_sync() {
        flush();
        while (committer->busy()) on_commit(*committer->wait());
    }

    // The committer's eventfd is readable.
    void on_commit_readable() {
        if (auto r = committer->finished()) on_commit(*r);
    }

    void on_commit(const Result<void>& r) {
        if (!r) {
            spdlog::error("lease commit failed, withholding {} ACKs: {}", inflight_acks.size(), r.error());
        } else {
            for (auto& pr : inflight_acks)
                if (auto s = sockets[pr.socket].send(pr.reply); !s) spdlog::warn("dhcp send failed: {}", s.error());
        }
        inflight_acks.clear();
        start_commit();
    }

    void start_commit() {
        if (next_changes.empty()) {
            // These ACKs changed nothing on disk: they only had to wait for
            // the commits before them, which have finished.
            for (auto& pr : next_acks)
                if (auto s = sockets[pr.socket].send(pr.reply); !s) spdlog::warn("dhcp send failed: {}", s.error());
            next_acks.clear();
            return;
        }
        std::vector<lease::Lease> upserts;
        std::vector<Ipv4> deletes;
        for (auto& [ip, l] : next_changes) {
            if (l) upserts.push_back(std::move(*l));
            else deletes.push_back(Ipv4(ip));
        }
        next_changes.clear();
        inflight_acks = std::move(next_acks);
        next_acks.clear();
        committer->start(std::move(upserts), std::move(deletes));
    }

    std::string metrics() {
        std::ostringstream m;
        auto counter = [&](const char* name, const char* help) {
            m << "# HELP " << name << " " << help << "\n# TYPE " << name << " counter\n";
        };
        counter("pxed_dhcp_received_total", "DHCP messages the daemon received, by message type.");
        for (size_t t = 1; t <= 8; t++)
            m << "pxed_dhcp_received_total{type=\"" << dhcp::to_string(dhcp::MessageType(t)) << "\"} "
              << counters.received[t].load() << "\n";
        counter("pxed_dhcp_sent_total", "DHCP replies, by message type and path (daemon or kernel).");
        for (size_t t : {2, 5, 6})
            m << "pxed_dhcp_sent_total{type=\"" << dhcp::to_string(dhcp::MessageType(t)) << "\",path=\"daemon\"} "
              << counters.sent[t].load() << "\n";
        uint64_t k_offer = 0, k_ack = 0;
        std::ostringstream x;
        for (auto& xp : xdp) {
            auto st = xp.prog->read_stats();
            if (!st) continue;
            k_offer += (*st)[PXED_STAT_TX_OFFER];
            k_ack += (*st)[PXED_STAT_TX_ACK];
            for (uint32_t i = 0; i < PXED_STAT_MAX; i++)
                x << "pxed_xdp_packets_total{iface=\"" << xp.iface.name << "\",outcome=\""
                  << bpf::stat_name(pxed_stat(i)) << "\"} " << (*st)[i] << "\n";
        }
        m << "pxed_dhcp_sent_total{type=\"OFFER\",path=\"kernel\"} " << k_offer << "\n";
        m << "pxed_dhcp_sent_total{type=\"ACK\",path=\"kernel\"} " << k_ack << "\n";
        counter("pxed_dhcp_parse_errors_total", "Datagrams on port 67 that are not DHCP messages.");
        m << "pxed_dhcp_parse_errors_total " << counters.parse_errors.load() << "\n";
        counter("pxed_dhcp_pool_exhausted_total", "DISCOVERs left unanswered because the pool was full.");
        m << "pxed_dhcp_pool_exhausted_total " << counters.pool_exhausted.load() << "\n";
        counter("pxed_dhcp_rate_limited_total", "Requests dropped by the daemon's rate limits, by key.");
        m << "pxed_dhcp_rate_limited_total{by=\"client\"} " << counters.rate_limited_client.load() << "\n";
        m << "pxed_dhcp_rate_limited_total{by=\"relay\"} " << counters.rate_limited_relay.load() << "\n";
        counter("pxed_xdp_packets_total", "Frames the XDP program handled, by interface and outcome.");
        m << x.str();
        if (tftp) {
            auto& t = tftp->stats();
            counter("pxed_tftp_requests_total", "TFTP requests received.");
            m << "pxed_tftp_requests_total " << t.requests.load() << "\n";
            counter("pxed_tftp_sessions_total", "TFTP transfers, by result.");
            m << "pxed_tftp_sessions_total{result=\"completed\"} " << t.sessions_completed.load() << "\n";
            m << "pxed_tftp_sessions_total{result=\"failed\"} " << t.sessions_failed.load() << "\n";
            m << "# HELP pxed_tftp_sessions_active TFTP transfers in progress.\n# TYPE pxed_tftp_sessions_active gauge\n";
            m << "pxed_tftp_sessions_active " << t.active.load() << "\n";
            counter("pxed_tftp_bytes_total", "File bytes sent over TFTP.");
            m << "pxed_tftp_bytes_total " << t.bytes_sent.load() << "\n";
            counter("pxed_tftp_errors_sent_total", "TFTP ERROR packets sent.");
            m << "pxed_tftp_errors_sent_total " << t.errors_sent.load() << "\n";
            counter("pxed_tftp_retransmissions_total", "TFTP DATA windows sent again after a timeout (finished transfers).");
            m << "pxed_tftp_retransmissions_total " << t.retransmissions.load() << "\n";
            counter("pxed_tftp_ignored_total", "Datagrams on port 69 that are not requests (never answered).");
            m << "pxed_tftp_ignored_total " << t.ignored.load() << "\n";
            counter("pxed_tftp_busy_total", "Requests over the session limits (per client, total, netascii memory).");
            m << "pxed_tftp_busy_total " << t.busy.load() << "\n";
        }
        if (http) {
            auto& h = http->stats();
            counter("pxed_http_requests_total", "HTTP requests, /metrics included.");
            m << "pxed_http_requests_total " << h.requests.load() << "\n";
            counter("pxed_http_responses_total", "HTTP file responses, by result.");
            m << "pxed_http_responses_total{result=\"file\"} " << h.files.load() << "\n";
            m << "pxed_http_responses_total{result=\"not_found\"} " << h.not_found.load() << "\n";
            m << "pxed_http_responses_total{result=\"refused\"} " << h.refused.load() << "\n";
            counter("pxed_http_bytes_total", "File bytes sent over HTTP.");
            m << "pxed_http_bytes_total " << h.bytes_sent.load() << "\n";
        }
        return m.str();
    }

    // TFTP and HTTP on the boot root, each in its own thread.
    int start_file_service() {
        if (cfg->tftp_root.empty()) {
            spdlog::info("tftp-root not set: no TFTP or HTTP file service");
            return 0;
        }
        tftp::ServerOptions to;
        to.root = cfg->tftp_root;
        to.max_blksize = cfg->tftp_max_blksize;
        to.max_sessions_per_client = cfg->tftp_max_sessions_per_client;
        auto t = tftp::Server::open(to);
        if (!t) {
            spdlog::critical("{}", t.error());
            return 1;
        }
        tftp = std::move(t.value());
        tftp_thread = std::thread([this] {
            // Bound to port 69 already: this thread needs no privilege.
            spdlog::info("tftp thread: {}", daemon::drop_capabilities(daemon::Keep::Nothing));
            tftp->run();
        });
        spdlog::info("tftp root={} port=69", cfg->tftp_root);
        if (cfg->http_port) {
            http::Options ho;
            ho.root = cfg->tftp_root;
            ho.port = cfg->http_port;
            auto h = http::Server::open(ho, [this] { return metrics(); });
            if (!h) {
                spdlog::critical("{}", h.error());
                return 1;
            }
            http = std::move(h.value());
            http_thread = std::thread([this] {
                spdlog::info("http thread: {}", daemon::drop_capabilities(daemon::Keep::Nothing));
                http->run();
            });
            spdlog::info("http root={} port={} metrics=/metrics", cfg->tftp_root, cfg->http_port);
        }
        return 0;
    }

    void stop_file_service() {
        if (http && http_thread.joinable()) {
            http->stop();
            http_thread.join();
        }
        if (tftp && tftp_thread.joinable()) {
            tftp->stop();
            tftp_thread.join();
        }
    }
    ~Daemon() { stop_file_service(); }

    void configure_limits(const config::Config& c) {
        client_limit.configure(c.dhcp_rate_limit, c.dhcp_rate_burst);
        relay_limit.configure(c.relay_rate_limit, c.relay_rate_burst);
    }

    // Makes `c` (file configuration + run-time reservations) the running
    // configuration: the engine and the XDP maps follow at once.
    void apply(config::Config c) {
        auto fresh = std::make_unique<config::Config>(std::move(c));
        if (cfg && (fresh->interfaces != cfg->interfaces || fresh->lease_db != cfg->lease_db))
            spdlog::warn("reload: interface and lease-db changes take effect at the next restart");
        engine->set_config(*fresh);
        configure_limits(*fresh);
        cfg = std::move(fresh);
        sync_xdp();
    }

    // SIGHUP and pxectl reload. A configuration that does not load or
    // validate is refused and the running one stays.
    Result<std::string> reload() {
        auto c = source.load();
        if (!c) {
            spdlog::error("reload refused, keeping the running configuration: {}", c.error());
            return Err(c.error());
        }
        auto merged = merge_runtime(std::move(c.value()));
        if (!merged) {
            spdlog::error("reload refused, keeping the running configuration: {}", merged.error());
            return Err(merged.error());
        }
        if (auto chk = check_interfaces(*merged); !chk) {
            spdlog::error("reload refused, keeping the running configuration: {}", chk.error());
            return Err(chk.error());
        }
        apply(std::move(merged.value()));
        std::string msg = "reloaded " + source.path + ": " + std::to_string(cfg->subnets.size()) + " subnets, " +
                          std::to_string(cfg->reservations.size()) + " reservations";
        spdlog::info("reload config={} subnets={} reservations={}", source.path, cfg->subnets.size(),
                     cfg->reservations.size());
        return msg;
    }
};


}  // namespace pxed::daemon
