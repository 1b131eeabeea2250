#include "tftp/session.h"

#include <cstdlib>

#include <algorithm>
#include <charconv>

namespace pxed::tftp {

namespace {
std::optional<uint64_t> number(const std::string& s) {
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}
ParseError refuse(const std::string& name, const std::string& value, const char* why) {
    return ParseError{ErrorCode::OptionRefused, "option " + name + "=" + value + ": " + why};
}
}  // namespace

uint16_t blksize_for_mtu(int mtu, bool ipv6) {
    if (mtu < (ipv6 ? 1280 : 68)) mtu = 1500;
    int headers = (ipv6 ? 40 : 20) + 8 + 4;
    return uint16_t(std::clamp(mtu - headers, int(kMinBlksize), int(kMaxBlksize)));
}

Result<Negotiated, ParseError> negotiate(const Request& r, uint64_t size, const Limits& limits) {
    Negotiated n;
    for (auto& [name, value] : r.options) {
        auto v = number(value);
        if (name == "blksize") {
            if (!v || *v < kMinBlksize || *v > kMaxBlksize) return Err(refuse(name, value, "must be 8 to 65464"));
            n.blksize = uint16_t(std::min<uint64_t>(*v, limits.max_blksize));
            n.oack.emplace_back(name, std::to_string(n.blksize));
        } else if (name == "tsize") {
            if (!v) return Err(refuse(name, value, "must be a number"));
            // RRQ: the client sends 0 and we tell the size. An empty file's
            // tsize is left out: curl refuses "tsize 0" in an OACK.
            if (size > 0) n.oack.emplace_back(name, std::to_string(size));
        } else if (name == "timeout") {
            if (!v || *v < 1 || *v > 255) return Err(refuse(name, value, "must be 1 to 255 seconds"));
            n.timeout_s = uint8_t(*v);
            n.oack.emplace_back(name, value);
        } else if (name == "windowsize") {
            if (!v || *v < 1 || *v > 65535) return Err(refuse(name, value, "must be 1 to 65535"));
            // RFC 7440: the server may answer a smaller windowsize.
            n.windowsize = uint16_t(std::min<uint64_t>(*v, std::max<uint16_t>(limits.max_windowsize, 1)));
            n.oack.emplace_back(name, std::to_string(n.windowsize));
        }
        // Other options are not acknowledged (RFC 2347): the client proceeds without them.
    }
    return n;
}

Session::Session(const Negotiated& n, uint64_t size, const Limits& limits)
    : neg_(n), size_(size), limits_(limits), total_(size / n.blksize + 1), oack_pending_(!n.oack.empty()),
      rto_(cap(limits.initial_rto_ns)) {}

// The retransmission timeout adapts to the measured round trip as TCP's does
// (RFC 6298: smoothed RTT + 4 x its mean deviation, within the limits), so a
// client whose ACKs come late now and then (a loaded machine, a slow disk)
// raises it instead of drawing spurious retransmissions; a client's RFC 2349
// timeout is its upper bound.
int64_t Session::cap(int64_t rto) const {
    if (neg_.timeout_s) rto = std::min<int64_t>(rto, int64_t(*neg_.timeout_s) * 1'000'000'000);
    return rto;
}

size_t Session::length_of(uint64_t b) const {
    uint64_t off = offset_of(b);
    return off >= size_ ? 0 : size_t(std::min<uint64_t>(neg_.blksize, size_ - off));
}

void Session::arm(int64_t now_ns) { deadline_ = now_ns + rto_; }

std::vector<Session::Send> Session::send_window(int64_t now_ns, uint64_t window) {
    std::vector<Send> out;
    // Before the client has ACKed anything, one block at most (see session.h).
    if (!proven_) window = 1;
    uint64_t end = std::min<uint64_t>(acked_ + window, total_);
    if (next_ <= end && timed_block_ <= acked_) {
        timed_block_ = end;  // time one block per window (Karn: only first transmissions)
        sent_at_ = now_ns;
    }
    for (; next_ <= end; next_++) out.push_back(Send{Send::Data, next_});
    sent_max_ = std::max(sent_max_, next_ - 1);
    arm(now_ns);
    return out;
}

std::vector<Session::Send> Session::start(int64_t now_ns) {
    if (oack_pending_) {
        // A client that is slow to acknowledge the OACK (a loaded machine)
        // must not see it twice too soon: atftp 0.8 ends the transfer on a
        // repeated OACK. Loss of the OACK itself is rare and costs a second.
        deadline_ = now_ns + cap(std::max(rto_, limits_.oack_rto_ns));
        return {Send{Send::Oack, 0}};
    }
    return send_window(now_ns, neg_.windowsize);
}

std::vector<Session::Send> Session::on_ack(uint16_t w, int64_t now_ns) {
    if (done_ || failed_) return {};
    if (oack_pending_) {
        if (w != 0) return {};  // not the OACK's acknowledgement
        oack_pending_ = false;
        proven_ = true;
        retries_ = 0;
        return send_window(now_ns, neg_.windowsize);
    }
    // Which outstanding block does the wire number name? Only [acked, sent_max]:
    // after a timeout resent half a window, the client may still ACK the end
    // of the whole one it had received (EDK2's TFTP does).
    uint64_t abs = acked_ + uint16_t(w - wire(acked_));
    if (abs > sent_max_) return {};  // a block not sent yet (or a stale wrap): ignore
    if (abs <= acked_) return {};  // duplicate ACK: never answered with data (Sorcerer's Apprentice)
    if (abs == timed_block_ && sent_at_ && retries_ == 0) {
        int64_t sample = now_ns - sent_at_;
        if (srtt_ == 0) {
            srtt_ = sample;
            rttvar_ = sample / 2;
        } else {
            rttvar_ = (3 * rttvar_ + std::abs(srtt_ - sample)) / 4;
            srtt_ = (7 * srtt_ + sample) / 8;
        }
        rto_ = cap(std::clamp<int64_t>(srtt_ + 4 * rttvar_, limits_.min_rto_ns, limits_.max_rto_ns));
    }
    acked_ = abs;
    proven_ = true;
    retries_ = 0;
    if (acked_ >= total_) {
        done_ = true;
        return {};
    }
    // RFC 7440: an ACK short of the last block sent means the client lost
    // the rest of the window: send again from the block after it.
    next_ = acked_ + 1;
    return send_window(now_ns, neg_.windowsize);
}

std::vector<Session::Send> Session::on_timeout(int64_t now_ns) {
    if (done_ || failed_ || now_ns < deadline_) return {};
    if (++retries_ > (proven_ ? limits_.max_retries : limits_.max_unproven_retries)) {
        failed_ = true;
        return {};
    }
    retransmissions_++;
    rto_ = cap(std::min<int64_t>(rto_ * 2, limits_.max_rto_ns));
    if (oack_pending_) {
        arm(now_ns);
        return {Send{Send::Oack, 0}};
    }
    // Go back to the first unacknowledged block with half the window of the
    // previous try (at least one block): a client that went silent after
    // its last ACK draws less each time, about 2 windows in all.
    next_ = acked_ + 1;
    return send_window(now_ns, std::max<uint64_t>(1, uint64_t(neg_.windowsize) >> std::min<uint32_t>(retries_, 16)));
}

}  // namespace pxed::tftp
