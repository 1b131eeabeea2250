// The PostgreSQL lease store (userspace/lease/postgres) against a real
// server the test starts itself (tests/support/pg_server.h): the schema and
// its migrations, commits shared by two nodes (the database decides who
// gets an address), guarded deletes, reservations, and the watcher that
// brings one node's changes to the other. Root: the server runs as the
// postgres user; no network namespace is needed.
#include <gtest/gtest.h>
#include <poll.h>

#include <sys/wait.h>

#include <chrono>
#include <filesystem>

#include "lease/postgres/pg_watcher.h"
#include "lease/postgres/postgres.h"
#include "support/pg_server.h"

using namespace pxed;
using namespace pxed::lease;

namespace {

class PgStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(geteuid(), 0u) << "needs root (the PostgreSQL server runs as the postgres user)";
        pg_.start();
        pg_.createdb("pxed");
        url_ = pg_.conninfo("pxed");
    }
    std::unique_ptr<LeaseStore> open(const std::string& node) {
        auto s = open_postgres_store(url_, node);
        EXPECT_TRUE(s) << (s ? "" : s.error());
        return s ? std::move(s.value()) : nullptr;
    }
    static Lease lease(uint8_t last, const std::string& client, int64_t expires = 2'000'000'000) {
        Lease l;
        l.ip = Ipv4(192, 0, 2, last);
        l.mac = *Mac::parse("52:54:00:00:00:" + std::string(last < 16 ? "0" : "") + [&] {
            char b[3];
            std::snprintf(b, sizeof b, "%x", last);
            return std::string(b);
        }());
        l.client = client;
        l.start = 1000;
        l.expires = expires;
        l.state = State::Bound;
        return l;
    }
    // Waits (bounded) until the watcher has something; returns it.
    static WatchBatch next(PgWatcher& w, int ms = 5000) {
        pollfd p{w.fd(), POLLIN, 0};
        EXPECT_EQ(poll(&p, 1, ms), 1) << "the watcher said nothing within " << ms << " ms";
        return w.take();
    }
    test::PgServer pg_;
    std::string url_;
};

}  // namespace

TEST_F(PgStoreTest, SchemaIsCreatedOnRequestAndMigrated) {
    // No schema: the daemon refuses and names the command.
    auto none = open_postgres_store(url_, "a");
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().find("pxed --db-init"), std::string::npos) << none.error();
    auto up0 = pg_db_upgrade(url_);
    ASSERT_FALSE(up0);
    EXPECT_NE(up0.error().find("--db-init"), std::string::npos) << up0.error();

    // An older schema (version 1): refused until --db-upgrade.
    ASSERT_TRUE(pg_db_init_at(url_, 1));
    auto old = open_postgres_store(url_, "a");
    ASSERT_FALSE(old);
    EXPECT_NE(old.error().find("pxed --db-upgrade"), std::string::npos) << old.error();
    auto again = pg_db_init(url_);
    ASSERT_FALSE(again);
    EXPECT_NE(again.error().find("already has pxed's schema (version 1)"), std::string::npos) << again.error();
    auto up = pg_db_upgrade(url_);
    ASSERT_TRUE(up) << up.error();
    EXPECT_NE(up->find("from version 1 to 2"), std::string::npos) << *up;
    EXPECT_EQ(*pg_schema_version(url_), kPgSchemaVersion);
    auto noop = pg_db_upgrade(url_);
    ASSERT_TRUE(noop);
    EXPECT_NE(noop->find("nothing to do"), std::string::npos) << *noop;
    EXPECT_TRUE(open_postgres_store(url_, "a"));

    // A newer schema than this pxed knows: refused, never "downgraded".
    pg_.psql("pxed", "UPDATE pxed_schema_version SET version = 99");
    auto newer = open_postgres_store(url_, "a");
    ASSERT_FALSE(newer);
    EXPECT_NE(newer.error().find("newer than this pxed's"), std::string::npos) << newer.error();
}

TEST_F(PgStoreTest, TheDatabaseDecidesWhoGetsAnAddress) {
    ASSERT_TRUE(pg_db_init(url_));
    auto a = open("node-a"), b = open("node-b");
    ASSERT_TRUE(a && b);
    auto ra = a->commit(std::vector<Lease>{lease(10, "client-1"), lease(11, "client-2")}, {});
    ASSERT_TRUE(ra) << ra.error();
    EXPECT_TRUE(ra->lost.empty());
    ASSERT_EQ(ra->versions.size(), 2u);

    // Node B, not knowing, gives .10 to another client: refused, the winner returned.
    auto rb = b->commit(std::vector<Lease>{lease(10, "client-3"), lease(12, "client-3b")}, {});
    ASSERT_TRUE(rb) << rb.error();
    ASSERT_EQ(rb->lost.size(), 1u);
    EXPECT_EQ(rb->lost[0].ip, Ipv4(192, 0, 2, 10));
    EXPECT_EQ(rb->lost[0].client, "client-1");
    EXPECT_GT(rb->lost[0].version, 0);
    ASSERT_EQ(rb->versions.size(), 1u);  // .12 was written
    EXPECT_EQ(pg_.psql("pxed", "SELECT encode(client, 'escape'), node FROM pxed_leases WHERE ip = " + std::to_string(Ipv4(192, 0, 2, 10).v)),
              "client-1|node-a");

    // The same client renewing through the other node: allowed.
    auto renew = lease(10, "client-1", 2'000'000'600);
    auto rr = b->commit(std::vector<Lease>{renew}, {});
    ASSERT_TRUE(rr);
    EXPECT_TRUE(rr->lost.empty());
    // An expired lease and a released one are another client's to take.
    auto expired = lease(11, "client-2", 500);
    ASSERT_TRUE(a->commit(std::vector<Lease>{expired}, {}));
    auto released = lease(12, "client-3b");
    released.state = State::Released;
    ASSERT_TRUE(b->commit(std::vector<Lease>{released}, {}));
    auto taken = b->commit(std::vector<Lease>{lease(11, "client-4"), lease(12, "client-5")}, {});
    ASSERT_TRUE(taken);
    EXPECT_TRUE(taken->lost.empty());

    // A delete takes only the row the deleting node knows.
    int64_t v12 = 0;
    for (auto& [ip, v] : taken->versions)
        if (ip == Ipv4(192, 0, 2, 12)) v12 = v;
    ASSERT_TRUE(a->commit(std::vector<Lease>{lease(12, "client-5", 2'000'000'900)}, {}));  // newer than v12
    ASSERT_TRUE(b->commit({}, std::vector<LeaseDelete>{{Ipv4(192, 0, 2, 12), v12}}));
    EXPECT_EQ(pg_.psql("pxed", "SELECT count(*) FROM pxed_leases WHERE ip = " + std::to_string(Ipv4(192, 0, 2, 12).v)), "1");
    auto all = a->load_all();
    ASSERT_TRUE(all);
    ASSERT_TRUE(b->commit({}, std::vector<LeaseDelete>{{Ipv4(192, 0, 2, 12), INT64_MAX}}));
    EXPECT_EQ(pg_.psql("pxed", "SELECT count(*) FROM pxed_leases WHERE ip = " + std::to_string(Ipv4(192, 0, 2, 12).v)), "0");

    // Every row reads back with its version and fields.
    auto loaded = b->load_all();
    ASSERT_TRUE(loaded) << loaded.error();
    ASSERT_EQ(loaded->size(), 2u);
    for (auto& l : *loaded) {
        EXPECT_GT(l.version, 0);
        EXPECT_EQ(l.state, State::Bound);
    }
}

TEST_F(PgStoreTest, ReservationsAndLeasesReachTheOtherNodesWatcher) {
    ASSERT_TRUE(pg_db_init(url_));
    auto a = open("node-a");
    ASSERT_TRUE(a);
    ASSERT_TRUE(a->commit(std::vector<Lease>{lease(20, "early")}, {}));
    auto w = PgWatcher::start(url_, "node-b", {});
    ASSERT_TRUE(w) << w.error();
    // Connected: everything so far, in one full resync.
    auto first = next(**w);
    ASSERT_TRUE(first.connected && *first.connected) << first.error;
    EXPECT_TRUE(first.full);
    ASSERT_EQ(first.leases.size(), 1u);
    EXPECT_EQ(first.leases[0].client, "early");
    ASSERT_TRUE(first.reservations);
    EXPECT_TRUE(first.reservations->empty());
    ASSERT_TRUE(first.nodes);

    // A lease node A commits, and a reservation it adds, reach node B.
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(a->put_reservation(StoredReservation{*Mac::parse("52:54:00:aa:00:01"), Ipv4(192, 0, 2, 50), "r1", 600}));
    ASSERT_TRUE(a->commit(std::vector<Lease>{lease(21, "later")}, {}));
    WatchBatch got;
    for (int i = 0; i < 10 && !(got.reservations && !got.leases.empty()); i++) {
        auto b = next(**w);
        if (b.reservations) got.reservations = b.reservations;
        for (auto& l : b.leases) got.leases.push_back(l);
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_TRUE(got.reservations);
    ASSERT_EQ(got.reservations->size(), 1u);
    EXPECT_EQ((*got.reservations)[0].hostname, "r1");
    EXPECT_EQ((*got.reservations)[0].lease_time, 600u);
    ASSERT_EQ(got.leases.size(), 1u);
    EXPECT_EQ(got.leases[0].client, "later");
    std::printf("reservation and lease reached the other node's watcher in %lld ms\n", (long long)ms);

    // Node B's own commits are not sent back to it.
    auto b = open("node-b");
    ASSERT_TRUE(b->commit(std::vector<Lease>{lease(22, "mine")}, {}));
    ASSERT_TRUE(b->delete_reservation(*Mac::parse("52:54:00:aa:00:01")));
    auto after = next(**w);
    EXPECT_TRUE(after.leases.empty());
    ASSERT_TRUE(after.reservations);
    EXPECT_TRUE(after.reservations->empty());

    // A row node A deletes (pxectl lease del, say) is named to node B with
    // the version deleted.
    ASSERT_TRUE(a->commit({}, std::vector<LeaseDelete>{{Ipv4(192, 0, 2, 21), got.leases[0].version}}));
    auto del = next(**w);
    ASSERT_EQ(del.deleted.size(), 1u);
    EXPECT_EQ(del.deleted[0].ip, Ipv4(192, 0, 2, 21));
    EXPECT_EQ(del.deleted[0].version, got.leases[0].version);

    // The database goes away: the watcher says so, and resyncs when it is back.
    pg_.stop();
    WatchBatch down;
    for (int i = 0; i < 5 && !down.connected; i++) down = next(**w);
    ASSERT_TRUE(down.connected);
    EXPECT_FALSE(*down.connected);
    EXPECT_FALSE(down.error.empty());
    auto failed = a->commit(std::vector<Lease>{lease(23, "while-down")}, {});
    EXPECT_FALSE(failed);
    pg_.start_again();
    WatchBatch up;
    for (int i = 0; i < 5 && !up.connected; i++) up = next(**w, 15000);
    ASSERT_TRUE(up.connected && *up.connected) << up.error;
    EXPECT_TRUE(up.full);
    EXPECT_EQ(up.leases.size(), 2u);  // early, mine (later was deleted)
    // The store reconnects by itself at its next commit.
    auto back = a->commit(std::vector<Lease>{lease(23, "after")}, {});
    EXPECT_TRUE(back) << (back ? "" : back.error());
}

// pxed --check and --db-init from the command line, on a configuration
// naming the database (interfaces = ["lo"]: --check needs one that exists).
TEST_F(PgStoreTest, CheckAndDbInitFromTheCommandLine) {
    char dir[] = "/tmp/pxed-pgcheck.XXXXXX";
    ASSERT_TRUE(mkdtemp(dir));
    std::string cfg = std::string(dir) + "/pxed.toml";
    FILE* f = std::fopen(cfg.c_str(), "w");
    ASSERT_TRUE(f);
    std::fprintf(f, "[server]\ninterfaces = [\"lo\"]\nlease-db = \"%s\"\n\n[[subnet]]\ncidr = \"127.0.0.0/8\"\nrange = [\"127.0.0.100\", \"127.0.0.200\"]\n", url_.c_str());
    std::fclose(f);
    auto run = [&](const std::string& args) {
        std::string cmd = std::string(PXED_BINARY_DIR) + "/userspace/pxed --config " + cfg + " " + args + " 2>&1";
        std::string out;
        FILE* p = popen(cmd.c_str(), "r");
        char buf[512];
        while (p && std::fgets(buf, sizeof buf, p)) out += buf;
        int st = p ? pclose(p) : -1;
        return std::pair{WEXITSTATUS(st), out};
    };
    auto [c1, o1] = run("--check --check-wait 0");
    EXPECT_EQ(c1, 1) << o1;
    EXPECT_NE(o1.find("pxed --db-init"), std::string::npos) << o1;
    auto [i1, io1] = run("--db-init");
    EXPECT_EQ(i1, 0) << io1;
    EXPECT_NE(io1.find("schema version 2 created"), std::string::npos) << io1;
    auto [i2, io2] = run("--db-init");
    EXPECT_EQ(i2, 1) << io2;
    auto [c2, o2] = run("--check --check-wait 0");
    EXPECT_EQ(c2, 0) << o2;
    auto [u, uo] = run("--db-upgrade");
    EXPECT_EQ(u, 0) << uo;
    EXPECT_NE(uo.find("nothing to do"), std::string::npos) << uo;
    std::filesystem::remove_all(dir);
}
