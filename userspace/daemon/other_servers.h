#pragma once
// Other DHCP servers on pxed's segments, as the XDP program saw their
// replies (bpf/servers.h, the `servers` map of each interface). The event
// loop pulls the maps once a second: servers that are pxed itself (its
// interfaces' addresses, a subnet's server-ip) are left out, and a new one
// is logged once, with what it sent and the failure that is likely to
// follow. pxectl stats and /metrics read the list (any thread: a copy
// under a lock).
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "bpf/servers_map.h"
#include "config/config.h"
#include "pxed/net.h"

namespace pxed::daemon {

class FastPath;

class OtherServers {
public:
    // pxed's own addresses: `iface_addrs` and every subnet's server-ip.
    void configure(const config::Config& cfg, const std::vector<Ipv4>& iface_addrs);
    // Reads every interface's map; warns once per new server (at most
    // kWarnPerPull lines a pull: a flood of forged server ids costs the
    // log a bounded number of lines a second).
    void pull(const FastPath& fp);
    std::vector<bpf::SeenServer> list() const;

    static constexpr int64_t kRecentS = 600;  // "currently seen": a reply within this many seconds
    static constexpr size_t kWarnPerPull = 8;

private:
    bool ours(Ipv4 a) const;
    mutable std::mutex mu_;
    std::vector<bpf::SeenServer> seen_;  // the last pull, pxed's own left out
    std::vector<Ipv4> own_;              // loop only
    std::unordered_set<std::string> warned_;
};

// The log line for a server seen for the first time: what it sent and,
// where the bytes say it, why that breaks PXE boots.
std::string describe(const bpf::SeenServer& s);

}  // namespace pxed::daemon
