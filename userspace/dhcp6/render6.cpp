// The options after the IAs of a DHCPv6 reply (engine6.h, "tail"): one
// function for the daemon's replies and the kernel path's rendered blobs.
#include <algorithm>

#include "dhcp6/engine6.h"

namespace pxed::dhcp6 {

namespace {

// RFC 1035 3.1 names, as option 24 carries them.
std::vector<uint8_t> domain_list(const std::vector<std::string>& names) {
    std::vector<uint8_t> out;
    for (auto& n : names) {
        size_t i = 0;
        while (i < n.size()) {
            size_t dot = n.find('.', i);
            if (dot == std::string::npos) dot = n.size();
            size_t len = std::min<size_t>(dot - i, 63);
            if (len) {
                out.push_back(uint8_t(len));
                out.insert(out.end(), n.begin() + long(i), n.begin() + long(i + len));
            }
            i = dot + 1;
        }
        out.push_back(0);
    }
    return out;
}

}  // namespace

Shape Shape::of(const Message& m) {
    Shape s;
    s.dns = m.requested(opt::DnsServers);
    s.domains = m.requested(opt::DomainList);
    s.boot = m.requested(opt::BootfileUrl) || !m.archs.empty();
    s.http = m.vendor_class_starts("HTTPClient");
    s.ipxe = std::find(m.user_class.begin(), m.user_class.end(), "iPXE") != m.user_class.end();
    if (!m.archs.empty()) s.arch = m.archs.front();
    return s;
}

IaNa lifetimes(const config::Subnet6& sn, uint32_t iaid, const Ipv6& addr) {
    uint32_t pref = sn.preferred_lifetime;
    // RFC 8415 21.4: T1 and T2 at 0.5 and 0.8 of the preferred lifetime.
    return IaNa{iaid, pref / 2, pref / 5 * 4, {IaAddr{addr, pref, sn.valid_lifetime}}};
}

std::pair<const config::Subnet6*, Ipv6> link_subnet(const config::Config& cfg, const std::vector<Ipv6>& addrs) {
    for (auto& a : addrs)
        if (auto* sn = cfg.subnet6_for(a)) return {sn, sn->server_ip.value_or(a)};
    return {nullptr, Ipv6{}};
}

namespace {

std::string boot_url(const config::Config& cfg, uint16_t http_port, const config::Subnet6& sn,
                     const config::Reservation6* resv, const Ipv6& server, const Shape& s) {
    std::string file;
    if (resv && resv->boot_file) file = *resv->boot_file;
    for (const config::BootFiles* b : {&sn.boot, &cfg.boot}) {
        if (!file.empty()) break;
        if (s.ipxe && !b->ipxe.empty()) file = b->ipxe;
        else if (s.arch && b->by_arch.count(*s.arch)) file = b->by_arch.at(*s.arch);
        else file = b->any;
    }
    if (file.empty() || file.find("://") != std::string::npos) return file;
    // Appends rather than operator+ chains: GCC 12 at -O3 (Release) warns
    // -Wrestrict on `"/" + file` (a known false positive).
    std::string url = s.http ? "http://[" : "tftp://[";
    url += server.str();
    url += ']';
    if (s.http && http_port != 80) {
        url += ':';
        url += std::to_string(http_port);
    }
    if (file.front() != '/') url += '/';
    url += file;
    return url;
}

}  // namespace

std::vector<uint8_t> render_tail(const config::Config& cfg, uint16_t http_port, const config::Subnet6& sn,
                                 const config::Reservation6* resv, const Ipv6& server, const Shape& s) {
    Writer w(MsgType::Reply, 0);
    if (!sn.dns.empty() && s.dns) {
        std::vector<uint8_t> v;
        for (auto& a : sn.dns) v.insert(v.end(), a.b.begin(), a.b.end());
        w.option(opt::DnsServers, v);
    }
    if (!sn.domain_search.empty() && s.domains) w.option(opt::DomainList, domain_list(sn.domain_search));
    // Option 59 to whoever asks for it, and to a PXE client that says its
    // architecture (option 61) even when its ORO forgets it.
    auto url = s.boot ? boot_url(cfg, http_port, sn, resv, server, s) : std::string();
    if (!url.empty()) {
        w.option(opt::BootfileUrl, url);
        if (!sn.boot_params.empty()) {
            std::vector<uint8_t> v;
            for (auto& p : sn.boot_params) {
                auto n = std::min<size_t>(p.size(), 0xffff);
                v.push_back(uint8_t(n >> 8));
                v.push_back(uint8_t(n));
                v.insert(v.end(), p.begin(), p.begin() + long(n));
            }
            w.option(opt::BootfileParam, v);
        }
        // UEFI HTTP boot takes an offer only with vendor class HTTPClient in it.
        if (s.http) {
            // Enterprise 343, one entry of 10 bytes.
            static constexpr char kHttpClient[] = "\0\0\x01\x57\0\x0aHTTPClient";
            w.option(opt::VendorClass, std::string_view(kHttpClient, sizeof kHttpClient - 1));
        }
    }
    auto b = w.take();
    return std::vector<uint8_t>(b.begin() + 4, b.end());  // without the header
}

}  // namespace pxed::dhcp6
