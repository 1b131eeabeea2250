#pragma once
// The bounded queue in front of the dhcp-script helper's socket. A record
// goes straight to the socket when nothing waits; when the socket is full it
// waits here, in order, until flush() finds room; when this queue is full
// too, it is dropped and counted. Sending never blocks, so a slow script
// never stalls the daemon. Pure: the send is a parameter. Not thread-safe
// (ScriptRunner holds a lock around it).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <utility>

namespace pxed::hooks {

enum class SendResult { Sent, WouldBlock, Gone };

class Outbox {
public:
    using Send = std::function<SendResult(const std::string&)>;
    Outbox(size_t max_waiting, Send send) : max_(max_waiting), send_(std::move(send)) {}

    enum class Taken { Sent, Queued, Dropped };
    // Sends `rec` or queues it behind those waiting; drops it when the
    // queue is full or the helper is gone.
    Taken submit(std::string rec) {
        flush();
        if (gone_) return drop();
        if (waiting_.empty()) {
            SendResult r = send_(rec);
            if (r == SendResult::Sent) return sent_now();
            if (r == SendResult::Gone) return gone(), drop();
        }
        if (waiting_.size() >= max_) return drop();
        waiting_.push_back(std::move(rec));
        accepted_++;
        return Taken::Queued;
    }
    // Sends what waits, in order, until the socket is full.
    void flush() {
        while (!waiting_.empty() && !gone_) {
            SendResult r = send_(waiting_.front());
            if (r == SendResult::WouldBlock) return;
            if (r == SendResult::Gone) return gone();
            waiting_.pop_front();
            sent_++;
        }
        if (waiting_.empty() && !gone_) warned_ = false;
    }

    size_t waiting() const { return waiting_.size(); }
    size_t room() const { return gone_ ? 0 : max_ - waiting_.size(); }
    bool helper_gone() const { return gone_; }
    // True once after the first drop since the queue last drained: the
    // drop to warn about (one warning, not one per event).
    bool take_warning() { return std::exchange(warn_, false); }

    uint64_t accepted() const { return accepted_; }  // sent at once or queued
    uint64_t sent() const { return sent_; }          // handed to the helper
    uint64_t dropped() const { return dropped_; }

private:
    Taken sent_now() {
        sent_++;
        accepted_++;
        return Taken::Sent;
    }
    Taken drop() {
        dropped_++;
        if (!warned_) warned_ = warn_ = true;
        return Taken::Dropped;
    }
    void gone() {
        gone_ = true;
        dropped_ += waiting_.size();
        waiting_.clear();
        if (!warned_) warned_ = warn_ = true;
    }

    size_t max_;
    Send send_;
    std::deque<std::string> waiting_;
    bool gone_ = false;
    bool warned_ = false;  // since the queue last drained
    bool warn_ = false;    // a warning to give
    uint64_t accepted_ = 0, sent_ = 0, dropped_ = 0;
};

}  // namespace pxed::hooks
