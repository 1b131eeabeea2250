#include "dhcp/frame.h"

#include <cstring>

namespace pxed::dhcp {

namespace {
constexpr size_t kEth = 14, kIp = 20, kUdp = 8;
void store16(uint8_t* p, uint16_t v) { p[0] = v >> 8; p[1] = uint8_t(v); }
void store32(uint8_t* p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
uint16_t load16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
uint32_t load32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

uint32_t sum16(std::span<const uint8_t> d, uint32_t acc) {
    size_t i = 0;
    for (; i + 1 < d.size(); i += 2) acc += uint32_t(d[i] << 8 | d[i + 1]);
    if (i < d.size()) acc += uint32_t(d[i] << 8);
    return acc;
}

uint32_t pseudo_header_sum(Ipv4 src, Ipv4 dst, uint16_t udp_len) {
    return (src.v >> 16) + (src.v & 0xffff) + (dst.v >> 16) + (dst.v & 0xffff) + 17u + udp_len;
}
}  // namespace

uint16_t inet_checksum(std::span<const uint8_t> data, uint32_t initial) {
    uint32_t acc = sum16(data, initial);
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return uint16_t(~acc);
}

std::vector<uint8_t> build_udp_frame(const UdpEndpoints& ep, std::span<const uint8_t> payload) {
    std::vector<uint8_t> f(kEth + kIp + kUdp + payload.size(), 0);
    std::memcpy(&f[0], ep.dst_mac.b.data(), 6);
    std::memcpy(&f[6], ep.src_mac.b.data(), 6);
    store16(&f[12], 0x0800);
    uint8_t* ip = &f[kEth];
    ip[0] = 0x45;
    store16(ip + 2, uint16_t(kIp + kUdp + payload.size()));
    ip[8] = ep.ttl;
    ip[9] = 17;
    store32(ip + 12, ep.src_ip.v);
    store32(ip + 16, ep.dst_ip.v);
    store16(ip + 10, inet_checksum({ip, kIp}));
    uint8_t* udp = ip + kIp;
    uint16_t udp_len = uint16_t(kUdp + payload.size());
    store16(udp, ep.src_port);
    store16(udp + 2, ep.dst_port);
    store16(udp + 4, udp_len);
    std::memcpy(udp + kUdp, payload.data(), payload.size());
    uint16_t c = inet_checksum({udp, udp_len}, pseudo_header_sum(ep.src_ip, ep.dst_ip, udp_len));
    store16(udp + 6, c == 0 ? 0xffff : c);
    return f;
}

std::optional<ParsedUdpFrame> parse_udp_frame(std::span<const uint8_t> f) {
    if (f.size() < kEth + kIp + kUdp || load16(&f[12]) != 0x0800) return std::nullopt;
    const uint8_t* ip = &f[kEth];
    size_t ihl = size_t(ip[0] & 0x0f) * 4;
    if ((ip[0] >> 4) != 4 || ihl < kIp || ip[9] != 17) return std::nullopt;
    size_t tot = load16(ip + 2);
    if (tot < ihl + kUdp || kEth + tot > f.size()) return std::nullopt;
    const uint8_t* udp = ip + ihl;
    size_t udp_len = load16(udp + 4);
    if (udp_len < kUdp || ihl + udp_len > tot) return std::nullopt;
    ParsedUdpFrame r;
    std::memcpy(r.ep.dst_mac.b.data(), &f[0], 6);
    std::memcpy(r.ep.src_mac.b.data(), &f[6], 6);
    r.ep.ttl = ip[8];
    r.ep.src_ip = Ipv4(load32(ip + 12));
    r.ep.dst_ip = Ipv4(load32(ip + 16));
    r.ep.src_port = load16(udp);
    r.ep.dst_port = load16(udp + 2);
    r.payload = f.subspan(kEth + ihl + kUdp, udp_len - kUdp);
    r.ip_checksum_ok = inet_checksum({ip, ihl}) == 0;
    r.udp_checksum_ok = load16(udp + 6) == 0 ||
                        inet_checksum({udp, udp_len}, pseudo_header_sum(r.ep.src_ip, r.ep.dst_ip, uint16_t(udp_len))) == 0;
    return r;
}

}  // namespace pxed::dhcp
