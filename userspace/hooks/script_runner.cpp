#include "hooks/script_runner.h"

#include <poll.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

namespace pxed::hooks {

namespace {

constexpr int kReadyWaitMs = 5000;  // the helper switches user and says so
constexpr int kSocketBuffer = 1 << 20;

SendResult send_record(int fd, const std::string& rec) {
    for (;;) {
        if (send(fd, rec.data(), rec.size(), MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) return SendResult::Sent;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return SendResult::WouldBlock;
        return SendResult::Gone;
    }
}

}  // namespace

ScriptRunner::ScriptRunner(pid_t pid, int fd, Shared* shared, size_t queue)
    : pid_(pid), fd_(fd), shared_(shared), outbox_(queue, [fd](const std::string& r) { return send_record(fd, r); }) {}

Result<std::shared_ptr<ScriptRunner>> ScriptRunner::start(const Settings& s) {
    uid_t uid = geteuid();
    gid_t gid = getegid();
    bool switch_user = !s.user.empty();
    if (switch_user) {
        passwd pw{}, *found = nullptr;
        char buf[4096];
        if (getpwnam_r(s.user.c_str(), &pw, buf, sizeof buf, &found) != 0 || !found)
            return Err("dhcp-script-user '" + s.user + "': no such user");
        if (geteuid() != 0 && pw.pw_uid != geteuid())
            return Err("dhcp-script-user '" + s.user + "': pxed must start as root to run the script as another user");
        uid = pw.pw_uid;
        gid = pw.pw_gid;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return Err(std::string("dhcp-script: socketpair: ") + std::strerror(errno));
    // Room for a burst of events in the kernel before the outbox holds any
    // (SO_SNDBUFFORCE needs CAP_NET_ADMIN, which pxed has while it starts).
    if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &kSocketBuffer, sizeof kSocketBuffer) != 0)
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &kSocketBuffer, sizeof kSocketBuffer);
    void* page = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        close(sv[0]);
        close(sv[1]);
        return Err(std::string("dhcp-script: mmap: ") + std::strerror(errno));
    }
    auto* shared = new (page) Shared();
    std::fflush(nullptr);  // nothing buffered is written twice
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        munmap(page, sizeof(Shared));
        return Err(std::string("dhcp-script: fork: ") + std::strerror(e));
    }
    if (pid == 0) {
        close(sv[0]);
        helper_main(sv[1], s.script, uid, gid, switch_user, &shared->run, &shared->failed);
    }
    close(sv[1]);
    std::shared_ptr<ScriptRunner> r(new ScriptRunner(pid, sv[0], shared, s.queue));
    // The helper's first message: "ok", or why it cannot run the script.
    pollfd p{sv[0], POLLIN, 0};
    char msg[512] = {};
    ssize_t n = poll(&p, 1, kReadyWaitMs) == 1 ? recv(sv[0], msg, sizeof msg - 1, 0) : -1;
    std::string said = n > 0 ? std::string(msg, size_t(n)) : "no answer";
    if (said != "ok") return Err("dhcp-script helper: " + said);  // the destructor reaps it
    spdlog::info("dhcp-script={} helper pid={} user={}", s.script, pid, switch_user ? s.user : "pxed's own");
    return r;
}

ScriptRunner::~ScriptRunner() {
    {
        std::lock_guard lk(mu_);
        outbox_.flush();
        if (outbox_.waiting())
            spdlog::warn("dhcp-script: {} event(s) not run: pxed is exiting with the helper's socket full",
                         outbox_.waiting());
    }
    close(fd_);
    // The helper exits at end-of-file, once its running script ends: wait a
    // little, not for a slow script (it finishes on its own, reparented).
    for (int i = 0; i < 40 && pid_ > 0; i++) {
        if (waitpid(pid_, nullptr, WNOHANG) == pid_) pid_ = -1;
        else usleep(25000);
    }
    if (pid_ > 0) spdlog::info("dhcp-script helper pid={} still runs a script; it exits when that ends", pid_);
    munmap(shared_, sizeof(Shared));
}

void ScriptRunner::warn_dropped() {
    if (outbox_.take_warning())
        spdlog::warn("dhcp-script: {} event(s) dropped: {}", outbox_.dropped(),
                     outbox_.helper_gone() ? "the helper process is gone"
                                           : "the script is slower than the events (queue full); counted as "
                                             "pxed_dhcp_script_events_total{result=\"dropped\"}");
}

void ScriptRunner::submit(const ScriptEvent& e) {
    std::string rec = encode(e);
    if (rec.size() > kMaxRecord) {
        spdlog::warn("dhcp-script: {} event of {} bytes is too large, dropped", e.args[0], rec.size());
        return;
    }
    std::lock_guard lk(mu_);
    outbox_.submit(std::move(rec));
    waiting_.store(outbox_.waiting() > 0, std::memory_order_relaxed);
    warn_dropped();
}

void ScriptRunner::flush() {
    if (!waiting_.load(std::memory_order_relaxed)) return;
    std::lock_guard lk(mu_);
    outbox_.flush();
    waiting_.store(outbox_.waiting() > 0, std::memory_order_relaxed);
    warn_dropped();
}

size_t ScriptRunner::room() {
    std::lock_guard lk(mu_);
    return outbox_.room();
}

void ScriptRunner::check_helper() {
    if (pid_ <= 0) return;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return;
    pid_ = -1;
    spdlog::error("dhcp-script helper exited ({}): the script runs no more until pxed restarts",
                  WIFEXITED(status) ? "status " + std::to_string(WEXITSTATUS(status))
                                    : "signal " + std::to_string(WTERMSIG(status)));
}

RunnerFigures ScriptRunner::figures() {
    RunnerFigures f;
    {
        std::lock_guard lk(mu_);
        f.queued = outbox_.accepted();
        f.dropped = outbox_.dropped();
        f.waiting = outbox_.waiting();
    }
    f.run = shared_->run.load(std::memory_order_relaxed);
    f.failed = shared_->failed.load(std::memory_order_relaxed);
    return f;
}

}  // namespace pxed::hooks
