#pragma once
// Reservations by option 82 (config.h AgentReservation) as the engine and
// the XDP program's map sync see a request. Pure.
#include <optional>
#include <string_view>

#include "config/config.h"
#include "dhcp/packet.h"

namespace pxed::dhcp {

// Sub-option `code` of the request's option 82 (RFC 3046 2.0: code, length,
// value): the first one, when every sub-option before it is whole; nullopt
// otherwise. bpf/relay.h reads option 82 by the same rule.
std::optional<std::string_view> agent_sub_option(const Packet& req, uint8_t code);

// The reservation by option 82 of `req`, on `subnet`: by circuit id, else
// by remote id; null when none matches or its address is on another subnet.
const config::AgentReservation* agent_reservation_for(const config::Config& cfg, const Packet& req,
                                                      const config::Subnet& subnet);

// The reservation by option 82 whose address is `ip`, if any.
const config::AgentReservation* agent_reservation_at(const config::Config& cfg, Ipv4 ip);

}  // namespace pxed::dhcp
