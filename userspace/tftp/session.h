#pragma once
// One TFTP read transfer as a pure state machine: time and ACKs in, what to
// send out. Block numbers are tracked as 64-bit indexes and put on the wire
// modulo 65536 (rollover past block 65535 goes on with block 0).
//
// It also owns the amplification bound: a request is one spoofable UDP
// datagram, so until the client's first ACK proves that it receives what we
// send (it had to learn our per-transfer port), a transfer has at most one
// packet out (the OACK, or block 1 without options) and sends it at most
// 1 + max_unproven_retries times. After that the window is capped
// (max_windowsize) and each timeout halves the window sent again, so a client
// that goes silent draws at most about 2 windows + max_retries blocks.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pxed/result.h"
#include "tftp/codec.h"

namespace pxed::tftp {

struct Limits {
    uint16_t max_blksize = kMaxBlksize;  // the interface MTU's cap, unless configured otherwise
    uint32_t max_retries = 8;            // consecutive timeouts before giving up
    // Timeouts before giving up while the client has not yet ACKed anything:
    // its address is unproven (a request is spoofable), the client retries
    // its request anyway. 1 + 3 sends of one packet.
    uint32_t max_unproven_retries = 3;
    // RFC 7440 lets the server answer a smaller windowsize. 64 blocks of a
    // 1468-byte MTU block are 94 KB: about 150 KB of socket memory at the
    // client, inside Linux's default 208 KB receive buffer, so a window
    // never overflows a default client. (dnsmasq's tftp.c offers at most
    // 32; Debian 12's dnsmasq 2.90 did not acknowledge windowsize at all in
    // scripts/measure-tftp-amplification.)
    uint16_t max_windowsize = 64;
    int64_t initial_rto_ns = 300'000'000;   // before a round trip is measured
    int64_t oack_rto_ns = 1'000'000'000;    // before an OACK is sent again: atftp 0.8 aborts on a repeated OACK
    int64_t min_rto_ns = 10'000'000;
    int64_t max_rto_ns = 1'000'000'000;
};

// The largest block that a datagram of `mtu` bytes carries whole: the MTU
// less the IP header (IPv4 20 bytes, IPv6 40), UDP's 8 and TFTP's 4, at most
// kMaxBlksize (loopback's 64 KiB MTU). An MTU that cannot be (unknown: 0,
// or below the family's minimum) counts as Ethernet's 1500.
uint16_t blksize_for_mtu(int mtu, bool ipv6);

struct Negotiated {
    uint16_t blksize = kDefaultBlksize;
    uint16_t windowsize = 1;
    std::optional<uint8_t> timeout_s;  // client's RFC 2349 timeout: the longest we wait
    // Options for the OACK: only those the client sent and we accepted.
    std::vector<std::pair<std::string, std::string>> oack;
};

// RFC 2347/2348/2349/7440 negotiation for a read of `size` bytes. Unknown
// options are ignored (not acknowledged); a known option with a bad value
// is an error 8.
Result<Negotiated, ParseError> negotiate(const Request& r, uint64_t size, const Limits& limits);

class Session {
public:
    struct Send {
        enum Kind { Oack, Data } kind;
        uint64_t block;  // Data: absolute block index, from 1
    };

    Session(const Negotiated& n, uint64_t size, const Limits& limits);

    std::vector<Send> start(int64_t now_ns);
    std::vector<Send> on_ack(uint16_t wire_block, int64_t now_ns);
    std::vector<Send> on_timeout(int64_t now_ns);
    // An ERROR packet from the client ends the transfer (RFC 1350): nothing more is sent.
    void on_error() { failed_ = true; }

    int64_t deadline() const { return deadline_; }
    bool done() const { return done_; }
    bool failed() const { return failed_; }
    uint64_t total_blocks() const { return total_; }
    uint16_t blksize() const { return neg_.blksize; }
    // Bytes of block `b` (absolute, from 1) and where they start in the file.
    uint64_t offset_of(uint64_t b) const { return (b - 1) * neg_.blksize; }
    size_t length_of(uint64_t b) const;
    static uint16_t wire(uint64_t b) { return uint16_t(b & 0xffff); }
    uint64_t retransmissions() const { return retransmissions_; }
    // Bytes the client has acknowledged so far.
    // The OACK is out and not yet acknowledged.
    bool oack_pending() const { return oack_pending_; }
    uint64_t acked_bytes() const { return std::min<uint64_t>(acked_ * neg_.blksize, size_); }

private:
    std::vector<Send> send_window(int64_t now_ns, uint64_t window);
    int64_t cap(int64_t rto) const;
    void arm(int64_t now_ns);

    Negotiated neg_;
    uint64_t size_;
    Limits limits_;
    uint64_t total_;         // number of DATA blocks, the last one shorter than blksize (maybe empty)
    bool oack_pending_;      // OACK sent, ACK 0 not yet received
    bool proven_ = false;    // the client has ACKed something: its address is real
    uint64_t acked_ = 0;     // highest block acknowledged
    uint64_t next_ = 1;      // next block to send
    uint64_t sent_max_ = 0;  // highest block ever sent: a shrunk resend must still take ACKs up to it
    uint32_t retries_ = 0;
    int64_t rto_;
    int64_t srtt_ = 0;
    int64_t rttvar_ = 0;
    int64_t sent_at_ = 0;    // when the block that will be timed was first sent
    uint64_t timed_block_ = 0;
    int64_t deadline_ = 0;
    bool done_ = false;
    bool failed_ = false;
    uint64_t retransmissions_ = 0;
};

}  // namespace pxed::tftp
