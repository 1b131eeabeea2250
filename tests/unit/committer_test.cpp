// lease::Committer: commits run on their own thread, one at a time; the
// caller learns of each through an eventfd and takes its result.
#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <future>
#include <stdexcept>

#include "lease/committer.h"

using namespace pxed;
using namespace pxed::lease;

namespace {

// A store whose commit waits until the test lets it finish.
class GatedStore : public LeaseStore {
public:
    std::promise<void> gate;
    std::shared_future<void> opened = gate.get_future().share();
    std::atomic<int> commits{0};
    std::atomic<size_t> last_upserts{0}, last_deletes{0};
    bool fail = false, throw_ = false;

    Result<size_t> load_each(const std::function<void(Lease&&)>&) override { return size_t(0); }
    Result<size_t> load_each6(const std::function<void(Lease6&&)>&) override { return size_t(0); }
    Result<CommitResult> commit_all(std::span<const Lease> up, std::span<const LeaseDelete> del, const Changes6&) override {
        opened.wait();
        commits++;
        last_upserts = up.size();
        last_deletes = del.size();
        if (throw_) throw std::runtime_error("disk on fire");
        if (fail) return Err(std::string("disk full"));
        return CommitResult{};
    }
    Result<std::vector<StoredReservation>> load_reservations() override { return std::vector<StoredReservation>{}; }
    Result<void> put_reservation(const StoredReservation&) override { return {}; }
    Result<void> delete_reservation(const Mac&) override { return {}; }
    std::string describe() const override { return "gated"; }
};

bool readable(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1;
}

Lease lease_at(uint8_t last) {
    Lease l;
    l.ip = Ipv4(192, 0, 2, last);
    l.state = State::Bound;
    return l;
}

}  // namespace

TEST(Committer, ACommitRunsOnItsThreadAndSignalsWhenDone) {
    GatedStore s;
    auto opened = Committer::open(s);
    ASSERT_TRUE(opened) << opened.error();
    Committer& c = **opened;
    EXPECT_FALSE(c.busy());
    EXPECT_FALSE(c.finished());
    c.start({lease_at(10), lease_at(11)}, {LeaseDelete{Ipv4(192, 0, 2, 12)}});
    EXPECT_TRUE(c.busy());
    // The caller is not blocked while the store waits for its disk.
    EXPECT_FALSE(readable(c.fd(), 50));
    EXPECT_FALSE(c.finished());
    s.gate.set_value();
    ASSERT_TRUE(readable(c.fd(), 5000));
    auto r = c.finished();
    ASSERT_TRUE(r);
    EXPECT_TRUE(*r);
    EXPECT_FALSE(c.busy());
    EXPECT_FALSE(readable(c.fd(), 0)) << "the event was consumed";
    EXPECT_EQ(s.commits, 1);
    EXPECT_EQ(s.last_upserts, 2u);
    EXPECT_EQ(s.last_deletes, 1u);
}

TEST(Committer, WaitBlocksUntilTheRunningCommitFinishes) {
    GatedStore s;
    s.gate.set_value();
    auto opened = Committer::open(s);
    ASSERT_TRUE(opened) << opened.error();
    Committer& c = **opened;
    EXPECT_FALSE(c.wait()) << "nothing running";
    for (int i = 0; i < 100; i++) {
        c.start({lease_at(uint8_t(i))}, {});
        auto r = c.wait();
        ASSERT_TRUE(r);
        EXPECT_TRUE(*r);
        EXPECT_FALSE(c.busy());
    }
    EXPECT_EQ(s.commits, 100);
}

TEST(Committer, AFailedOrThrowingCommitIsAnError) {
    GatedStore s;
    s.gate.set_value();
    s.fail = true;
    auto opened = Committer::open(s);
    ASSERT_TRUE(opened) << opened.error();
    Committer& c = **opened;
    c.start({lease_at(1)}, {});
    auto r = c.wait();
    ASSERT_TRUE(r);
    ASSERT_FALSE(*r);
    EXPECT_EQ(r->error(), "disk full");
    s.fail = false;
    s.throw_ = true;
    c.start({lease_at(2)}, {});
    r = c.wait();
    ASSERT_TRUE(r);
    ASSERT_FALSE(*r);
    EXPECT_NE(r->error().find("disk on fire"), std::string::npos);
    // The thread goes on after a failure.
    s.throw_ = false;
    c.start({lease_at(3)}, {});
    r = c.wait();
    ASSERT_TRUE(r && *r);
}

TEST(Committer, DestroyingItFinishesTheRunningCommit) {
    GatedStore s;
    {
        auto opened = Committer::open(s);
    ASSERT_TRUE(opened) << opened.error();
    Committer& c = **opened;
        c.start({lease_at(1)}, {});
        std::thread opener([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            s.gate.set_value();
        });
        opener.detach();
    }
    EXPECT_EQ(s.commits, 1);
}
