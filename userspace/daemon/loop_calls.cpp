#include "daemon/loop_calls.h"

#include <sys/eventfd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>

namespace pxed::daemon {

LoopCalls::LoopCalls() : efd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

Result<std::string> LoopCalls::call(std::function<std::string()> fn, std::chrono::milliseconds timeout) {
    // Set by a waiter that gave up: the loop then skips the work.
    auto gone = std::make_shared<std::atomic<bool>>(false);
    std::packaged_task<std::string()> task([fn = std::move(fn), gone] {
        return gone->load(std::memory_order_relaxed) ? std::string() : fn();
    });
    std::future<std::string> result = task.get_future();
    {
        std::lock_guard lk(m_);
        if (closed_ || !efd_) return Err(std::string("pxed is shutting down"));
        q_.push_back(std::move(task));
    }
    uint64_t one = 1;
    if (write(efd_.get(), &one, sizeof one) < 0 && errno != EAGAIN)
        return Err("cannot wake the event loop: " + std::string(std::strerror(errno)));
    if (result.wait_for(timeout) != std::future_status::ready) {
        gone->store(true, std::memory_order_relaxed);
        return Err("the event loop did not answer within " + std::to_string(timeout.count()) + " ms");
    }
    try {
        return result.get();
    } catch (const std::future_error&) {  // abandoned by close()
        return Err(std::string("pxed is shutting down"));
    } catch (const std::exception& e) {
        return Err(std::string(e.what()));
    }
}

void LoopCalls::run_pending() {
    uint64_t n;
    while (read(efd_.get(), &n, sizeof n) == sizeof n) {
    }
    std::deque<std::packaged_task<std::string()>> now;
    {
        std::lock_guard lk(m_);
        now.swap(q_);
    }
    for (auto& t : now) t();  // a packaged_task keeps fn's exception for its waiter
}

void LoopCalls::close() {
    std::deque<std::packaged_task<std::string()>> dropped;
    {
        std::lock_guard lk(m_);
        closed_ = true;
        dropped.swap(q_);
    }
    // Destroyed unrun: each waiter's future holds broken_promise now.
}

}  // namespace pxed::daemon
