#pragma once
// A served interface: its index, MAC, addresses, and the sockets DHCP uses.
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "daemon/datagram_batch.h"
#include "dhcp/engine.h"
#include "pxed/net.h"
#include "pxed/result.h"

namespace pxed::daemon {

struct IfaceInfo {
    std::string name;
    int ifindex = 0;
    Mac mac;
    Ipv4 addr;        // first IPv4 address on the interface
    uint8_t prefix = 0;
    // Its IPv6 addresses when it was looked up: global and unique local ones
    // in the order the kernel lists them, and the link-local one (fe80::/10,
    // which needs ifindex as its scope). Those in duplicate address
    // detection are listed too (tentative, usable a second later).
    std::vector<Ipv6> addrs6;
    std::optional<Ipv6> link_local6;
    // A VLAN device serving a `vlan` subnet of the trunk `trunk` (one of
    // server.interfaces): the daemon's sockets are here, the XDP program
    // is the trunk's. Empty for an interface listed in server.interfaces.
    std::string trunk;
    uint16_t vlan = 0, inner_vlan = 0;
    // A VLAN without a device: answered by the trunk's program alone (from
    // its subnet's server-ip); no socket, no TFTP/HTTP there.
    bool kernel_only = false;
    // need_ipv4 = false: an interface without an IPv4 address is fine (an
    // IPv6-only segment served by DHCPv6); addr stays zero.
    static Result<IfaceInfo> lookup(const std::string& name, bool need_ipv4 = true);
};

class DhcpSocket {
public:
    // boot_server: also the PXE boot server port, 4011 (proxy subnets).
    static Result<DhcpSocket> open(const IfaceInfo& info, bool boot_server);
    int fd() const { return udp_.get(); }
    int boot_server_fd() const { return pxe_.get(); }  // -1 without
    int recv_boot_server(RecvBatch& batch) { return batch.recv(pxe_.get()); }
    const IfaceInfo& info() const { return info_; }
    // Reads what is waiting, up to RecvBatch::kSlots datagrams: how many
    // (0: none), -1 on an error.
    int recv(RecvBatch& batch) { return batch.recv(udp_.get()); }
    // Queues a reply; flush() sends what is queued (sendmmsg), logging a
    // reply the kernel refuses.
    void queue(const dhcp::Reply& r);
    void flush();

private:
    DhcpSocket(IfaceInfo info, UniqueFd udp, UniqueFd raw, UniqueFd pxe)
        : info_(std::move(info)), udp_(std::move(udp)), raw_(std::move(raw)), pxe_(std::move(pxe)) {}
    IfaceInfo info_;
    UniqueFd udp_;
    UniqueFd raw_;  // AF_PACKET: unicast to chaddr without the ARP table
    UniqueFd pxe_;  // UDP 4011: proxyDHCP's boot server dialogue
    SendBatch udp_out_, raw_out_, pxe_out_;
};

}  // namespace pxed::daemon
