// An ACK whose commit another server won (a lease database shared by
// several pxed): the client gets a NAK instead, and the counters say what
// left: `pxectl stats` counts the NAK, not the ACK that never did. Needs
// root (label netns).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/lan.h"
#include "support/pg_server.h"
#include "support/toml_fixture.h"

using namespace pxed::test;
using nlohmann::json;

namespace {

class PgLostAck : public LanTest {};

}  // namespace

TEST_F(PgLostAck, TheNakThatReplacesALostAckIsCountedNotTheAck) {
    if (!require_root()) GTEST_SKIP_("not root: failure recorded");
    PgServer pg;
    pg.start();
    pg.createdb("pxed");
    ASSERT_NO_FATAL_FAILURE(start_lan(LanSpec().named("lsrv", "lcli")));
    // One address in the pool, so the daemon picks it.
    const std::string config =
        toml::server("s0", "lease-db = \"" + pg.conninfo("pxed") + "\"\nnode-name = \"node-a\"\nxdp = \"off\"\n") +
        toml::lan_subnet("192.0.2.100", "lease-time = 600\n");
    std::string init = pg.socket_dir() + "/init.toml";
    std::ofstream(init) << config;
    std::string bin = std::string(PXED_BINARY_DIR) + "/userspace/";
    ASSERT_EQ(sh(bin + "pxed --config " + init + " --db-init >/dev/null"), 0);
    ASSERT_NO_FATAL_FAILURE(start_pxed(config));

    // Another node's lease on that address, written behind this daemon's
    // back (no NOTIFY): its table still thinks the address free, its
    // commit of the client's lease is refused by the database.
    pg.psql("pxed",
            "INSERT INTO pxed_leases (ip, mac, client, start_time, expires, state, node) VALUES "
            "(3221226084, '\\x525400000099', '\\x01525400000099', extract(epoch from now())::bigint, "
            "extract(epoch from now())::bigint + 3600, 1, 'node-b')");  // 192.0.2.100
    auto got = udhcpc_once(*cli_, "c0", 6);
    EXPECT_TRUE(got.empty()) << "the client was given " << got["ip"];

    std::string out = sh_out(bin + "pxectl -s " + pxed_->dir() + "/pxed.sock --json stats");
    json st = json::parse(out, nullptr, false);
    ASSERT_FALSE(st.is_discarded()) << out;
    auto& sent = st["dhcp"]["sent"]["daemon"];
    int lost = st["lease_db"]["lost_to_other_servers"].get<int>();
    EXPECT_GE(lost, 1) << st.dump();
    EXPECT_EQ(sent["NAK"].get<int>(), lost) << st.dump();
    EXPECT_EQ(sent["ACK"].get<int>(), 0) << st.dump();
    EXPECT_EQ(pg.psql("pxed", "SELECT node FROM pxed_leases"), "node-b");
}
