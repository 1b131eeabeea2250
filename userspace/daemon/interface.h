#pragma once
// A served interface: its index, MAC, IPv4 address, and the sockets DHCP uses.
#include <string>

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
    static Result<IfaceInfo> lookup(const std::string& name);
};

class DhcpSocket {
public:
    static Result<DhcpSocket> open(const IfaceInfo& info);
    int fd() const { return udp_.get(); }
    const IfaceInfo& info() const { return info_; }
    // Reads what is waiting, up to RecvBatch::kSlots datagrams: how many
    // (0: none), -1 on an error.
    int recv(RecvBatch& batch) { return batch.recv(udp_.get()); }
    // Queues a reply; flush() sends what is queued (sendmmsg), logging a
    // reply the kernel refuses.
    void queue(const dhcp::Reply& r);
    void flush();

private:
    DhcpSocket(IfaceInfo info, UniqueFd udp, UniqueFd raw)
        : info_(std::move(info)), udp_(std::move(udp)), raw_(std::move(raw)) {}
    IfaceInfo info_;
    UniqueFd udp_;
    UniqueFd raw_;  // AF_PACKET: unicast to chaddr without the ARP table
    SendBatch udp_out_, raw_out_;
};

}  // namespace pxed::daemon
