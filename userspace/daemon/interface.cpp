#include "daemon/interface.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include "dhcp/frame.h"

namespace pxed::daemon {

namespace {
std::string errstr() { return std::strerror(errno); }
}

Result<IfaceInfo> IfaceInfo::lookup(const std::string& name, bool need_ipv4) {
    IfaceInfo i;
    i.name = name;
    i.ifindex = int(if_nametoindex(name.c_str()));
    if (i.ifindex == 0) return Err("interface '" + name + "' does not exist (from server.interfaces)");
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return Err("socket: " + errstr());
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    int rc = ioctl(s, SIOCGIFHWADDR, &ifr);
    close(s);
    if (rc != 0) return Err("cannot read the MAC address of " + name + ": " + errstr());
    std::memcpy(i.mac.b.data(), ifr.ifr_hwaddr.sa_data, 6);
    ifaddrs* ifa = nullptr;
    if (getifaddrs(&ifa) != 0) return Err("getifaddrs: " + errstr());
    for (auto* p = ifa; p; p = p->ifa_next) {
        if (!p->ifa_addr || name != p->ifa_name) continue;
        if (p->ifa_addr->sa_family == AF_INET6) {
            Ipv6 a;
            std::memcpy(a.b.data(), &reinterpret_cast<sockaddr_in6*>(p->ifa_addr)->sin6_addr, 16);
            if (!a.is_link_local()) i.addrs6.push_back(a);
            else if (!i.link_local6) i.link_local6 = a;
        }
        if (p->ifa_addr->sa_family != AF_INET || !i.addr.is_zero()) continue;
        i.addr = Ipv4(ntohl(reinterpret_cast<sockaddr_in*>(p->ifa_addr)->sin_addr.s_addr));
        uint32_t m = ntohl(reinterpret_cast<sockaddr_in*>(p->ifa_netmask)->sin_addr.s_addr);
        i.prefix = uint8_t(__builtin_popcount(m));
    }
    freeifaddrs(ifa);
    if (i.addr.is_zero() && need_ipv4) return Err("interface " + name + " has no IPv4 address: pxed answers from that address");
    return i;
}

namespace {
// A UDP socket bound to `port` on the interface only.
Result<UniqueFd> bound_udp(const IfaceInfo& info, uint16_t port, int rcvbuf, const char* who) {
    UniqueFd owned(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    int fd = owned.get();
    if (fd < 0) return Err("socket: " + errstr());
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
    // SO_RCVBUFFORCE passes net.core.rmem_max; needs CAP_NET_ADMIN.
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, info.name.c_str(), socklen_t(info.name.size())) != 0)
        return Err("SO_BINDTODEVICE " + info.name + ": " + errstr() + " (needs CAP_NET_RAW)");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        return Err("cannot bind UDP port " + std::to_string(port) + " on " + info.name + ": " + errstr() + " (" + who +
                   "; needs CAP_NET_BIND_SERVICE)");
    return owned;
}
}  // namespace

Result<DhcpSocket> DhcpSocket::open(const IfaceInfo& info, bool boot_server) {
    // Room for bursts while a lease commit waits for the disk: 8 MiB.
    auto udp = bound_udp(info, 67, 8 << 20, "another DHCP server running?");
    if (!udp) return Err(udp.error());
    UniqueFd pxe;
    if (boot_server) {
        auto b = bound_udp(info, 4011, 1 << 20, "another PXE boot server or proxyDHCP running?");
        if (!b) return Err(b.error());
        pxe = std::move(b.value());
    }
    UniqueFd raw(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));  // protocol 0: send only
    if (!raw) return Err("AF_PACKET socket: " + errstr() + " (needs CAP_NET_RAW)");
    return DhcpSocket(info, std::move(udp.value()), std::move(raw), std::move(pxe));
}

void DhcpSocket::queue(const dhcp::Reply& r) {
    auto bytes = dhcp::encode(r);  // within the client's maximum message size
    if (r.dest == dhcp::Dest::UnicastChaddr) {
        dhcp::UdpEndpoints ep;
        ep.src_mac = info_.mac;
        ep.dst_mac = r.packet.mac();
        ep.src_ip = info_.addr;
        ep.dst_ip = r.dst_ip;
        ep.src_port = r.src_port;
        ep.dst_port = r.dst_port;
        sockaddr_ll ll{};
        ll.sll_family = AF_PACKET;
        ll.sll_ifindex = info_.ifindex;
        ll.sll_halen = 6;
        std::memcpy(ll.sll_addr, ep.dst_mac.b.data(), 6);
        raw_out_.add(dhcp::build_udp_frame(ep, bytes), reinterpret_cast<sockaddr*>(&ll), sizeof ll);
        return;
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(r.dst_port);
    a.sin_addr.s_addr = htonl(r.dst_ip.v);
    (r.src_port == 4011 && pxe_ ? pxe_out_ : udp_out_).add(std::move(bytes), reinterpret_cast<sockaddr*>(&a), sizeof a);
}

void DhcpSocket::flush() {
    auto failed = [this](const sockaddr_storage& to, int err) {
        std::string dst;
        if (to.ss_family == AF_PACKET) {
            Mac m;
            std::memcpy(m.b.data(), reinterpret_cast<const sockaddr_ll&>(to).sll_addr, 6);
            dst = m.str();
        } else {
            auto& in = reinterpret_cast<const sockaddr_in&>(to);
            dst = Ipv4(ntohl(in.sin_addr.s_addr)).str() + ":" + std::to_string(ntohs(in.sin_port));
        }
        spdlog::warn("dhcp send to {} on {} failed: {}", dst, info_.name, std::strerror(err));
    };
    udp_out_.flush(udp_.get(), failed);
    raw_out_.flush(raw_.get(), failed);
    if (pxe_) pxe_out_.flush(pxe_.get(), failed);
}

}  // namespace pxed::daemon
