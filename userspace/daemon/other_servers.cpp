#include "daemon/other_servers.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "daemon/fast_path.h"
#include "pxed/abi.h"

namespace pxed::daemon {

namespace {

std::string type_name(uint8_t t) { return t == 2 ? "OFFER" : t == 5 ? "ACK" : t == 6 ? "NAK" : std::to_string(t); }

// A value as sent, cut: with its full length when the map kept less.
std::string quoted(const std::string& text, size_t len) {
    std::string q = "\"" + text + "\"";
    if (len > text.size()) q += " (" + std::to_string(len) + " bytes, cut)";
    return q;
}

}  // namespace

std::string describe(const bpf::SeenServer& s) {
    std::string out = "another DHCP server on " + s.iface + ": " + s.server.str() + " (MAC " + s.mac.str() + "), " +
                      s.vlan_text() + (s.relayed ? ", through a relay" : "") + ", sent";
    std::string counts;
    for (auto [n, t] : {std::pair{s.offers, "OFFER"}, {s.acks, "ACK"}, {s.naks, "NAK"}})
        if (n) counts += (counts.empty() ? " " : ", ") + std::to_string(n) + " " + t;
    out += counts;
    if (!s.yiaddr.is_zero()) out += " (last: " + type_name(s.last_type) + " of " + s.yiaddr.str() + ")";
    else if (s.last_type != 6) out += " (last: " + type_name(s.last_type) + " without an address)";
    if (s.has_vendor_class) out += ", option 60 " + quoted(s.vendor_class, s.vendor_class_len);
    if (s.has_opt43)
        out += ", option 43 (" + std::to_string(s.opt43_len) + " bytes" + (s.opt43_pxe ? ", PXE boot menu/discovery" : "") +
               ")";
    if (s.has_tftp_server) out += ", TFTP server " + quoted(s.tftp_server, s.tftp_server.size());
    if (!s.boot_file_from.empty())
        out += ", boot file " + quoted(s.boot_file, s.boot_file_len) + " (" + s.boot_file_from + ")";
    if (!s.siaddr.is_zero()) out += ", next server " + s.siaddr.str();
    // What clients are likely to do with it.
    std::vector<std::string> why;
    bool pxe = s.has_vendor_class && s.vendor_is_pxeclient();
    if (pxe && s.yiaddr.is_zero() && s.last_type != 6)
        why.push_back("it is another proxyDHCP or PXE boot server: PXE clients may boot its menu or file instead of "
                      "pxed's");
    else if (pxe)
        why.push_back("option 60 PXEClient from a server that is not a proxy: UEFI clients take it for a PXE boot "
                      "server and ask its port 4011 for their boot file");
    if (!s.boot_file_from.empty() && !(pxe && s.yiaddr.is_zero()))
        why.push_back("it hands out a boot file: iPXE and other clients may take its offer and boot its file");
    if (why.empty() && !s.has_opt43 && !s.has_tftp_server)
        why.push_back("no boot options: clients may take their address from it (expected when it is the address server "
                      "beside a proxy subnet)");
    for (size_t i = 0; i < why.size(); i++) out += (i ? "; " : ": ") + why[i];
    return out;
}

void OtherServers::configure(const config::Config& cfg, const std::vector<Ipv4>& iface_addrs) {
    own_ = iface_addrs;
    for (auto& sn : cfg.subnets)
        if (sn.server_ip) own_.push_back(*sn.server_ip);
}

bool OtherServers::ours(Ipv4 a) const { return std::find(own_.begin(), own_.end(), a) != own_.end(); }

void OtherServers::pull(const FastPath& fp) {
    std::vector<bpf::SeenServer> now;
    for (auto& [ifname, fd] : fp.servers_maps()) {
        auto r = bpf::read_servers(fd, ifname, [&](bpf::SeenServer s) {
            if (!ours(s.server)) now.push_back(std::move(s));
        });
        if (!r) spdlog::debug("servers map iface={}: {}", ifname, r.error());  // read again at the next pull
    }
    // Oldest first: the order pxectl lists them in.
    std::sort(now.begin(), now.end(), [](auto& a, auto& b) { return a.first_ns < b.first_ns; });
    // Once per server: the set is bounded (a flood of forged ids would
    // grow it without end); cleared, the servers still seen warn again.
    if (warned_.size() > 16 * size_t(PXED_SERVERS_MAX)) warned_.clear();
    size_t warned = 0, more = 0;
    for (auto& s : now) {
        if (warned_.count(s.id())) continue;
        if (warned == kWarnPerPull) {
            more++;
            continue;
        }
        warned_.insert(s.id());
        warned++;
        spdlog::warn("{}", describe(s));
    }
    if (more) spdlog::warn("{} more DHCP servers seen, logged in the next seconds (pxectl stats lists them)", more);
    std::lock_guard lock(mu_);
    seen_ = std::move(now);
}

std::vector<bpf::SeenServer> OtherServers::list() const {
    std::lock_guard lock(mu_);
    return seen_;
}

}  // namespace pxed::daemon
