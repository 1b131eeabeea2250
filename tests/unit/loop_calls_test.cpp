// LoopCalls: a call runs on the thread that runs run_pending(), an
// exception comes back as an error, a call nobody runs times out, and
// close() answers every waiter at once (the daemon's shutdown joins the
// HTTP thread while such a waiter may be blocked).
#include <gtest/gtest.h>
#include <poll.h>

#include <future>
#include <stdexcept>
#include <thread>

#include "daemon/loop_calls.h"

using pxed::daemon::LoopCalls;
using namespace std::chrono_literals;

namespace {

// The loop: waits (bounded) for the eventfd, then runs what is pending.
void run_once(LoopCalls& c) {
    pollfd p{c.fd(), POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 10000), 1);
    c.run_pending();
}

}  // namespace

TEST(LoopCalls, RunsOnTheLoopThread) {
    LoopCalls c;
    ASSERT_GE(c.fd(), 0);
    auto loop_id = std::this_thread::get_id();
    auto caller = std::async(std::launch::async, [&] {
        return c.call([&] { return std::string(std::this_thread::get_id() == loop_id ? "loop" : "elsewhere"); }, 60s);
    });
    run_once(c);
    auto r = caller.get();
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(*r, "loop");
}

TEST(LoopCalls, AnExceptionIsAnError) {
    LoopCalls c;
    auto caller = std::async(std::launch::async, [&] {
        return c.call([]() -> std::string { throw std::runtime_error("bad lease"); }, 60s);
    });
    run_once(c);
    auto r = caller.get();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "bad lease");
}

TEST(LoopCalls, ACallNobodyRunsTimesOutAndIsSkippedLater) {
    LoopCalls c;
    bool ran = false;
    auto r = c.call([&] { ran = true; return std::string("x"); }, 20ms);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("did not answer"), std::string::npos) << r.error();
    c.run_pending();  // the loop reaches it after its waiter gave up
    EXPECT_FALSE(ran);
}

TEST(LoopCalls, CloseAnswersTheWaitersAndRefusesLaterCalls) {
    LoopCalls c;
    auto caller = std::async(std::launch::async, [&] { return c.call([] { return std::string("x"); }, 600s); });
    // Once the call is posted (the eventfd says so), close() abandons it.
    pollfd p{c.fd(), POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 10000), 1);
    c.close();
    ASSERT_EQ(caller.wait_for(60s), std::future_status::ready);  // bound for a broken close(); it returns at once
    auto r = caller.get();
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("shutting down"), std::string::npos) << r.error();
    auto later = c.call([] { return std::string("x"); }, 600s);
    ASSERT_FALSE(later);
    EXPECT_NE(later.error().find("shutting down"), std::string::npos);
}
