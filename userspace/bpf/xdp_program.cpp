#include "bpf/xdp_program.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "pxed_xdp.skel.h"

namespace pxed::bpf {

std::string_view stat_name(pxed_stat s) {
    switch (s) {
    case PXED_STAT_RX_TOTAL: return "rx_total";
    case PXED_STAT_RX_DHCP: return "rx_dhcp";
    case PXED_STAT_TX_OFFER: return "tx_offer";
    case PXED_STAT_TX_ACK: return "tx_ack";
    case PXED_STAT_PASS_NOT_IPV4: return "pass_not_ipv4";
    case PXED_STAT_PASS_VLAN: return "pass_vlan";
    case PXED_STAT_PASS_NOT_UDP: return "pass_not_udp";
    case PXED_STAT_PASS_NOT_DHCP: return "pass_not_dhcp";
    case PXED_STAT_PASS_IP_OPTIONS: return "pass_ip_options";
    case PXED_STAT_PASS_FRAGMENT: return "pass_fragment";
    case PXED_STAT_PASS_MALFORMED: return "pass_malformed";
    case PXED_STAT_PASS_NOT_RESERVED: return "pass_not_reserved";
    case PXED_STAT_PASS_MSG_TYPE: return "pass_msg_type";
    case PXED_STAT_PASS_OVERLOAD: return "pass_overload";
    case PXED_STAT_PASS_SRC_MISMATCH: return "pass_src_mismatch";
    case PXED_STAT_PASS_REQUESTED_IP: return "pass_requested_ip";
    case PXED_STAT_PASS_DISABLED: return "pass_disabled";
    case PXED_STAT_PASS_OTHER_SERVER: return "pass_other_server";
    case PXED_STAT_PASS_NO_BLOB: return "pass_no_blob";
    case PXED_STAT_DROP_RATE_LIMIT: return "drop_rate_limit";
    case PXED_STAT_MAX: break;
    }
    return "unknown";
}

Result<std::unique_ptr<XdpProgram>> XdpProgram::load() {
    pxed_xdp* skel = pxed_xdp__open();
    if (!skel) return Err(std::string("opening the embedded XDP object failed: ") + std::strerror(errno));
    int err = pxed_xdp__load(skel);
    if (err) {
        pxed_xdp__destroy(skel);
        return Err(std::string("loading the XDP program into the kernel failed: ") + std::strerror(-err) +
                   " (needs root or CAP_BPF+CAP_NET_ADMIN)");
    }
    return std::unique_ptr<XdpProgram>(new XdpProgram(skel));
}

XdpProgram::~XdpProgram() { pxed_xdp__destroy(skel_); }

int XdpProgram::prog_fd() const { return bpf_program__fd(skel_->progs.pxed_xdp); }
int XdpProgram::reservations_fd() const { return bpf_map__fd(skel_->maps.reservations); }
int XdpProgram::reply_blobs_fd() const { return bpf_map__fd(skel_->maps.reply_blobs); }
int XdpProgram::config_fd() const { return bpf_map__fd(skel_->maps.config); }
int XdpProgram::stats_fd() const { return bpf_map__fd(skel_->maps.stats); }

Result<bool> XdpProgram::set_config(const pxed_xdp_config& c) {
    uint32_t key = 0;
    if (bpf_map_update_elem(config_fd(), &key, &c, BPF_ANY) != 0)
        return Err(std::string("updating the XDP config map failed: ") + std::strerror(errno));
    return true;
}

Result<Stats> XdpProgram::read_stats() const {
    int ncpu = libbpf_num_possible_cpus();
    if (ncpu <= 0) return Err(std::string("cannot count possible CPUs"));
    Stats out{};
    std::vector<uint64_t> per_cpu(static_cast<size_t>(ncpu));
    for (uint32_t i = 0; i < PXED_STAT_MAX; i++) {
        if (bpf_map_lookup_elem(stats_fd(), &i, per_cpu.data()) != 0)
            return Err(std::string("reading the stats map failed: ") + std::strerror(errno));
        for (auto v : per_cpu) out[i] += v;
    }
    return out;
}

}  // namespace pxed::bpf
