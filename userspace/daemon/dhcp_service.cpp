#include "daemon/dhcp_service.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

#include "dhcp/packet.h"

namespace pxed::daemon {

namespace {

constexpr int kMaxDatagramsPerWakeup = 256;

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

Result<void> DhcpService::open(const std::vector<IfaceInfo>& ifaces) {
    for (auto& info : ifaces) {
        auto s = DhcpSocket::open(info);
        if (!s) return Err(s.error());
        spdlog::info("serving iface={} ifindex={} addr={}/{} mac={}", info.name, info.ifindex, info.addr.str(),
                     info.prefix, info.mac.str());
        sockets_.push_back(std::move(s.value()));
    }
    return {};
}

void DhcpService::configure_limits(const config::Config& c) {
    client_limit_.configure(c.dhcp_rate_limit, c.dhcp_rate_burst);
    relay_limit_.configure(c.relay_rate_limit, c.relay_rate_burst);
}

void DhcpService::on_readable(size_t si) {
    for (int k = 0; k < kMaxDatagramsPerWakeup; k++) {
        ssize_t len = sockets_[si].recv(buf_.data(), buf_.size());
        if (len <= 0) break;
        on_packet(si, std::span<const uint8_t>(buf_.data(), size_t(len)));
    }
}

void DhcpService::send(size_t si, const dhcp::Reply& r) {
    if (auto s = sockets_[si].send(r); !s) spdlog::warn("dhcp send failed: {}", s.error());
}

void DhcpService::on_packet(size_t si, std::span<const uint8_t> bytes) {
    auto& s = sockets_[si];
    auto p = dhcp::parse(bytes);
    if (!p) {
        counters_.parse_errors++;
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
        spdlog::debug("dhcp drop iface={} reason=relay-rate-limit giaddr={}", s.info().name, p->giaddr.str());
        return;
    }
    if (!client_limit_.allow(p->mac().key(), now)) {
        counters_.rate_limited_client++;
        spdlog::debug("dhcp drop iface={} reason=client-rate-limit mac={}", s.info().name, p->mac().str());
        return;
    }
    dhcp::RxInfo rx{s.info().addr, Ipv4Net{s.info().addr, s.info().prefix}};
    auto out = engine_.handle(*p, rx, int64_t(std::time(nullptr)));
    spdlog::debug("dhcp iface={} type={} mac={} xid={:#010x} result=\"{}\"", s.info().name,
                  type ? dhcp::to_string(*type) : "none", p->mac().str(), p->xid, out.note);
    if (!out.warning.empty()) spdlog::warn("dhcp iface={} mac={} {}", s.info().name, p->mac().str(), out.warning);
    if (out.reservations_changed) reservations_changed_ = true;
    if (out.drop == dhcp::Drop::NotEthernet) counters_.not_ethernet++;
    if (out.drop == dhcp::Drop::PoolExhausted) {
        counters_.pool_exhausted++;
        spdlog::warn("dhcp {}", out.note);
    }
    if (!out.reply) return;
    auto sent = out.reply->packet.message_type();
    if (sent) counters_.sent[size_t(*sent)]++;
    // Only an ACK promises a lease: it waits for the batch's commit.
    // OFFERs and NAKs leave at once, whatever the disk is doing.
    if (sent == dhcp::MessageType::Ack) pipeline_->hold(si, std::move(*out.reply));
    else send(si, *out.reply);
}

}  // namespace pxed::daemon
