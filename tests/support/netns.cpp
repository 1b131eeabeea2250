#include "support/netns.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <memory>

namespace pxed::test {

int sh(const std::string& cmd) {
    int rc = std::system(cmd.c_str());
    if (rc == -1) return -1;
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
}

std::string sh_out(const std::string& cmd) {
    std::string out;
    std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
    if (!p) return out;
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p.get())) > 0) out.append(buf.data(), n);
    return out;
}

bool require_root() {
    if (geteuid() != 0) {
        ADD_FAILURE() << "this test needs root (network namespaces, BPF); run scripts/test as root";
        return false;
    }
    return true;
}

Netns::Netns(const std::string& short_name)
    : name_("pxedt-" + std::to_string(getpid()) + "-" + short_name) {
    sh("ip netns del " + name_ + " 2>/dev/null");
    if (sh("ip netns add " + name_) != 0) {
        ADD_FAILURE() << "ip netns add " << name_ << " failed";
        return;
    }
    run("ip link set lo up");
}

Netns::~Netns() { sh("ip netns del " + name_ + " 2>/dev/null"); }

std::string Netns::quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) {
        if (c == '\'') q += "'\\''";
        else q += c;
    }
    return q + "'";
}

std::string Netns::exec_prefix() const { return "nsenter --net=/run/netns/" + name_ + " "; }

bool Netns::exists(const std::string& full_name) {
    return sh("ip netns list | grep -qw " + full_name) == 0;
}

void veth_pair(const Netns* a, const std::string& a_if, const Netns* b, const std::string& b_if) {
    std::string cmd = "ip link add " + a_if + (a ? " netns " + a->name() : "") + " type veth peer name " + b_if +
                      (b ? " netns " + b->name() : "");
    ASSERT_EQ(sh(cmd), 0) << cmd;
}

}  // namespace pxed::test

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace pxed::test {

namespace {
std::string make_tempdir() {
    char tmpl[] = "/tmp/pxedtest.XXXXXX";
    char* d = mkdtemp(tmpl);
    return d ? d : "/tmp";
}
std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
}  // namespace

PxedProcess::PxedProcess(const Netns& ns, const std::string& config_toml, const std::string& log_level)
    : dir_(make_tempdir()) {
    std::string text = config_toml;
    for (size_t at; (at = text.find("@DIR@")) != std::string::npos;) text.replace(at, 5, dir_);
    // Each test daemon gets its own control socket.
    if (text.find("control-socket") == std::string::npos) {
        if (auto at = text.find("[server]\n"); at != std::string::npos)
            text.insert(at + 9, "control-socket = \"" + dir_ + "/pxed.sock\"\n");
    }
    std::ofstream(dir_ + "/pxed.toml") << text;
    std::string bin = std::string(PXED_BINARY_DIR) + "/userspace/pxed";
    std::string netns = "--net=/run/netns/" + ns.name();
    std::string logpath = dir_ + "/pxed.log";
    pid_ = fork();
    if (pid_ == 0) {
        FILE* f = freopen(logpath.c_str(), "w", stdout);
        (void)f;
        dup2(fileno(stdout), 2);
        execlp("nsenter", "nsenter", netns.c_str(), bin.c_str(), "--config", (dir_ + "/pxed.toml").c_str(),
               "--log-level", log_level.c_str(), (char*)nullptr);
        _exit(127);
    }
    for (int i = 0; i < 100 && !ready_; i++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        ready_ = log().find(" ready") != std::string::npos;
        if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
            pid_ = -1;
            break;
        }
    }
}

std::string PxedProcess::log() const { return slurp(dir_ + "/pxed.log"); }

// A sanitizer (ASan, LSan, UBSan) report in pxed's log fails the test, even
// when the test does not look at pxed's exit status (scripts/test-asan).
void expect_no_sanitizer_report(const std::string& output, const std::string& what) {
    for (const char* mark : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"})
        if (output.find(mark) != std::string::npos) {
            ADD_FAILURE() << "sanitizer report in " << what << ":\n" << output;
            return;
        }
}

void PxedProcess::check_sanitizers() const { expect_no_sanitizer_report(log(), dir_ + "/pxed.log"); }

int PxedProcess::stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    check_sanitizers();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

PxedProcess::~PxedProcess() {
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        check_sanitizers();
    }
    sh("rm -rf " + dir_);
}

std::map<std::string, std::string> udhcpc_once(const Netns& ns, const std::string& ifname, int timeout_s,
                                               const std::string& extra_args) {
    std::string dir = make_tempdir();
    std::string script = dir + "/script.sh";
    std::ofstream(script) << "#!/bin/sh\n[ \"$1\" = bound ] && env > " << dir << "/bound.env\nexit 0\n";
    sh("chmod +x " + script);
    ns.run("timeout " + std::to_string(timeout_s) + " busybox udhcpc -i " + ifname +
           " -f -q -n -t 3 -T 2 -O hostname " + extra_args + " -s " + script + " >" + dir + "/udhcpc.log 2>&1");
    std::map<std::string, std::string> vars;
    std::istringstream in(slurp(dir + "/bound.env"));
    std::string line;
    while (std::getline(in, line)) {
        auto eq = line.find('=');
        if (eq != std::string::npos) vars[line.substr(0, eq)] = line.substr(eq + 1);
    }
    sh("rm -rf " + dir);
    return vars;
}

}  // namespace pxed::test
