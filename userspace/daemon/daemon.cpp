#include "daemon/daemon.h"

#include <malloc.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <unordered_map>

#include "daemon/commands.h"
#include "daemon/privileges.h"
#include "daemon/status_page.h"
#include "lease/lease_store.h"

namespace pxed::daemon {

Daemon::Daemon(ConfigSource source, config::Config file_cfg)
    : source_(std::move(source)),
      file_cfg_(std::move(file_cfg)),
      cfg_(std::make_unique<config::Config>(file_cfg_)),
      engine_(std::make_unique<dhcp::Engine>(*cfg_)),
      dhcp_(*engine_),
      trace_(std::make_shared<BootTrace>(*cfg_)) {
    dhcp_.configure_limits(*cfg_);
    dhcp_.set_trace(trace_.get());
    file_events_->add(trace_);
}


Daemon::~Daemon() {
    calls_.close();  // a /status.json waiting for the loop returns now: the HTTP thread can be joined
    files_.stop();
}

std::vector<Ipv4> Daemon::served_addrs() const {
    std::vector<Ipv4> out;
    for (auto& s : dhcp_.sockets()) out.push_back(s.info().addr);
    return out;
}

bool Daemon::is_runtime(const Mac& m) const {
    for (auto& r : runtime_)
        if (r.mac == m) return true;
    return false;
}

Result<config::Config> Daemon::merge_runtime(config::Config c,
                                             const std::vector<lease::StoredReservation>& rt) const {
    // The reservations so far by MAC (c.reservation_for() per run-time
    // reservation made this quadratic).
    std::unordered_map<uint64_t, size_t> at;
    at.reserve(c.reservations.size() + rt.size());
    for (size_t i = 0; i < c.reservations.size(); i++) at.try_emplace(c.reservations[i].mac.key(), i);
    for (auto& r : rt) {
        if (auto [it, fresh] = at.try_emplace(r.mac.key(), c.reservations.size()); !fresh) {
            spdlog::warn("reservation {} -> {} added with pxectl is shadowed by {} in {}", r.mac.str(), r.ip.str(),
                         c.reservations[it->second].ip.str(), c.source);
            continue;
        }
        config::Reservation x;
        x.mac = r.mac;
        x.ip = r.ip;
        x.hostname = r.hostname;
        x.lease_time = r.lease_time;
        c.reservations.push_back(x);
    }
    if (auto v = config::validate(c); !v) return Err(v.error());
    return c;
}

Result<void> Daemon::change_config(ConfigChange change) {
    // Everything that can refuse the candidate, before anything is written.
    auto merged = merge_runtime(change.file, change.runtime);
    if (!merged) return Err(merged.error());
    if (auto chk = check_interfaces(*merged); !chk) return Err(chk.error());
    // Durable, then in force.
    if (change.persist)
        if (auto w = change.persist(*store_); !w) return Err(w.error());
    file_cfg_ = std::move(change.file);
    runtime_ = std::move(change.runtime);
    install(std::move(merged.value()));
    return {};
}

void Daemon::install(config::Config merged) {
    auto fresh = std::make_unique<config::Config>(std::move(merged));
    auto vlans_of = [](const config::Config& c) {
        std::vector<std::pair<uint16_t, uint16_t>> v;
        for (auto& sn : c.subnets)
            if (sn.vlan) v.emplace_back(sn.vlan, sn.inner_vlan);
        return v;
    };
    if (fresh->interfaces != cfg_->interfaces || fresh->lease_db != cfg_->lease_db || vlans_of(*fresh) != vlans_of(*cfg_))
        spdlog::warn("configuration: interface, VLAN and lease-db changes take effect at the next restart");
    if (fresh->dhcp_script != cfg_->dhcp_script || fresh->dhcp_script_user != cfg_->dhcp_script_user ||
        fresh->script_on_renewal != cfg_->script_on_renewal)
        spdlog::warn("configuration: dhcp-script changes take effect at the next restart");
    if (fresh->has_proxy() && !cfg_->has_proxy() && !dhcp_.sockets().empty())
        spdlog::warn("configuration: a proxy subnet was added: the PXE boot server port 4011 opens at the next restart");
    engine_->set_config(*fresh);
    if (engine6_) engine6_->configure(*fresh);
    else if (!fresh->subnets6.empty() && started_at_) spdlog::warn("configuration: DHCPv6 ([[subnet6]]) starts at the next restart");
    dhcp_.configure_limits(*fresh);
    trace_->configure(*fresh);
    others_.configure(*fresh, served_addrs());
    cfg_ = std::move(fresh);
    (void)sync_maps(int64_t(std::time(nullptr)));  // each interface's failure is logged; the daemon still answers
}

Dhcp6State Daemon::dhcp6_state(int64_t now) {
    Dhcp6State s;
    holders6_.clear();
    if (!engine6_) return s;
    s.server_duid = engine6_->server_duid();
    s.http_port = engine6_->http_port();
    for (auto& k : dhcp6_.sockets()) s.links.push_back(k.link);
    holders6_ = bpf::holders6(*cfg_, engine6_->leases(), now);
    s.holders = holders6_;
    return s;
}

Result<void> Daemon::sync_maps(int64_t now) {
    auto withheld = deferred_.update(*engine_, now);
    return fast_path_.sync(*cfg_, withheld, deferred_.held(), dhcp6_state(now));
}

void Daemon::check_deferred(int64_t now) {
    if (dhcp_.take_reservations_changed()) deferred_.mark_dirty();
    if (deferred_.changed(*engine_, now)) (void)sync_maps(now);
    // A lease on a reserved address began, changed or ended (at once when
    // a reply touched one, else once a second: leases expire).
    if (engine6_ && fast_path_.size() && (dhcp6_.take_reserved_touched() || now != holders6_checked_)) {
        holders6_checked_ = now;
        if (bpf::holders6(*cfg_, engine6_->leases(), now) != holders6_) (void)fast_path_.sync6(*cfg_, dhcp6_state(now));
    }
}

Result<std::string> Daemon::reload() {
    auto c = source_.load();
    Result<void> r = c ? change_config(ConfigChange{std::move(c.value()), runtime_, {}}) : Err(c.error());
    if (!r) {
        spdlog::error("reload refused, keeping the running configuration: {}", r.error());
        return Err(r.error());
    }
    spdlog::info("reload config={} subnets={} reservations={}", source_.path, cfg_->subnets.size(),
                 cfg_->reservations.size());
    if (hooks_) {
        hooks_->configure(*cfg_, dhcp_.sockets());
        hooks_->reloaded();  // dnsmasq runs "old" for every lease at SIGHUP
    }
    return "reloaded " + source_.path + ": " + std::to_string(cfg_->subnets.size()) + " subnets, " +
           std::to_string(cfg_->reservations.size()) + " reservations";
}

MetricsSnapshot Daemon::snapshot() const {
    MetricsSnapshot s;
    read_into(s, dhcp_.counters());
    fast_path_.read_into(s);
    files_.read_into(s);
    if (hooks_) s.hooks = hooks_->figures();
    if (engine6_) s.dhcp6 = dhcp6_.figures();
    s.other_servers = others_.list();
    s.db.up = db_up_.load();
    s.db.shared = watcher_ != nullptr;
    if (pipeline_) {
        s.db.failed_commits = pipeline_->failed_commits();
        s.db.lost_to_others = pipeline_->lost_to_other_servers();
    }
    return s;
}

Result<void> Daemon::start_dhcp6(const std::vector<IfaceInfo>& ifaces) {
    if (cfg_->subnets6.empty()) return {};
    if (lease::is_postgres_url(cfg_->lease_db))
        return Err(cfg_->source + ": [[subnet6]] needs an SQLite lease-db: DHCPv6 leases are not stored in PostgreSQL yet");
    std::vector<IfaceInfo> served;
    for (auto& i : ifaces)
        if (i.trunk.empty() && !i.kernel_only) served.push_back(i);
    if (served.empty()) return Err(cfg_->source + ": [[subnet6]] without an interface to serve it on");
    auto duid = cfg_->server_duid.empty() ? duid_ll(served.front().mac) : cfg_->server_duid;
    engine6_ = std::make_unique<dhcp6::Engine6>(*cfg_, duid, cfg_->http_port);
    auto& table = engine6_->leases();
    auto loaded = store_->load_each6([&](lease::Lease6&& l) {
        pipeline_->loaded6(l.ip);
        table.load(l);
    });
    if (!loaded) return Err(loaded.error());
    pipeline_->set_v6(&table, [this](const CommitPipeline::Held6& r) { dhcp6_.send(r); });
    dhcp6_.set_engine(engine6_.get());
    dhcp6_.set_pipeline(pipeline_.get());
    dhcp6_.set_debug(spdlog::should_log(spdlog::level::debug));
    if (auto r = dhcp6_.open(served); !r) return r;
    spdlog::info("dhcp6 subnets={} leases={}", cfg_->subnets6.size(), *loaded);
    return {};
}

Result<void> Daemon::start() {
    // Blocked before any thread starts, so every thread inherits the mask and
    // the signals reach only the event loop's signalfd.
    sigemptyset(&signals_);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR2}) sigaddset(&signals_, sig);
    pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
    // The dhcp-script helper: a copy of this process while it has one
    // thread and every privilege (a script runs as root, as dnsmasq's).
    auto hooks = Hooks::start(*cfg_);
    if (!hooks) return Err(hooks.error());
    hooks_ = std::move(hooks.value());

    if (auto r = open_store(); !r) return r;
    auto runtime = store_->load_reservations();
    if (!runtime) return Err(runtime.error());
    auto pipeline = CommitPipeline::open(
        *store_, engine_->leases(), [this](size_t si, const dhcp::Reply& r) { dhcp_.send(si, r); },
        [] { spdlog::info("lease commit thread: {}", drop_capabilities(Keep::Nothing)); });
    if (!pipeline) return Err(pipeline.error());
    pipeline_ = std::move(pipeline.value());
    dhcp_.set_pipeline(pipeline_.get());
    if (hooks_) pipeline_->set_on_stored([this](auto& batch) { hooks_->on_stored(batch); });
    // Row by row into the table: the rows are never all in memory twice.
    engine_->leases().begin_load();
    auto loaded = store_->load_each([this](lease::Lease&& l) {
        pipeline_->loaded(l.ip, l.version);
        engine_->leases().put(l);
    });
    engine_->leases().end_load();
    if (!loaded) return Err(loaded.error());
    // The stored run-time reservations join the file's configuration along
    // the one path every change takes (nothing to write: they are stored).
    if (auto r = change_config(ConfigChange{file_cfg_, std::move(runtime.value()), {}}); !r) return r;
    engine_->leases().take_dirty();
    spdlog::info("leases store={} loaded={}", store_->describe(), *loaded);
    if (auto r = start_watcher(); !r) return r;
    // What SQLite and the load freed (its page cache, the table's
    // rehashing) goes back to the system rather than stays with malloc.
    malloc_trim(0);

    auto ifaces = check_interfaces(*cfg_);
    if (!ifaces) return Err(ifaces.error());
    std::vector<IfaceInfo> with_sockets;  // DHCPv4: interfaces with an IPv4 address
    for (auto& i : *ifaces)
        if (!i.kernel_only && !i.addr.is_zero()) with_sockets.push_back(i);
    if (auto r = dhcp_.open(with_sockets, cfg_->has_proxy()); !r) return r;
    if (auto r = start_dhcp6(*ifaces); !r) return r;
    others_.configure(*cfg_, served_addrs());
    if (hooks_) {
        hooks_->configure(*cfg_, dhcp_.sockets());
        hooks_->loaded(engine_->leases());  // "old" for each, once the interfaces are known
        dhcp_.set_ack_observer([this](auto& sock, auto& req, auto& ack) {
            hooks_->on_ack(*cfg_, sock, req, ack.packet.yiaddr);
        });
        file_events_->add(hooks_->file_observer());
    }
    dhcp_.set_debug(spdlog::should_log(spdlog::level::debug));
    // The XDP program: on the DHCPv4 interfaces, and on IPv6-only ones that
    // serve a [[subnet6]] (DHCPv4 is passed there: map_sync.cpp v4_off).
    std::vector<IfaceInfo> attach;
    for (auto& i : *ifaces) {
        bool v6 = std::any_of(dhcp6_.sockets().begin(), dhcp6_.sockets().end(), [&](auto& k) {
            return k.link.name == i.name && dhcp6::link_subnet(*cfg_, k.link.addrs).first;
        });
        if (!i.addr.is_zero() || i.kernel_only || v6) attach.push_back(i);
    }
    if (auto r = fast_path_.start(cfg_->xdp, attach); !r) return r;
    if (auto r = sync_maps(int64_t(std::time(nullptr))); !r) return r;
    std::vector<IfaceInfo> with_files;  // TFTP and HTTP: every interface with sockets, IPv6-only ones too
    for (auto& i : *ifaces)
        if (!i.kernel_only) with_files.push_back(i);
    if (auto r = files_.start(*cfg_, with_files, [this] { return to_prometheus(snapshot()); },
                                file_events_->empty() ? nullptr : file_events_,
                                cfg_->status_page ? status_source(*this, calls_) : nullptr);
        !r)
        return r;

    auto control = control::Server::open(cfg_->control_socket, cfg_->control_group,
                                         [this](const control::Request& r) { return dispatch(*this, r); });
    if (!control) return Err(control.error());
    control_ = std::move(control.value());
    spdlog::info("control socket={} group={}", control_->path(), cfg_->control_group);
    // Everything privileged is done: sockets bound, XDP attached, maps pinned.
    spdlog::info("main thread: {}", drop_capabilities(Keep::ControlPlane, fast_path_.behind_dispatcher()));
    started_at_ = int64_t(std::time(nullptr));
    return {};
}

}  // namespace pxed::daemon
