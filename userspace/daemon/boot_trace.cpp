#include "daemon/boot_trace.h"

#include <fstream>
#include <sstream>

#include "bpf/trace_map.h"
#include "daemon/fast_path.h"

namespace pxed::daemon {

namespace {

// Option 77 as text: RFC 3004's length-prefixed entries joined by commas
// when the bytes parse as such, else the bytes themselves (iPXE sends
// "iPXE" raw).
std::string user_class_text(const dhcp::Packet& p) {
    auto* o = p.options.find(dhcp::opt::UserClass);
    if (!o || o->data.empty()) return {};
    const auto& d = o->data;
    std::string out;
    size_t i = 0;
    while (i < d.size() && d[i] && i + 1 + d[i] <= d.size()) {
        if (!out.empty()) out += ',';
        out.append(reinterpret_cast<const char*>(&d[i + 1]), d[i]);
        i += 1 + size_t(d[i]);
    }
    if (i != d.size()) out.assign(reinterpret_cast<const char*>(d.data()), d.size());
    return out;
}

// Printable, and short enough that a hostile client cannot fill the trace
// with one option.
std::string clip(std::string s) {
    if (s.size() > 64) s.resize(64);
    for (auto& c : s)
        if (c < 0x20 || c > 0x7e) c = '?';
    return s;
}

}  // namespace

BootTrace::BootTrace(const config::Config& cfg)
    : recorder_(std::make_shared<trace::Recorder>(trace::Limits{cfg.boot_trace_machines, cfg.boot_trace_events},
                                                  neighbour_mac)) {
    configure(cfg);
}

void BootTrace::configure(const config::Config& cfg) {
    on_.store(cfg.boot_trace, std::memory_order_relaxed);
    for (auto& r : cfg.reservations) recorder_->learn(r.ip, r.mac);
}

void BootTrace::record(const std::string& ifname, const dhcp::Packet& req, trace::DhcpEvent e) {
    auto t = req.message_type();
    e.path = trace::Path::Daemon;
    e.request = t ? uint8_t(*t) : 0;
    e.xid = req.xid;
    e.interface = ifname;
    e.relayed = !req.giaddr.is_zero();
    if (auto a = req.options.get_u16(dhcp::opt::ClientArch)) e.arch = *a;
    if (auto v = req.options.get_str(dhcp::opt::VendorClass)) e.vendor_class = clip(*v);
    e.user_class = clip(user_class_text(req));
    if (e.address.is_zero()) {
        if (auto r = req.options.get_ip(dhcp::opt::RequestedIp)) e.address = *r;
        else e.address = req.ciaddr;
    }
    recorder_->record(req.mac(), trace::wall_us(), std::move(e));
}

void BootTrace::on_request(const std::string& ifname, const dhcp::Packet& req, const dhcp::Outcome& out,
                           bool boot_server) {
    if (!on()) return;
    trace::DhcpEvent e;
    e.boot_server_port = boot_server;
    if (out.reply) {
        e.verdict = trace::Verdict::Answered;
        auto t = out.reply->packet.message_type();
        e.reply = t ? uint8_t(*t) : 0;
        e.address = out.reply->packet.yiaddr;
        if (out.proxy) e.reason = "proxy";
        // A port 4011 request names the address another server gave.
        if (out.proxy && !req.ciaddr.is_zero()) recorder_->learn(req.ciaddr, req.mac());
    } else if (out.drop != dhcp::Drop::None) {
        e.verdict = trace::Verdict::Dropped;
        e.reason = std::string(dhcp::to_string(out.drop));
    } else {
        e.verdict = trace::Verdict::Answered;  // RELEASE, DECLINE: taken, nothing to send
    }
    record(ifname, req, std::move(e));
}

void BootTrace::on_dropped(const std::string& ifname, const dhcp::Packet& req, const std::string& reason) {
    if (!on()) return;
    trace::DhcpEvent e;
    e.verdict = trace::Verdict::Dropped;
    e.reason = reason;
    record(ifname, req, std::move(e));
}

void BootTrace::on_unparsed(const std::string& ifname, std::span<const uint8_t> b, const std::string& error) {
    // op 1 (BOOTREQUEST), htype 1 and hlen 6 (Ethernet); chaddr at 28.
    if (!on() || b.size() < 34 || b[0] != 1 || b[1] != 1 || b[2] != 6) return;
    Mac mac;
    std::copy(b.begin() + 28, b.begin() + 34, mac.b.begin());
    trace::DhcpEvent e;
    e.path = trace::Path::Daemon;
    e.verdict = trace::Verdict::Dropped;
    e.reason = "parse_error: " + clip(error);
    e.xid = uint32_t(b[4]) << 24 | uint32_t(b[5]) << 16 | uint32_t(b[6]) << 8 | b[7];
    e.interface = ifname;
    recorder_->record(mac, trace::wall_us(), std::move(e));
}

void BootTrace::take(Pulled& p, const std::string& ifname, const Mac& mac, const pxed_trace_ring& ring,
                     int64_t offset) {
    uint32_t& done = p.next[mac.key()];
    uint32_t from = done;
    // A ring that restarted (the client was evicted and came back): all new.
    if (ring.next < from) from = 0;
    if (ring.next - from > PXED_TRACE_EVENTS) from = ring.next - PXED_TRACE_EVENTS;
    for (uint32_t i = from; i < ring.next; i++) {
        const auto& ev = ring.ev[i % PXED_TRACE_EVENTS];
        recorder_->record(mac, int64_t(ev.ts_ns / 1000) + offset, bpf::to_dhcp_event(ev, ifname));
    }
    done = ring.next;
}

void BootTrace::pull(const FastPath& fp, bool all) {
    if (!on()) return;
    int64_t offset = bpf::mono_to_wall_offset_us();
    for (auto& [ifname, fd] : fp.trace_maps()) {
        auto& p = pulled_[ifname];
        // Counts of clients the LRU has dropped since: bounded by clearing
        // (the rings still in the map are then read again from their start,
        // which the recorder files as the same events: only their copies
        // in its bounded ring).
        if (p.next.size() > 4 * size_t(PXED_TRACE_MACS)) p.next.clear();
        auto each = [&](const Mac& mac, const pxed_trace_ring& ring) { take(p, ifname, mac, ring, offset); };
        if (all) p.cursor.reset();
        size_t budget = all ? size_t(PXED_TRACE_MACS) * 2 : kPullBatch;
        (void)bpf::trace_batch(fd, p.cursor, budget, each);  // unreadable now: read at the next pull
    }
}

void BootTrace::pull_one(const FastPath& fp, const Mac& mac) {
    if (!on()) return;
    int64_t offset = bpf::mono_to_wall_offset_us();
    for (auto& [ifname, fd] : fp.trace_maps())
        if (auto ring = bpf::trace_of(fd, mac)) take(pulled_[ifname], ifname, mac, *ring, offset);
}

std::optional<Mac> neighbour_mac(Ipv4 ip) {
    std::ifstream f("/proc/net/arp");
    std::string line;
    std::getline(f, line);  // header
    const std::string want = ip.str();
    while (std::getline(f, line)) {
        std::istringstream s(line);
        std::string addr, hw_type, flags, hw;
        if (!(s >> addr >> hw_type >> flags >> hw)) continue;
        if (addr != want || flags == "0x0") continue;  // 0x0: incomplete
        if (auto m = Mac::parse(hw); m && *m != Mac{}) return m;
    }
    return std::nullopt;
}

}  // namespace pxed::daemon
