// dnsmasq.conf front end: the directives of the PXE set-ups people run
// become pxed's policy model (classes, typed options, hosts). What pxed
// cannot express is refused with its file:line and why; options that only
// concern dnsmasq's DNS side or logging are ignored with a note naming
// their line, so nothing is silently dropped. Tags: dnsmasq_tags.cpp;
// option values: dnsmasq_options.cpp; ranges: dnsmasq_ranges.cpp; PXE
// menus and proxyDHCP: dnsmasq_pxe.cpp.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "config/config.h"
#include "config/dnsmasq_fields.h"
#include "config/dnsmasq_import.h"
#include "config/option_value.h"

namespace pxed::config {

namespace {

using namespace dnsmasq;

const std::set<std::string> kIgnoredDns = {
    "port", "no-resolv", "no-hosts", "no-poll", "server", "local", "domain-needed", "bogus-priv", "expand-hosts",
    "addn-hosts", "cache-size", "listen-address", "resolv-file", "strict-order", "all-servers", "address",
    "no-negcache", "dns-forward-max", "local-ttl",
};
const std::set<std::string> kIgnoredOther = {
    "bind-interfaces", "bind-dynamic", "log-dhcp", "log-queries", "log-facility", "user", "group", "pid-file",
    "keep-in-foreground", "no-daemon", "dhcp-no-override", "dhcp-rapid-commit", "tftp-secure", "tftp-no-blocksize",
    "tftp-lowercase", "dhcp-sequential-ip", "log-async", "dhcp-lease-max", "tftp-port-range", "tftp-unique-root",
    "except-interface", "no-dhcp-interface",
};
// Directives whose effect pxed does not have: refused, not ignored.
const std::set<std::string> kRefused = {
    "dhcp-option-pxe", "conf-dir", "dhcp-subscrid", "dhcp-name-match", "dhcp-ignore-names",
    "dhcp-generate-names", "dhcp-broadcast", "dhcp-reply-delay", "dhcp-hostsdir", "dhcp-optsdir",
    "read-ethers", "dhcp-proxy", "dhcp-relay", "tftp-no-fail",
};

struct Line {
    std::string where, key, val;
};

std::string slurp(const std::string& path, const std::string& where) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) fail(where + ": " + path + " is not a readable file");
    if (std::filesystem::file_size(path, ec) > (16u << 20)) fail(where + ": " + path + " is larger than 16 MiB");
    std::ifstream in(path);
    if (!in) fail(where + ": cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A path a directive names: as written if absolute, else beside the file
// that names it.
std::string beside(const std::string& src, const std::string& path) {
    if (path.empty() || path[0] == '/') return path;
    return (std::filesystem::path(src).parent_path() / path).string();
}

// The lines of `text` as key/value, comments and blanks dropped;
// conf-file=... read in place (dnsmasq reads it where it appears).
void read_lines(const std::string& text, const std::string& src, std::vector<Line>& out, int depth) {
    std::istringstream in(text);
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
        lineno++;
        std::string where = src + ":" + std::to_string(lineno);
        bool q = false;
        for (size_t i = 0; i < line.size(); i++) {  // '#' starts a comment outside quotes
            if (line[i] == '"') q = !q;
            if (line[i] == '#' && !q) { line.resize(i); break; }
        }
        auto b = line.find_first_not_of(" \t\r");
        if (b == std::string::npos) continue;
        line = line.substr(b, line.find_last_not_of(" \t\r") - b + 1);
        auto eq = line.find('=');
        Line l{where, line.substr(0, eq), eq == std::string::npos ? "" : line.substr(eq + 1)};
        if (l.key == "conf-file") {
            if (depth > 8) fail(where + ": conf-file nested too deep");
            std::string path = beside(src, l.val);
            read_lines(slurp(path, where), path, out, depth + 1);
            continue;
        }
        out.push_back(std::move(l));
    }
}

// Lines of a dhcp-hostsfile or dhcp-optsfile: one value each.
std::vector<Line> value_lines(const std::string& path, const std::string& where) {
    std::vector<Line> out;
    read_lines(slurp(path, where), path, out, 9);
    for (auto& l : out)
        if (l.val.empty() && l.key.find('=') == std::string::npos) l.val = l.key;  // no '=': the whole line
        else l.val = l.key + "=" + l.val;
    return out;
}

void host_line(State& st, const std::string& where, const std::string& val) {
    std::vector<Field> f = split_fields(val);
    std::optional<Mac> mac;
    std::optional<Ipv4> ip;
    std::optional<uint32_t> lease;
    std::string name;
    std::vector<std::string> tags;
    bool ignore = false;
    for (auto& fld : f) {
        const std::string& x = fld.text;
        if (x.empty()) continue;
        if (x.rfind("set:", 0) == 0 || x.rfind("net:", 0) == 0) tags.push_back(x.substr(4));
        else if (x.rfind("tag:", 0) == 0)
            fail(where + ": dhcp-host " + x + ": a host entry that applies only to tagged requests is not supported");
        else if (x.rfind("id:", 0) == 0)
            fail(where + ": dhcp-host " + x + ": client-id hosts are not supported (pxed knows hosts by MAC)");
        else if (x == "ignore") ignore = true;
        else if (x[0] == '[') st.warn(where + ": dhcp-host IPv6 address " + x + " ignored (pxed serves DHCPv4)");
        else if (auto m = Mac::parse(x)) {
            if (mac) fail(where + ": dhcp-host with several MAC addresses is not supported: one line per MAC");
            mac = m;
        } else if (x.find('*') != std::string::npos && x.find(':') != std::string::npos)
            fail(where + ": dhcp-host MAC wildcard '" + x + "' is not supported (use dhcp-mac and a tag)");
        else if (auto a = Ipv4::parse(x)) ip = a;
        else if (auto lt = lease_time(x)) lease = lt;
        else if (x.find(':') != std::string::npos)
            fail(where + ": dhcp-host field '" + x + "' is not supported");
        else name = x;
    }
    if (!mac) fail(where + ": dhcp-host '" + val + "' has no MAC address");
    for (auto& t : tags) {
        st.host_tags.insert(t);
        st.tag_where.emplace(t, where);
    }
    if (ignore || !ip) {
        if (lease) st.warn(where + ": dhcp-host lease time without an address: pxed uses the subnet's");
        Host h;
        h.mac = *mac;
        h.hostname = name;
        h.classes = tags;
        h.ignore = ignore;
        if (ignore && ip) st.warn(where + ": dhcp-host ignore: the address " + ip->str() + " is never given out");
        st.cfg.hosts.push_back(h);
        return;
    }
    Reservation r;
    r.mac = *mac;
    r.ip = *ip;
    r.hostname = name;
    r.lease_time = lease;
    r.classes = tags;
    st.cfg.reservations.push_back(r);
}

void boot_line(State& st, const std::string& where, const std::string& val) {
    std::vector<Field> f = split_fields(val);
    BootLine b;
    b.where = where;
    b.line = ++st.line;
    b.cond = take_cond(f, nullptr, where);
    if (f.empty() || f[0].text.empty()) fail(where + ": dhcp-boot needs a file name");
    b.file = f[0].text;
    if (f.size() >= 2) b.sname = f[1].text;
    if (f.size() >= 3 && !f[2].text.empty()) {
        auto ip = Ipv4::parse(f[2].text);
        if (!ip) fail(where + ": dhcp-boot server '" + f[2].text + "' is not an IPv4 address (names need DNS)");
        b.server = ip;
    }
    if (f.size() > 3) fail(where + ": dhcp-boot '" + val + "' has fields after the server address");
    st.boots.push_back(b);
}

void directive(State& st, const Line& l, const std::string& src) {
    const std::string& key = l.key;
    const std::string& where = l.where;
    const std::string& val = l.val;
    Config& cfg = st.cfg;
    if (key == "interface") {
        // read in the first pass
    } else if (key == "dhcp-range") {
        range_line(st, where, val);
    } else if (key == "dhcp-host") {
        host_line(st, where, val);
    } else if (key == "dhcp-hostsfile") {
        for (auto& h : value_lines(beside(src, val), where)) host_line(st, h.where, h.val);
    } else if (key == "dhcp-optsfile") {
        for (auto& o : value_lines(beside(src, val), where)) option_line(st, o.where, o.val, false);
    } else if (key == "dhcp-boot") {
        boot_line(st, where, val);
    } else if (key == "dhcp-option" || key == "dhcp-option-force") {
        option_line(st, where, val, key == "dhcp-option-force");
    } else if (key == "pxe-service" || key == "pxe-prompt") {
        pxe_line(st, key, where, val);
    } else if (tag_line(st, key, where, val)) {
    } else if (key == "dhcp-leasefile") {
        if (val.empty()) fail(where + ": dhcp-leasefile needs a path");
        // dnsmasq's text format is not pxed's: keep a SQLite file beside it.
        cfg.lease_db = val + ".pxed.db";
        st.warn(where + ": dhcp-leasefile: pxed keeps its lease database in " + cfg.lease_db);
    } else if (key == "enable-tftp") {
        // TFTP is served from tftp-root.
    } else if (key == "tftp-root") {
        auto f = split(val, ',');
        if (f.empty() || f[0].empty()) fail(where + ": tftp-root needs a directory");
        if (f.size() > 1) fail(where + ": tftp-root per interface is not supported");
        cfg.tftp_root = f[0];
    } else if (key == "dhcp-script") {
        if (auto r = check_dhcp_script(val); !r) fail(where + ": " + r.error());
        cfg.dhcp_script = val;
    } else if (key == "dhcp-scriptuser") {
        if (auto r = check_script_user(val); !r) fail(where + ": " + r.error());
        cfg.dhcp_script_user = val;
    } else if (key == "script-on-renewal") {
        cfg.script_on_renewal = true;
    } else if (key == "dhcp-authoritative") {
        cfg.authoritative = true;
    } else if (key == "domain") {
        // dnsmasq's domain= is also option 15 unless a dhcp-option sets it.
        auto f = split(val, ',');
        if (f.size() > 1) fail(where + ": domain= per subnet is not supported");
        if (!f.empty() && !f[0].empty()) option_line(st, where + " (domain=)", "15," + f[0], false), st.opts.back().line = 0;
    } else if (kRefused.count(key)) {
        fail(where + ": " + key + " is not supported by pxed");
    } else if (kIgnoredDns.count(key)) {
        st.warn(where + ": " + key + ": ignored (pxed is not a DNS server)");
    } else if (kIgnoredOther.count(key)) {
        st.warn(where + ": " + key + ": ignored (no effect in pxed)");
    } else {
        st.warn(where + ": " + key + ": not supported by pxed, ignored");
    }
}

}  // namespace

Result<Config> parse_dnsmasq(std::string_view text, const std::string& src, const IfaceNetLookup& iface_net,
                             std::vector<std::string>& warnings) {
    State st;
    st.warnings = &warnings;
    Config& cfg = st.cfg;
    cfg.source = src;
    cfg.authoritative = false;  // dnsmasq's default; dhcp-authoritative turns it on
    cfg.lease_db = "/var/lib/pxed/leases.db";
    try {
        std::vector<Line> lines;
        read_lines(std::string(text), src, lines, 0);
        // Interfaces first: "this server" (0.0.0.0, dhcp-boot's default
        // server) is the served interface's address.
        for (auto& l : lines) {
            if (l.key != "interface") continue;
            for (auto& n : split(l.val, ',')) {
                if (n.empty() || n.size() >= 16) fail(l.where + ": interface '" + n + "' is not an interface name");
                cfg.interfaces.push_back(n);
            }
        }
        if (cfg.interfaces.size() == 1 && iface_net)
            if (auto n = iface_net(cfg.interfaces[0])) st.self = n->addr;
        for (auto& l : lines) directive(st, l, src);
        build_subnets(st, iface_net);
        build_subnets6(st);
        build_pxe(st);
        build_classes(st);
        // dnsmasq's default router is itself (when the client asks for 3);
        // a proxy reply carries no router, so only for address ranges.
        bool pools = std::any_of(cfg.subnets.begin(), cfg.subnets.end(), [](auto& s) { return !s.proxy; });
        if (!st.router_set && st.self && pools) {
            cfg.options.push_back(OptionValue{3, encode_ip(*st.self), false});
            st.warn(src + ": no option 3: this server (" + st.self->str() + ") is the router, as dnsmasq makes itself");
        } else if (!st.router_set && pools) {
            st.warn(src + ": no option 3: dnsmasq would name itself the router, pxed sends none");
        }
    } catch (const Error& e) {
        return Err(e.msg);
    }
    auto v = validate(cfg);
    if (!v) return Err(v.error());
    return std::move(st.cfg);
}

Result<Config> load_dnsmasq_file(const std::string& path, const IfaceNetLookup& iface_net,
                                 std::vector<std::string>& warnings) {
    std::ifstream in(path);
    if (!in) return Err("cannot read dnsmasq configuration " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_dnsmasq(ss.str(), path, iface_net, warnings);
}

}  // namespace pxed::config
