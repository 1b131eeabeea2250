#include "bpf/trace_map.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>

#include <cstring>
#include <ctime>

#include "bpf/map_sync.h"
#include "bpf/xdp_program.h"
#include "pxed/profile.h"

namespace pxed::bpf {

Result<void> for_each_trace(int fd, const std::function<void(const Mac&, const pxed_trace_ring&)>& each) {
    pxed_mac_key key{}, next{};
    pxed_mac_key* prev = nullptr;
    pxed_trace_ring ring{};
    // An LRU map can drop the key we hold between two calls: the walk then
    // starts over from the first key, so it is bounded by the map's size.
    for (size_t n = 0; n < 2 * size_t(PXED_TRACE_MACS); n++) {
        if (bpf_map_get_next_key(fd, prev, &next) != 0) {
            if (errno == ENOENT) return {};
            return Err(std::string("reading the trace map: ") + std::strerror(errno));
        }
        key = next;
        prev = &key;
        if (bpf_map_lookup_elem(fd, &key, &ring) != 0) continue;  // evicted meanwhile
        Mac m;
        std::memcpy(m.b.data(), key.mac, 6);
        each(m, ring);
    }
    return {};
}

Result<void> trace_batch(int fd, std::optional<Mac>& cursor, size_t max,
                         const std::function<void(const Mac&, const pxed_trace_ring&)>& each) {
    pxed_mac_key key{}, next{};
    bool have = false;
    if (cursor) {
        key = mac_key(*cursor);
        have = true;
    }
    pxed_trace_ring ring{};
    for (size_t n = 0; n < max; n++) {
        // A cursor the LRU dropped meanwhile makes the kernel start over:
        // a client may be read twice, which the caller's counts absorb.
        if (bpf_map_get_next_key(fd, have ? &key : nullptr, &next) != 0) {
            cursor.reset();
            if (errno == ENOENT) return {};
            return Err(std::string("reading the trace map: ") + std::strerror(errno));
        }
        key = next;
        have = true;
        Mac m;
        std::memcpy(m.b.data(), key.mac, 6);
        cursor = m;
        if (bpf_map_lookup_elem(fd, &key, &ring) == 0) each(m, ring);
    }
    return {};
}

std::optional<pxed_trace_ring> trace_of(int fd, const Mac& mac) {
    pxed_mac_key key = mac_key(mac);
    pxed_trace_ring ring{};
    if (bpf_map_lookup_elem(fd, &key, &ring) != 0) return std::nullopt;
    return ring;
}

trace::DhcpEvent to_dhcp_event(const pxed_trace_event& e, const std::string& ifname) {
    trace::DhcpEvent d;
    d.path = trace::Path::Kernel;
    d.verdict = e.verdict == PXED_TRACE_TX     ? trace::Verdict::Answered
                : e.verdict == PXED_TRACE_DROP ? trace::Verdict::Dropped
                                               : trace::Verdict::Passed;
    d.request = e.msg_type;
    if (e.verdict == PXED_TRACE_TX)
        d.reply = e.reason == PXED_STAT_TX_ACK || e.reason == PXED_STAT_TX_PROXY_ACK ? 5 : 2;
    d.xid = ntohl(e.xid);
    d.address = Ipv4(ntohl(e.addr_be));
    if (e.reason < PXED_STAT_MAX) d.reason = std::string(stat_name(pxed_stat(e.reason)));
    if (e.flags & PXED_TRACE_F_HAS_ARCH) d.arch = e.arch;
    d.vendor_class = e.vendor == PXED_VENDOR_PXECLIENT    ? "PXEClient"
                     : e.vendor == PXED_VENDOR_HTTPCLIENT ? "HTTPClient"
                     : e.vendor == PXED_VENDOR_OTHER      ? "other"
                                                          : "";
    if (e.flags & PXED_TRACE_F_IPXE) d.user_class = "iPXE";
    d.interface = ifname;
    d.boot_server_port = e.flags & PXED_TRACE_F_4011;
    d.relayed = e.flags & PXED_TRACE_F_RELAYED;
    return d;
}

int64_t mono_to_wall_offset_us() {
    timespec m{}, w{};
    clock_gettime(CLOCK_MONOTONIC, &m);
    clock_gettime(CLOCK_REALTIME, &w);
    return (int64_t(w.tv_sec) - int64_t(m.tv_sec)) * 1'000'000 + (w.tv_nsec - m.tv_nsec) / 1000;
}

}  // namespace pxed::bpf
