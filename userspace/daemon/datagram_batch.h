#pragma once
// Batched datagram I/O for the DHCP sockets: one recvmmsg reads what a
// wakeup finds (up to kSlots datagrams), one sendmmsg per socket sends the
// replies a turn of the event loop produced. Under load that is one system
// call per batch instead of one per packet each way.
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace pxed::daemon {

class RecvBatch {
public:
    static constexpr size_t kSlots = 32;
    // A jumbo frame's payload fits; a longer datagram is reported truncated.
    static constexpr size_t kSlotBytes = 9216;

    RecvBatch();
    RecvBatch(const RecvBatch&) = delete;
    RecvBatch& operator=(const RecvBatch&) = delete;

    // Reads up to kSlots datagrams from the non-blocking `fd`: how many
    // (0 when none is waiting); -1 on an error other than EAGAIN (errno set).
    int recv(int fd);
    std::span<const uint8_t> at(size_t i) const;
    bool truncated(size_t i) const { return (msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0; }
    // Where datagram i came from (IPv4 sockets).
    const sockaddr_in& source(size_t i) const { return names_[i]; }

private:
    std::vector<uint8_t> buf_;
    std::array<iovec, kSlots> iov_{};
    std::array<mmsghdr, kSlots> msgs_{};
    std::array<sockaddr_in, kSlots> names_{};
};

class SendBatch {
public:
    // Queues `bytes` for the address `to` (copied; at most sizeof(sockaddr_storage)).
    void add(std::vector<uint8_t> bytes, const sockaddr* to, socklen_t len);
    size_t size() const { return used_; }
    // Sends everything queued on `fd` and empties the batch. A datagram the
    // kernel refuses is reported to on_error (its address, errno) and
    // skipped; the rest still leave.
    void flush(int fd, const std::function<void(const sockaddr_storage& to, int err)>& on_error);

private:
    struct Msg {
        std::vector<uint8_t> bytes;
        sockaddr_storage to{};
        socklen_t len = 0;
    };
    std::vector<Msg> msgs_;  // [0, used_) queued
    size_t used_ = 0;
    std::vector<mmsghdr> hdrs_;
    std::vector<iovec> iov_;
};

}  // namespace pxed::daemon
