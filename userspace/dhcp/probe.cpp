#include "dhcp/probe.h"

#include <algorithm>
#include <cstdio>

namespace pxed::dhcp {

Mac probe_mac(const Mac& iface_mac) {
    Mac m = iface_mac;
    m.b[0] = uint8_t((m.b[0] & 0xfc) | 0x02);  // locally administered, unicast
    m.b[1] ^= 'p';
    m.b[2] ^= 'x';
    return m;
}

Packet probe_discover(uint32_t xid, const Mac& chaddr) {
    Packet p;
    p.xid = xid;
    p.flags = kFlagBroadcast;
    p.set_mac(chaddr);
    p.options.set_u8(opt::MessageType, uint8_t(MessageType::Discover));
    // What a PXE ROM asks for (EDK2's list, shortened): 66 and 67 make a
    // server that hands out boot files say so.
    p.options.set(opt::ParamRequestList, std::vector<uint8_t>{1, 3, 6, 12, 15, 28, 43, 54, 60, 66, 67, 97});
    p.options.set_u16(opt::ClientArch, 0);
    p.options.set(opt::ClientNdi, std::vector<uint8_t>{1, 2, 1});
    p.options.set_str(opt::VendorClass, "PXEClient:Arch:00000:UNDI:002001");
    return p;
}

namespace {
std::string boot_file(const Packet& r) {
    std::string f = r.options.get_str(opt::BootfileName).value_or("");
    while (!f.empty() && f.back() == '\0') f.pop_back();  // dnsmasq NUL-terminates 67
    return f.empty() ? r.file_str() : f;
}

bool pxe_vendor_class(const Packet& r) {
    auto v = r.options.get_str(opt::VendorClass);
    return v && v->starts_with("PXEClient");
}
}  // namespace

std::string describe_boot(const Packet& r) {
    std::string file = boot_file(r);
    bool pxe = pxe_vendor_class(r);
    if (file.empty() && !pxe) return "";
    std::string out;
    auto word = [&out](const std::string& w) { out += (out.empty() ? "" : ", ") + w; };
    if (!file.empty()) word("boot file '" + file + "'");
    if (!file.empty() && !r.siaddr.is_zero()) word("next server " + r.siaddr.str());
    if (pxe) word("option 60 PXEClient");
    if (r.options.has(opt::VendorSpecific)) word("PXE options (option 43)");
    return out;
}

bool ProbeFindings::add(const Packet& r, Ipv4 src_ip) {
    if (r.op != 2 || r.xid != xid_ || r.mac() != chaddr_ || r.message_type() != MessageType::Offer) return false;
    ProbeAnswer a;
    a.server = r.options.get_ip(opt::ServerId).value_or(src_ip);
    a.yiaddr = r.yiaddr;
    a.boot = describe_boot(r);
    a.pxe_client = pxe_vendor_class(r);
    if (!a.address_server() && !a.proxy()) return false;  // no address and not for PXE: nothing a client takes
    if (std::find(ours_.begin(), ours_.end(), a.server) != ours_.end()) return false;
    // The probe is sent twice, and a frame sent on this host may be
    // captured twice (outgoing and looped back).
    for (auto& b : answers_)
        if (b.server == a.server && b.address_server() == a.address_server()) return false;
    answers_.push_back(std::move(a));
    return true;
}

std::vector<std::string> ProbeFindings::warnings(const std::string& ifname, double waited_s) const {
    std::vector<std::string> out;
    bool address = std::any_of(answers_.begin(), answers_.end(), [](auto& a) { return a.address_server(); });
    if (!address) {
        char s[32];
        std::snprintf(s, sizeof s, "%g", waited_s);
        out.push_back(ifname + ": proxy subnet, but no DHCP server offered an address to a test DISCOVER within " + s +
                      " s: PXE clients will get boot information from pxed and no address");
    }
    for (auto& a : answers_) {
        if (a.proxy())
            out.push_back(ifname + ": another proxyDHCP server, " + a.server.str() +
                          ", answered a test DISCOVER (an OFFER without address" +
                          (a.boot.empty() ? "" : ", " + a.boot) +
                          "): PXE clients get two boot offers and boot from either");
        else if (!a.boot.empty())
            out.push_back(ifname + ": the DHCP server " + a.server.str() + " offered " + a.yiaddr.str() +
                          " with boot information (" + a.boot +
                          "): PXE clients get boot offers from it and from pxed and boot from either");
    }
    return out;
}

}  // namespace pxed::dhcp
