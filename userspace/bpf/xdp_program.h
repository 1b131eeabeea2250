#pragma once
// The loaded XDP program and its maps (userspace edge of bpf/pxed_xdp.bpf.c).
#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "pxed/abi.h"
#include "pxed/result.h"

struct pxed_xdp;  // libbpf skeleton

namespace pxed::bpf {

std::string_view stat_name(pxed_stat s);

using Stats = std::array<uint64_t, PXED_STAT_MAX>;

class XdpProgram {
public:
    // Opens and loads the embedded object into the kernel (not attached).
    static Result<std::unique_ptr<XdpProgram>> load();
    ~XdpProgram();
    XdpProgram(const XdpProgram&) = delete;
    XdpProgram& operator=(const XdpProgram&) = delete;

    int prog_fd() const;
    int reservations_fd() const;
    int reply_blobs_fd() const;
    int config_fd() const;
    int stats_fd() const;

    Result<bool> set_config(const pxed_xdp_config& c);
    // Sum of the per-CPU counters.
    Result<Stats> read_stats() const;

private:
    explicit XdpProgram(pxed_xdp* skel) : skel_(skel) {}
    pxed_xdp* skel_;
};

}  // namespace pxed::bpf
