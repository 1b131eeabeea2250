#pragma once
// The kernel's VLAN devices (`ip link add link trunk0 name trunk0.100 type
// vlan id 100`), read over rtnetlink: which device carries which VLAN id of
// which lower device. pxed serves a trunk's VLAN subnets through them
// (docs/CONFIG.md, "VLAN trunks"): the daemon's sockets on the VLAN device,
// the XDP program on the trunk.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pxed/result.h"

namespace pxed::daemon {

struct VlanDevice {
    std::string name;
    int ifindex = 0;
    int lower = 0;       // ifindex of the device it is a VLAN of
    uint16_t vid = 0;
    uint16_t proto = 0;  // 0x8100 (802.1Q) or 0x88a8 (802.1ad)
};

// One RTM_NEWLINK message (from its struct nlmsghdr on): the VLAN device it
// describes, or nothing for any other kind of link or a message cut short.
std::optional<VlanDevice> parse_vlan_link(const uint8_t* msg, size_t len);

// Every VLAN device in this network namespace.
Result<std::vector<VlanDevice>> list_vlan_devices();

// The device for VLAN `outer` (and `inner`, QinQ: a VLAN device on the
// outer one; 0 for none) on the device `trunk`, if there is one.
std::optional<VlanDevice> find_vlan_device(const std::vector<VlanDevice>& all, int trunk, uint16_t outer,
                                           uint16_t inner);

}  // namespace pxed::daemon
