#include "daemon/probe_check.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

#include "common/unique_fd.h"
#include "dhcp/frame.h"
#include "dhcp/probe.h"

namespace pxed::daemon {

namespace {

// Classic BPF for "IPv4, UDP, not a later fragment, destination port 68"
// (tcpdump -dd 'ip and udp dst port 68', written out): only DHCP replies
// reach the socket, whatever else the segment carries.
constexpr sock_filter kReplies[] = {
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 8),
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 23),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 6),
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 20),
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 4, 0),
    BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 14),
    BPF_STMT(BPF_LD | BPF_H | BPF_IND, 16),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 68, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, 0x40000),
    BPF_STMT(BPF_RET | BPF_K, 0),
};

// A packet socket on the interface that receives DHCP replies. A UDP
// socket on port 68 would not do: a DHCP client (or dhcpcd) on the host
// may hold that port, and a packet socket sees the replies whatever holds it.
Result<UniqueFd> open_listener(const IfaceInfo& info) {
    // Protocol 0 until the filter is attached: nothing unfiltered queues up.
    UniqueFd fd(socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return Err("AF_PACKET socket: " + std::string(std::strerror(errno)) + " (needs CAP_NET_RAW)");
    sock_fprog prog{uint16_t(std::size(kReplies)), const_cast<sock_filter*>(kReplies)};
    if (setsockopt(fd.get(), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0)
        return Err("SO_ATTACH_FILTER: " + std::string(std::strerror(errno)));
    sockaddr_ll ll{};
    ll.sll_family = AF_PACKET;
    ll.sll_protocol = htons(ETH_P_IP);
    ll.sll_ifindex = info.ifindex;
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&ll), sizeof ll) != 0)
        return Err("bind AF_PACKET to " + info.name + ": " + std::strerror(errno));
    return fd;
}

struct Probe {
    const IfaceInfo* info;
    UniqueFd fd;
    std::vector<uint8_t> frame;  // the DISCOVER, broadcast from 0.0.0.0:68 to 255.255.255.255:67
    dhcp::ProbeFindings findings;
};

void send_probe(Probe& p, ProbeReport& report) {
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_IP);
    to.sll_ifindex = p.info->ifindex;
    to.sll_halen = 6;
    std::memset(to.sll_addr, 0xff, 6);
    if (sendto(p.fd.get(), p.frame.data(), p.frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0)
        report.warnings.push_back(p.info->name + ": cannot send the test DISCOVER: " + std::strerror(errno));
}

// Reads what the socket holds. Checksums are not checked: a reply sent
// by this host or through a veth is captured before its checksum is filled.
void drain(Probe& p, ProbeReport& report) {
    uint8_t buf[2048];
    for (;;) {
        ssize_t n = recv(p.fd.get(), buf, sizeof buf, 0);
        if (n <= 0) return;
        auto f = dhcp::parse_udp_frame(std::span<const uint8_t>(buf, size_t(n)));
        if (!f || f->ep.dst_port != 68) continue;
        auto r = dhcp::parse(f->payload);
        if (!r || !p.findings.add(*r, f->ep.src_ip)) continue;
        auto& a = p.findings.answers().back();
        report.answers.push_back(p.info->name + ": test DISCOVER answered by " + a.server.str() + ": " +
                                 (a.address_server() ? "offered " + a.yiaddr.str() : std::string("proxy offer")) +
                                 (a.boot.empty() ? "" : ", " + a.boot));
    }
}

}  // namespace

ProbeReport probe_proxy_subnets(const config::Config& cfg, const std::vector<IfaceInfo>& ifaces, double wait_s) {
    ProbeReport report;
    std::vector<Probe> probes;
    std::random_device rd;
    for (auto& info : ifaces) {
        const config::Subnet* sn = cfg.subnet_for(info.addr);
        if (!sn || !sn->proxy) continue;
        auto fd = open_listener(info);
        if (!fd) {
            report.warnings.push_back(info.name + ": proxy subnet not checked: " + fd.error());
            continue;
        }
        uint32_t xid = rd();
        Mac chaddr = dhcp::probe_mac(info.mac);
        auto payload = dhcp::serialize(dhcp::probe_discover(xid, chaddr));
        dhcp::UdpEndpoints ep;
        ep.src_mac = info.mac;
        ep.dst_mac.b.fill(0xff);
        ep.dst_ip = Ipv4(0xffffffff);
        ep.src_port = 68;
        ep.dst_port = 67;
        std::vector<Ipv4> ours{info.addr};
        if (sn->server_ip) ours.push_back(*sn->server_ip);
        probes.push_back({&info, std::move(fd.value()), dhcp::build_udp_frame(ep, payload),
                          dhcp::ProbeFindings(xid, chaddr, std::move(ours))});
    }
    if (probes.empty()) return report;

    // Sent twice, as a client would retry, in case the first is lost (or
    // a switch port is still learning); a second answer is a repeat.
    using clock = std::chrono::steady_clock;
    auto start = clock::now();
    auto deadline = start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(wait_s));
    auto resend = start + (deadline - start) / 3;
    bool resent = false;
    for (auto& p : probes) send_probe(p, report);
    std::vector<pollfd> pfds;
    for (auto& p : probes) pfds.push_back({p.fd.get(), POLLIN, 0});
    for (auto now = clock::now(); now < deadline; now = clock::now()) {
        auto until = resent ? deadline : resend;
        int ms = int(std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count()) + 1;
        if (poll(pfds.data(), pfds.size(), ms) < 0 && errno != EINTR) break;
        for (size_t i = 0; i < probes.size(); i++)
            if (pfds[i].revents & POLLIN) drain(probes[i], report);
        if (!resent && clock::now() >= resend) {
            for (auto& p : probes) send_probe(p, report);
            resent = true;
        }
    }
    for (auto& p : probes)
        for (auto& w : p.findings.warnings(p.info->name, wait_s)) report.warnings.push_back(w);
    return report;
}

}  // namespace pxed::daemon
