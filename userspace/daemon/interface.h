#pragma once
// A served interface: its index, MAC, IPv4 address, and the sockets DHCP uses.
#include <string>

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
    DhcpSocket(DhcpSocket&& o) noexcept;
    DhcpSocket& operator=(DhcpSocket&&) = delete;
    ~DhcpSocket();

    int fd() const { return udp_; }
    const IfaceInfo& info() const { return info_; }
    // Reads one datagram; returns its size, 0 if none is pending, -1 on error.
    ssize_t recv(uint8_t* buf, size_t len);
    Result<void> send(const dhcp::Reply& r);

private:
    DhcpSocket(IfaceInfo info, int udp, int raw) : info_(std::move(info)), udp_(udp), raw_(raw) {}
    IfaceInfo info_;
    int udp_ = -1;
    int raw_ = -1;  // AF_PACKET: unicast to chaddr without the ARP table
};

}  // namespace pxed::daemon
