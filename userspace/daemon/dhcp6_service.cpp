#include "daemon/dhcp6_service.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>

namespace pxed::daemon {

namespace {

constexpr int kBatch = 64;  // datagrams per readable socket per turn

std::string errstr() { return std::strerror(errno); }

}  // namespace

Result<std::vector<Ipv6>> interface_addrs6(const std::string& name) {
    ifaddrs* ifa = nullptr;
    if (getifaddrs(&ifa) != 0) return Err("getifaddrs: " + errstr());
    std::vector<Ipv6> out;
    for (auto* p = ifa; p; p = p->ifa_next) {
        if (!p->ifa_addr || p->ifa_addr->sa_family != AF_INET6 || name != p->ifa_name) continue;
        Ipv6 a;
        std::memcpy(a.b.data(), &reinterpret_cast<sockaddr_in6*>(p->ifa_addr)->sin6_addr, 16);
        if (!a.is_link_local()) out.push_back(a);
    }
    freeifaddrs(ifa);
    return out;
}

std::vector<uint8_t> duid_ll(const Mac& mac) {
    // DUID-LL, hardware type 1 (Ethernet), then the address.
    auto& m = mac.b;
    return {0, 3, 0, 1, m[0], m[1], m[2], m[3], m[4], m[5]};
}

Ipv6 interface_link_local6(const std::string& name) {
    ifaddrs* ifa = nullptr;
    if (getifaddrs(&ifa) != 0) return Ipv6{};
    Ipv6 out;
    for (auto* p = ifa; p && out.is_zero(); p = p->ifa_next) {
        if (!p->ifa_addr || p->ifa_addr->sa_family != AF_INET6 || name != p->ifa_name) continue;
        Ipv6 a;
        std::memcpy(a.b.data(), &reinterpret_cast<sockaddr_in6*>(p->ifa_addr)->sin6_addr, 16);
        if (a.is_link_local()) out = a;
    }
    freeifaddrs(ifa);
    return out;
}

uint8_t interface_hop_limit6(const std::string& name) {
    std::ifstream in("/proc/sys/net/ipv6/conf/" + name + "/hop_limit");
    int v = 0;
    if (!(in >> v) || v < 1 || v > 255) return 64;  // the kernel's default
    return uint8_t(v);
}

Result<void> Dhcp6Service::open(const std::vector<IfaceInfo>& ifaces) {
    for (auto& i : ifaces) {
        auto addrs = interface_addrs6(i.name);
        if (!addrs) return Err(addrs.error());
        UniqueFd fd(socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (!fd) return Err("DHCPv6 socket on " + i.name + ": " + errstr());
        int one = 1;
        setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        setsockopt(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
        // One socket per interface on the same port: each bound to its device.
        if (setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE, i.name.c_str(), socklen_t(i.name.size())) != 0)
            return Err("DHCPv6 socket: cannot bind to device " + i.name + ": " + errstr());
        sockaddr_in6 a{};
        a.sin6_family = AF_INET6;
        a.sin6_port = htons(dhcp6::kServerPort);
        a.sin6_addr = in6addr_any;
        if (bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            return Err("cannot bind DHCPv6 to [::]:547 on " + i.name + ": " + errstr());
        ipv6_mreq m{};
        inet_pton(AF_INET6, "ff02::1:2", &m.ipv6mr_multiaddr);
        m.ipv6mr_interface = unsigned(i.ifindex);
        if (setsockopt(fd.get(), IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof m) != 0)
            return Err("cannot join ff02::1:2 on " + i.name + " (is IPv6 disabled there?): " + errstr());
        dhcp6::Link link{i.name, i.ifindex, i.mac, *addrs};
        spdlog::info("dhcp6 interface={} addresses={}", i.name, addrs->size());
        sockets_.push_back(Socket{std::move(fd), std::move(link)});
    }
    return {};
}

void Dhcp6Service::on_readable(size_t si) {
    auto& s = sockets_[si];
    uint8_t buf[dhcp6::kMaxMessage * 2];
    for (int n = 0; n < kBatch; n++) {
        sockaddr_in6 src{};
        alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(in6_pktinfo))];
        iovec iov{buf, sizeof buf};
        msghdr mh{};
        mh.msg_name = &src;
        mh.msg_namelen = sizeof src;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = ctl;
        mh.msg_controllen = sizeof ctl;
        ssize_t len = recvmsg(s.fd.get(), &mh, MSG_DONTWAIT);
        if (len < 0) return;
        if (mh.msg_flags & MSG_TRUNC) continue;
        dhcp6::Request r;
        r.bytes = std::span<const uint8_t>(buf, size_t(len));
        std::memcpy(r.src.b.data(), &src.sin6_addr, 16);
        for (auto* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
            if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO)
                std::memcpy(r.dst.b.data(), &reinterpret_cast<in6_pktinfo*>(CMSG_DATA(c))->ipi6_addr, 16);
        r.link = &s.link;
        auto out = engine_->handle(r, int64_t(std::time(nullptr)));
        count(out);
        if (debug_)
            spdlog::debug("dhcp6 {} from={} interface={} {} {}{}", dhcp6::to_string(out.in), r.src.str(), s.link.name,
                          out.reply.empty() ? "dropped" : dhcp6::to_string(out.out),
                          out.drop != dhcp6::Drop::None ? dhcp6::to_string(out.drop) : out.addr.str(),
                          out.detail.empty() ? "" : " " + out.detail);
        if (!out.addr.is_zero() && engine_->is_reserved(out.addr)) reserved_touched_ = true;
        if (out.reply.empty()) continue;
        CommitPipeline::Held6 h{si, std::move(out.reply), out.dst, out.dst_port};
        if (out.hold && pipeline_) pipeline_->hold6(std::move(h));
        else send(h);
    }
}

void Dhcp6Service::count(const dhcp6::Outcome& o) {
    if (o.drop == dhcp6::Drop::Malformed) dropped_[size_t(o.drop)]++;
    else received_[size_t(o.in) % received_.size()]++;
    if (o.drop != dhcp6::Drop::None && o.drop != dhcp6::Drop::Malformed) dropped_[size_t(o.drop)]++;
    if (!o.reply.empty()) (o.out == dhcp6::MsgType::Advertise ? advertise_ : reply_)++;
    no_addrs_ += o.no_addrs;
}

Dhcp6Figures Dhcp6Service::figures() const {
    Dhcp6Figures f;
    for (size_t i = 0; i < received_.size(); i++) f.received[i] = received_[i].load();
    for (size_t i = 0; i < dropped_.size() && i < f.dropped.size(); i++) f.dropped[i] = dropped_[i].load();
    f.advertise = advertise_.load();
    f.reply = reply_.load();
    f.no_addrs = no_addrs_.load();
    return f;
}

void Dhcp6Service::send(const CommitPipeline::Held6& r) {
    if (r.socket >= sockets_.size()) return;
    auto& s = sockets_[r.socket];
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(r.port);
    std::memcpy(&a.sin6_addr, r.dst.b.data(), 16);
    if (r.dst.is_link_local() || r.dst.is_multicast()) a.sin6_scope_id = uint32_t(s.link.ifindex);
    if (sendto(s.fd.get(), r.bytes.data(), r.bytes.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
        spdlog::warn("dhcp6 send to [{}]:{} on {} failed: {}", r.dst.str(), r.port, s.link.name, errstr());
}

}  // namespace pxed::daemon
