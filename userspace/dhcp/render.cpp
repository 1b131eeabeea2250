#include "dhcp/render.h"

#include <algorithm>
#include <map>

namespace pxed::dhcp {

namespace {
// PXE 2.1 vendor option (43) sub-option 6, PXE_DISCOVERY_CONTROL; bit 3:
// "download the boot file named in the offer, no discovery, no menu".
constexpr uint8_t kPxeDiscoveryControl = 6;
constexpr uint8_t kPxeUseBootfile = 8;

bool asked(const Option* prl, uint8_t code) {
    return !prl || std::find(prl->data.begin(), prl->data.end(), code) != prl->data.end();
}
std::vector<uint8_t> str_bytes(std::string_view s) { return {s.begin(), s.end()}; }
}  // namespace

Ipv4 next_server(const RenderInput& in) {
    if (in.policy && in.policy->next_server) return *in.policy->next_server;
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
    }
    if (!in.policy) return o;
    const Policy& p = *in.policy;
    std::map<uint8_t, std::vector<uint8_t>> rest;
    for (auto& c : p.options) {
        if (!c.always && !asked(in.requested, c.code)) continue;
        if (!c.always && in.conditional) in.conditional->push_back(c.code);
        rest.emplace(c.code, c.data);
    }
    if (!p.boot_file.empty()) {
        // Option 60 tells PXE firmware this reply is a boot offer. Without a
        // boot file for the client's architecture it is a plain DHCP offer:
        // echoing "PXEClient" would send the firmware looking for a boot
        // server (port 4011) that is not there. A configured option of the
        // same code (a class's option 43 menu, say) takes the place of each.
        if (p.http) rest.emplace(opt::VendorClass, str_bytes("HTTPClient"));
        else if (p.pxe_client) rest.emplace(opt::VendorClass, str_bytes("PXEClient"));
        rest.emplace(opt::TftpServerName, str_bytes(next_server(in).str()));
        rest.emplace(opt::BootfileName, str_bytes(p.boot_file));
        // PXE 2.1: an offer that says "PXEClient" without vendor options sends
        // the client on to boot-server discovery (port 4011), which UEFI
        // firmware (EDK2, OVMF) insists on. Discovery control bit 3 tells it
        // to boot the file named here instead.
        if (p.pxe_client) rest.emplace(opt::VendorSpecific, std::vector<uint8_t>{kPxeDiscoveryControl, 1, kPxeUseBootfile, opt::End});
    }
    // The host name last: the XDP program appends it, a reservation's own,
    // after the options of a blob that reservations share.
    for (auto& [code, data] : rest)
        if (code != opt::Hostname) o.set(code, data);
    if (auto it = rest.find(opt::Hostname); it != rest.end()) o.set(it->first, it->second);
    return o;
}

Packet reply_header(const Packet& req) {
    Packet p;
    p.op = 2;
    p.htype = req.htype;
    p.hlen = req.hlen;
    p.xid = req.xid;
    p.flags = req.flags;
    p.giaddr = req.giaddr;
    p.chaddr = req.chaddr;
    return p;
}

Packet render_reply(const Packet& req, MessageType type, const RenderInput& in, Ipv4 yiaddr) {
    Packet p = reply_header(req);
    p.yiaddr = yiaddr;
    if (type == MessageType::Ack) p.ciaddr = req.ciaddr;
    p.options.set_u8(opt::MessageType, uint8_t(type));
    Options rendered = render_options(in);
    for (auto& o : rendered.all()) p.options.set(o.code, o.data);
    if (in.policy && !in.policy->boot_file.empty()) {
        p.siaddr = next_server(in);
        if (in.policy->boot_file.size() < p.file.size()) p.set_file(in.policy->boot_file);
        if (in.policy->server_name.size() < p.sname.size()) p.set_sname(in.policy->server_name);
    }
    // RFC 3046 2.2: echo option 82, as the last option, in every reply to a
    // request that carried it: relayed, or from a snooping switch that added
    // it with giaddr 0 (and drops replies without it).
    if (auto* ri = req.options.find(opt::RelayAgentInfo)) p.options.set(opt::RelayAgentInfo, ri->data);
    return p;
}

}  // namespace pxed::dhcp
