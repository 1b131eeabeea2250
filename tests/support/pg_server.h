#pragma once
// A real PostgreSQL server that a test starts itself: initdb into a temp
// directory, pg_ctl, Unix socket only (no TCP, no system service, nothing
// shared with an administrator's cluster). scripts/lib/pg.sh does the same
// for benchmark scripts.
//
// Tests run as root and PostgreSQL refuses to, so every server command runs
// as the `postgres` system user (runuser), in a directory it owns:
//   /tmp/pxedpg.XXXXXX/            socket directory, 0755 (see pg_server.cpp)
//   /tmp/pxedpg.XXXXXX/data/       the cluster, 0700
//   /tmp/pxedpg.XXXXXX/server.log  the server's log
// A pathname Unix socket is found through the file system, not the network
// namespace, so pxed inside a test namespace reaches it by conninfo().
//
// Failures (initdb, start, psql) throw std::runtime_error with the reason
// and the server log's tail; gtest reports them as the test's failure.
#include <stdexcept>
#include <string>

namespace pxed::test {

struct PsqlResult {
    int status = -1;   // psql's exit status: 0 ok, 1 fatal, 2 no connection, 3 SQL error
    std::string out;   // rows, one a line, fields separated by '|', trailing newline removed
    std::string err;   // psql's standard error
};

class PgServer {
public:
    // Makes the temp directory; starts nothing.
    PgServer();
    // Stops the server (immediate: nothing to keep) and removes the directory.
    ~PgServer();
    PgServer(const PgServer&) = delete;
    PgServer& operator=(const PgServer&) = delete;

    // initdb (the first time only) then `pg_ctl start -w`, bounded wait.
    void start();
    // `pg_ctl stop -m fast`: a clean shutdown. No-op when not running.
    void stop();
    // Starts the same data directory again (DB-outage tests).
    void start_again();
    // `pg_ctl stop -m immediate`: every server process quits without a
    // checkpoint, as in a crash; start_again() then runs crash recovery.
    void kill_hard();
    bool running() const { return running_; }

    void createdb(const std::string& name);
    // libpq URI for pxed's lease-db: postgresql:///DB?host=SOCKDIR&user=postgres
    std::string conninfo(const std::string& db) const;
    const std::string& socket_dir() const { return dir_; }
    const std::string& bindir() const { return bindir_; }

    // `psql -XAtq -v ON_ERROR_STOP=1 -c SQL` as root through the socket;
    // returns the rows, throws on any error.
    std::string psql(const std::string& db, const std::string& sql) const;
    // The same without throwing, for tests that expect the server to be away.
    PsqlResult try_psql(const std::string& db, const std::string& sql) const;

    // The last `lines` lines of the server's log.
    std::string log_tail(int lines = 30) const;

private:
    void pg_ctl(const std::string& args, const std::string& what) const;
    void initdb();

    std::string bindir_;
    std::string dir_;
    bool initialised_ = false;
    bool running_ = false;
};

}  // namespace pxed::test
