// dnsmasq's dhcp-range lines into subnets: a dynamic pool
// (start,end[,netmask[,broadcast]][,lease]) or proxyDHCP
// (<address>,proxy[,netmask[,broadcast]]), read as src/option.c reads them.
// A range without a netmask takes the network of the served interface
// that holds its start address, as dnsmasq does.
#include "config/dnsmasq_fields.h"
#include "config/dnsmasq_import.h"

namespace pxed::config::dnsmasq {

void range_line(State& st, const std::string& where, const std::string& val) {
    std::vector<Field> f = split_fields(val);
    PendingRange r;
    r.where = where;
    while (!f.empty()) {
        const std::string& x = f[0].text;
        if (x.rfind("set:", 0) == 0 || x.rfind("net:", 0) == 0) r.set.push_back(x.substr(4));
        else if (x.rfind("interface:", 0) == 0) r.iface = x.substr(10);
        else if (x.rfind("tag:", 0) == 0)
            fail(where + ": dhcp-range " + x + ": a range only for tagged clients is not supported (pxed picks the "
                         "subnet by address, not by tag)");
        else break;
        f.erase(f.begin());
    }
    for (auto& t : r.set) st.tag_where.emplace(t, where);
    if (!f.empty() && f[0].text.find(':') != std::string::npos) {
        if (!r.set.empty() || !r.iface.empty())
            fail(where + ": dhcp-range " + f[0].text + ": set: and interface: are not supported on DHCPv6 ranges");
        if (range6_line(st, where, f)) return;
    }
    if (f.size() < 2) fail(where + ": dhcp-range '" + val + "' needs start,end (or <network>,proxy)");
    auto s = Ipv4::parse(f[0].text);
    if (!s) fail(where + ": dhcp-range start '" + f[0].text + "' is not an IPv4 address");
    // dnsmasq reads the mode only in place of the end address.
    if (f[1].text == "static")
        fail(where + ": dhcp-range mode 'static' is not supported: give start,end of a dynamic pool");
    r.proxy = f[1].text == "proxy";
    auto e = r.proxy ? s : Ipv4::parse(f[1].text);
    if (!e) fail(where + ": dhcp-range end '" + f[1].text + "' is not an IPv4 address");
    r.start = *s;
    r.end = *e;
    std::optional<uint32_t> lease;
    for (size_t i = 2; i < f.size(); i++) {
        if (auto m = Ipv4::parse(f[i].text)) {
            if (!r.mask) r.mask = m;  // a broadcast address may follow; ignored
        } else if (auto lt = lease_time(f[i].text)) {
            lease = lt;
        } else if (f[i].text == "proxy" || f[i].text == "static") {
            fail(where + ": dhcp-range mode '" + f[i].text + "' must take the place of the end address "
                         "(dhcp-range=<network>,proxy[,<netmask>]), as dnsmasq reads it");
        } else {
            fail(where + ": dhcp-range field '" + f[i].text + "' is neither a netmask nor a lease time");
        }
    }
    // A lease time on a proxy range: dnsmasq reads it and never uses it (a
    // proxy hands out no lease); pxed does the same, with a warning.
    if (lease && r.proxy) st.warn(where + ": dhcp-range lease time ignored: a proxy range hands out no lease");
    else if (lease) r.lease = *lease;
    st.ranges.push_back(r);
}

void build_subnets(State& st, const IfaceNetLookup& iface_net) {
    Config& cfg = st.cfg;
    for (auto& r : st.ranges) {
        Subnet s;
        s.proxy = r.proxy;
        if (!r.proxy) {  // a proxy subnet has no range (config.h)
            s.range_start = r.start;
            s.range_end = r.end;
            s.lease_time = r.lease;
        }
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
            if (!found && r.proxy)
                fail(r.where + ": dhcp-range " + r.start.str() + ",proxy has no netmask and no served interface has "
                     "an address in it: add the netmask (dhcp-range=" + r.start.str() +
                     ",proxy,255.255.255.0) or configure the interface first");
            if (!found)
                fail(r.where + ": dhcp-range " + r.start.str() + "-" + r.end.str() +
                     " has no netmask and no served interface has an address in it: add the netmask "
                     "(dhcp-range=start,end,255.255.255.0,12h) or configure the interface first");
            s.net = Ipv4Net{found->network(), found->prefix};
        }
        s.net = Ipv4Net{s.net.network(), s.net.prefix};
        // dnsmasq answers PXE clients of a network with both from the proxy
        // range and the others from the pool; pxed serves a network one way.
        for (size_t i = 0; i < cfg.subnets.size(); i++) {
            const Ipv4Net& o = cfg.subnets[i].net;
            if (!o.contains(s.net.network()) && !s.net.contains(o.network())) continue;
            if (r.proxy || st.ranges[i].proxy)
                fail(r.where + ": dhcp-range: network " + s.net.str() + " is also served by " + st.ranges[i].where +
                     ": pxed serves a network either with addresses or as a proxy, not both");
        }
        cfg.subnets.push_back(s);
    }
}

}  // namespace pxed::config::dnsmasq
