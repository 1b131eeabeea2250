// The dhcp-script helper process (hooks/script_runner.h) with a real
// script: arguments, environment (dnsmasq's variables only from the event),
// one run at a time in order, exit statuses counted, and a script that
// blocks never blocks submit(): the queue fills, then events are dropped
// and counted. No root needed. Waits are bounded; nothing is timed.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "hooks/script_runner.h"

using namespace pxed;
using namespace pxed::hooks;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class RunnerTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/pxed-hooks-XXXXXX";
        ASSERT_TRUE(mkdtemp(tmpl));
        dir_ = tmpl;
    }
    void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
    std::string script(const std::string& body) {
        std::string path = dir_ + "/hook.sh";
        std::ofstream(path) << "#!/bin/sh\n" << body;
        chmod(path.c_str(), 0755);
        return path;
    }
    // Polls until `done` or about 20 s have passed.
    template <class F>
    bool wait_for(F done) {
        for (int i = 0; i < 2000; i++) {
            if (done()) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return done();
    }
    std::string dir_;
};

}  // namespace

TEST_F(RunnerTest, RunsTheScriptOncePerEventInOrder) {
    setenv("DNSMASQ_CLIENT_ID", "stale", 1);  // dnsmasq unsets its variables an event does not set
    setenv("PXED_TEST_INHERITED", "yes", 1);  // the rest of the environment is inherited
    std::string log = dir_ + "/log";
    auto path = script("{ printf '%s|' \"$0\" \"$@\"; echo; env | grep -E '^(DNSMASQ_|PXED_TEST)' | sort; "
                       "echo sockets=$(ls -l /proc/$$/fd | grep -c socket:); echo ---; } >> " + log + "\n"
                       "[ \"$1\" = fail ] && exit 3\necho \"printed by $1\"\nexit 0\n");
    auto r = ScriptRunner::start({path, "", 16});
    unsetenv("DNSMASQ_CLIENT_ID");
    ASSERT_TRUE(r.ok()) << r.error();
    auto& runner = *r.value();
    ScriptEvent add;
    add.args = {"add", "52:54:00:aa:00:01", "192.0.2.100", "alpha"};
    add.env = {{"DNSMASQ_INTERFACE", "s0"}, {"DNSMASQ_TIME_REMAINING", "120"}};
    runner.submit(add);
    runner.submit(tftp_event(6, "192.0.2.100", "/srv/tftp/f.txt"));
    ScriptEvent fail;
    fail.args = {"fail"};
    runner.submit(fail);
    ASSERT_TRUE(wait_for([&] { return runner.figures().run == 3; })) << slurp(log);
    auto f = runner.figures();
    EXPECT_EQ(f.queued, 3u);
    EXPECT_EQ(f.failed, 1u);
    EXPECT_EQ(f.dropped, 0u);
    std::string got = slurp(log);
    // $0 is the path: the kernel runs the #! interpreter with it.
    EXPECT_EQ(got,
              path + "|add|52:54:00:aa:00:01|192.0.2.100|alpha|\n"
              "DNSMASQ_INTERFACE=s0\nDNSMASQ_TIME_REMAINING=120\nPXED_TEST_INHERITED=yes\nsockets=0\n---\n" +
              path + "|tftp|6|192.0.2.100|/srv/tftp/f.txt|\nPXED_TEST_INHERITED=yes\nsockets=0\n---\n" +
              path + "|fail|\nPXED_TEST_INHERITED=yes\nsockets=0\n---\n");
}

TEST_F(RunnerTest, ABlockedScriptFillsTheQueueThenEventsAreDropped) {
    std::string gate = dir_ + "/gate";
    ASSERT_EQ(mkfifo(gate.c_str(), 0600), 0);
    // The first run waits on the gate; the later ones pile up behind it.
    auto path = script("[ \"$1\" = first ] && read x < " + gate + "\nexit 0\n");
    auto r = ScriptRunner::start({path, "", 4});
    ASSERT_TRUE(r.ok()) << r.error();
    auto& runner = *r.value();
    ScriptEvent first;
    first.args = {"first"};
    runner.submit(first);
    // Large events fill the socket's buffer within a few dozen.
    ScriptEvent big;
    big.args = {"big"};
    big.env = {{"DNSMASQ_VENDOR_CLASS", std::string(30000, 'v')}};
    const int kEvents = 400;
    for (int i = 0; i < kEvents; i++) runner.submit(big);
    auto held = runner.figures();
    EXPECT_GT(held.dropped, 0u);
    EXPECT_EQ(held.waiting, 4u);
    EXPECT_EQ(held.queued + held.dropped, uint64_t(kEvents) + 1);
    EXPECT_EQ(runner.room(), 0u);
    std::ofstream(gate) << "go\n";  // opens the fifo: the first run ends
    ASSERT_TRUE(wait_for([&] {
        runner.flush();  // the event loop's part: send what waits once there is room
        auto f = runner.figures();
        return f.waiting == 0 && f.run == f.queued;
    })) << runner.figures().run;
    auto f = runner.figures();
    EXPECT_EQ(f.run + f.dropped, uint64_t(kEvents) + 1);
    EXPECT_EQ(f.failed, 0u);
}

TEST_F(RunnerTest, StartFailsForAnUnknownUser) {
    auto r = ScriptRunner::start({script("exit 0\n"), "no-such-user-pxed", 4});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), "dhcp-script-user 'no-such-user-pxed': no such user");
}
