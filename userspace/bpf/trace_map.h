#pragma once
// The XDP program's boot trace map (struct pxed_trace_ring per client MAC,
// include/pxed/abi.h): read by the daemon every second and turned into the
// boot trace's events (userspace/trace/recorder.h).
#include <cstdint>
#include <functional>
#include <optional>

#include "pxed/abi.h"
#include "pxed/net.h"
#include "pxed/result.h"
#include "trace/recorder.h"

namespace pxed::bpf {

// Calls `each` for every client in the map (bounded by the map's size).
Result<void> for_each_trace(int fd, const std::function<void(const Mac&, const pxed_trace_ring&)>& each);
// A part of a walk: at most `max` clients after `*cursor` (none: from the
// start); `*cursor` becomes the last one read, or none at the end of the map.
Result<void> trace_batch(int fd, std::optional<Mac>& cursor, size_t max,
                         const std::function<void(const Mac&, const pxed_trace_ring&)>& each);
std::optional<pxed_trace_ring> trace_of(int fd, const Mac& mac);

// One kernel event as the boot trace shows it. `mono_to_wall_us`: add to
// the event's CLOCK_MONOTONIC microseconds for CLOCK_REALTIME.
trace::DhcpEvent to_dhcp_event(const pxed_trace_event& e, const std::string& ifname);
int64_t mono_to_wall_offset_us();

}  // namespace pxed::bpf
