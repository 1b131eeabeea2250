// The per-CPU counters of the XDP program (enum pxed_stat in
// include/pxed/abi.h): their names, the one list that pxectl stats, /metrics
// and the shutdown log line print, and their sums.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "bpf/xdp_internal.h"
#include "bpf/xdp_program.h"

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
    case PXED_STAT_PASS_RELAY_AGENT: return "pass_relay_agent";
    case PXED_STAT_PASS_UNSURE: return "pass_unsure";
    case PXED_STAT_PASS_WRONG_SUBNET: return "pass_wrong_subnet";
    case PXED_STAT_PASS_TX_FAILED: return "pass_tx_failed";
    case PXED_STAT_PASS_NOT_FOR_US: return "pass_not_for_us";
    case PXED_STAT_PASS_UNDECIDED: return "pass_undecided";
    case PXED_STAT_PASS_PRL: return "pass_prl";
    case PXED_STAT_TX_PROXY_OFFER: return "tx_proxy_offer";
    case PXED_STAT_TX_PROXY_ACK: return "tx_proxy_ack";
    case PXED_STAT_PASS_NOT_PXE: return "pass_not_pxe";
    case PXED_STAT_PASS_BOOT_ITEM: return "pass_boot_item";
    case PXED_STAT_RX_SERVER_REPLY: return "rx_server_reply";
    case PXED_STAT_RX_TAGGED: return "rx_tagged";
    case PXED_STAT_DROP_VLAN_RESTORE: return "drop_vlan_restore";
    case PXED_STAT_RX_DHCP6: return "rx_dhcp6";
    case PXED_STAT_TX6_SOLICIT: return "tx6_solicit";
    case PXED_STAT_TX6_REQUEST: return "tx6_request";
    case PXED_STAT_PASS6_OFF: return "pass6_off";
    case PXED_STAT_PASS6_NOT_LINK: return "pass6_not_link";
    case PXED_STAT_PASS6_CHECKSUM: return "pass6_checksum";
    case PXED_STAT_PASS6_MALFORMED: return "pass6_malformed";
    case PXED_STAT_PASS6_MSG_TYPE: return "pass6_msg_type";
    case PXED_STAT_PASS6_NO_RAPID_COMMIT: return "pass6_no_rapid_commit";
    case PXED_STAT_PASS6_SERVER_ID: return "pass6_server_id";
    case PXED_STAT_PASS6_UNSURE: return "pass6_unsure";
    case PXED_STAT_PASS6_NOT_RESERVED: return "pass6_not_reserved";
    case PXED_STAT_PASS6_HELD: return "pass6_held";
    case PXED_STAT_PASS6_NO_BLOB: return "pass6_no_blob";
    case PXED_STAT_MAX: break;
    }
    return "unknown";
}

namespace detail {

Result<Stats> sum_stats(int fd) {
    int ncpu = libbpf_num_possible_cpus();
    if (ncpu <= 0) return Err(std::string("cannot count possible CPUs"));
    Stats out{};
    std::vector<uint64_t> per_cpu(static_cast<size_t>(ncpu));
    for (uint32_t i = 0; i < PXED_STAT_MAX; i++) {
        if (bpf_map_lookup_elem(fd, &i, per_cpu.data()) != 0)
            return Err(std::string("reading the stats map failed: ") + std::strerror(errno));
        for (auto v : per_cpu) out[i] += v;
    }
    return out;
}

}  // namespace detail

Result<Stats> XdpProgram::read_stats() const { return detail::sum_stats(stats_fd()); }

Result<Stats> read_pinned_stats(const std::string& ifname) {
    std::string path = pin_dir(ifname) + "/stats";
    int fd = bpf_obj_get(path.c_str());
    if (fd < 0) return Err("cannot open " + path + ": " + detail::errstr(errno) + " (is pxed serving " + ifname + " with XDP?)");
    auto r = detail::sum_stats(fd);
    close(fd);
    return r;
}

}  // namespace pxed::bpf
