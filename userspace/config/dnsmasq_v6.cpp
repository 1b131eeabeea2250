// dnsmasq's DHCPv6 lines into [[subnet6]]: dhcp-range with IPv6 addresses
// (start,end[,mode][,prefix-len][,lease]), dhcp-option=option6:... (boot
// file URL 59, its parameters 60, DNS servers 23, domain search 24), and
// dhcp-match=set:TAG,option6:61,ARCH for the per-architecture boot file
// URL that dnsmasq's PXEv6 set-ups use (dhcp-option=tag:TAG,option6:59,...).
#include <charconv>

#include "config/dnsmasq_fields.h"
#include "config/dnsmasq_import.h"

namespace pxed::config::dnsmasq {

namespace {

std::optional<unsigned> number(const std::string& s) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

// An IPv6 address in option6 values: dnsmasq wants it in brackets.
Ipv6 bracketed(const std::string& s, const std::string& where) {
    std::string a = s;
    if (a.size() > 2 && a.front() == '[' && a.back() == ']') a = a.substr(1, a.size() - 2);
    if (a == "::")
        fail(where + ": [::] (this server) in a DHCPv6 option is not supported: give the address");
    auto ip = Ipv6::parse(a);
    if (!ip) fail(where + ": '" + s + "' is not an IPv6 address in brackets");
    return *ip;
}

}  // namespace

bool range6_line(State& st, const std::string& where, std::vector<Field> f) {
    if (f.empty() || !Ipv6::parse(f[0].text)) return false;
    PendingRange6 r;
    r.where = where;
    r.start = *Ipv6::parse(f[0].text);
    if (f.size() < 2 || !Ipv6::parse(f[1].text))
        fail(where + ": dhcp-range " + f[0].text + ": pxed serves DHCPv6 ranges start,end (no constructor:, "
                     "ra-only or slaac)");
    r.end = *Ipv6::parse(f[1].text);
    for (size_t i = 2; i < f.size(); i++) {
        const std::string& x = f[i].text;
        if (auto n = number(x); n && *n <= 128) r.prefix = uint8_t(*n);
        else if (auto lt = lease_time(x)) r.lease = *lt;
        else if (x == "ra-names" || x == "ra-stateless" || x == "slaac" || x == "ra-only" || x == "ra-advrouter" ||
                 x == "off-link")
            st.warn(where + ": dhcp-range mode " + x + " ignored: pxed sends no router advertisements (run radvd or "
                            "dnsmasq's enable-ra beside it)");
        else fail(where + ": dhcp-range field '" + x + "' is neither a prefix length nor a lease time");
    }
    st.ranges6.push_back(r);
    return true;
}

bool option6_line(State& st, const std::string& where, const Cond& cond, std::vector<Field> f) {
    if (f.empty() || f[0].text.rfind("option6:", 0) != 0) return false;
    std::string name = f[0].text.substr(8);
    uint16_t code = 0;
    if (auto n = number(name)) code = uint16_t(*n);
    else if (name == "bootfile-url") code = 59;
    else if (name == "bootfile-param") code = 60;
    else if (name == "dns-server") code = 23;
    else if (name == "domain-search") code = 24;
    if (code != 59 && code != 60 && code != 23 && code != 24)
        fail(where + ": " + f[0].text + ": pxed imports the DHCPv6 options bootfile-url, bootfile-param, dns-server "
                     "and domain-search");
    Opt6Line o{where, cond, code, {}};
    for (size_t i = 1; i < f.size(); i++) o.values.push_back(f[i].text);
    if (o.values.empty()) fail(where + ": " + f[0].text + " needs a value");
    if (code == 59 && o.values.size() != 1) fail(where + ": option6:bootfile-url takes one URL");
    st.opts6.push_back(std::move(o));
    return true;
}

bool match6_line(State& st, const std::string& tag, const std::vector<Field>& f, const std::string& where) {
    if (f.empty() || f[0].text.rfind("option6:", 0) != 0) return false;
    if (f[0].text != "option6:61" && f[0].text != "option6:client-arch")
        fail(where + ": dhcp-match on " + f[0].text + ": pxed matches DHCPv6 requests on option6:61 (architecture) only");
    auto arch = f.size() == 2 ? number(f[1].text) : std::nullopt;
    if (!arch || *arch > 0xffff) fail(where + ": dhcp-match option6:61 needs one architecture number");
    st.arch6_tags[tag] = uint16_t(*arch);
    st.tag_where.emplace(tag, where);
    return true;
}

void build_subnets6(State& st) {
    for (auto& r : st.ranges6) {
        Subnet6 s;
        s.prefix = Ipv6Net{r.start, r.prefix};
        s.prefix = Ipv6Net{s.prefix.network(), r.prefix};
        s.range_start = r.start;
        s.range_end = r.end;
        // dnsmasq's lease time is the valid lifetime; its preferred lifetime is the same.
        s.preferred_lifetime = s.valid_lifetime = r.lease;
        s.where = r.where;
        st.cfg.subnets6.push_back(s);
    }
    for (auto& o : st.opts6) {
        std::optional<uint16_t> arch;
        if (!o.cond.neg.empty() || o.cond.pos.size() > 1)
            fail(o.where + ": a DHCPv6 option for " + o.cond.str() + ": pxed takes one tag set by dhcp-match=set:TAG,option6:61,ARCH");
        if (o.cond.pos.size() == 1) {
            auto it = st.arch6_tags.find(o.cond.pos[0]);
            if (it == st.arch6_tags.end())
                fail(o.where + ": tag " + o.cond.pos[0] + " of a DHCPv6 option is not set by dhcp-match=set:" +
                     o.cond.pos[0] + ",option6:61,ARCH");
            arch = it->second;
        }
        if (st.cfg.subnets6.empty()) fail(o.where + ": a DHCPv6 option without an IPv6 dhcp-range");
        for (auto& s : st.cfg.subnets6) {
            if (arch && o.code != 59) fail(o.where + ": pxed takes architecture tags on option6:bootfile-url only");
            switch (o.code) {
            case 59:
                if (arch) s.boot.by_arch[*arch] = o.values[0];
                else s.boot.any = o.values[0];
                break;
            case 60: s.boot_params = o.values; break;
            case 23:
                s.dns.clear();
                for (auto& v : o.values) s.dns.push_back(bracketed(v, o.where));
                break;
            case 24: s.domain_search = o.values; break;
            }
        }
    }
}

}  // namespace pxed::config::dnsmasq
