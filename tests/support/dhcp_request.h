#pragma once
// The bare client request the engine unit tests start from: a message type,
// a client MAC and a transaction id, no other option. Header-only; each test
// adds the options its case is about.
#include <cstdint>
#include <string>

#include "dhcp/packet.h"

namespace pxed::test {

inline dhcp::Packet request(dhcp::MessageType t, const std::string& mac, uint32_t xid) {
    dhcp::Packet p;
    p.xid = xid;
    p.set_mac(*Mac::parse(mac));
    p.options.set_u8(dhcp::opt::MessageType, uint8_t(t));
    return p;
}

}  // namespace pxed::test
