// pxectl's command line, without a running pxed: global flags (--json,
// --socket) are accepted before or after the subcommand, as docs/ADMIN.md
// writes them. The socket named does not exist, so a command line that
// parses ends in the connect error (exit 1) naming that socket; one that
// does not parse ends in a usage error (exit 2).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace {

struct Run {
    int rc;
    std::string out;
};

Run pxectl(const std::string& args) {
    std::string cmd = std::string(PXECTL_PATH) + " " + args + " 2>&1";
    Run r{-1, {}};
    FILE* f = popen(cmd.c_str(), "r");
    if (!f) return r;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
    int st = pclose(f);
    r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

const std::string kSock = "/nonexistent-pxed-test-dir/pxed.sock";

void expect_parsed(const std::string& args) {
    auto r = pxectl(args);
    EXPECT_EQ(r.rc, 1) << "pxectl " << args << ":\n" << r.out;
    EXPECT_NE(r.out.find("no control socket at " + kSock), std::string::npos) << "pxectl " << args << ":\n" << r.out;
    EXPECT_EQ(r.out.find("not expected"), std::string::npos) << "pxectl " << args << ":\n" << r.out;
}

}  // namespace

TEST(PxectlArgs, GlobalFlagsBeforeTheSubcommand) {
    expect_parsed("--json --socket " + kSock + " lease list");
    expect_parsed("-s " + kSock + " status");
}

TEST(PxectlArgs, GlobalFlagsAfterTheSubcommand) {
    expect_parsed("lease list --json --socket " + kSock);
    expect_parsed("lease list --state bound --json -s " + kSock);
    expect_parsed("lease --json list -s " + kSock);
    expect_parsed("lease show 52:54:00:00:00:0a --json --socket=" + kSock);
    expect_parsed("stats --json -s " + kSock);
    expect_parsed("status --socket " + kSock + " --json");
    expect_parsed("reload -s " + kSock);
}

TEST(PxectlArgs, UnknownArgumentsAreStillUsageErrors) {
    auto r = pxectl("lease list --frobnicate -s " + kSock);
    EXPECT_EQ(r.rc, 2) << r.out;
    r = pxectl("lease list extra-positional -s " + kSock);
    EXPECT_EQ(r.rc, 2) << r.out;
    r = pxectl("-s " + kSock);
    EXPECT_EQ(r.rc, 2) << r.out;
}
