#pragma once
// Reply blobs for the XDP program, cut from the daemon's own rendered reply
// (dhcp/render.h), and the profile classification both sides share. Pure.
#include <cstdint>
#include <optional>
#include <vector>

#include "config/config.h"
#include "dhcp/packet.h"
#include "pxed/abi.h"
#include "pxed/profile.h"

namespace pxed::bpf {

// The profile index (include/pxed/profile.h) the program computes for a request.
uint32_t profile_index(const dhcp::Packet& req);
// A request the daemon classifies exactly as `profile`.
dhcp::Packet synthetic_request(uint32_t profile);

struct BlobInput {
    const config::Subnet* subnet = nullptr;
    Ipv4 server_ip;
    const config::Reservation* reservation = nullptr;
};

// The blob for one profile; nullopt when the reply does not fit PXED_TAIL_MAX
// or is larger than every client accepts (548 bytes of DHCP message): the
// daemon then answers that client itself.
std::optional<pxed_reply_blob> render_blob(const BlobInput& in, uint32_t profile);

// Ones' complement sum (not inverted, folded) of bytes placed at an even offset.
uint16_t ones_sum(const uint8_t* p, size_t n);

}  // namespace pxed::bpf
