#pragma once
// The dhcp-script helper: a process forked at start-up, before the daemon
// starts a thread or drops a capability, that runs the script once per
// event, one at a time, as dnsmasq's helper does (src/helper.c). The
// daemon never executes anything itself; it hands each event to the helper
// through a socket pair, never blocking: a record waits in a bounded queue
// (hooks/outbox.h) while the socket is full, and is dropped and counted when
// that is full too. A slow script delays only the scripts after it.
//
// Why a SOCK_SEQPACKET socket pair rather than a pipe: each event is one
// message (no framing, no partial writes to resume), send() takes
// MSG_NOSIGNAL (a helper that died gives EPIPE, not SIGPIPE), and the helper
// still sees end-of-file when the daemon exits, its signal to exit.
//
// The helper runs as the user pxed started as (root, as dnsmasq runs its
// script) or as dhcp-script-user. It takes from the daemon only the
// arguments and DNSMASQ_* variables: the script's path is fixed at start.
// Its stdin is /dev/null; what it prints goes to pxed's log, a line each.
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "hooks/outbox.h"
#include "hooks/script_event.h"
#include "pxed/result.h"

namespace pxed::hooks {

struct RunnerFigures {
    uint64_t queued = 0;   // events accepted (sent to the helper at once, or queued)
    uint64_t run = 0;      // script runs that finished
    uint64_t dropped = 0;  // events lost: the queue was full, or the helper had gone
    uint64_t failed = 0;   // runs that exited non-zero, were killed, or could not start
    uint64_t waiting = 0;  // events in the daemon's queue now
};

class ScriptRunner {
public:
    struct Settings {
        std::string script;  // absolute path
        std::string user;    // empty: the user pxed runs as
        size_t queue = 1024;  // events that may wait in the daemon while the socket is full
    };
    // Forks the helper and waits until it runs as its user. Call it before
    // any thread starts (the helper is a copy of a one-thread process).
    static Result<std::shared_ptr<ScriptRunner>> start(const Settings& s);
    // Closes the socket: the helper finishes the running script, then the
    // ones already sent, and exits; it is reaped if that is quick.
    ~ScriptRunner();
    ScriptRunner(const ScriptRunner&) = delete;
    ScriptRunner& operator=(const ScriptRunner&) = delete;

    // Any thread: hands an event to the helper, or queues or drops it.
    void submit(const ScriptEvent& e);
    // The event loop: sends what waits (after each turn, and when the
    // socket is writable again).
    void flush();
    // How many events fit the queue now (paced work, such as the "old"
    // calls at start-up, asks before it makes them).
    size_t room();
    int fd() const { return fd_; }
    // The event loop, now and then: reaps a helper that exited.
    void check_helper();
    RunnerFigures figures();

private:
    struct Shared {  // written by the helper, read by the daemon (a shared page)
        std::atomic<uint64_t> run{0}, failed{0};
    };
    ScriptRunner(pid_t pid, int fd, Shared* shared, size_t queue);
    void warn_dropped();

    pid_t pid_;
    int fd_;
    Shared* shared_;
    std::mutex mu_;  // the outbox: the event loop and the TFTP threads submit
    Outbox outbox_;
    std::atomic<bool> waiting_{false};
};

// The helper process's loop (script_helper.cpp): never returns.
[[noreturn]] void helper_main(int sock, const std::string& script, uid_t uid, gid_t gid, bool switch_user,
                              std::atomic<uint64_t>* run, std::atomic<uint64_t>* failed);

}  // namespace pxed::hooks
