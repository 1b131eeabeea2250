#include "dhcp/render.h"

#include <algorithm>

namespace pxed::dhcp {

namespace {
// PXE 2.1 vendor option (43) sub-option 6, PXE_DISCOVERY_CONTROL; bit 3:
// "download the boot file named in the offer, no discovery, no menu".
constexpr uint8_t kPxeDiscoveryControl = 6;
constexpr uint8_t kPxeUseBootfile = 8;

bool starts_with(const std::optional<std::string>& s, std::string_view p) {
    return s && s->compare(0, p.size(), p) == 0;
}
}  // namespace

ClientProfile profile_of(const Packet& req) {
    ClientProfile p;
    if (auto* a = req.options.find(opt::ClientArch); a && a->data.size() >= 2)
        p.arch = uint16_t(a->data[0] << 8 | a->data[1]);
    auto vc = req.options.get_str(opt::VendorClass);
    p.pxe = starts_with(vc, "PXEClient");
    p.http_client = starts_with(vc, "HTTPClient");
    // RFC 3004 user class: length-prefixed entries; iPXE sends the raw
    // string "iPXE" as its only content, which we accept too.
    if (auto* uc = req.options.find(opt::UserClass)) {
        std::string_view all(reinterpret_cast<const char*>(uc->data.data()), uc->data.size());
        p.ipxe = all.find("iPXE") != std::string_view::npos;
    }
    return p;
}

BootChoice choose_boot(const config::BootFiles& boot, const ClientProfile& p) {
    BootChoice c;
    c.pxe_client = p.pxe;
    if (p.ipxe && !boot.ipxe.empty()) {
        c.file = boot.ipxe;  // no chainload loop: iPXE gets its script
        return c;
    }
    uint16_t arch = p.arch.value_or(0);
    switch (arch) {
    case uint16_t(ClientArch::BiosX86): c.file = boot.bios; break;
    case uint16_t(ClientArch::EfiBc):
    case uint16_t(ClientArch::EfiX64): c.file = boot.uefi_x64; break;
    case uint16_t(ClientArch::EfiX64Http):
        c.file = boot.uefi_http;
        c.http = true;
        c.pxe_client = false;
        break;
    default: break;
    }
    return c;
}

Ipv4 next_server(const RenderInput& in) {
    if (in.subnet && in.subnet->boot.next_server) return *in.subnet->boot.next_server;
    return in.server_ip;
}

Options render_options(const RenderInput& in) {
    Options o;
    o.set_ip(opt::ServerId, in.server_ip);
    if (in.lease_time) {
        o.set_u32(opt::LeaseTime, in.lease_time);
        if (in.lease_time != config::kInfiniteLease) {
            o.set_u32(opt::RenewalT1, in.lease_time / 2);
            o.set_u32(opt::RebindingT2, uint32_t(uint64_t(in.lease_time) * 7 / 8));
        }
    }
    if (const auto* s = in.subnet) {
        o.set_u32(opt::SubnetMask, s->net.mask());
        o.set_ip(opt::BroadcastAddr, s->net.broadcast());
        if (s->router) o.set_ip(opt::Router, *s->router);
        if (!s->dns.empty()) o.set_ips(opt::DnsServers, s->dns);
        if (!s->domain.empty()) o.set_str(opt::DomainName, s->domain);
    }
    if (in.reservation && !in.reservation->hostname.empty()) o.set_str(opt::Hostname, in.reservation->hostname);
    if (!in.boot.file.empty()) {
        // Option 60 tells PXE firmware this reply is a boot offer. Without a
        // boot file for the client's architecture it is a plain DHCP offer:
        // echoing "PXEClient" would send the firmware looking for a boot
        // server (port 4011) that is not there.
        if (in.boot.http) o.set_str(opt::VendorClass, "HTTPClient");
        else if (in.boot.pxe_client) o.set_str(opt::VendorClass, "PXEClient");
        o.set_str(opt::TftpServerName, next_server(in).str());
        o.set_str(opt::BootfileName, in.boot.file);
        // PXE 2.1: an offer that says "PXEClient" without vendor options sends
        // the client on to boot-server discovery (port 4011), which UEFI
        // firmware (EDK2, OVMF) insists on. Discovery control bit 3 tells it
        // to boot the file named here instead.
        if (in.boot.pxe_client) {
            static constexpr uint8_t kDiscovery[] = {kPxeDiscoveryControl, 1, kPxeUseBootfile, opt::End};
            o.set(opt::VendorSpecific, kDiscovery);
        }
    }
    return o;
}

Packet render_reply(const Packet& req, MessageType type, const RenderInput& in, Ipv4 yiaddr) {
    Packet p;
    p.op = 2;
    p.htype = req.htype;
    p.hlen = req.hlen;
    p.xid = req.xid;
    p.flags = req.flags;
    p.giaddr = req.giaddr;
    p.chaddr = req.chaddr;
    p.yiaddr = yiaddr;
    if (type == MessageType::Ack) p.ciaddr = req.ciaddr;
    p.options.set_u8(opt::MessageType, uint8_t(type));
    Options rendered = render_options(in);
    for (auto& o : rendered.all()) p.options.set(o.code, o.data);
    if (!in.boot.file.empty()) {
        p.siaddr = next_server(in);
        if (in.boot.file.size() < p.file.size()) p.set_file(in.boot.file);
    }
    // RFC 3046 2.2: echo option 82, as the last option, in every reply to a
    // request that carried it: relayed, or from a snooping switch that added
    // it with giaddr 0 (and drops replies without it).
    if (auto* ri = req.options.find(opt::RelayAgentInfo)) p.options.set(opt::RelayAgentInfo, ri->data);
    return p;
}

}  // namespace pxed::dhcp
