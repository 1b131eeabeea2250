// The boot trace's commands: one machine's timeline (pxectl trace), the
// boots in progress and recently seen (pxectl watch, /status).
#include "daemon/command_args.h"
#include "daemon/commands.h"
#include "daemon/daemon.h"
#include "trace/report.h"

namespace pxed::daemon {

using nlohmann::json;

namespace {

void require_trace(Daemon& d) {
    if (!d.cfg().boot_trace)
        fail("the boot trace is off (boot-trace = false in " + d.cfg().source + "): turn it on and reload");
}

uint64_t uint_arg(const control::Request& r, const char* name, uint64_t def, uint64_t max) {
    if (!r.args.contains(name)) return def;
    auto& v = r.args[name];
    if (!v.is_number_unsigned() || v.get<uint64_t>() > max)
        fail(std::string(name) + " " + v.dump() + " must be a number from 0 to " + std::to_string(max));
    return v.get<uint64_t>();
}

// The machine's lease: the one on its last known address, if it is its own.
const lease::Lease* lease_of(Daemon& d, const trace::Machine& m) {
    if (!m.mac || m.address.is_zero()) return nullptr;
    auto* l = d.engine().leases().by_ip(m.address);
    return l && l->mac == *m.mac ? l : nullptr;
}

}  // namespace

json cmd_trace(Daemon& d, const control::Request& r) {
    require_trace(d);
    std::string who = arg_str(r, "client");
    auto& bt = d.boot_trace();
    auto& rec = *bt.recorder();
    std::optional<trace::Machine> m;
    if (auto mac = Mac::parse(who)) {
        bt.pull_one(d.fast_path(), *mac);
        m = rec.machine(*mac);
    } else if (auto ip = Ipv4::parse(who)) {
        if (auto mac = rec.mac_at(*ip)) {
            bt.pull_one(d.fast_path(), *mac);
            m = rec.machine(*mac);
        } else {
            m = rec.machine_at(*ip);
        }
    } else {
        fail("'" + who + "' is neither a MAC address (52:54:00:12:34:56) nor an IPv4 address");
    }
    if (!m)
        fail("no boot trace for " + who + ": pxed has not seen it since it started, or it was forgotten (the trace "
             "keeps the " + std::to_string(rec.limits().machines) + " most recently active machines)");
    json j = machine_json(*m);
    if (auto* l = lease_of(d, *m)) j["lease"] = lease_json(*l, d.cfg());
    return j;
}

json boots_json(Daemon& d, int64_t since_s, size_t max) {
    int64_t now = trace::wall_us();
    d.boot_trace().pull(d.fast_path());
    auto machines = d.boot_trace().recorder()->recent(now - since_s * 1'000'000, max, d.cfg().boot_trace_events);
    json boots = json::array();
    for (auto& m : machines) {
        json b = boot_json(m, now);
        if (auto* l = lease_of(d, m); l && !l->hostname.empty()) b["hostname"] = l->hostname;
        boots.push_back(std::move(b));
    }
    return json{{"now_us", now}, {"boots", boots}};
}

json cmd_boots(Daemon& d, const control::Request& r) {
    require_trace(d);
    return boots_json(d, int64_t(uint_arg(r, "since_s", 3600, 86400 * 30)), size_t(uint_arg(r, "max", 200, 100000)));
}

}  // namespace pxed::daemon
