#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "lease/lease_store.h"

using namespace pxed;
using namespace pxed::lease;

namespace {

class TempDir {
public:
    TempDir() {
        char t[] = "/tmp/pxed-unit.XXXXXX";
        path_ = mkdtemp(t);
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    std::string file(const std::string& n) const { return path_ + "/" + n; }

private:
    std::string path_;
};

Lease sample(uint8_t last, State s = State::Bound) {
    Lease l;
    l.ip = Ipv4(192, 0, 2, last);
    l.mac = *Mac::parse("52:54:00:00:00:01");
    l.mac.b[5] = last;
    l.client = std::string("hw:\x01", 4) + std::string(reinterpret_cast<const char*>(l.mac.b.data()), 6);
    l.hostname = "h" + std::to_string(last);
    l.guid = {0, 1, 2, 3};
    l.start = 1000;
    l.expires = 1600;
    l.state = s;
    return l;
}

}  // namespace

TEST(SqliteStore, CommitsAndReloads) {
    TempDir d;
    {
        auto s = open_sqlite_store(d.file("leases.db"));
        ASSERT_TRUE(s.ok()) << s.error();
        std::vector<Lease> ups = {sample(10), sample(11), sample(12, State::Released)};
        ASSERT_TRUE((*s)->commit(ups, {}).ok());
        std::vector<LeaseDelete> del = {LeaseDelete{Ipv4(192, 0, 2, 11)}};
        ASSERT_TRUE((*s)->commit({}, del).ok());
        auto l = sample(10);
        l.expires = 9999;
        ASSERT_TRUE((*s)->commit(std::vector<Lease>{l}, {}).ok());
    }
    auto s = open_sqlite_store(d.file("leases.db"));
    ASSERT_TRUE(s.ok()) << s.error();
    auto all = (*s)->load_all();
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ((*all)[0].ip, Ipv4(192, 0, 2, 10));
    EXPECT_EQ((*all)[0].expires, 9999);
    EXPECT_EQ((*all)[0].client, sample(10).client);
    EXPECT_EQ((*all)[0].guid, sample(10).guid);
    EXPECT_EQ((*all)[0].hostname, "h10");
    EXPECT_EQ((*all)[1].state, State::Released);
}

TEST(SqliteStore, CorruptFileIsReportedAndLeftUntouched) {
    TempDir d;
    std::string path = d.file("leases.db");
    std::string garbage(8192, 'x');
    std::ofstream(path) << garbage;
    auto s = open_sqlite_store(path);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().find(path), std::string::npos) << s.error();
    EXPECT_NE(s.error().find("does not replace it"), std::string::npos) << s.error();
    std::ifstream in(path);
    std::string back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(back, garbage);
}

TEST(SqliteStore, DamagedPagesAreReported) {
    TempDir d;
    std::string path = d.file("leases.db");
    {
        auto s = open_sqlite_store(path);
        ASSERT_TRUE(s.ok());
        std::vector<Lease> ups;
        for (int i = 1; i < 250; i++) ups.push_back(sample(uint8_t(i)));
        ASSERT_TRUE((*s)->commit(ups, {}).ok());
        ASSERT_TRUE((*s)->commit({}, {}).ok());
    }
    // Checkpoint happened at close; overwrite whole pages after the schema.
    auto size = std::filesystem::file_size(path);
    ASSERT_GT(size, 4u * 4096);
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(std::streamoff(2 * 4096));
        std::string junk(size - 2 * 4096, '\xee');
        f.write(junk.data(), std::streamsize(junk.size()));
    }
    auto s = open_sqlite_store(path);
    if (s.ok()) {
        // quick_check may miss damage in leaf payloads; the loader must not.
        auto all = (*s)->load_all();
        EXPECT_FALSE(all.ok() && all->size() == 249u) << "damage went unnoticed";
    } else {
        EXPECT_NE(s.error().find(path), std::string::npos);
    }
}

TEST(SqliteStore, ForeignSqliteDatabaseIsRefused) {
    TempDir d;
    std::string path = d.file("other.db");
    ASSERT_EQ(system(("sqlite3 " + path + " 'CREATE TABLE t(x); INSERT INTO t VALUES (1);'").c_str()), 0);
    auto s = open_sqlite_store(path);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().find("no leases table"), std::string::npos) << s.error();
}

TEST(LeaseTable, DirtyTracksEveryChangedAddress) {
    LeaseTable t;
    t.put(sample(10));
    auto moved = sample(10);
    moved.ip = Ipv4(192, 0, 2, 20);
    t.put(moved);  // same client moves: .10 is dropped
    auto d = t.take_dirty();
    EXPECT_EQ(d, (std::vector<Ipv4>{Ipv4(192, 0, 2, 10), Ipv4(192, 0, 2, 20)}));
    EXPECT_EQ(t.by_ip(Ipv4(192, 0, 2, 10)), nullptr);
    EXPECT_TRUE(t.take_dirty().empty());
    t.erase(Ipv4(192, 0, 2, 20));
    EXPECT_EQ(t.take_dirty(), std::vector<Ipv4>{Ipv4(192, 0, 2, 20)});
}

// The MAC index of leases taken with a client id (how a request without
// option 61 finds its client's lease) follows every put and erase.
TEST(LeaseTable, TheClientIdLeaseOfAMacFollowsPutAndErase) {
    LeaseTable t;
    auto hw = sample(10);
    t.put(hw);
    EXPECT_EQ(t.with_client_id_of(hw.mac), nullptr);  // taken without a client id
    auto id = hw;
    id.client = "id:\x01node10";
    t.put(id);  // the same address, now under the client id
    ASSERT_NE(t.with_client_id_of(hw.mac), nullptr);
    EXPECT_EQ(t.with_client_id_of(hw.mac)->ip, hw.ip);
    auto moved = id;
    moved.ip = Ipv4(192, 0, 2, 20);
    t.put(moved);  // the client moves: the index follows
    EXPECT_EQ(t.with_client_id_of(hw.mac)->ip, moved.ip);
    auto other = sample(30);
    other.ip = moved.ip;
    t.put(other);  // another client takes the address
    EXPECT_EQ(t.with_client_id_of(hw.mac), nullptr);
    t.put(moved);
    t.erase(moved.ip);
    EXPECT_EQ(t.with_client_id_of(hw.mac), nullptr);
}

namespace {
std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
// A database the store wrote, then changed with the sqlite3 tool.
void make_db(const std::string& path, const std::string& sql) {
    {
        auto s = open_sqlite_store(path);
        ASSERT_TRUE(s.ok()) << s.error();
        ASSERT_TRUE((*s)->commit(std::vector<Lease>{sample(10), sample(11)}, {}).ok());
    }
    ASSERT_EQ(system(("sqlite3 " + path + " \"" + sql + "\" >/dev/null").c_str()), 0);
}
void expect_refused_untouched(const std::string& path, const std::string& why) {
    std::string before = slurp(path);
    auto s = open_sqlite_store(path);
    ASSERT_FALSE(s.ok()) << "opened a database it should refuse (" << why << ")";
    EXPECT_NE(s.error().find(path), std::string::npos) << s.error();
    EXPECT_NE(s.error().find(why), std::string::npos) << s.error();
    EXPECT_NE(s.error().find("does not replace it"), std::string::npos) << s.error();
    EXPECT_TRUE(slurp(path) == before) << "a refused database was written to (" << why << ")";
}
}  // namespace

// Found by fuzz.lease_store: the store switched a file to WAL mode (a write
// to its header) and created its tables before it knew it would refuse it.
TEST(SqliteStore, ARefusedDatabaseIsNeverWrittenTo) {
    TempDir d;
    std::string newer = d.file("newer.db");
    make_db(newer, "PRAGMA journal_mode=DELETE; UPDATE pxed_meta SET value='2' WHERE key='schema_version';");
    expect_refused_untouched(newer, "has schema version 2");

    std::string other = d.file("other-leases.db");
    ASSERT_EQ(system(("sqlite3 " + other + " 'CREATE TABLE leases(x); INSERT INTO leases VALUES (1);'").c_str()), 0);
    expect_refused_untouched(other, "table leases has no column named ip");
}

// A lease the daemon cannot read is refused when the file is opened, before
// anything is written, not later by the loader.
TEST(SqliteStore, AnUnreadableLeaseIsRefusedAtOpen) {
    TempDir d;
    std::string path = d.file("leases.db");
    make_db(path, "PRAGMA journal_mode=DELETE; UPDATE leases SET state=9 WHERE ip=3221225995;");
    expect_refused_untouched(path, "lease for 192.0.2.11 has an unknown state 9");
}
