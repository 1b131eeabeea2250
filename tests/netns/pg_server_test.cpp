// The PostgreSQL harness that the lease-db = "postgresql://..." tests and
// benchmarks stand on (tests/support/pg_server.h): a server of the test's
// own, that survives a clean and a crash restart with its data, that pxed
// can reach from inside a test namespace with no capabilities left, and that
// leaves nothing behind. Needs root (label netns).
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "support/netns.h"
#include "support/pg_server.h"

using namespace pxed::test;

namespace {
// The postmaster is pg_ctl's orphan, so pid 1 reaps it, whenever it gets to
// it (some inits are slow): a zombie has exited as much as a gone process.
bool exited(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string pid_field, comm, state;
    if (!(stat >> pid_field >> comm >> state)) return true;
    return state == "Z";
}
}  // namespace

TEST(PgServer, StartsCreatesADatabaseAndAnswers) {
    if (!require_root()) return;
    PgServer pg;
    pg.start();
    ASSERT_TRUE(pg.running());
    pg.createdb("pxed");
    EXPECT_EQ(pg.psql("pxed", "select 1"), "1");
    EXPECT_EQ(pg.psql("pxed", "select current_database(), current_user"), "pxed|postgres");
    // No TCP listener: the socket directory is the only way in.
    EXPECT_EQ(pg.psql("pxed", "show listen_addresses"), "");
    EXPECT_EQ(pg.psql("pxed", "show fsync"), "on");

    PsqlResult bad = pg.try_psql("pxed", "select no_such_column");
    EXPECT_NE(bad.status, 0);
    EXPECT_NE(bad.err.find("no_such_column"), std::string::npos) << bad.err;
    EXPECT_THROW(pg.psql("pxed", "select no_such_column"), std::runtime_error);

    pg.stop();
    EXPECT_FALSE(pg.running());
    PsqlResult away = pg.try_psql("pxed", "select 1");
    EXPECT_EQ(away.status, 2) << "psql should find no server: " << away.err;
}

TEST(PgServer, CleanRestartKeepsATablesRows) {
    if (!require_root()) return;
    PgServer pg;
    pg.start();
    pg.createdb("pxed");
    pg.psql("pxed", "create table leases(ip text primary key, mac text); "
                    "insert into leases values ('192.0.2.10','02:00:00:00:00:01'), "
                    "('192.0.2.11','02:00:00:00:00:02'), ('192.0.2.12','02:00:00:00:00:03')");
    pg.stop();
    pg.start_again();
    EXPECT_EQ(pg.psql("pxed", "select count(*) from leases"), "3");
    EXPECT_EQ(pg.psql("pxed", "select mac from leases where ip = '192.0.2.11'"), "02:00:00:00:00:02");
}

TEST(PgServer, CrashRestartKeepsACommittedRow) {
    if (!require_root()) return;
    PgServer pg;
    pg.start();
    pg.createdb("pxed");
    pg.psql("pxed", "create table leases(ip text primary key, mac text)");
    // psql -c autocommits: the row is committed (WAL flushed) when psql returns.
    pg.psql("pxed", "insert into leases values ('192.0.2.20','02:00:00:00:00:20')");
    pg.kill_hard();
    EXPECT_FALSE(pg.running());
    pg.start_again();
    EXPECT_EQ(pg.psql("pxed", "select mac from leases where ip = '192.0.2.20'"), "02:00:00:00:00:20");
    // It came back through crash recovery, not a clean shutdown's checkpoint.
    EXPECT_NE(pg.log_tail(200).find("not properly shut down"), std::string::npos) << pg.log_tail(200);
}

// pxed's lease thread is root with every capability dropped, in a network
// namespace of the test's: the conninfo must work from there.
TEST(PgServer, ConninfoWorksFromANamespaceWithoutCapabilities) {
    if (!require_root()) return;
    PgServer pg;
    pg.start();
    pg.createdb("pxed");
    Netns ns("pg");
    std::string cmd = "setpriv --inh-caps=-all --bounding-set=-all -- " + pg.bindir() + "/psql -XAtq -d " +
                      Netns::quote(pg.conninfo("pxed")) + " -c 'select 42' 2>&1";
    EXPECT_EQ(ns.out(cmd), "42\n") << cmd;
    // The same inside the namespace: no capability at all.
    EXPECT_EQ(ns.out("setpriv --inh-caps=-all --bounding-set=-all -- grep CapEff /proc/self/status"),
              "CapEff:\t0000000000000000\n");
}

TEST(PgServer, AFailedStartQuotesTheServerLog) {
    if (!require_root()) return;
    PgServer pg;
    pg.start();
    pg.stop();
    std::ofstream(pg.socket_dir() + "/data/postgresql.conf", std::ios::app) << "no_such_setting_pxed = 1\n";
    try {
        pg.start_again();
        FAIL() << "a server with an unknown setting started";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("no_such_setting_pxed"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(pg.running());
}

TEST(PgServer, DestructorStopsTheServerAndRemovesItsDirectory) {
    if (!require_root()) return;
    std::string dir;
    pid_t pid = 0;
    {
        PgServer pg;
        pg.start();
        dir = pg.socket_dir();
        std::ifstream(dir + "/data/postmaster.pid") >> pid;
        ASSERT_GT(pid, 0);
        ASSERT_EQ(kill(pid, 0), 0);
    }
    EXPECT_FALSE(std::filesystem::exists(dir));
    EXPECT_TRUE(exited(pid)) << "postmaster " << pid << " still runs";
}
