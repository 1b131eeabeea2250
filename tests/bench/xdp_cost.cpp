// Cost of the XDP program per packet, measured in the kernel with
// BPF_PROG_TEST_RUN and `repeat`. Benchmark, not test: it prints figures and
// checks only that every repetition took the path it measures.
//
// Paths: an unreserved DISCOVER (XDP_PASS after the reservation lookup) and a
// non-DHCP frame run with `repeat` (the frame is not modified, so every
// repetition sees the same input). A reply rewrites the frame in place, so
// the XDP_TX paths are timed over many single runs instead (live-frame mode
// recycles its pages with the rewritten contents, so it cannot be used for
// this either).
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <vector>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bpf/map_sync.h"
#include "bpf/xdp_program.h"
#include "config/config.h"
#include "dhcp/engine.h"
#include "dhcp/frame.h"
#include "dhcp/packet.h"

using namespace pxed;
using namespace pxed::dhcp;

namespace {

const Mac kServerMac = *Mac::parse("02:00:00:00:00:01");
const Mac kClient = *Mac::parse("52:54:00:00:00:0a");    // with a host name (option 12 from its entry)
const Mac kUnnamed = *Mac::parse("52:54:00:00:00:0b");   // without one: a single copy of the blob
const Mac kStranger = *Mac::parse("52:54:00:00:00:77");

std::vector<uint8_t> frame(MessageType t, const Mac& mac) {
    Packet p;
    p.xid = 0x1234;
    p.set_mac(mac);
    p.options.set_u8(opt::MessageType, uint8_t(t));
    const uint8_t prl[] = {1, 3, 6, 12, 15, 28, 66, 67};
    p.options.set(opt::ParamRequestList, prl);
    p.options.set_u16(opt::ClientArch, 0);
    p.options.set_str(opt::VendorClass, "PXEClient:Arch:00000:UNDI:002001");
    if (t == MessageType::Request) {
        p.options.set_ip(opt::ServerId, Ipv4(192, 0, 2, 1));
        p.options.set_ip(opt::RequestedIp, Ipv4(192, 0, 2, 10));
    }
    UdpEndpoints ep{mac, *Mac::parse("ff:ff:ff:ff:ff:ff"), Ipv4(), Ipv4(0xffffffff), 68, 67};
    return build_udp_frame(ep, serialize(p));
}

struct Figure {
    double ns_per_packet;
    uint64_t verdict_count;
};

Figure plain(bpf::XdpProgram& prog, const std::vector<uint8_t>& f, uint32_t repeat, pxed_stat check) {
    auto before = prog.read_stats();
    std::vector<uint8_t> out(4096);
    LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f.data(), .data_out = out.data(), .data_size_in = uint32_t(f.size()),
                .data_size_out = uint32_t(out.size()), .repeat = int(repeat));
    if (bpf_prog_test_run_opts(prog.prog_fd(), &o) != 0) {
        perror("BPF_PROG_TEST_RUN");
        std::exit(1);
    }
    auto after = prog.read_stats();
    return Figure{double(o.duration), (*after)[check] - (*before)[check]};
}

// Mean of `calls` runs with repeat=1: each run sees the unmodified request
// (a reply rewrites the frame in place, so `repeat` cannot be used for it).
// The kernel's per-call duration includes the timer's own cost, which
// calibrate() measures on the ARP path and the caller subtracts.
Figure single(bpf::XdpProgram& prog, const std::vector<uint8_t>& f, uint32_t calls, pxed_stat check) {
    auto before = prog.read_stats();
    std::vector<uint8_t> out(4096);
    uint64_t total = 0;
    for (uint32_t i = 0; i < calls; i++) {
        LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f.data(), .data_out = out.data(),
                    .data_size_in = uint32_t(f.size()), .data_size_out = uint32_t(out.size()), .repeat = 1);
        if (bpf_prog_test_run_opts(prog.prog_fd(), &o) != 0) {
            perror("BPF_PROG_TEST_RUN");
            std::exit(1);
        }
        total += o.duration;
    }
    auto after = prog.read_stats();
    return Figure{double(total) / calls, (*after)[check] - (*before)[check]};
}

}  // namespace

int main(int argc, char** argv) {
    uint32_t repeat = argc > 1 ? uint32_t(std::atoi(argv[1])) : 1000000;
    if (geteuid() != 0) {
        std::fprintf(stderr, "xdp_cost: run as root\n");
        return 1;
    }
    int ifindex = 1;  // only recorded in the config map

    auto cfg = config::parse_toml(R"([server]
interfaces = ["bench0"]
[[subnet]]
cidr = "192.0.2.0/24"
range = ["192.0.2.100", "192.0.2.200"]
router = "192.0.2.1"
dns = ["192.0.2.53"]
lease-time = 600
boot = { bios = "pxelinux.0", uefi-x64 = "bootnetx64.efi" }
[[reservation]]
mac = "52:54:00:00:00:0a"
ip = "192.0.2.10"
hostname = "node10"
[[reservation]]
mac = "52:54:00:00:00:0b"
ip = "192.0.2.11"
[[subnet]]
cidr = "10.100.0.0/24"
range = ["10.100.0.100", "10.100.0.200"]
vlan = 100
lease-time = 600
boot = { bios = "pxelinux.0", uefi-x64 = "bootnetx64.efi" }
[[reservation]]
mac = "52:54:00:00:01:0a"
ip = "10.100.0.10"
hostname = "node10"
[[subnet]]
cidr = "10.230.0.0/24"
range = ["10.230.0.100", "10.230.0.200"]
vlan = 300
inner-vlan = 30
lease-time = 600
boot = { bios = "pxelinux.0", uefi-x64 = "bootnetx64.efi" }
[[reservation]]
mac = "52:54:00:00:03:0a"
ip = "10.230.0.10"
hostname = "node10"
)",
                                  "bench");
    auto prog = bpf::XdpProgram::load();
    if (!cfg || !prog) {
        std::fprintf(stderr, "setup failed\n");
        return 1;
    }
    auto sync = [&](bool trace) {
        cfg->boot_trace = trace;
        // A trunk: VLAN 100 and QinQ 300.30 beside the untagged subnet.
        bpf::IfaceView iv{"bench0", ifindex, kServerMac, Ipv4(192, 0, 2, 1), {}};
        iv.vlans = {{100, 0, "bench0.100", kServerMac, Ipv4(10, 100, 0, 1)},
                    {300, 30, "bench0.300.30", kServerMac, Ipv4(10, 230, 0, 1)}};
        return bpf::sync_maps(**prog, *cfg, iv, bpf::RateLimit{0, 0}).ok();
    };
    std::vector<uint8_t> arp(60, 0);
    arp[12] = 0x08;
    arp[13] = 0x06;
    uint32_t calls = repeat / 5;
    // The paths, with the boot trace on and off: three interleaved rounds,
    // the median of each (the machine is noisy; the trace's share is what
    // matters).
    struct Paths {
        Figure a, b, c, d, e;
        double timer;
    };
    auto measure = [&](bool trace) {
        if (!sync(trace)) std::exit(1);
        Paths p;
        p.a = plain(**prog, arp, repeat, PXED_STAT_PASS_NOT_IPV4);
        p.b = plain(**prog, frame(MessageType::Discover, kStranger), repeat, PXED_STAT_PASS_NOT_RESERVED);
        auto a1 = single(**prog, arp, calls, PXED_STAT_PASS_NOT_IPV4);
        p.timer = a1.ns_per_packet - p.a.ns_per_packet;  // per-call overhead of repeat=1
        p.c = single(**prog, frame(MessageType::Discover, kClient), calls, PXED_STAT_TX_OFFER);
        p.d = single(**prog, frame(MessageType::Request, kClient), calls, PXED_STAT_TX_ACK);
        p.e = single(**prog, frame(MessageType::Discover, kUnnamed), calls, PXED_STAT_TX_OFFER);
        p.c.ns_per_packet -= p.timer;
        p.d.ns_per_packet -= p.timer;
        p.e.ns_per_packet -= p.timer;
        return p;
    };
    std::vector<Paths> on, off;
    for (int round = 0; round < 3; round++) {
        off.push_back(measure(false));
        on.push_back(measure(true));
    }
    auto median = [](std::vector<Paths>& v, Figure Paths::*f) {
        std::vector<Paths> c = v;
        std::sort(c.begin(), c.end(), [f](const Paths& x, const Paths& y) { return (x.*f).ns_per_packet < (y.*f).ns_per_packet; });
        return c[1].*f;
    };
    Figure a = median(on, &Paths::a), b = median(on, &Paths::b), c = median(on, &Paths::c), d = median(on, &Paths::d),
           e = median(on, &Paths::e);
    double timer = on[1].timer;

    // The daemon's decision for the same request, in userspace (no socket, no
    // store): what the kernel path saves beyond the system calls.
    dhcp::Engine engine(*cfg);
    auto disc = frame(MessageType::Discover, kClient);
    auto req = parse(std::vector<uint8_t>(disc.begin() + 42, disc.end()));
    auto t0 = std::chrono::steady_clock::now();
    size_t bytes = 0;
    for (uint32_t i = 0; i < calls; i++) {
        auto out = engine.handle(*req, dhcp::RxInfo{Ipv4(192, 0, 2, 1)}, 1000);
        bytes += serialize(out.reply->packet).size();
    }
    double engine_ns =
        double(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count()) /
        calls;

    std::printf("| path | verdict | ns per packet | packets per second, one core | repetitions on that path |\n");
    std::printf("| --- | --- | ---: | ---: | ---: |\n");
    auto row = [&](const char* name, const char* v, const Figure& f, uint32_t n) {
        std::printf("| %s | %s | %.0f | %.2f M | %llu of %u |\n", name, v, f.ns_per_packet,
                    1e3 / f.ns_per_packet, static_cast<unsigned long long>(f.verdict_count), n);
    };
    row("ARP frame (not IPv4)", "XDP_PASS", a, repeat);
    row("DISCOVER, unreserved MAC", "XDP_PASS", b, repeat);
    row("DISCOVER -> OFFER, reserved MAC", "XDP_TX", c, calls);
    row("REQUEST -> ACK, reserved MAC", "XDP_TX", d, calls);
    row("DISCOVER -> OFFER, reserved MAC without host name", "XDP_TX", e, calls);
    std::printf("| daemon engine, same DISCOVER -> OFFER (userspace, no I/O) | - | %.0f | %.2f M | %u |\n",
                engine_ns, 1e3 / engine_ns, calls);
    (void)bytes;
    std::printf("\nThe boot trace's cost (the rows above have it on, the default), medians of 3 interleaved rounds:\n\n");
    std::printf("| path | trace off, ns | trace on, ns | added |\n| --- | ---: | ---: | ---: |\n");
    for (auto [name, f] : {std::pair{"DISCOVER, unreserved MAC (XDP_PASS)", &Paths::b},
                           std::pair{"DISCOVER -> OFFER, reserved MAC (XDP_TX)", &Paths::c},
                           std::pair{"REQUEST -> ACK, reserved MAC (XDP_TX)", &Paths::d},
                           std::pair{"DISCOVER -> OFFER, without host name (XDP_TX)", &Paths::e}}) {
        double x = median(off, f).ns_per_packet, y = median(on, f).ns_per_packet;
        std::printf("| %s | %.0f | %.0f | %+.1f %% |\n", name, x, y, 100.0 * (y - x) / x);
    }
    std::printf("\nrepeat=%u for the PASS rows; the TX rows are means of %u single runs less %.0f ns of "
                "per-call timer overhead measured on the ARP path.\n",
                repeat, calls, timer);

    // VLAN trunks: the same reservation's OFFER untagged, with an 802.1Q tag
    // and with QinQ tags (taken out before the parse, put back in front of
    // the reply), with the trace on: medians of 3 interleaved rounds.
    auto tagged = [](std::vector<uint8_t> f, std::vector<uint16_t> words) {
        std::vector<uint8_t> tags;
        for (uint16_t w : words) {
            tags.push_back(uint8_t(w >> 8));
            tags.push_back(uint8_t(w));
        }
        f.insert(f.begin() + 12, tags.begin(), tags.end());
        return f;
    };
    if (!sync(true)) return 1;
    auto f_untagged = frame(MessageType::Discover, kClient);
    auto f_q = tagged(frame(MessageType::Discover, *Mac::parse("52:54:00:00:01:0a")), {0x8100, 100});
    auto f_qinq = tagged(frame(MessageType::Discover, *Mac::parse("52:54:00:00:03:0a")), {0x88a8, 300, 0x8100, 30});
    std::vector<double> vu, vq, vqq;
    bool vlan_ok = true;
    for (int round = 0; round < 3; round++) {
        auto u = single(**prog, f_untagged, calls, PXED_STAT_TX_OFFER);
        auto q = single(**prog, f_q, calls, PXED_STAT_TX_OFFER);
        auto qq = single(**prog, f_qinq, calls, PXED_STAT_TX_OFFER);
        vlan_ok = vlan_ok && u.verdict_count == calls && q.verdict_count == calls && qq.verdict_count == calls;
        vu.push_back(u.ns_per_packet - timer);
        vq.push_back(q.ns_per_packet - timer);
        vqq.push_back(qq.ns_per_packet - timer);
    }
    auto med = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[1];
    };
    double mu = med(vu), mq = med(vq), mqq = med(vqq);
    std::printf("\nVLAN trunks: DISCOVER -> OFFER of a reserved MAC, medians of 3 interleaved rounds:\n\n");
    std::printf("| request | ns per packet | packets per second, one core | vs untagged |\n| --- | ---: | ---: | ---: |\n");
    std::printf("| untagged | %.0f | %.2f M | 1.00 |\n", mu, 1e3 / mu);
    std::printf("| 802.1Q tag (VLAN 100) | %.0f | %.2f M | %.2f |\n", mq, 1e3 / mq, mq / mu);
    std::printf("| QinQ (802.1ad 300, 802.1Q 30) | %.0f | %.2f M | %.2f |\n", mqq, 1e3 / mqq, mqq / mu);
    if (!vlan_ok) std::fprintf(stderr, "xdp_cost: a VLAN repetition took another path\n");

    bool ok = vlan_ok && a.verdict_count == repeat && b.verdict_count == repeat && c.verdict_count == calls &&
              d.verdict_count == calls;
    if (!ok) std::fprintf(stderr, "xdp_cost: some repetitions took another path; figures are not comparable\n");
    return ok ? 0 : 1;
}
