#pragma once
// Where a reply goes and how big it may be: the RFC 2131 section 4.1
// destination rules in one place, the client's maximum message size (option
// 57) and the fitting of a reply into it. Pure, like the engine.
#include <cstdint>
#include <vector>

#include "dhcp/packet.h"

namespace pxed::dhcp {

struct RxInfo {
    Ipv4 server_ip;     // our address on the receiving interface
    Ipv4Net iface_net;  // its network; /0 (unknown): every address counts as on-link
    RxInfo(Ipv4 server, Ipv4Net net = {}) : server_ip(server), iface_net(net) {}
    // The PXE boot server port (4011) received it, from src_ip:src_port:
    // its reply goes back there (proxyDHCP).
    bool boot_server_port = false;
    Ipv4 src_ip;
    uint16_t src_port = 0;
};

enum class Dest {
    Broadcast,       // 255.255.255.255:68 at ff:ff:ff:ff:ff:ff
    UnicastChaddr,   // yiaddr:68 at chaddr, without ARP (packet socket)
    UnicastCiaddr,   // ciaddr:68 through the IP stack (routed when off-link)
    Relay,           // giaddr:67
};

struct Reply {
    Packet packet;
    Dest dest = Dest::Broadcast;
    Ipv4 dst_ip;
    uint16_t dst_port = 68;
    uint16_t src_port = 67;  // 4011: the boot server's reply
    size_t max_len = 0;  // the largest DHCP message the client accepts; 0: no limit
};

// Sets r.dest, r.dst_ip, r.dst_port (and the broadcast flag of a relayed
// NAK) for the reply r.packet to `req`.
void address_reply(Reply& r, const Packet& req, const RxInfo& rx);

// The NAK that replaces `ack` when its lease could not be stored (another
// server sharing the lease database took the address first): same
// transaction and client, no address, message `why`; broadcast, or to the
// relay with the broadcast bit (RFC 2131 4.3.2).
Reply nak_instead_of(const Reply& ack, std::string_view why);

// The largest DHCP message (UDP payload) `req`'s sender accepts: option 57
// minus the IP and UDP headers, never below RFC 2131's 576-byte datagram
// (548 bytes of DHCP) and never above a 1500-byte Ethernet frame's payload.
size_t max_reply_size(const Packet& req);

// Makes r.packet fit max_len: options overflow into file/sname (option 52)
// when those are free; if that is not enough, optional options go, the ones
// the client did not ask for (option 55) first. Message type, server id,
// lease time and subnet mask always stay; the message (56) and option 82
// only go when nothing else is left (a request's own option 82 can be
// larger than the reply may be). False only if max_len < 300.
bool fit_reply(Packet& p, size_t max_len, const Packet& req);

// The bytes to send for r: within r.max_len when it is set.
std::vector<uint8_t> encode(const Reply& r);

}  // namespace pxed::dhcp
