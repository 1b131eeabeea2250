#pragma once
// The tails of the kernel's DHCPv6 replies (include/pxed/abi6.h, struct
// pxed6_blob): for one link's subnet, every request shape the program tells
// apart, rendered by dhcp6::render_tail() — the daemon's own function, so
// the kernel sends the daemon's bytes. Pure: configuration in, the tails
// index and the distinct tails out.
//
// The set is bounded: boot sets (set 0: the subnet's and global boot
// tables; one more per distinct boot-file of the link's reservations, up to
// PXED6_BOOT_SETS) x PXED6_SHAPES shape bits x architecture slots (slot 0:
// no option 61, or one no boot table names; one slot per architecture the
// tables name, up to PXED6_ARCHS), deduplicated by content.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "dhcp6/engine6.h"
#include "pxed/abi6.h"

namespace pxed::bpf {

struct Tails6 {
    // The architectures of slots 1.. (sorted); overflow: the tables name
    // more than PXED6_ARCHS, the rest are passed by the program.
    std::vector<uint16_t> archs;
    bool arch_overflow = false;
    // A reservation's boot set by its boot-file (nullopt: none of its own).
    std::map<std::optional<std::string>, uint16_t> boot_sets;
    // PXED6_TAIL_INDEX(set, shape, slot) -> index into blobs, or PXED6_NO_BLOB
    // (a tail longer than PXED6_TAIL_MAX, or a shape the program never asks
    // for: an architecture slot without PXED6_SHAPE_BOOT).
    std::vector<uint16_t> index;
    std::vector<std::vector<uint8_t>> blobs;  // distinct tails
    size_t too_long = 0;                      // shapes whose tail does not fit a blob
};

// The Shape the program's (shape bits, slot) stands for.
dhcp6::Shape shape_of(uint32_t bits, uint32_t slot, const std::vector<uint16_t>& archs);

// The tails of subnet `sn` on a link where `server` is our address in URLs,
// for the link's reservations `resv` (those in sn's prefix).
Tails6 render_tails6(const config::Config& cfg, uint16_t http_port, const config::Subnet6& sn, const Ipv6& server,
                     const std::vector<const config::Reservation6*>& resv);

}  // namespace pxed::bpf
