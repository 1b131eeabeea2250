// pxed runs a dnsmasq.conf as it is: serves udhcpc from it, and --check
// refuses the tutorial's reservation of the server's own address.
#include <gtest/gtest.h>

#include <fstream>

#include "support/netns.h"

using namespace pxed::test;

namespace {
std::string pxed_bin() { return std::string(PXED_BINARY_DIR) + "/userspace/pxed"; }
}  // namespace

TEST(DnsmasqConf, ServesUdhcpcAndChecksTheServerAddress) {
    if (!require_root()) return;
    Netns srv("dsrv"), cli("dcli");
    veth_pair(&srv, "br0", &cli, "c0");
    ASSERT_EQ(srv.run("ip addr add 192.0.2.1/24 dev br0 && ip link set br0 up"), 0);
    ASSERT_EQ(cli.run("ip link set c0 address 52:54:00:00:07:01 && ip link set c0 up"), 0);

    char t[] = "/tmp/pxeddm.XXXXXX";
    std::string dir = mkdtemp(t);
    // The tutorial's reservation hands out the address of br0 itself.
    std::ofstream(dir + "/bad.conf") << "interface=br0\ndhcp-range=192.0.2.100,192.0.2.200,12h\n"
                                        "dhcp-host=9e:42:87:f7:29:92,192.0.2.1,pc,infinite\n";
    auto out = srv.out(pxed_bin() + " --dnsmasq-conf " + dir + "/bad.conf --check 2>&1; echo rc=$?");
    EXPECT_NE(out.find("reservation 9e:42:87:f7:29:92 -> 192.0.2.1 is the address of interface br0 itself"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("rc=1"), std::string::npos) << out;
    expect_no_sanitizer_report(out, "pxed --check of bad.conf");

    std::string conf = "interface=br0\nbind-interfaces\ndhcp-range=192.0.2.100,192.0.2.200,12h\n"
                       "dhcp-host=52:54:00:00:07:01,192.0.2.50,pc,infinite\ndhcp-option=3,192.0.2.1\n"
                       "dhcp-boot=pxelinux.0\nenable-tftp\ntftp-root=/srv/tftp\ndhcp-leasefile=" + dir + "/dnsmasq.leases\n";
    std::ofstream(dir + "/good.conf") << conf;
    auto chk = srv.out(pxed_bin() + " --dnsmasq-conf " + dir + "/good.conf --check 2>&1");
    EXPECT_NE(chk.find("ok (1 interfaces, 1 subnets, 1 reservations)"), std::string::npos) << chk;
    expect_no_sanitizer_report(chk, "pxed --check of good.conf");

    srv.run("nohup " + pxed_bin() + " --dnsmasq-conf " + dir + "/good.conf > " + dir + "/pxed.log 2>&1 & echo $! > " +
            dir + "/pid");
    for (int i = 0; i < 100 && sh_out("cat " + dir + "/pxed.log").find(" ready") == std::string::npos; i++) usleep(50000);
    auto v = udhcpc_once(cli, "c0");
    EXPECT_EQ(v["ip"], "192.0.2.50") << sh_out("cat " + dir + "/pxed.log");
    EXPECT_EQ(v["hostname"], "pc");
    EXPECT_EQ(v["boot_file"], "pxelinux.0");
    EXPECT_EQ(v["router"], "192.0.2.1");
    // Wait for pxed to exit (a sanitized pxed checks for leaks on the way out).
    sh("p=$(cat " + dir + "/pid); kill $p; for i in $(seq 100); do kill -0 $p 2>/dev/null || break; sleep 0.1; done");
    expect_no_sanitizer_report(sh_out("cat " + dir + "/pxed.log"), dir + "/pxed.log");
    EXPECT_NE(sh_out("cat " + dir + "/pxed.log").find("bind-interfaces: ignored"), std::string::npos);
    EXPECT_EQ(sh("test -s " + dir + "/dnsmasq.leases.pxed.db"), 0);
    sh("rm -rf " + dir);
}
