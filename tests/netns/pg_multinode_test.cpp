// Issue 18's acceptance: two pxed (node-a, node-b) in two namespaces on one
// bridge, one PostgreSQL of the test's own (tests/netns/pg_cluster.h has
// the topology). Load from Kea's perfdhcp, which acts as a relay, so each
// instance talks to the node it names; busybox udhcpc broadcasts and so
// reaches both. Every DHCPACK on the bridge is captured and checked against
// the database afterwards.
#include <algorithm>
#include <fstream>

#include "bpf/xdp_program.h"
#include "netns/pg_cluster.h"

using namespace pxed;
using namespace pxed::test;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// Which MACs each address was acknowledged to, and the other way round.
struct AckIndex {
    std::map<std::string, std::set<std::string>> macs_of_ip, ips_of_mac;
    explicit AckIndex(const std::vector<Ack>& acks) {
        for (auto& a : acks) {
            macs_of_ip[a.ip].insert(a.mac);
            ips_of_mac[a.mac].insert(a.ip);
        }
    }
};

// An ACK is kept when its (MAC, address) row is in pxed_leases, or that MAC
// holds a row there (its later lease). Returns the ACKs that are neither.
std::vector<Ack> lost_acks(const std::vector<Ack>& acks, const std::map<std::pair<std::string, std::string>, int>& db) {
    std::set<std::string> macs;
    for (auto& [k, state] : db) macs.insert(k.first);
    std::vector<Ack> lost;
    for (auto& a : acks) {
        std::string h = a.mac;
        std::erase(h, ':');
        if (!db.count({h, a.ip}) && !macs.count(h)) lost.push_back(a);
    }
    return lost;
}

}  // namespace

// The first few of `v`, with their rows in the database.
std::string PgCluster::explain(const std::vector<Ack>& v) {
    std::string s;
    for (size_t i = 0; i < v.size() && i < 8; i++)
        s += "\n  ACK " + v[i].mac + " " + v[i].ip + " from " + v[i].server + " at " + std::to_string(v[i].t) +
             "; rows: " + rows_of(v[i]);
    return s;
}


// 1. Both nodes hand out the same pool at once, each from its own table:
// the database decides, and no address is acknowledged to two clients.
TEST_F(PgCluster, TwoThousandClientsOverTwoNodesNoAddressTwice) {
    ASSERT_NO_FATAL_FAILURE(start_nodes());
    ASSERT_NO_FATAL_FAILURE(start_capture());
    // 1,000 clients a node, chosen at random by perfdhcp: 6,000 exchanges a
    // node reach nearly all of them (1 - e^-6).
    sh(perfdhcp(*c1_, kA, 500, 1000, 12, "52:54:01:00:00:00", "perf_a.txt") + " & " +
       perfdhcp(*c2_, kB, 500, 1000, 12, "52:54:02:00:00:00", "perf_b.txt") + " & wait");
    stop_capture();
    auto all = acks();
    AckIndex ix(all);
    for (auto& [ip, macs] : ix.macs_of_ip) EXPECT_EQ(macs.size(), 1u) << ip << " acknowledged to " << macs.size() << " MACs";
    for (auto& [mac, ips] : ix.ips_of_mac) EXPECT_EQ(ips.size(), 1u) << mac << " acknowledged " << ips.size() << " addresses";
    EXPECT_GE(ix.ips_of_mac.size(), 1900u) << "distinct clients acknowledged";

    // In the database: one row per address (the key), one bound row per client.
    EXPECT_EQ(pg_.psql("pxed", "SELECT count(*) FROM (SELECT client FROM pxed_leases WHERE state = 1 "
                               "GROUP BY client HAVING count(*) > 1) d"), "0");
    EXPECT_EQ(pg_.psql("pxed", "SELECT count(*) FROM (SELECT mac FROM pxed_leases WHERE state = 1 "
                               "GROUP BY mac HAVING count(*) > 1) d"), "0");
    auto db = stored();
    std::vector<Ack> missing;
    for (auto& a : all)
        if (!db.count({hex(a.mac), a.ip})) missing.push_back(a);
    EXPECT_TRUE(missing.empty()) << missing.size() << " acknowledged leases not in pxed_leases, of " << all.size()
                                 << ": " << explain(missing);

    // Both nodes did a share; the ACKs each counted are the ones on the wire.
    size_t from_a = std::count_if(all.begin(), all.end(), [](auto& a) { return a.server == kA; });
    size_t from_b = all.size() - from_a;
    uint64_t sent_a = acks_sent(*a_), sent_b = acks_sent(*b_);
    auto sa = ctl(*a_, "stats"), sb = ctl(*b_, "stats");
    std::cout << "[ measured ] ACKs on the wire " << all.size() << " (node-a " << from_a << ", node-b " << from_b
              << "), distinct clients " << ix.ips_of_mac.size() << ", lost to the other node a="
              << sa["lease_db"]["lost_to_other_servers"] << " b=" << sb["lease_db"]["lost_to_other_servers"] << "\n";
    EXPECT_GE(sent_a, 500u);
    EXPECT_GE(sent_b, 500u);
    // A node counts the ACKs it sends, not the ones replaced by a NAK (those
    // were hundreds). A few sent ones may not reach the bridge: the veth's
    // backlog drops a burst of replies after a commit (seen: 6 of 4,669).
    EXPECT_GE(sent_a, from_a);
    EXPECT_GE(sent_b, from_b);
    EXPECT_LE(sent_a - std::min<uint64_t>(sent_a, from_a), sent_a / 100);
    EXPECT_LE(sent_b - std::min<uint64_t>(sent_b, from_b), sent_b / 100);

    // node-a's table holds node-b's leases (LISTEN/NOTIFY), the MAC included.
    std::map<std::string, std::string> b_leases;  // ip -> mac
    for (auto& a : all)
        if (a.server == kB) b_leases[a.ip] = a.mac;
    size_t unknown = b_leases.size(), failed_lists = 0;
    eventually([&] {
        // Known product bug (not issue 18's): the control socket sends its
        // answer with MSG_DONTWAIT and cuts it at a full socket buffer, so
        // an answer larger than that (here ~2,000 leases, ~350 KB) arrives
        // whole only when pxectl reads fast enough. Counted and tried again.
        auto list = ctl(*a_, "lease list", true);
        if (list.is_null()) failed_lists++;
        unknown = b_leases.size();
        for (auto& l : list)
            if (l.value("state", "") == "bound" && b_leases.count(l.value("ip", "")) &&
                b_leases[l.value("ip", "")] == l.value("mac", ""))
                unknown--;
        return unknown == 0;
    }, 10);
    EXPECT_EQ(unknown, 0u) << "of node-b's " << b_leases.size() << " leases are not in node-a's lease list";
    if (failed_lists) std::cout << "[ note     ] pxectl lease list cut short " << failed_lists << " time(s)\n";
}

// 2. A static lease added on node-a reaches node-b's pinned reservations map
// within 1 s (measured from the start of pxectl, which includes its
// database transaction), and node-b's kernel answers that client.
TEST_F(PgCluster, StaticLeaseOnAIsAnsweredByBsKernel) {
    ASSERT_NO_FATAL_FAILURE(start_nodes("generic"));
    std::string pin = bpf::pin_dir("nb0") + "/reservations";
    // Whether B's map holds `mac`: bpftool -j gives the key's BTF fields
    // under "formatted" (struct pxed_mac_key: mac[6], pad[2]).
    auto in_map = [&](const std::string& mac) {
        auto j = json::parse(sh_out("bpftool -j map dump pinned " + pin + " 2>/dev/null"), nullptr, false);
        if (!j.is_array()) return false;
        for (auto& e : j) {
            auto bytes = e.value("/formatted/key/mac"_json_pointer, json::array());
            std::string key;
            for (auto& b : bytes) key += "0123456789abcdef"[b.get<int>() >> 4], key += "0123456789abcdef"[b.get<int>() & 15];
            if (key == hex(mac)) return true;
        }
        return false;
    };
    std::vector<double> ms;
    for (int i = 1; i <= 5; i++) {
        std::string mac = "52:54:00:aa:00:0" + std::to_string(i), ip = "10.77.0." + std::to_string(50 + i);
        ASSERT_FALSE(in_map(mac));
        auto t0 = Clock::now();
        auto added = ctl(*a_, "lease add " + mac + " " + ip + " --static");
        ASSERT_EQ(added.value("ip", ""), ip) << added.dump();
        // bpftool takes some ms a run: the delay is known to that precision.
        bool seen = false;
        for (int k = 0; k < 500 && !seen; k++) seen = in_map(mac);  // bounded: some seconds at most
        ASSERT_TRUE(seen) << mac << " never reached node-b's map: " << sh_out("bpftool -j map dump pinned " + pin)
                          << "\nnode-b: " << b_->log();
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    std::cout << "[ measured ] reservation on node-a -> node-b's XDP map: median " << ms[2] << " ms, max " << ms[4]
              << " ms (5 runs)\n";
    // The one timing: 1 s, with no margin added.
    EXPECT_LE(ms.back(), 1000.0);
    EXPECT_NE(sh_out("bpftool map dump pinned " + pin).find("\"mac\""), std::string::npos);

    // With both daemons stopped only node-b's kernel can answer.
    auto before = bpf::read_pinned_stats("nb0");
    ASSERT_TRUE(before.ok());
    ASSERT_EQ(kill(a_->pid(), SIGSTOP), 0);
    ASSERT_EQ(kill(b_->pid(), SIGSTOP), 0);
    ASSERT_EQ(c3_->run("ip link set c0 address 52:54:00:aa:00:03"), 0);
    auto got = udhcpc_once(*c3_, "c0");
    kill(a_->pid(), SIGCONT);
    kill(b_->pid(), SIGCONT);
    EXPECT_EQ(got["ip"], "10.77.0.53") << "node-b's kernel did not answer the reservation";
    EXPECT_EQ(got["serverid"], kB);
    auto after = bpf::read_pinned_stats("nb0");
    ASSERT_TRUE(after.ok());
    EXPECT_GT((*after)[PXED_STAT_TX_OFFER], (*before)[PXED_STAT_TX_OFFER]);
    EXPECT_GT((*after)[PXED_STAT_TX_ACK], (*before)[PXED_STAT_TX_ACK]);
}

// 3. The database stopped and started again under load: no acknowledged
// lease lost; while it is away new leases wait (counted) and a stored lease
// is still renewed and given; afterwards new leases are given again.
TEST_F(PgCluster, DatabaseRestartUnderLoadLosesNoAcknowledgedLease) {
    ASSERT_NO_FATAL_FAILURE(start_nodes());
    ASSERT_NO_FATAL_FAILURE(start_capture());
    const std::string stored_mac = "52:54:00:33:00:01", fresh_mac = "52:54:00:33:00:02";
    ASSERT_EQ(c3_->run("ip link set c0 address " + stored_mac), 0);
    // A client that stays (udhcpc without -q): SIGUSR1 makes it RENEW, a
    // REQUEST unicast from its address to its server as at T1; so its
    // script puts the address on c0.
    std::string events = dir_ + "/renewer.events", pidfile = dir_ + "/renewer.pid";
    std::ofstream(dir_ + "/renewer.sh") << "#!/bin/sh\necho \"$1 $ip\" >> " << events
                                        << "\n[ \"$1\" = bound ] && ip addr add $ip/16 dev $interface\nexit 0\n";
    sh("chmod +x " + dir_ + "/renewer.sh");
    background(c3_->exec_prefix() + "timeout 120 busybox udhcpc -i c0 -f -t 5 -T 2 -p " + pidfile + " -s " + dir_ +
               "/renewer.sh > " + dir_ + "/renewer.log 2>&1");
    auto event_ip = [&](const std::string& what) {
        std::istringstream in(sh_out("cat " + events + " 2>/dev/null"));
        std::string line, found;  // "deconfig " has no address
        while (std::getline(in, line))
            if (line.rfind(what + " ", 0) == 0) found = line.substr(what.size() + 1);
        return found;
    };
    ASSERT_TRUE(eventually([&] { return !event_ip("bound").empty(); }, 20)) << sh_out("cat " + dir_ + "/renewer.log");
    std::string held = event_ip("bound");
    // Both nodes know it before the outage (one from its commit, the other from the watcher).
    ASSERT_TRUE(eventually([&] { return ctl(*a_, "lease show " + stored_mac).value("ip", "") == held &&
                                        ctl(*b_, "lease show " + stored_mac).value("ip", "") == held; }, 5));

    std::vector<int> perf = {background(perfdhcp(*c1_, kA, 150, 3000, 25, "52:54:03:00:00:00", "perf_a.txt")),
                             background(perfdhcp(*c2_, kB, 100, 3000, 25, "52:54:04:00:00:00", "perf_b.txt"))};
    std::this_thread::sleep_for(std::chrono::seconds(4));
    uint64_t u_a = unavailable(*a_), u_b = unavailable(*b_);
    pg_.stop();
    EXPECT_TRUE(eventually([&] { return !db_up(*a_) && !db_up(*b_); }, 15)) << "the nodes never saw the database go";
    EXPECT_TRUE(eventually([&] { return unavailable(*a_) > u_a && unavailable(*b_) > u_b; }, 10))
        << "no new lease was refused while the database was away";
    // The stored lease is renewed (RENEW), and given again (DISCOVER, REQUEST).
    sh("kill -USR1 $(cat " + pidfile + ")");
    EXPECT_TRUE(eventually([&] { return event_ip("renew") == held; }, 10)) << sh_out("cat " + dir_ + "/renewer.log");
    sh("kill $(cat " + pidfile + ") && rm " + pidfile);
    c3_->run("ip addr del " + held + "/16 dev c0");
    EXPECT_EQ(udhcpc_once(*c3_, "c0")["ip"], held) << a_->log();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    pg_.start_again();
    EXPECT_TRUE(eventually([&] { return db_up(*a_) && db_up(*b_); }, 30)) << a_->log();
    ASSERT_EQ(c3_->run("ip link set c0 address " + fresh_mac), 0);
    bool fresh_ok = !udhcpc_once(*c3_, "c0")["ip"].empty();
    for (int pid : perf) EXPECT_TRUE(wait_gone(pid, 60)) << "perfdhcp " << pid;
    stop_capture();
    EXPECT_TRUE(fresh_ok) << "no new lease after the database came back; its exchange:\n" << exchange_of(fresh_mac)
                          << "\nnode-a: " << a_->log().substr(a_->log().size() > 3000 ? a_->log().size() - 3000 : 0);

    auto all = acks();
    AckIndex ix(all);
    for (auto& [ip, macs] : ix.macs_of_ip) EXPECT_EQ(macs.size(), 1u) << ip << " acknowledged to " << macs.size() << " MACs";
    auto lost = lost_acks(all, stored());
    EXPECT_TRUE(lost.empty()) << lost.size() << " of " << all.size() << " acknowledged leases lost: " << explain(lost);
    EXPECT_GT(all.size(), 500u) << "too few ACKs to prove anything";
    std::cout << "[ measured ] ACKs " << all.size() << ", refused while down: node-a " << unavailable(*a_) - u_a
              << ", node-b " << unavailable(*b_) - u_b << "\n";
}

// 4. kill -9 of node-a under load: every lease node-a acknowledged is in the
// database, and node-b keeps giving new leases.
TEST_F(PgCluster, KillNineOfOneNodeLosesNothingAndTheOtherServes) {
    ASSERT_NO_FATAL_FAILURE(start_nodes());
    ASSERT_NO_FATAL_FAILURE(start_capture());
    std::vector<int> perf = {background(perfdhcp(*c1_, kA, 400, 3000, 8, "52:54:05:00:00:00", "perf_a.txt")),
                             background(perfdhcp(*c2_, kB, 150, 3000, 12, "52:54:06:00:00:00", "perf_b.txt"))};
    std::this_thread::sleep_for(std::chrono::milliseconds(3000));
    ASSERT_EQ(kill(a_->pid(), SIGKILL), 0);
    a_log_ = a_->log();
    a_.reset();  // reaps it
    uint64_t b_at_kill = acks_sent(*b_);
    for (int pid : perf) EXPECT_TRUE(wait_gone(pid, 60)) << "perfdhcp " << pid;
    EXPECT_GT(acks_sent(*b_), b_at_kill) << "node-b gave no lease after node-a died";
    ASSERT_EQ(c3_->run("ip link set c0 address 52:54:00:44:00:01"), 0);
    auto fresh = udhcpc_once(*c3_, "c0");
    EXPECT_FALSE(fresh["ip"].empty());
    EXPECT_EQ(fresh["serverid"], kB);
    stop_capture();

    auto all = acks();
    AckIndex ix(all);
    for (auto& [ip, macs] : ix.macs_of_ip) EXPECT_EQ(macs.size(), 1u) << ip << " acknowledged to " << macs.size() << " MACs";
    auto db = stored();
    std::vector<Ack> from_a, missing;
    for (auto& a : all)
        if (a.server == kA) from_a.push_back(a);
    for (auto& a : from_a)
        if (!db.count({hex(a.mac), a.ip})) missing.push_back(a);
    EXPECT_GT(from_a.size(), 300u) << "too few of node-a's ACKs to prove anything";
    EXPECT_TRUE(missing.empty()) << missing.size() << " of node-a's " << from_a.size() << " ACKs not stored: " << explain(missing);
    EXPECT_TRUE(lost_acks(all, db).empty());
    std::cout << "[ measured ] node-a ACKs before kill -9: " << from_a.size() << ", node-b ACKs " << all.size() - from_a.size()
              << "\n";
}
