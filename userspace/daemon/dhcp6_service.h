#pragma once
// The daemon's DHCPv6 path: a UDP socket on port 547 per served interface,
// joined to All_DHCP_Relay_Agents_and_Servers (ff02::1:2) there, which also
// takes relayed messages sent to our addresses. Each datagram goes to the
// DHCPv6 engine; Advertises and replies that promise nothing leave at once,
// replies about leases wait in the commit pipeline until those are stored.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/unique_fd.h"
#include "daemon/commit_pipeline.h"
#include "daemon/interface.h"
#include "daemon/metrics.h"
#include "dhcp6/engine6.h"
#include "pxed/result.h"

namespace pxed::daemon {

// The interface's IPv6 addresses: global and unique-local ones (not
// link-local), as the kernel lists them.
Result<std::vector<Ipv6>> interface_addrs6(const std::string& name);
// DUID-LL (RFC 8415 11.4) of an Ethernet address: the server's identifier.
std::vector<uint8_t> duid_ll(const Mac& mac);
// The interface's first link-local address: the source the kernel gives
// the daemon's replies to a link-local client (and so the XDP program's);
// zero when it has none.
Ipv6 interface_link_local6(const std::string& name);
// net.ipv6.conf.<name>.hop_limit: the hop limit of the daemon's replies there.
uint8_t interface_hop_limit6(const std::string& name);

class Dhcp6Service {
public:
    struct Socket {
        UniqueFd fd;
        dhcp6::Link link;
    };

    // A socket on each interface; fails naming the interface and the call.
    Result<void> open(const std::vector<IfaceInfo>& ifaces);
    void set_engine(dhcp6::Engine6* e) { engine_ = e; }
    void set_pipeline(CommitPipeline* p) { pipeline_ = p; }
    void set_debug(bool on) { debug_ = on; }
    // Socket `si` is readable: reads up to a bounded number of datagrams.
    void on_readable(size_t si);
    void send(const CommitPipeline::Held6& r);
    const std::vector<Socket>& sockets() const { return sockets_; }
    // The counters, as the metrics (HTTP thread) read them.
    Dhcp6Figures figures() const;
    // Whether a reply or a release touched a reserved address since the
    // last call: the kernel path's maps follow the leases on those.
    bool take_reserved_touched() { return std::exchange(reserved_touched_, false); }

private:
    void count(const dhcp6::Outcome& o);
    // Written on the loop, read by the HTTP thread.
    std::array<std::atomic<uint64_t>, 14> received_{};
    std::array<std::atomic<uint64_t>, size_t(dhcp6::Drop::Count)> dropped_{};
    std::atomic<uint64_t> advertise_{0}, reply_{0}, no_addrs_{0};

    dhcp6::Engine6* engine_ = nullptr;
    CommitPipeline* pipeline_ = nullptr;
    std::vector<Socket> sockets_;
    bool debug_ = false;
    bool reserved_touched_ = false;
};

}  // namespace pxed::daemon
