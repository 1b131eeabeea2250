#pragma once
// The one reply renderer: the options a reply carries for a subnet and a
// resolved policy (dhcp/policy.h). The daemon uses it for its own replies
// and to fill the XDP reply blobs, so both paths send the same bytes.
#include <optional>
#include <string>

#include "config/config.h"
#include "dhcp/packet.h"
#include "dhcp/policy.h"

namespace pxed::dhcp {

struct RenderInput {
    const config::Subnet* subnet = nullptr;
    Ipv4 server_ip;
    uint32_t lease_time = 0;  // 0: no lease options (INFORM)
    const Policy* policy = nullptr;
    // The request's option 55; null: the client sent none, and every
    // configured option goes (dnsmasq's and Kea's rule).
    const Option* requested = nullptr;
    // When set, receives the codes of the options sent only because the
    // client asked for them (or sent no option 55): the XDP program checks
    // a request's option 55 for these before it answers with a blob.
    std::vector<uint8_t>* conditional = nullptr;
};

// Options after the message type, in the order they are written: server
// id, lease times, netmask, broadcast, then the policy's options and the
// boot options in ascending code order, the host name (12) last.
Options render_options(const RenderInput& in);

// siaddr for a reply: the configured next-server, else the server address.
Ipv4 next_server(const RenderInput& in);

// A reply's fixed fields taken from the request (RFC 2131 table 3: op,
// htype, hlen, xid, flags, giaddr, chaddr), everything else zero.
Packet reply_header(const Packet& req);

// The reply message to `req`: the fixed fields taken from the request, the
// message type, the rendered options, siaddr and the file field. The engine
// sends it; the XDP blobs are cut from it, so both paths send these bytes.
Packet render_reply(const Packet& req, MessageType type, const RenderInput& in, Ipv4 yiaddr);

}  // namespace pxed::dhcp
