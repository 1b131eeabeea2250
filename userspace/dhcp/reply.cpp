#include "dhcp/reply.h"

#include <algorithm>
#include <array>

#include "dhcp/render.h"

namespace pxed::dhcp {

/* RFC 2131 section 4.1:

   If the 'giaddr' field in a DHCP message from a client is non-zero, the
   server sends any return messages to the 'DHCP server' port on the BOOTP
   relay agent whose address appears in 'giaddr'. If the 'giaddr' field is
   zero and the 'ciaddr' field is nonzero, then the server unicasts DHCPOFFER
   and DHCPACK messages to the address in 'ciaddr'. If 'giaddr' is zero and
   'ciaddr' is zero, and the broadcast bit is set, then the server broadcasts
   DHCPOFFER and DHCPACK messages to 0xffffffff. If the broadcast bit is not
   set and 'giaddr' is zero and 'ciaddr' is zero, then the server unicasts
   DHCPOFFER and DHCPACK messages to the client's hardware address and
   'yiaddr' address. In all cases, when 'giaddr' is zero, the server
   broadcasts any DHCPNAK messages to 0xffffffff.

   Section 4.3.2:

   If 'giaddr' is set in the DHCPREQUEST message, the client is on a
   different subnet. The server MUST set the broadcast bit in the DHCPNAK,
   so that the relay agent will broadcast the DHCPNAK to the client, because
   the client may not have a correct network address or subnet mask, and the
   client may not be answering ARP requests.

   One departure, as dnsmasq (rfc2131.c: "broadcasting a NAK to a host on a
   distant subnet which unicast a REQ to us won't work"): a NAK to a client
   whose ciaddr is not on the receiving interface's network reached us routed,
   without a relay (a RENEW unicast from a relayed subnet); a broadcast would
   never reach it, so the NAK is unicast to ciaddr. Kea unicasts every reply
   to a non-zero ciaddr, NAKs included; on-link we keep the RFC's broadcast.
   A DHCPINFORM's ACK has yiaddr 0 and goes to ciaddr by the same rules. */
void address_reply(Reply& r, const Packet& req, const RxInfo& rx) {
    if (rx.boot_server_port) {
        // PXE 2.1 boot server (port 4011): the reply goes from 4011 back to
        // where the request came from, as dnsmasq and iPXE (which takes a
        // ProxyDHCPACK only from port 4011) do; a client without an address
        // yet gets a broadcast.
        r.src_port = 4011;
        r.dst_port = rx.src_port ? rx.src_port : 68;
        if (!rx.src_ip.is_zero() && !req.ciaddr.is_zero()) {
            r.dest = Dest::UnicastCiaddr;
            r.dst_ip = rx.src_ip;
        } else {
            r.dest = Dest::Broadcast;
            r.dst_ip = Ipv4(0xffffffff);
        }
        return;
    }
    bool nak = r.packet.message_type() == MessageType::Nak;
    if (!req.giaddr.is_zero()) {
        if (nak) r.packet.flags |= kFlagBroadcast;
        r.dest = Dest::Relay;
        r.dst_ip = req.giaddr;
        r.dst_port = 67;
        return;
    }
    r.dst_port = 68;
    bool off_link = !req.ciaddr.is_zero() && !rx.iface_net.contains(req.ciaddr);
    if (!req.ciaddr.is_zero() && (!nak || off_link)) {
        r.dest = Dest::UnicastCiaddr;
        r.dst_ip = req.ciaddr;
    } else if (nak || req.broadcast() || r.packet.yiaddr.is_zero()) {
        r.dest = Dest::Broadcast;
        r.dst_ip = Ipv4(0xffffffff);
    } else {
        r.dest = Dest::UnicastChaddr;
        r.dst_ip = r.packet.yiaddr;
    }
}

Reply nak_instead_of(const Reply& ack, std::string_view why) {
    Reply r;
    const Packet& a = ack.packet;
    Packet& p = r.packet = reply_header(a);  // the ACK's header is its request's
    p.options.set_u8(opt::MessageType, uint8_t(MessageType::Nak));
    if (auto sid = a.options.get_ip(opt::ServerId)) p.options.set_ip(opt::ServerId, *sid);
    p.options.set_str(opt::Message, why);
    if (auto* ri = a.options.find(opt::RelayAgentInfo)) p.options.set(opt::RelayAgentInfo, ri->data);
    r.max_len = ack.max_len;
    r.src_port = ack.src_port;
    if (ack.dest == Dest::Relay) {
        p.flags |= kFlagBroadcast;
        r.dest = Dest::Relay;
        r.dst_ip = ack.dst_ip;
        r.dst_port = ack.dst_port;
    } else {
        r.dest = Dest::Broadcast;
        r.dst_ip = Ipv4(0xffffffff);
        r.dst_port = 68;
    }
    return r;
}

size_t max_reply_size(const Packet& req) {
    constexpr size_t kIpUdp = 28, kMinDatagram = 576, kMaxDatagram = 1500;
    size_t m = kMinDatagram;
    if (auto v = req.options.get_u16(opt::MaxMessageSize)) m = std::clamp<size_t>(*v, kMinDatagram, kMaxDatagram);
    return m - kIpUdp;
}

namespace {
// Options a reply never loses: without them it is not a usable answer.
constexpr std::array<uint8_t, 6> kKeep = {opt::MessageType, opt::ServerId, opt::LeaseTime,
                                          opt::SubnetMask, opt::Message, opt::RelayAgentInfo};
// The optional options we render, least needed first; options not listed
// (none today) go before all of them.
constexpr std::array<uint8_t, 12> kDropOrder = {
    opt::DomainName, opt::Hostname, opt::BroadcastAddr, opt::DnsServers, opt::RebindingT2, opt::RenewalT1,
    opt::TftpServerName, opt::BootfileName, opt::VendorClass, opt::VendorSpecific, opt::Router, opt::ClientArch};

// The next option to drop from p, or nullopt when only kept ones are left.
std::optional<uint8_t> next_to_drop(const Packet& p, const Option* requested) {
    auto asked = [&](uint8_t code) {
        return requested && std::find(requested->data.begin(), requested->data.end(), code) != requested->data.end();
    };
    std::optional<uint8_t> best;
    size_t best_rank = 0;
    for (auto& o : p.options.all()) {
        if (std::find(kKeep.begin(), kKeep.end(), o.code) != kKeep.end()) continue;
        auto at = std::find(kDropOrder.begin(), kDropOrder.end(), o.code);
        size_t rank = size_t(at == kDropOrder.end() ? 0 : 1 + (at - kDropOrder.begin()));
        if (asked(o.code)) rank += kDropOrder.size() + 1;
        if (!best || rank < best_rank) best = o.code, best_rank = rank;
    }
    return best;
}
}  // namespace

bool fit_reply(Packet& p, size_t max_len, const Packet& req) {
    const Option* requested = req.options.find(opt::ParamRequestList);
    while (!serialize_within(p, max_len)) {
        auto code = next_to_drop(p, requested);
        if (!code) break;
        p.options.erase(*code);
    }
    // Last resort, for a request whose own option 82 or message is larger
    // than the reply may be (RFC 3396 lets a request carry ~1200 bytes):
    // a reply without them beats one the client cannot take.
    for (uint8_t code : {opt::Message, opt::RelayAgentInfo}) {
        if (serialize_within(p, max_len)) return true;
        p.options.erase(code);
    }
    return serialize_within(p, max_len).has_value();
}

std::vector<uint8_t> encode(const Reply& r) {
    if (r.max_len) {
        if (auto b = serialize_within(r.packet, r.max_len)) return std::move(*b);
    }
    return serialize(r.packet);
}

}  // namespace pxed::dhcp
