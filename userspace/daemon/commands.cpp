// The command table, the commands that report (stats, status) and reload.
#include "daemon/commands.h"

#include <unistd.h>

#include <array>
#include <ctime>

#include "daemon/command_args.h"
#include "daemon/daemon.h"
#include "pxed/version.h"

namespace pxed::daemon {

using nlohmann::json;

namespace {

json cmd_stats(Daemon& d, const control::Request&) { return to_json(d.snapshot()); }

// The store, and with a shared one every node's view of it.
json lease_db_status(const Daemon& d) {
    json j{{"up", d.db_up()}};
    if (!d.db_up() && !d.db_error().empty()) j["error"] = d.db_error();
    if (!d.shared_store()) return j;
    j["node"] = d.node_name();
    j["last_sync"] = d.last_sync();
    json nodes = json::array();
    for (auto& n : d.db_nodes())
        nodes.push_back(json{{"name", n.name},
                             {"connected_since", n.connected_since},
                             {"last_sync", n.last_sync},
                             {"last_seen", n.last_seen},
                             {"leases_applied", n.leases_applied},
                             {"reservations", n.reservations}});
    j["nodes"] = nodes;
    return j;
}

json cmd_status(Daemon& d, const control::Request&) {
    json ifs = json::array();
    for (auto& s : d.dhcp().sockets()) {
        json i{{"name", s.info().name}, {"ifindex", s.info().ifindex}, {"address", s.info().addr.str()},
               {"mac", s.info().mac.str()}, {"xdp_mode", "off"}, {"xdp_prog_id", nullptr},
               {"pinned_maps", nullptr}};
        if (auto x = d.fast_path().status(s.info().name)) {
            i["xdp_mode"] = x->mode;
            i["xdp_prog_id"] = x->prog_id;
            i["pinned_maps"] = x->pin_dir;
        }
        ifs.push_back(i);
    }
    json counts = json::object();
    for (auto& [ip, l] : d.engine().leases().all()) {
        std::string state(lease::to_string(l.state));
        counts[state] = counts.value(state, 0) + 1;
    }
    auto& cfg = d.cfg();
    return json{{"version", PXED_VERSION},
                {"pid", getpid()},
                {"uptime_s", now_s() - d.started_at()},
                {"config", d.source().path},
                {"lease_db", d.store().describe()},
                {"lease_database", lease_db_status(d)},
                {"leases", counts},
                {"reservations", cfg.reservations.size()},
                {"interfaces", ifs},
                {"tftp_root", cfg.tftp_root},
                {"http_port", d.http_running() ? json(cfg.http_port) : json(nullptr)},
                {"control_socket", d.control() ? d.control()->path() : ""}};
}

json cmd_reload(Daemon& d, const control::Request&) {
    auto r = d.reload();
    if (!r) fail("reload refused, the running configuration stays: " + r.error());
    return json{{"message", *r}};
}

constexpr std::array kCommands{
    Command{"lease-list", cmd_lease_list, "leases and reservations, filtered by subnet and state"},
    Command{"lease-show", cmd_lease_show, "one lease or reservation, by MAC or address"},
    Command{"lease-add", cmd_lease_add, "a dynamic lease, or a reservation in force in the kernel at once"},
    Command{"lease-del", cmd_lease_del, "delete a lease or a run-time reservation"},
    Command{"lease-release", cmd_lease_release, "release a bound lease as the client would"},
    Command{"stats", cmd_stats, "counters of the daemon, the kernel path, TFTP and HTTP"},
    Command{"status", cmd_status, "version, interfaces, XDP attachment, lease counts"},
    Command{"reload", cmd_reload, "re-read the configuration file (as SIGHUP)"},
    Command{"trace", cmd_trace, "one machine's boot trace: DHCP (kernel and daemon), TFTP, HTTP", false},
    Command{"boots", cmd_boots, "the boots in progress and recently seen, with their trace", false},
};

}  // namespace

std::span<const Command> commands() { return kCommands; }

json dispatch(Daemon& d, const control::Request& r) {
    for (auto& c : kCommands) {
        if (c.name != r.command) continue;
        // Commands read and write the store: every commit under way finishes
        // first (and the answers it held leave), and theirs are synchronous.
        if (c.flush) d.flush_sync();
        return c.run(d, r);
    }
    std::string names;
    for (auto& c : kCommands) names += (names.empty() ? "" : ", ") + std::string(c.name);
    fail("unknown command '" + r.command + "' (known: " + names + ")");
}

}  // namespace pxed::daemon
