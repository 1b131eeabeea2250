#include "netns/netns.h"

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
