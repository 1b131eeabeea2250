#pragma once
// Network namespaces that a test creates and removes itself. Every address a
// test uses lives inside these namespaces; nothing leaves the machine.
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace pxed::test {

// Runs a shell command; returns its exit status (-1 if it could not run).
int sh(const std::string& cmd);
// Runs a shell command and returns its standard output.
std::string sh_out(const std::string& cmd);
// Fails the current test (gtest FAIL) unless running as root.
bool require_root();

class Netns {
public:
    // Creates `ip netns add NAME` (prefixed with pxedt-<pid>- so parallel
    // runs never collide) and brings its loopback up.
    explicit Netns(const std::string& short_name);
    ~Netns();
    Netns(const Netns&) = delete;
    Netns& operator=(const Netns&) = delete;

    const std::string& name() const { return name_; }
    // Shell prefix that runs a command inside the namespace while keeping the
    // host's /sys (and so bpffs): nsenter, not `ip netns exec`.
    std::string exec_prefix() const;
    // Runs a whole shell command line (pipes, &&, redirections) inside.
    int run(const std::string& cmd) const { return sh(exec_prefix() + "sh -c " + quote(cmd)); }
    std::string out(const std::string& cmd) const { return sh_out(exec_prefix() + "sh -c " + quote(cmd)); }
    static std::string quote(const std::string& s);
    static bool exists(const std::string& full_name);

private:
    std::string name_;
};

// A veth pair with one end in each namespace (or the host when ns is null).
void veth_pair(const Netns* a, const std::string& a_if, const Netns* b, const std::string& b_if);

}  // namespace pxed::test

namespace pxed::test {

// Fails the current test if `output` (a log, a command's output) holds an
// ASan, LSan or UBSan report (scripts/test-asan runs sanitized binaries).
void expect_no_sanitizer_report(const std::string& output, const std::string& what);

// A pxed process running inside a namespace with a given configuration;
// "@DIR@" in the configuration is replaced by the process's own temp dir.
class PxedProcess {
public:
    PxedProcess(const Netns& ns, const std::string& config_toml, const std::string& log_level = "debug");
    ~PxedProcess();
    bool ready() const { return ready_; }
    int pid() const { return pid_; }
    std::string log() const;
    const std::string& dir() const { return dir_; }
    // SIGTERM and wait; returns the exit status.
    int stop();

private:
    void check_sanitizers() const;
    std::string dir_;
    int pid_ = -1;
    bool ready_ = false;
};

// Runs busybox udhcpc once in `ns` on `ifname`; returns the variables its
// script saw on "bound" (ip, router, dns, ...), empty if it got no lease.
std::map<std::string, std::string> udhcpc_once(const Netns& ns, const std::string& ifname, int timeout_s = 15,
                                               const std::string& extra_args = "");

}  // namespace pxed::test
