#include "daemon/dhcp_service.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "dhcp/packet.h"

namespace pxed::daemon {

namespace {

constexpr int kMaxDatagramsPerWakeup = 256;
constexpr int64_t kExhaustedLogMs = 10000;

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

Result<void> DhcpService::open(const std::vector<IfaceInfo>& ifaces, bool boot_server) {
    for (auto& info : ifaces) {
        auto s = DhcpSocket::open(info, boot_server);
        if (!s) return Err(s.error());
        spdlog::info("serving iface={} ifindex={} addr={}/{} mac={}{}", info.name, info.ifindex, info.addr.str(),
                     info.prefix, info.mac.str(), boot_server ? " pxe-boot-server=4011" : "");
        sockets_.push_back(std::move(s.value()));
    }
    return {};
}

void DhcpService::configure_limits(const config::Config& c) {
    client_limit_.configure(c.dhcp_rate_limit, c.dhcp_rate_burst);
    relay_limit_.configure(c.relay_rate_limit, c.relay_rate_burst);
}

void DhcpService::on_readable(size_t si, bool boot_server) {
    auto& s = sockets_[si];
    for (int k = 0; k < kMaxDatagramsPerWakeup; k += int(RecvBatch::kSlots)) {
        int n = boot_server ? s.recv_boot_server(rx_) : s.recv(rx_);
        if (n < 0) spdlog::warn("dhcp receive on {} failed: {}", s.info().name, std::strerror(errno));
        for (int i = 0; i < n; i++) {
            if (rx_.truncated(size_t(i))) {
                counters_.parse_errors++;
                if (debug_)
                    spdlog::debug("dhcp drop iface={} reason=parse error=\"datagram longer than {} bytes\"",
                                  s.info().name, RecvBatch::kSlotBytes);
                continue;
            }
            on_packet(si, rx_.at(size_t(i)), boot_server ? &rx_.source(size_t(i)) : nullptr);
        }
        if (n < int(RecvBatch::kSlots)) break;
    }
    s.flush();  // the OFFERs and NAKs of this batch, in one sendmmsg
}

// The commit pipeline's replies: the ACKs it held, or the NAKs that replace
// those that lost their address; counted here, as they leave.
void DhcpService::send(size_t si, const dhcp::Reply& r) {
    if (auto t = r.packet.message_type()) counters_.sent[size_t(*t)]++;
    sockets_[si].queue(r);
}

void DhcpService::flush_replies() {
    for (auto& s : sockets_) s.flush();
}

void DhcpService::set_debug(bool on) {
    debug_ = on;
    engine_.set_notes(on);
}

// One line when a pool runs out, then at most one per kExhaustedLogMs per
// pool with how many DISCOVERs went unanswered meanwhile: a full pool under
// load must not turn into a log line (and a write) per request.
void DhcpService::warn_exhausted(const config::Subnet& sn, const Mac& mac, int64_t now) {
    auto& w = exhausted_[sn.net.network().v];
    w.count++;
    if (w.last_ms != 0 && now - w.last_ms < kExhaustedLogMs) return;
    if (w.last_ms == 0)
        spdlog::warn("dhcp pool {}-{} of {} is exhausted: no address for {}", sn.range_start.str(), sn.range_end.str(),
                     sn.net.str(), mac.str());
    else
        spdlog::warn("dhcp pool {}-{} of {} is exhausted: no address for {}; {} DISCOVER(s) without an address since "
                     "the previous warning",
                     sn.range_start.str(), sn.range_end.str(), sn.net.str(), mac.str(), w.count);
    w.last_ms = now;
    w.count = 0;
}

void DhcpService::on_packet(size_t si, std::span<const uint8_t> bytes, const sockaddr_in* boot_server_src) {
    auto& s = sockets_[si];
    auto p = dhcp::parse(bytes);
    if (!p) {
        counters_.parse_errors++;
        if (trace_) trace_->on_unparsed(s.info().name, bytes, std::string(dhcp::to_string(p.error())));
        if (debug_)
            spdlog::debug("dhcp drop iface={} reason=parse error=\"{}\" len={}", s.info().name,
                      dhcp::to_string(p.error()), bytes.size());
        return;
    }
    auto type = p->message_type();
    counters_.received[type ? size_t(*type) : 0]++;
    // Before the engine: a flood costs a hash lookup per datagram, not an
    // allocation or a store write.
    int64_t now = now_ms();
    if (!p->giaddr.is_zero() && !relay_limit_.allow(p->giaddr.v, now)) {
        counters_.rate_limited_relay++;
        if (trace_) trace_->on_dropped(s.info().name, *p, "rate_limited_relay");
        if (debug_) spdlog::debug("dhcp drop iface={} reason=relay-rate-limit giaddr={}", s.info().name, p->giaddr.str());
        return;
    }
    if (!client_limit_.allow(p->mac().key(), now)) {
        counters_.rate_limited_client++;
        if (trace_) trace_->on_dropped(s.info().name, *p, "rate_limited_client");
        if (debug_) spdlog::debug("dhcp drop iface={} reason=client-rate-limit mac={}", s.info().name, p->mac().str());
        return;
    }
    dhcp::RxInfo rx{s.info().addr, Ipv4Net{s.info().addr, s.info().prefix}};
    if (boot_server_src) {
        rx.boot_server_port = true;
        rx.src_ip = Ipv4(ntohl(boot_server_src->sin_addr.s_addr));
        rx.src_port = ntohs(boot_server_src->sin_port);
    }
    auto out = engine_.handle(*p, rx, int64_t(std::time(nullptr)));
    if (debug_)
        spdlog::debug("dhcp iface={} type={} mac={} xid={:#010x} result=\"{}\"", s.info().name,
                      type ? dhcp::to_string(*type) : "none", p->mac().str(), p->xid, out.note);
    if (trace_) trace_->on_request(s.info().name, *p, out, boot_server_src != nullptr);
    if (!out.warning.empty()) spdlog::warn("dhcp iface={} mac={} {}", s.info().name, p->mac().str(), out.warning);
    if (out.reservations_changed) reservations_changed_ = true;
    if (out.drop == dhcp::Drop::NotEthernet) counters_.not_ethernet++;
    if (out.drop == dhcp::Drop::Ignored) counters_.ignored++;
    if (out.drop == dhcp::Drop::NotPxe) counters_.proxy_not_pxe++;
    if (out.drop == dhcp::Drop::NothingToBoot) counters_.proxy_nothing_to_boot++;
    if (out.drop == dhcp::Drop::StoreUnavailable) counters_.store_unavailable++;
    if (out.drop == dhcp::Drop::PoolExhausted) {
        counters_.pool_exhausted++;
        if (out.subnet) warn_exhausted(*out.subnet, p->mac(), now);
    }
    if (!out.reply) return;
    auto sent = out.reply->packet.message_type();
    if (out.proxy) (sent == dhcp::MessageType::Ack ? counters_.proxy_acks : counters_.proxy_offers)++;
    // Only an ACK promises a lease: it waits for the batch's commit, and is
    // counted when it leaves (send), since it may never leave.
    // OFFERs, NAKs and a proxy's ACKs (no lease) leave at once, whatever
    // the disk is doing.
    if (sent == dhcp::MessageType::Ack && !out.proxy && !out.nothing_to_commit) {
        if (on_ack_) on_ack_(s, *p, *out.reply);
        pipeline_->hold(si, std::move(*out.reply));
        return;
    }
    if (sent) counters_.sent[size_t(*sent)]++;
    s.queue(*out.reply);
}

}  // namespace pxed::daemon
