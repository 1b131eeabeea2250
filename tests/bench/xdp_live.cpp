// Kernel-path load generator: DISCOVERs and REQUESTs from reserved MACs are
// injected into a veth with BPF_PROG_TEST_RUN in live-frame mode
// (BPF_F_TEST_XDP_LIVE_FRAMES); pxed's XDP program on the peer answers them
// with XDP_TX, and an XDP counter on this end counts the valid replies.
// Benchmark, not test: run by scripts/bench-xdp-live inside the generator's
// network namespace, with pxed serving the peer.
//
// --proxy: PXE DISCOVERs (60, 93, 97) from MACs reserved nowhere, and the
// counter counts proxy OFFERs (yiaddr 0, option 60 PXEClient) from whichever
// server answers: pxed's kernel or daemon path, or dnsmasq in proxy mode.
//
// Usage: bench_xdp_live --ifname IF --macs N --ip-base A.B.C.D --server A.B.C.D
//                       [--seconds S] [--threads T] [--mix discover|request|both]
//                       [--pxed-stats /sys/fs/bpf/pxed/IF/stats] [--proxy]
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench_live.skel.h"
#include "dhcp/frame.h"
#include "dhcp/packet.h"
#include "pxed/abi.h"

using namespace pxed;
using namespace pxed::dhcp;

namespace {

constexpr size_t kFrameLen = 352;  // GEN_FRAME_LEN in bpf/bench_live.bpf.c
constexpr size_t kHeaders = 14 + 20 + 8;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "bench_xdp_live: %s\n", what.c_str());
    std::exit(1);
}

// MAC index i is 02:42:00:ii:ii:ii (the generator rewrites the low three bytes).
Mac mac_of(uint32_t i) {
    return Mac{{0x02, 0x42, 0x00, uint8_t(i >> 16), uint8_t(i >> 8), uint8_t(i)}};
}

struct Template {
    std::vector<uint8_t> frame;
    size_t requested_ip_off = 0;  // offset of option 50's value, REQUEST only
};

Template make_template(MessageType t, Ipv4 server, Ipv4 first_ip, bool proxy) {
    Packet p;
    p.xid = 0x5078ed00;
    p.set_mac(mac_of(0));
    p.options.set_u8(opt::MessageType, uint8_t(t));
    const uint8_t prl[] = {1, 3, 6, 12, 15, 28, 66, 67};
    const uint8_t pxe_prl[] = {1, 3, 43, 60, 66, 67};  // shorter: the UUID has to fit in the frame
    if (proxy)
        p.options.set(opt::ParamRequestList, pxe_prl);
    else
        p.options.set(opt::ParamRequestList, prl);
    p.options.set_u16(opt::ClientArch, 0);
    p.options.set_str(opt::VendorClass, "PXEClient:Arch:00000:UNDI:002001");
    if (proxy) {  // a PXE ROM's UUID (type 0, then 16 bytes): the proxy echoes it
        const uint8_t uuid[17] = {0, 0x4c, 0x4c, 0x45, 0x44, 0x00, 0x50, 0x10, 0x80,
                                  0x31, 0xb4, 0xc0, 0x4f, 0x4e, 0x37, 0x30, 0x32};
        p.options.set(opt::ClientGuid, uuid);
    }
    if (t == MessageType::Request) {
        p.options.set_ip(opt::ServerId, server);
        p.options.set_ip(opt::RequestedIp, first_ip);
    }
    auto payload = serialize(p);
    if (payload.size() > kFrameLen - kHeaders) die("template longer than the generator's frame");
    payload.resize(kFrameLen - kHeaders, 0);  // pad after the end option
    UdpEndpoints ep{mac_of(0), *Mac::parse("ff:ff:ff:ff:ff:ff"), Ipv4(), Ipv4(0xffffffff), 68, 67};
    Template tp;
    tp.frame = build_udp_frame(ep, payload);
    // The generator changes MAC and requested address per packet: no UDP checksum.
    tp.frame[kHeaders - 2] = tp.frame[kHeaders - 1] = 0;
    if (t == MessageType::Request) {
        for (size_t i = 240; i + 1 < payload.size() && payload[i] != opt::End;) {
            if (payload[i] == opt::Pad) { i++; continue; }
            if (payload[i] == opt::RequestedIp) { tp.requested_ip_off = kHeaders + i + 2; break; }
            i += 2 + payload[i + 1];
        }
        if (!tp.requested_ip_off) die("REQUEST template without option 50");
    }
    return tp;
}

std::vector<uint64_t> percpu_sum(int fd, uint32_t entries) {
    int ncpu = libbpf_num_possible_cpus();
    std::vector<uint64_t> out(entries);
    std::vector<uint64_t> vals(static_cast<size_t>(ncpu));
    for (uint32_t k = 0; k < entries; k++) {
        if (bpf_map_lookup_elem(fd, &k, vals.data()) != 0) die("reading a counter map: " + std::string(strerror(errno)));
        for (auto v : vals) out[k] += v;
    }
    return out;
}

std::string arg(int argc, char** argv, const char* name, const char* def = nullptr) {
    for (int i = 1; i + 1 < argc; i++)
        if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
    if (!def) die(std::string("missing ") + name);
    return def;
}

bool flag(int argc, char** argv, const char* name) {
    for (int i = 1; i < argc; i++)
        if (std::strcmp(argv[i], name) == 0) return true;
    return false;
}

uint32_t number(const std::string& s, const char* name, uint32_t lo, uint32_t hi) {
    char* end = nullptr;
    unsigned long v = std::strtoul(s.c_str(), &end, 10);
    if (s.empty() || *end || v < lo || v > hi)
        die(std::string(name) + " " + s + ": expected a number from " + std::to_string(lo) + " to " + std::to_string(hi));
    return uint32_t(v);
}

}  // namespace

int main(int argc, char** argv) {
    std::string ifname = arg(argc, argv, "--ifname");
    uint32_t macs = number(arg(argc, argv, "--macs"), "--macs", 1, PXED_MAX_RESERVATIONS);
    auto ip_base = Ipv4::parse(arg(argc, argv, "--ip-base"));
    auto server = Ipv4::parse(arg(argc, argv, "--server"));
    if (!ip_base || !server) die("--ip-base and --server take IPv4 addresses");
    uint32_t seconds = number(arg(argc, argv, "--seconds", "10"), "--seconds", 1, 600);
    uint32_t threads = number(arg(argc, argv, "--threads", "1"), "--threads", 1, 64);
    std::string mix = arg(argc, argv, "--mix", "both");
    std::string pxed_stats = arg(argc, argv, "--pxed-stats", "");
    bool proxy = flag(argc, argv, "--proxy");
    if (proxy && mix != "discover") die("--proxy sends DISCOVERs only: --mix discover");
    uint32_t mix_code = mix == "discover" ? 0 : mix == "request" ? 1 : mix == "both" ? 2 : 99;
    if (mix_code == 99) die("--mix " + mix + ": expected discover, request or both");
    int ifindex = int(if_nametoindex(ifname.c_str()));
    if (!ifindex) die("interface " + ifname + " not found in this network namespace");

    auto disc = make_template(MessageType::Discover, *server, *ip_base, proxy);
    auto req = make_template(MessageType::Request, *server, *ip_base, false);

    bench_live* skel = bench_live::open();
    if (!skel) die("opening the generator object");
    std::memcpy(const_cast<uint8_t*>(&skel->rodata->tmpl[0][0]), disc.frame.data(), kFrameLen);
    std::memcpy(const_cast<uint8_t*>(&skel->rodata->tmpl[1][0]), req.frame.data(), kFrameLen);
    skel->rodata->nmacs = macs;
    skel->rodata->req_ip_off = uint32_t(req.requested_ip_off);
    skel->rodata->ip_base = ip_base->v;
    skel->rodata->mix = mix_code;
    skel->rodata->proxy = proxy ? 1 : 0;
    if (bench_live::load(skel)) die("loading the generator object (root? kernel with live-frame test runs?)");

    // The counter in native mode: it also gives this veth end the NAPI that
    // the peer's XDP_TX needs.
    int count_fd = bpf_program__fd(skel->progs.count);
    if (bpf_xdp_attach(ifindex, count_fd, XDP_FLAGS_DRV_MODE, nullptr) != 0)
        die("attaching the counter to " + ifname + " (native): " + strerror(errno));

    int pxed_fd = -1;
    std::vector<uint64_t> pxed_before;
    if (!pxed_stats.empty()) {
        pxed_fd = bpf_obj_get(pxed_stats.c_str());
        if (pxed_fd < 0) die(pxed_stats + ": " + strerror(errno));
        pxed_before = percpu_sum(pxed_fd, PXED_STAT_MAX);
    }
    int replies_fd = bpf_map__fd(skel->maps.replies);
    auto before = percpu_sum(replies_fd, 3);

    // A live frame's page keeps the xdp_frame the peer's XDP_TX wrote, with
    // the reply's length, and the test run refreshes it from the generator's
    // context only when the program changed that context. Proxy replies are
    // shorter than the request, so in proxy mode the frame goes in one byte
    // long and gen trims it: every frame leaves at GEN_FRAME_LEN.
    std::vector<uint8_t> in = disc.frame;
    if (proxy) in.push_back(0);
    const uint32_t in_len = uint32_t(in.size());
    constexpr uint32_t kRepeat = 1u << 16;
    std::atomic<uint64_t> sent{0};
    std::atomic<bool> failed{false};
    auto start = std::chrono::steady_clock::now();
    auto deadline = start + std::chrono::seconds(seconds);
    std::vector<std::thread> pool;
    for (uint32_t t = 0; t < threads; t++) {
        pool.emplace_back([&, t] {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(t % std::thread::hardware_concurrency(), &set);
            pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
            xdp_md ctx{};
            ctx.ingress_ifindex = uint32_t(ifindex);
            ctx.data_end = in_len;  // the kernel wants data_end == data_size_in
            while (std::chrono::steady_clock::now() < deadline) {
                LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in.data(), .data_size_in = in_len,
                            .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = int(kRepeat),
                            .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
                if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.gen), &o) != 0) {
                    std::perror("BPF_PROG_TEST_RUN (live frames)");
                    failed = true;
                    return;
                }
                sent += kRepeat;
            }
        });
    }
    for (auto& th : pool) th.join();
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // replies in flight
    auto after = percpu_sum(replies_fd, 3);
    bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, nullptr);
    if (failed) die("the generator failed");

    uint64_t offers = after[0] - before[0], acks = after[1] - before[1], other = after[2] - before[2];
    uint64_t valid = offers + acks;
    std::printf("threads %u  mix %s%s  macs %u  seconds %.2f\n", threads, mix.c_str(), proxy ? " (proxy)" : "", macs,
                elapsed);
    std::printf("sent %llu  valid replies %llu (OFFER %llu, ACK %llu)  other DHCP %llu  unanswered %.2f%%\n",
                (unsigned long long)sent.load(), (unsigned long long)valid, (unsigned long long)offers,
                (unsigned long long)acks, (unsigned long long)other,
                sent ? 100.0 * double(sent - std::min<uint64_t>(valid, sent)) / double(sent) : 0.0);
    if (proxy) std::printf("RESULT proxy_offers_per_s %.0f\n", double(offers) / elapsed);
    std::printf("RESULT replies_per_s %.0f sent_per_s %.0f\n", double(valid) / elapsed, double(sent) / elapsed);
    if (pxed_fd >= 0) {
        auto pa = percpu_sum(pxed_fd, PXED_STAT_MAX);
        std::printf("pxed's counters, nonzero (index in pxed/abi.h: delta):");
        for (uint32_t k = 0; k < PXED_STAT_MAX; k++)
            if (pa[k] != pxed_before[k]) std::printf(" %u: %llu", k, (unsigned long long)(pa[k] - pxed_before[k]));
        std::printf("\n");
        std::printf("pxed's counters: tx_proxy_offer %llu\n",
                    (unsigned long long)(pa[PXED_STAT_TX_PROXY_OFFER] - pxed_before[PXED_STAT_TX_PROXY_OFFER]));
        std::printf("pxed's counters: tx_offer %llu  tx_ack %llu  rate-limited %llu  passed %llu\n",
                    (unsigned long long)(pa[PXED_STAT_TX_OFFER] - pxed_before[PXED_STAT_TX_OFFER]),
                    (unsigned long long)(pa[PXED_STAT_TX_ACK] - pxed_before[PXED_STAT_TX_ACK]),
                    (unsigned long long)(pa[PXED_STAT_DROP_RATE_LIMIT] - pxed_before[PXED_STAT_DROP_RATE_LIMIT]),
                    (unsigned long long)(pa[PXED_STAT_RX_DHCP] - pxed_before[PXED_STAT_RX_DHCP] -
                                         (pa[PXED_STAT_TX_OFFER] - pxed_before[PXED_STAT_TX_OFFER]) -
                                         (pa[PXED_STAT_TX_ACK] - pxed_before[PXED_STAT_TX_ACK]) -
                                         (pa[PXED_STAT_TX_PROXY_OFFER] - pxed_before[PXED_STAT_TX_PROXY_OFFER]) -
                                         (pa[PXED_STAT_TX_PROXY_ACK] - pxed_before[PXED_STAT_TX_PROXY_ACK])));
    }
    bench_live::destroy(skel);
    return valid ? 0 : 1;
}
