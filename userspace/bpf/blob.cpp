#include "bpf/blob.h"

#include "dhcp/reply.h"

#include <cstring>

#include "dhcp/render.h"

namespace pxed::bpf {

using namespace pxed::dhcp;

uint32_t profile_index(const Packet& req) {
    ClientProfile p = profile_of(req);
    return pxed_profile(p.arch.value_or(0), p.pxe, p.ipxe);
}

Packet synthetic_request(uint32_t profile) {
    Packet req;
    req.options.set_u8(opt::MessageType, uint8_t(MessageType::Discover));
    uint32_t cls = (profile / 4) % PXED_ARCH_CLASSES;
    if (cls != PXED_ARCH_CLASS_BIOS) req.options.set_u16(opt::ClientArch, pxed_arch_of_class(cls));
    if (profile & 2) req.options.set_str(opt::VendorClass, "PXEClient");
    if (profile & 1) req.options.set_str(opt::UserClass, "iPXE");
    return req;
}

uint16_t ones_sum(const uint8_t* p, size_t n) {
    uint32_t acc = 0;
    size_t i = 0;
    for (; i + 1 < n; i += 2) acc += uint32_t(p[i] << 8 | p[i + 1]);
    if (i < n) acc += uint32_t(p[i] << 8);
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return uint16_t(acc);
}

std::optional<pxed_reply_blob> render_blob(const BlobInput& in, uint32_t profile) {
    Packet req = synthetic_request(profile);
    RenderInput ri;
    ri.subnet = in.subnet;
    ri.server_ip = in.server_ip;
    ri.reservation = in.reservation;
    ri.lease_time = in.reservation && in.reservation->lease_time ? *in.reservation->lease_time : in.subnet->lease_time;
    ri.boot = choose_boot(in.subnet->boot, profile_of(req));
    Packet reply = render_reply(req, MessageType::Offer, ri, in.reservation ? in.reservation->ip : Ipv4());
    auto bytes = serialize(reply);
    // The kernel does not read option 57: it answers only with a reply that
    // every client accepts (576-byte datagrams, RFC 2131 2). A larger one is
    // left to the daemon, which fits it to the client (reply.h fit_reply).
    if (bytes.size() > max_reply_size(req)) return std::nullopt;
    size_t tail_len = bytes.size() - kMinMessageLen;
    if (tail_len > PXED_TAIL_MAX || bytes[kMinMessageLen] != opt::MessageType || bytes[kMinMessageLen + 1] != 1)
        return std::nullopt;
    pxed_reply_blob b{};
    b.tail_len = uint16_t(tail_len);
    std::memcpy(&b.siaddr_be, &bytes[20], 4);
    std::memcpy(b.sname_file, &bytes[44], PXED_SNAME_FILE_LEN);
    std::memcpy(b.tail, &bytes[kMinMessageLen], tail_len);
    b.tail[2] = 0;  // option 53's value: the program writes OFFER or ACK
    uint32_t acc = uint32_t(ones_sum(b.sname_file, PXED_SNAME_FILE_LEN)) + ones_sum(b.tail, tail_len);
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    b.csum = uint16_t(acc);
    return b;
}

}  // namespace pxed::bpf
