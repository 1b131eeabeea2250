#pragma once
// Internal to the pxed_bpf library: what xdp_program.cpp, pins.cpp and
// stats.cpp share. Not for other libraries (they use xdp_program.h).
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "bpf/xdp_program.h"

namespace pxed::bpf::detail {

// strerror for a libbpf-style error (negative or positive errno).
inline std::string errstr(int e) { return std::strerror(e < 0 ? -e : e); }

// Ids of the pxed programs attached to an interface, through libxdp's
// dispatcher or alone (legacy mode).
std::vector<uint32_t> pxed_programs_on(int ifindex);
// Detaches the programs `ids` from the interface, except the one `except`.
void detach_ids(const std::vector<uint32_t>& ids, int ifindex, uint32_t except);

// Sum over the CPUs of a per-CPU stats map.
Result<Stats> sum_stats(int stats_fd);

}  // namespace pxed::bpf::detail
