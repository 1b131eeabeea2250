#pragma once
// The daemon's figures, read once into a snapshot that is the one source for
// /metrics (Prometheus text), `pxectl stats` (JSON) and the shutdown log.
//
// Owns: the daemon-path DHCP counters (atomics: the event loop writes them,
// the HTTP thread reads them). The kernel's counters, the TFTP and the HTTP
// counters are owned by the fast path and the file service; a snapshot
// copies them.
#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bpf/servers_map.h"
#include "bpf/xdp_program.h"

namespace pxed::tftp { struct ServerStats; }
namespace pxed::http { struct Stats; }

namespace pxed::daemon {

// Daemon-path DHCP counters.
struct DhcpCounters {
    std::array<std::atomic<uint64_t>, 9> received{};  // by message type 1..8 (0: none)
    std::array<std::atomic<uint64_t>, 9> sent{};      // OFFER, ACK, NAK
    std::atomic<uint64_t> parse_errors{0};
    std::atomic<uint64_t> not_ethernet{0};  // htype/hlen not 1/6 (the XDP program passes these)
    std::atomic<uint64_t> pool_exhausted{0};
    std::atomic<uint64_t> ignored{0};  // the boot policy: ignore, or an unknown client on a known-clients-only subnet
    std::atomic<uint64_t> rate_limited_client{0};  // over dhcp-rate-limit for its MAC
    std::atomic<uint64_t> rate_limited_relay{0};   // over relay-rate-limit for its giaddr
    // proxyDHCP subnets: OFFERs on port 67 and ACKs on port 4011 (also in
    // sent), requests left alone because they are not from a PXE client or
    // there is nothing to boot for them.
    std::atomic<uint64_t> proxy_offers{0}, proxy_acks{0}, proxy_not_pxe{0}, proxy_nothing_to_boot{0};
    // The lease database took no writes: DISCOVERs and REQUESTs dropped.
    std::atomic<uint64_t> store_unavailable{0};
};

// The lease database, as the daemon sees it.
struct DbFigures {
    bool up = true;
    uint64_t failed_commits = 0;   // commits the store refused (retried later)
    uint64_t lost_to_others = 0;   // ACKs replaced by a NAK: another server stored the address first
    bool shared = false;           // PostgreSQL
};

struct XdpFigures {
    std::string iface;
    bpf::Stats stats{};
    // Frames the program passed up to the daemon (neither answered nor dropped).
    uint64_t passed() const;
};

struct TftpFigures {
    uint64_t requests = 0, completed = 0, failed = 0, active = 0, bytes = 0, errors_sent = 0,
             retransmissions = 0, ignored = 0, busy = 0;
};

struct HttpFigures {
    uint64_t requests = 0, files = 0, not_found = 0, refused = 0, bytes = 0;
};

// dhcp-script events (daemon/hooks.h).
struct HookFigures {
    uint64_t queued = 0, run = 0, dropped = 0, failed = 0, waiting = 0;
};

// The DHCPv6 path (daemon/dhcp6_service.h).
struct Dhcp6Figures {
    std::array<uint64_t, 14> received{};  // by message type
    uint64_t advertise = 0, reply = 0, no_addrs = 0;
    std::array<uint64_t, 16> dropped{};   // by dhcp6::Drop
};

struct MetricsSnapshot {
    std::array<uint64_t, 9> received{}, sent{};
    uint64_t parse_errors = 0, not_ethernet = 0, pool_exhausted = 0, ignored = 0, rate_limited_client = 0, rate_limited_relay = 0;
    uint64_t proxy_offers = 0, proxy_acks = 0, proxy_not_pxe = 0, proxy_nothing_to_boot = 0;
    uint64_t store_unavailable = 0;
    DbFigures db;
    std::vector<XdpFigures> xdp;
    std::optional<TftpFigures> tftp;
    std::optional<HttpFigures> http;
    std::optional<HookFigures> hooks;  // with a dhcp-script
    std::optional<Dhcp6Figures> dhcp6;  // with [[subnet6]]
    // Other DHCP servers the XDP program saw (pxed's own left out), and the
    // CLOCK_MONOTONIC time of the snapshot to age them by.
    std::vector<bpf::SeenServer> other_servers;
    uint64_t mono_ns = mono_now_ns();
    static uint64_t mono_now_ns();
    // Seconds since a server's last reply.
    uint64_t age_s(const bpf::SeenServer& s) const { return mono_ns > s.last_ns ? (mono_ns - s.last_ns) / 1'000'000'000 : 0; }

    uint64_t kernel_offers() const;
    uint64_t kernel_acks() const;
    uint64_t kernel_stat(pxed_stat i) const;  // summed over the interfaces
};

// Each part fills in its own figures.
void read_into(MetricsSnapshot& s, const DhcpCounters& c);
TftpFigures read_figures(const tftp::ServerStats& t);
HttpFigures read_figures(const http::Stats& h);

std::string to_prometheus(const MetricsSnapshot& s);
nlohmann::json to_json(const MetricsSnapshot& s);
// One log line per interface at shutdown.
std::string shutdown_line(const XdpFigures& x);

}  // namespace pxed::daemon
