// pxectl: administers a running pxed through its control socket.
// Exit codes: 0 ok, 1 error, 2 usage.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

#include "cli/trace_view.h"
#include "control/control.h"
#include "pxed/version.h"

using nlohmann::json;

namespace {

struct Failure {
    std::string message;
};

// One request, one response line.
json call(const std::string& path, const std::string& command, const json& args) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path.size() >= sizeof a.sun_path) throw Failure{"socket path " + path + " is too long"};
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        int e = errno;
        close(fd);
        if (e == ENOENT || e == ECONNREFUSED)
            throw Failure{"pxed is not running (no control socket at " + path + "): start it, or pass --socket"};
        if (e == EACCES)
            throw Failure{"permission denied on " + path + ": run as root or as a member of the pxed group"};
        throw Failure{"cannot connect to " + path + ": " + std::strerror(e)};
    }
    timeval tv{30, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string req = json{{"version", pxed::control::kProtocolVersion}, {"command", command}, {"args", args}}.dump() + "\n";
    // pxed may answer before the request is read (a refusal) and close: then
    // the send fails, but the answer is waiting to be read.
    std::string send_error;
    if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size())) send_error = std::strerror(errno);
    std::string resp;
    char buf[4096];
    while (resp.find('\n') == std::string::npos) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        resp.append(buf, size_t(n));
    }
    close(fd);
    if (resp.empty() && !send_error.empty()) throw Failure{"cannot send to pxed: " + send_error};
    json j = json::parse(resp, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw Failure{"pxed sent no valid answer"};
    if (!j.value("ok", false)) throw Failure{j.value("error", std::string("unknown error"))};
    return j.value("data", json());
}

std::string cell(const json& v) {
    if (v.is_null()) return "-";
    if (v.is_string()) return v.get<std::string>().empty() ? "-" : v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
    return v.dump();
}

std::string when(const json& v) {
    if (v.is_number_integer()) {
        time_t t = v.get<int64_t>();
        char b[32];
        std::strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
        return b;
    }
    return cell(v);
}

void print_leases(const json& list) {
    // IPv6 addresses and prefixes widen their columns.
    int aw = 16, sw = 18;
    for (auto& l : list) {
        aw = std::max(aw, int(cell(l["ip"]).size()) + 1);
        sw = std::max(sw, int(cell(l["subnet"]).size()) + 1);
    }
    std::printf("%-*s %-18s %-9s %-20s %-*s %-8s %s\n", aw, "ADDRESS", "MAC", "STATE", "EXPIRES", sw, "SUBNET", "SOURCE",
                "HOSTNAME");
    for (auto& l : list) {
        std::printf("%-*s %-18s %-9s %-20s %-*s %-8s %s\n", aw, cell(l["ip"]).c_str(), cell(l["mac"]).c_str(),
                    cell(l["state"]).c_str(), when(l["expires"]).c_str(), sw, cell(l["subnet"]).c_str(),
                    cell(l["source"]).c_str(), cell(l["hostname"]).c_str());
        if (l.contains("duid")) std::printf("  duid %s iaid %s\n", cell(l["duid"]).c_str(), cell(l["iaid"]).c_str());
        if (l.contains("conflict")) std::printf("  reservation deferred: %s\n", cell(l["conflict"]).c_str());
    }
}

void print_object(const json& j, const std::string& indent = "") {
    for (auto& [k, v] : j.items()) {
        if (v.is_object()) {
            std::printf("%s%s:\n", indent.c_str(), k.c_str());
            print_object(v, indent + "  ");
        } else if (v.is_array()) {
            std::printf("%s%s:\n", indent.c_str(), k.c_str());
            for (auto& e : v) {
                if (e.is_object()) {
                    print_object(e, indent + "  - ");
                } else {
                    std::printf("%s  - %s\n", indent.c_str(), cell(e).c_str());
                }
            }
        } else {
            std::printf("%s%-22s %s\n", indent.c_str(), k.c_str(), cell(v).c_str());
        }
    }
}

// status: the generic listing, but a shared lease database's nodes as a
// table with their times (when each last applied a change, last reported).
void print_status(json j) {
    auto when = [](const json& v) { return v.is_number_integer() && v.get<int64_t>() == 0 ? std::string("-") : ::when(v); };
    json nodes = json::array();
    if (j.contains("lease_database") && j["lease_database"].contains("nodes")) {
        auto& db = j["lease_database"];
        nodes = db["nodes"];
        db.erase("nodes");
        db["last_sync"] = when(db["last_sync"]);
    }
    print_object(j);
    if (nodes.empty()) return;
    std::printf("lease database nodes:\n  %-20s %-20s %-20s %-20s %8s %6s\n", "NODE", "CONNECTED SINCE", "LAST SYNC",
                "LAST SEEN", "APPLIED", "RESV");
    for (auto& n : nodes)
        std::printf("  %-20s %-20s %-20s %-20s %8s %6s\n", cell(n["name"]).c_str(), when(n["connected_since"]).c_str(),
                    when(n["last_sync"]).c_str(), when(n["last_seen"]).c_str(), cell(n["leases_applied"]).c_str(),
                    cell(n["reservations"]).c_str());
}

// Other DHCP servers whose replies the XDP program received: one line per
// server (id, MAC, VLAN, counts, age), one with what its last reply held.
void print_other_servers(const json& list) {
    if (list.empty()) {
        std::printf("Other DHCP servers  none seen\n");
        return;
    }
    std::printf("Other DHCP servers  %zu seen (their replies reached pxed's interfaces)\n", list.size());
    for (auto& o : list) {
        std::string vlan = o.value("vlan", 0) ? "vlan " + cell(o["vlan"]) +
                                                    (o.value("inner_vlan", 0) ? "." + cell(o["inner_vlan"]) : "")
                                              : "untagged";
        std::printf("  %-8s %-15s MAC %s %s  OFFER %s ACK %s NAK %s  last %s s ago%s\n", cell(o["interface"]).c_str(),
                    cell(o["server"]).c_str(), cell(o["mac"]).c_str(), vlan.c_str(), cell(o["offers"]).c_str(),
                    cell(o["acks"]).c_str(), cell(o["naks"]).c_str(), cell(o["last_seen_s_ago"]).c_str(),
                    o.value("relayed", false) ? ", through a relay" : "");
        std::string sent = "last " + cell(o["last_type"]) + " yiaddr " + cell(o["yiaddr"]) + " siaddr " + cell(o["siaddr"]);
        if (!o["vendor_class"].is_null()) sent += ", option 60 \"" + o["vendor_class"].get<std::string>() + "\"";
        if (!o["option43_len"].is_null())
            sent += ", option 43 (" + cell(o["option43_len"]) + " bytes" + (o.value("option43_pxe", false) ? ", PXE" : "") + ")";
        if (!o["tftp_server"].is_null()) sent += ", TFTP server \"" + o["tftp_server"].get<std::string>() + "\"";
        if (!o["boot_file"].is_null())
            sent += ", boot file \"" + o["boot_file"].get<std::string>() + "\" (" + cell(o["boot_file_from"]) + ")";
        std::printf("      %s\n", sent.c_str());
    }
}

void print_stats(const json& j) {
    auto& d = j["dhcp"];
    std::printf("DHCP received      ");
    for (auto& [k, v] : d["received"].items()) std::printf(" %s %s", k.c_str(), cell(v).c_str());
    std::printf("\nDHCP replies        daemon: OFFER %s ACK %s NAK %s   kernel (XDP): OFFER %s ACK %s\n",
                cell(d["sent"]["daemon"]["OFFER"]).c_str(), cell(d["sent"]["daemon"]["ACK"]).c_str(),
                cell(d["sent"]["daemon"]["NAK"]).c_str(), cell(d["sent"]["kernel"]["OFFER"]).c_str(),
                cell(d["sent"]["kernel"]["ACK"]).c_str());
    std::printf("DHCP not answered   parse errors %s, pool exhausted %s, ignored by policy %s, rate-limited per client "
                "%s, per relay %s\n",
                cell(d["parse_errors"]).c_str(), cell(d["pool_exhausted"]).c_str(), cell(d["ignored"]).c_str(),
                cell(d["rate_limited_client"]).c_str(), cell(d["rate_limited_relay"]).c_str());
    if (auto& db = j["lease_db"]; db.is_object())
        std::printf("lease database      %s, store unavailable (requests dropped) %s, failed commits %s, ACKs lost to "
                    "another server %s\n",
                    db["up"].is_boolean() && db["up"].get<bool>() ? "up" : "DOWN", cell(d["store_unavailable"]).c_str(),
                    cell(db["failed_commits"]).c_str(), cell(db["lost_to_other_servers"]).c_str());
    if (auto& p = d["proxy"]; p.is_object())
        std::printf("proxyDHCP           daemon: OFFER %s ACK %s   kernel (XDP): OFFER %s ACK %s   not PXE %s, "
                    "nothing to boot %s\n",
                    cell(p["daemon"]["OFFER"]).c_str(), cell(p["daemon"]["ACK"]).c_str(),
                    cell(p["kernel"]["OFFER"]).c_str(), cell(p["kernel"]["ACK"]).c_str(), cell(p["not_pxe"]).c_str(),
                    cell(p["nothing_to_boot"]).c_str());
    if (auto& d6 = j["dhcp6"]; d6.is_object()) {
        std::printf("DHCPv6 received    ");
        for (auto& [k, v] : d6["received"].items()) std::printf(" %s %s", k.c_str(), cell(v).c_str());
        std::printf("\nDHCPv6 replies       ADVERTISE %s REPLY %s   no addresses %s\nDHCPv6 dropped     ",
                    cell(d6["sent"]["ADVERTISE"]).c_str(), cell(d6["sent"]["REPLY"]).c_str(), cell(d6["no_addrs"]).c_str());
        for (auto& [k, v] : d6["dropped"].items())
            if (v.is_number() && v.get<uint64_t>() != 0) std::printf(" %s %s", k.c_str(), cell(v).c_str());
        std::printf("\n");
    }
    for (auto& [iface, x] : j["xdp"].items()) {
        std::printf("XDP %-15s", iface.c_str());
        for (auto& [k, v] : x.items())
            if (v.is_number() && v.get<uint64_t>() != 0) std::printf(" %s %s", k.c_str(), cell(v).c_str());
        std::printf("\n");
    }
    if (auto& o = j["other_dhcp_servers"]; o.is_array()) print_other_servers(o);
    if (j.contains("tftp")) {
        auto& t = j["tftp"];
        std::printf("TFTP                requests %s, completed %s, failed %s, active %s, bytes %s, retransmissions %s\n",
                    cell(t["requests"]).c_str(), cell(t["completed"]).c_str(), cell(t["failed"]).c_str(),
                    cell(t["active"]).c_str(), cell(t["bytes"]).c_str(), cell(t["retransmissions"]).c_str());
        std::printf("TFTP not served     errors sent %s, ignored (not a request) %s, over session limits %s\n",
                    cell(t["errors_sent"]).c_str(), cell(t["ignored"]).c_str(), cell(t["busy"]).c_str());
    }
    if (j.contains("http")) {
        auto& h = j["http"];
        std::printf("HTTP                requests %s, files %s, bytes %s, not found %s, refused %s\n",
                    cell(h["requests"]).c_str(), cell(h["files"]).c_str(), cell(h["bytes"]).c_str(),
                    cell(h["not_found"]).c_str(), cell(h["refused"]).c_str());
    }
    if (auto& k = j["dhcp_script"]; k.is_object())
        std::printf("dhcp-script         queued %s, run %s, failed %s, dropped %s, waiting %s\n", cell(k["queued"]).c_str(),
                    cell(k["run"]).c_str(), cell(k["failed"]).c_str(), cell(k["dropped"]).c_str(),
                    cell(k["waiting"]).c_str());
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"pxectl: administer a running pxed", "pxectl"};
    app.set_version_flag("-V,--version", "pxectl " PXED_VERSION);
    app.require_subcommand(1);
    // Global flags go on the app; every subcommand (created below, so they
    // inherit this) hands options it does not know up to its parent, so
    // `pxectl lease list --json -s PATH` works as well as `pxectl --json lease list`.
    app.fallthrough();
    bool as_json = false;
    std::string sock = pxed::control::kDefaultSocket;
    app.add_flag("--json", as_json, "machine-readable output");
    app.add_option("-s,--socket", sock, "control socket of pxed")->capture_default_str();

    auto* lease = app.add_subcommand("lease", "leases and reservations");
    lease->require_subcommand(1);
    std::string subnet, state, key, mac, ip, hostname, lease_time;
    bool is_static = false;
    auto* list = lease->add_subcommand("list", "list leases and reservations");
    list->add_option("--subnet", subnet, "only this subnet (CIDR)");
    list->add_option("--state", state, "static, bound, offered, released or declined");
    auto* show = lease->add_subcommand("show", "one lease or reservation");
    show->add_option("key", key, "MAC or IP address")->required();
    auto* add = lease->add_subcommand("add", "add a lease; with --static a reservation answered in the kernel");
    add->add_option("mac", mac, "MAC address")->required();
    add->add_option("ip", ip, "IPv4 address")->required();
    add->add_option("--hostname", hostname, "hostname (option 12)");
    add->add_option("--lease-time", lease_time, "seconds, or infinite");
    add->add_flag("--static", is_static, "a reservation: durable, in the XDP map at once");
    auto* del = lease->add_subcommand("del", "delete a lease or a reservation added with pxectl");
    del->add_option("key", key, "MAC or IP address")->required();
    auto* rel = lease->add_subcommand("release", "release a bound lease");
    rel->add_option("key", key, "MAC or IP address")->required();
    auto* stats = app.add_subcommand("stats", "DHCP by type and path, XDP pass reasons, TFTP and HTTP");
    auto* status = app.add_subcommand("status", "interfaces, XDP mode and program, maps, lease database, uptime");
    auto* reload = app.add_subcommand("reload", "re-read the configuration (an invalid one is refused)");
    std::string client;
    auto* trace = app.add_subcommand("trace", "one machine's boot: DHCP (kernel and daemon), TFTP and HTTP files");
    trace->add_option("client", client, "MAC or IP address")->required();
    pxectl::WatchOptions wo;
    long since_s = 3600;
    auto* watch = app.add_subcommand("watch", "boots in progress, live: a line per machine, a bar per transfer");
    watch->add_option("--interval", wo.interval_s, "seconds between updates")->capture_default_str()->check(
        CLI::Range(0.1, 60.0));
    watch->add_option("--count", wo.count, "stop after this many updates (0: at Ctrl-C)")->check(CLI::Range(0L, 1000000L));
    watch->add_flag("--once", wo.once, "print the list once and exit");
    watch->add_option("--since", since_s, "machines seen in the last this many seconds")->capture_default_str()->check(
        CLI::Range(1L, 86400L * 30));

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }

    try {
        json out;
        if (list->parsed()) {
            json args = json::object();
            if (!subnet.empty()) args["subnet"] = subnet;
            if (!state.empty()) args["state"] = state;
            out = call(sock, "lease-list", args);
            if (!as_json) print_leases(out);
        } else if (show->parsed()) {
            out = call(sock, "lease-show", {{"key", key}});
            if (!as_json) print_object(out);
        } else if (add->parsed()) {
            json args{{"mac", mac}, {"ip", ip}, {"static", is_static}};
            if (!hostname.empty()) args["hostname"] = hostname;
            if (!lease_time.empty()) {
                if (lease_time == "infinite") {
                    args["lease_time"] = "infinite";
                } else {
                    char* end = nullptr;
                    unsigned long v = std::strtoul(lease_time.c_str(), &end, 10);
                    if (!end || *end || lease_time.empty()) {
                        std::fprintf(stderr, "pxectl: --lease-time '%s' must be seconds or infinite\n", lease_time.c_str());
                        return 2;
                    }
                    args["lease_time"] = v;
                }
            }
            out = call(sock, "lease-add", args);
            if (!as_json) print_object(out);
        } else if (del->parsed()) {
            out = call(sock, "lease-del", {{"key", key}});
            if (!as_json) std::printf("deleted %s\n", cell(out["deleted"]).c_str());
        } else if (rel->parsed()) {
            out = call(sock, "lease-release", {{"key", key}});
            if (!as_json) std::printf("released %s\n", cell(out["released"]).c_str());
        } else if (stats->parsed()) {
            out = call(sock, "stats", json::object());
            if (!as_json) print_stats(out);
        } else if (status->parsed()) {
            out = call(sock, "status", json::object());
            if (!as_json) print_status(out);
        } else if (trace->parsed()) {
            out = call(sock, "trace", {{"client", client}});
            if (!as_json) pxectl::print_trace(out);
        } else if (watch->parsed()) {
            wo.json = as_json;
            return pxectl::watch([&] { return call(sock, "boots", {{"since_s", since_s}}); }, wo);
        } else if (reload->parsed()) {
            out = call(sock, "reload", json::object());
            if (!as_json) std::printf("%s\n", cell(out["message"]).c_str());
        }
        if (as_json) std::printf("%s\n", out.dump(2).c_str());
        return 0;
    } catch (const Failure& f) {
        std::fprintf(stderr, "pxectl: %s\n", f.message.c_str());
        return 1;
    }
}
