#pragma once
// Calls from other threads onto the event loop. The lease table and the boot
// trace belong to the loop; the HTTP thread's /status.json needs both, so it
// posts a function here and waits, bounded, for the loop to run it (the loop
// watches fd() in its epoll set and calls run_pending()).
//
// Shutdown: the loop joins the HTTP thread (FileService::stop) and so cannot
// run a call while it waits for that thread. close() first: it abandons
// every pending call and refuses later ones, so each waiter returns at once
// with an error instead of waiting for a loop that no longer turns.
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>

#include "common/unique_fd.h"
#include "pxed/result.h"

namespace pxed::daemon {

class LoopCalls {
public:
    LoopCalls();
    LoopCalls(const LoopCalls&) = delete;
    LoopCalls& operator=(const LoopCalls&) = delete;

    // The eventfd that becomes readable when a call is posted.
    int fd() const { return efd_.get(); }
    // From any thread but the loop's: runs `fn` on the loop and returns what
    // it returned, or an error when the loop did not run it within `timeout`,
    // was closed, or `fn` threw. A call that timed out is skipped if the loop
    // reaches it later.
    Result<std::string> call(std::function<std::string()> fn, std::chrono::milliseconds timeout);
    // On the loop: runs every call posted so far.
    void run_pending();
    // Abandons the pending calls (their waiters get an error now) and
    // refuses every later one. Idempotent.
    void close();

private:
    UniqueFd efd_;
    std::mutex m_;
    std::deque<std::packaged_task<std::string()>> q_;
    bool closed_ = false;
};

}  // namespace pxed::daemon
