// The dhcp-script helper process (script_runner.h): reads one event per
// message from the daemon, runs the script for it and waits for it to end,
// logs what it printed and counts how it ended. One script at a time, in
// the order the daemon sent them, as dnsmasq's helper.
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "hooks/script_runner.h"

extern char** environ;

namespace pxed::hooks {

namespace {

constexpr int kSock = 3;  // the helper's socket, moved here so that every other descriptor can go
constexpr int kDaemonSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE};

void close_from(int first) {
    if (close_range(unsigned(first), ~0U, 0) == 0) return;
    for (int fd = first; fd < 1024; fd++) close(fd);
}

[[noreturn]] void fail(const std::string& why) {
    send(kSock, why.data(), why.size(), MSG_NOSIGNAL);
    _exit(1);
}

// The environment pxed was started with, less dnsmasq's variables (dnsmasq
// unsets those it does not set), plus the event's.
std::vector<std::string> environment(const ScriptEvent& e) {
    std::vector<std::string> env;
    auto& names = dnsmasq_variables();
    for (char** p = environ; *p; p++) {
        std::string_view kv(*p);
        std::string_view k = kv.substr(0, kv.find('='));
        bool ours = false;
        for (auto& n : names) ours = ours || n == k;
        if (!ours && !k.starts_with("DNSMASQ_USER_CLASS")) env.emplace_back(kv);
    }
    for (auto& [k, v] : e.env) env.push_back(k + "=" + v);
    return env;
}

std::string describe(const ScriptEvent& e) {
    std::string s;
    for (auto& a : e.args) s += (s.empty() ? "" : " ") + a;
    return s;
}

void run(const std::string& script, const ScriptEvent& e, std::atomic<uint64_t>* run, std::atomic<uint64_t>* failed) {
    std::string name = script.substr(script.rfind('/') + 1);
    std::vector<std::string> env = environment(e);
    std::vector<char*> argv{name.data()}, envp;
    for (auto& a : const_cast<ScriptEvent&>(e).args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& kv : env) envp.push_back(kv.data());
    envp.push_back(nullptr);
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        spdlog::warn("dhcp-script: pipe: {}", std::strerror(errno));
        failed->fetch_add(1);
        return;
    }
    pid_t pid;
    while ((pid = fork()) < 0 && (errno == EAGAIN || errno == ENOMEM)) sleep(1);  // dnsmasq: temporary
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        dup2(out[1], 1);
        dup2(out[1], 2);
        close_from(3);
        for (int sig : kDaemonSignals) signal(sig, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        execve(script.c_str(), argv.data(), envp.data());
        dprintf(2, "cannot run %s: %s\n", script.c_str(), std::strerror(errno));
        _exit(127);
    }
    close(out[1]);
    if (pid < 0) {
        close(out[0]);
        spdlog::warn("dhcp-script: fork: {}", std::strerror(errno));
        failed->fetch_add(1);
        return;
    }
    if (FILE* f = fdopen(out[0], "r")) {
        char* line = nullptr;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, f)) >= 0) {
            if (n > 0 && line[n - 1] == '\n') line[n - 1] = 0;
            spdlog::info("dhcp-script: {}", line);
        }
        free(line);
        fclose(f);
    } else {
        close(out[0]);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    run->fetch_add(1);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    failed->fetch_add(1);
    if (WIFSIGNALED(status))
        spdlog::warn("dhcp-script {} killed by signal {} ({})", name, WTERMSIG(status), describe(e));
    else
        spdlog::warn("dhcp-script {} exited with status {} ({})", name, WEXITSTATUS(status), describe(e));
}

}  // namespace

void helper_main(int sock, const std::string& script, uid_t uid, gid_t gid, bool switch_user,
                 std::atomic<uint64_t>* runs, std::atomic<uint64_t>* failed) {
    // Signals meant for pxed (a terminal's ^C, systemd's SIGTERM to the
    // whole unit) do not end a script half-way: the helper exits when the
    // daemon's end of the socket closes.
    for (int sig : kDaemonSignals) signal(sig, SIG_IGN);
    prctl(PR_SET_NAME, "pxed-script", 0, 0, 0);
    if (sock != kSock) {
        dup2(sock, kSock);
        close(sock);
    }
    close_from(kSock + 1);
    if (switch_user && (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0))
        fail(std::string("cannot switch to dhcp-script-user (uid ") + std::to_string(uid) + "): " + std::strerror(errno));
    send(kSock, "ok", 2, MSG_NOSIGNAL);
    std::vector<char> buf(kMaxRecord + 1);
    for (;;) {
        ssize_t n = recv(kSock, buf.data(), buf.size(), 0);
        if (n == 0) _exit(0);  // pxed has exited
        if (n < 0) {
            if (errno == EINTR) continue;
            _exit(1);
        }
        auto e = decode(std::string_view(buf.data(), size_t(n)));
        if (!e) {
            spdlog::warn("dhcp-script: a malformed event from the daemon, ignored");
            continue;
        }
        run(script, *e, runs, failed);
    }
}

}  // namespace pxed::hooks
