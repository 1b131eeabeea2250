#include "daemon/datagram_batch.h"

#include <cerrno>
#include <cstring>

namespace pxed::daemon {

RecvBatch::RecvBatch() : buf_(kSlots * kSlotBytes) {
    for (size_t i = 0; i < kSlots; i++) {
        iov_[i].iov_base = buf_.data() + i * kSlotBytes;
        iov_[i].iov_len = kSlotBytes;
        msgs_[i].msg_hdr.msg_iov = &iov_[i];
        msgs_[i].msg_hdr.msg_iovlen = 1;
        msgs_[i].msg_hdr.msg_name = &names_[i];
    }
}

int RecvBatch::recv(int fd) {
    for (auto& m : msgs_) {
        m.msg_hdr.msg_flags = 0;
        m.msg_hdr.msg_namelen = sizeof(sockaddr_in);
    }
    int n = recvmmsg(fd, msgs_.data(), unsigned(kSlots), MSG_DONTWAIT, nullptr);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return n;
}

std::span<const uint8_t> RecvBatch::at(size_t i) const {
    size_t len = msgs_[i].msg_len < kSlotBytes ? msgs_[i].msg_len : kSlotBytes;
    return {buf_.data() + i * kSlotBytes, len};
}

void SendBatch::add(std::vector<uint8_t> bytes, const sockaddr* to, socklen_t len) {
    if (used_ == msgs_.size()) msgs_.emplace_back();
    Msg& m = msgs_[used_++];
    m.bytes = std::move(bytes);
    m.len = len <= socklen_t(sizeof m.to) ? len : socklen_t(sizeof m.to);
    std::memcpy(&m.to, to, m.len);
}

void SendBatch::flush(int fd, const std::function<void(const sockaddr_storage& to, int err)>& on_error) {
    if (used_ == 0) return;
    hdrs_.assign(used_, mmsghdr{});
    iov_.resize(used_);
    for (size_t i = 0; i < used_; i++) {
        iov_[i] = iovec{msgs_[i].bytes.data(), msgs_[i].bytes.size()};
        hdrs_[i].msg_hdr.msg_name = &msgs_[i].to;
        hdrs_[i].msg_hdr.msg_namelen = msgs_[i].len;
        hdrs_[i].msg_hdr.msg_iov = &iov_[i];
        hdrs_[i].msg_hdr.msg_iovlen = 1;
    }
    size_t done = 0;
    // Each round sends at least one datagram or reports one: at most used_
    // rounds. (Signals reach pxed through a signalfd: no EINTR here.)
    while (done < used_) {
        int n = sendmmsg(fd, hdrs_.data() + done, unsigned(used_ - done), 0);
        if (n > 0) {
            done += size_t(n);
            continue;
        }
        on_error(msgs_[done].to, n < 0 ? errno : EIO);
        done++;
    }
    used_ = 0;
}

}  // namespace pxed::daemon
