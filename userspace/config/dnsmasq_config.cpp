// dnsmasq.conf front end: runs the classic PXE tutorial's /etc/dnsmasq.conf
// as it is. Supported options become a Config; options that only concern
// dnsmasq's DNS side or logging are ignored with a note; anything else is
// named in a warning, with its line, so nothing is silently dropped.
#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "config/config.h"
#include "config/dnsmasq_fields.h"

namespace pxed::config {

namespace {

struct DnsmasqError {
    std::string msg;
};
[[noreturn]] void fail(std::string m) { throw DnsmasqError{std::move(m)}; }

// Which boot slot a tag stands for, from dhcp-match / dhcp-userclass.
enum class Slot { Bios, UefiX64, UefiHttp, Ipxe, Other };

const std::set<std::string> kIgnoredDns = {
    "port", "no-resolv", "no-hosts", "no-poll", "server", "local", "domain-needed", "bogus-priv", "expand-hosts",
    "addn-hosts", "cache-size", "listen-address", "resolv-file", "strict-order", "all-servers", "address",
};
const std::set<std::string> kIgnoredOther = {
    "bind-interfaces", "bind-dynamic", "log-dhcp", "log-queries", "log-facility", "user", "group", "pid-file",
    "conf-dir", "conf-file", "keep-in-foreground", "no-daemon", "dhcp-no-override", "dhcp-rapid-commit", "tftp-secure",
    "tftp-no-blocksize", "tftp-lowercase", "pxe-service", "pxe-prompt",
};

}  // namespace

Result<Config> parse_dnsmasq(std::string_view text, const std::string& src, const IfaceNetLookup& iface_net,
                             std::vector<std::string>& warnings) {
    Config cfg;
    cfg.source = src;
    cfg.authoritative = false;  // dnsmasq's default; dhcp-authoritative turns it on
    cfg.lease_db = "/var/lib/pxed/leases.db";
    std::map<std::string, Slot> tag_slot;
    struct PendingBoot {
        std::string where;
        std::string tag;
        std::string file;
        std::optional<Ipv4> server;
    };
    std::vector<PendingBoot> boots;
    struct PendingRange {
        std::string where;
        Ipv4 start, end;
        std::optional<Ipv4> mask;
        uint32_t lease = 3600;
        std::string iface;
    };
    std::vector<PendingRange> ranges;
    std::optional<Ipv4> router;
    std::vector<Ipv4> dns;
    std::string domain;

    try {
        std::istringstream in{std::string(text)};
        std::string line;
        int lineno = 0;
        while (std::getline(in, line)) {
            lineno++;
            std::string where = src + ":" + std::to_string(lineno);
            auto hash = line.find('#');
            if (hash != std::string::npos) line = line.substr(0, hash);
            auto b = line.find_first_not_of(" \t\r");
            if (b == std::string::npos) continue;
            line = line.substr(b, line.find_last_not_of(" \t\r") - b + 1);
            auto eq = line.find('=');
            std::string key = line.substr(0, eq);
            std::string val = eq == std::string::npos ? "" : line.substr(eq + 1);
            auto f = split(val, ',');

            if (key == "interface") {
                for (auto& n : f) {
                    if (n.empty() || n.size() >= 16) fail(where + ": interface '" + n + "' is not an interface name");
                    cfg.interfaces.push_back(n);
                }
            } else if (key == "dhcp-range") {
                Tags t = take_tags(f);
                PendingRange r;
                r.where = where;
                r.iface = t.interface;
                if (f.size() < 2) fail(where + ": dhcp-range '" + val + "' needs start,end");
                auto s = Ipv4::parse(f[0]);
                if (!s) fail(where + ": dhcp-range start '" + f[0] + "' is not an IPv4 address");
                if (f[1] == "static" || f[1] == "proxy")
                    fail(where + ": dhcp-range mode '" + f[1] + "' is not supported: give start,end of a dynamic pool");
                auto e = Ipv4::parse(f[1]);
                if (!e) fail(where + ": dhcp-range end '" + f[1] + "' is not an IPv4 address");
                r.start = *s;
                r.end = *e;
                for (size_t i = 2; i < f.size(); i++) {
                    if (auto m = Ipv4::parse(f[i])) {
                        if (!r.mask) r.mask = m;  // a broadcast address may follow; ignored
                    } else if (auto lt = lease_time(f[i])) {
                        r.lease = *lt;
                    } else {
                        fail(where + ": dhcp-range field '" + f[i] + "' is neither a netmask nor a lease time");
                    }
                }
                if (!t.set.empty()) warnings.push_back(where + ": dhcp-range set:" + t.set[0] + ": range tags are not supported, ignored");
                ranges.push_back(r);
            } else if (key == "dhcp-host") {
                Tags t = take_tags(f);
                Reservation r;
                bool have_mac = false, have_ip = false;
                for (auto& x : f) {
                    if (auto m = Mac::parse(x); m && !have_mac) {
                        r.mac = *m;
                        have_mac = true;
                    } else if (auto ip = Ipv4::parse(x)) {
                        r.ip = *ip;
                        have_ip = true;
                    } else if (auto lt = lease_time(x)) {
                        r.lease_time = *lt;
                    } else if (x.rfind("id:", 0) == 0 || x == "ignore") {
                        fail(where + ": dhcp-host field '" + x + "' is not supported (only MAC, address, name, lease time)");
                    } else if (!x.empty()) {
                        r.hostname = x;
                    }
                }
                if (!have_mac) fail(where + ": dhcp-host '" + val + "' has no MAC address");
                if (!have_ip) fail(where + ": dhcp-host '" + val + "' has no IPv4 address (pxed reserves addresses by MAC)");
                if (!t.set.empty()) warnings.push_back(where + ": dhcp-host set:" + t.set[0] + ": host tags are not supported, ignored");
                cfg.reservations.push_back(r);
            } else if (key == "dhcp-boot") {
                Tags t = take_tags(f);
                if (f.empty() || f[0].empty()) fail(where + ": dhcp-boot needs a file name");
                PendingBoot pb;
                pb.where = where;
                pb.tag = t.tag.empty() ? "" : t.tag[0];
                pb.file = f[0];
                if (f.size() >= 3) {
                    auto ip = Ipv4::parse(f[2]);
                    if (!ip) fail(where + ": dhcp-boot server address '" + f[2] + "' is not an IPv4 address");
                    pb.server = ip;
                }
                boots.push_back(pb);
            } else if (key == "dhcp-match") {
                Tags t = take_tags(f);
                if (t.set.empty() || f.empty()) fail(where + ": dhcp-match '" + val + "' needs set:TAG,option[,value]");
                const std::string& tag = t.set[0];
                std::string o = f[0];
                if (o == "option:client-arch" || o == "93") {
                    if (f.size() < 2) fail(where + ": dhcp-match " + o + " needs an architecture number");
                    int arch = std::atoi(f[1].c_str());
                    tag_slot[tag] = arch == 0 ? Slot::Bios
                                    : (arch == 7 || arch == 9) ? Slot::UefiX64
                                    : arch == 16 ? Slot::UefiHttp
                                                 : Slot::Other;
                    if (tag_slot[tag] == Slot::Other)
                        warnings.push_back(where + ": client-arch " + f[1] + " has no boot slot in pxed, ignored");
                } else if (o == "175" || o == "option:175" ||
                           ((o == "77" || o == "option:user-class") && f.size() >= 2 && f[1] == "iPXE")) {
                    tag_slot[tag] = Slot::Ipxe;
                } else {
                    warnings.push_back(where + ": dhcp-match " + val + " is not supported, ignored");
                }
            } else if (key == "dhcp-userclass") {
                Tags t = take_tags(f);
                if (!t.set.empty() && !f.empty() && f[0] == "iPXE") tag_slot[t.set[0]] = Slot::Ipxe;
                else warnings.push_back(where + ": dhcp-userclass " + val + " is not supported, ignored");
            } else if (key == "dhcp-option" || key == "dhcp-option-force") {
                Tags t = take_tags(f);
                if (!t.tag.empty() || !t.not_tag.empty()) {
                    warnings.push_back(where + ": tagged dhcp-option '" + val + "' is not supported, ignored");
                    continue;
                }
                if (f.empty()) fail(where + ": dhcp-option needs an option");
                std::string o = f[0];
                auto ips = [&](const std::string& name) {
                    std::vector<Ipv4> out;
                    for (size_t i = 1; i < f.size(); i++) {
                        if (f[i] == "0.0.0.0") continue;  // dnsmasq: "this server"; resolved at start
                        auto ip = Ipv4::parse(f[i]);
                        if (!ip) fail(where + ": dhcp-option " + name + " value '" + f[i] + "' is not an IPv4 address");
                        out.push_back(*ip);
                    }
                    return out;
                };
                if (o == "3" || o == "option:router") {
                    auto v = ips("router");
                    if (!v.empty()) router = v[0];
                } else if (o == "6" || o == "option:dns-server") {
                    dns = ips("dns-server");
                } else if (o == "15" || o == "option:domain-name") {
                    if (f.size() < 2) fail(where + ": dhcp-option domain-name needs a value");
                    domain = f[1];
                } else {
                    warnings.push_back(where + ": dhcp-option " + o + " is not supported, ignored");
                }
            } else if (key == "dhcp-leasefile") {
                if (val.empty()) fail(where + ": dhcp-leasefile needs a path");
                // dnsmasq's text format is not pxed's: keep a SQLite file beside it.
                cfg.lease_db = val + ".pxed.db";
                warnings.push_back(where + ": dhcp-leasefile: pxed keeps its lease database in " + cfg.lease_db);
            } else if (key == "enable-tftp") {
                // TFTP is served from tftp-root.
            } else if (key == "tftp-root") {
                if (f.empty() || f[0].empty()) fail(where + ": tftp-root needs a directory");
                cfg.tftp_root = f[0];
            } else if (key == "dhcp-authoritative") {
                cfg.authoritative = true;
            } else if (key == "domain") {
                if (!f.empty() && domain.empty()) domain = f[0];
            } else if (kIgnoredDns.count(key)) {
                warnings.push_back(where + ": " + key + ": ignored (pxed is not a DNS server)");
            } else if (kIgnoredOther.count(key)) {
                warnings.push_back(where + ": " + key + ": ignored (no effect in pxed)");
            } else {
                warnings.push_back(where + ": " + key + ": not supported by pxed, ignored");
            }
        }

        // Ranges become subnets; dnsmasq infers the netmask from the interface.
        for (auto& r : ranges) {
            Subnet s;
            s.range_start = r.start;
            s.range_end = r.end;
            s.lease_time = r.lease;
            if (r.mask) {
                uint32_t m = r.mask->v;
                uint8_t prefix = uint8_t(__builtin_popcount(m));
                if (prefix != 0 && (m != (~uint32_t(0) << (32 - prefix))))
                    fail(r.where + ": dhcp-range netmask " + r.mask->str() + " is not a valid netmask");
                s.net = Ipv4Net{r.start, prefix};
            } else {
                std::optional<Ipv4Net> found;
                std::vector<std::string> ifs = r.iface.empty() ? cfg.interfaces : std::vector<std::string>{r.iface};
                for (auto& i : ifs) {
                    auto n = iface_net ? iface_net(i) : std::nullopt;
                    if (n && n->contains(r.start)) found = n;
                }
                if (!found)
                    fail(r.where + ": dhcp-range " + r.start.str() + "-" + r.end.str() +
                         " has no netmask and no served interface has an address in it: add the netmask "
                         "(dhcp-range=start,end,255.255.255.0,12h) or configure the interface first");
                s.net = Ipv4Net{found->network(), found->prefix};
            }
            s.net = Ipv4Net{s.net.network(), s.net.prefix};
            s.router = router;
            s.dns = dns;
            s.domain = domain;
            cfg.subnets.push_back(s);
        }
        // Boot files: untagged dhcp-boot is the default (BIOS) and the
        // fallback of every slot; tagged ones fill the slot of their tag.
        BootFiles bf;
        for (auto& b : boots) {
            if (b.server) bf.next_server = b.server;
            if (b.tag.empty()) {
                bf.any = b.file;  // dnsmasq: the untagged dhcp-boot is every client's
                continue;
            }
            auto it = tag_slot.find(b.tag);
            if (it == tag_slot.end()) {
                warnings.push_back(b.where + ": dhcp-boot tag:" + b.tag + " is set by no supported dhcp-match, ignored");
                continue;
            }
            switch (it->second) {
            case Slot::Bios: bf.by_arch[0] = b.file; break;
            case Slot::UefiX64: bf.by_arch[7] = bf.by_arch[9] = b.file; break;
            case Slot::UefiHttp: bf.by_arch[16] = b.file; break;
            case Slot::Ipxe: bf.ipxe = b.file; break;
            case Slot::Other: break;
            }
        }
        for (auto& s : cfg.subnets) s.boot = bf;
    } catch (const DnsmasqError& e) {
        return Err(e.msg);
    }
    auto v = validate(cfg);
    if (!v) return Err(v.error());
    return cfg;
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
