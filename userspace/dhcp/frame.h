#pragma once
// Ethernet/IPv4/UDP framing for DHCP: what a packet socket sends and what the
// XDP program receives. Pure: builds and checks bytes, computes checksums.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "pxed/net.h"

namespace pxed::dhcp {

struct UdpEndpoints {
    Mac src_mac, dst_mac;
    Ipv4 src_ip, dst_ip;
    uint16_t src_port = 0, dst_port = 0;
    uint8_t ttl = 64;
};

// Ethernet II + IPv4 (IHL 5, DF clear, id 0) + UDP with both checksums.
std::vector<uint8_t> build_udp_frame(const UdpEndpoints& ep, std::span<const uint8_t> payload);

// RFC 1071 ones' complement sum, folded; `initial` lets callers chain a pseudo-header.
uint16_t inet_checksum(std::span<const uint8_t> data, uint32_t initial = 0);

struct ParsedUdpFrame {
    UdpEndpoints ep;
    std::span<const uint8_t> payload;
    bool ip_checksum_ok = false;
    bool udp_checksum_ok = false;  // true also when the UDP checksum is 0 (none)
};

// Parses an untagged Ethernet/IPv4/UDP frame; nullopt if it is anything else
// or its lengths do not add up.
std::optional<ParsedUdpFrame> parse_udp_frame(std::span<const uint8_t> frame);

}  // namespace pxed::dhcp
