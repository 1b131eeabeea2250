// pxed serves real DHCP clients (busybox udhcpc) across a veth between two
// namespaces: a dynamic lease and a reservation, with the PXE options.
#include <gtest/gtest.h>

#include "support/lan.h"
#include "support/toml_fixture.h"

using namespace pxed::test;

namespace {

const std::string kConfig = toml::netns_server("s0") +
                            toml::lan_subnet("192.0.2.101",
                                             "dns = [\"192.0.2.53\", \"192.0.2.54\"]\n"
                                             "domain = \"lab.test\"\n"
                                             "lease-time = 600\n"
                                             "boot = { bios = \"pxelinux.0\", uefi-x64 = \"bootnetx64.efi\" }\n") +
                            toml::node10("lease-time = \"infinite\"\n");

class DhcpNetns : public LanTest {
protected:
    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        ASSERT_NO_FATAL_FAILURE(start_lan());
        ASSERT_NO_FATAL_FAILURE(start_pxed(kConfig));
    }
    void set_mac(const std::string& mac) { ASSERT_EQ(cli_->run("ip link set c0 address " + mac), 0); }
};

}  // namespace

TEST_F(DhcpNetns, UdhcpcGetsDynamicLeaseWithPxeOptions) {
    set_mac("52:54:00:00:01:01");
    auto v = udhcpc_once(*cli_, "c0");
    ASSERT_EQ(v["ip"], "192.0.2.100") << pxed_->log();
    EXPECT_EQ(v["subnet"], "255.255.255.0");
    EXPECT_EQ(v["router"], "192.0.2.1");
    EXPECT_EQ(v["dns"], "192.0.2.53 192.0.2.54");
    EXPECT_EQ(v["domain"], "lab.test");
    EXPECT_EQ(v["lease"], "600");
    EXPECT_EQ(v["serverid"], "192.0.2.1");
    EXPECT_EQ(v["siaddr"], "192.0.2.1");
    EXPECT_EQ(v["boot_file"], "pxelinux.0");

    // The same client asks again and gets its address back.
    auto again = udhcpc_once(*cli_, "c0");
    EXPECT_EQ(again["ip"], "192.0.2.100");
}

TEST_F(DhcpNetns, UdhcpcGetsItsReservation) {
    set_mac("52:54:00:00:00:0a");
    auto v = udhcpc_once(*cli_, "c0");
    ASSERT_EQ(v["ip"], "192.0.2.10") << pxed_->log();
    EXPECT_EQ(v["hostname"], "node10");
    EXPECT_EQ(v["lease"], "4294967295");  // infinite
}

TEST_F(DhcpNetns, ExhaustedPoolGivesNoOfferAndAWarning) {
    for (const char* mac : {"52:54:00:00:02:01", "52:54:00:00:02:02"}) {
        set_mac(mac);
        EXPECT_FALSE(udhcpc_once(*cli_, "c0")["ip"].empty()) << mac;
    }
    set_mac("52:54:00:00:02:03");
    EXPECT_TRUE(udhcpc_once(*cli_, "c0", 8)["ip"].empty());
    EXPECT_NE(pxed_->log().find("exhausted"), std::string::npos);
}

TEST_F(DhcpNetns, BiosAndUefiPxeDiscoversGetTheirOwnBootFile) {
    set_mac("52:54:00:00:03:01");
    auto bios = udhcpc_once(*cli_, "c0", 15, "-V PXEClient:Arch:00000:UNDI:002001 -x 0x5d:0000");
    EXPECT_EQ(bios["boot_file"], "pxelinux.0") << pxed_->log();
    set_mac("52:54:00:00:03:02");
    auto uefi = udhcpc_once(*cli_, "c0", 15, "-V PXEClient:Arch:00007:UNDI:003016 -x 0x5d:0007");
    EXPECT_EQ(uefi["boot_file"], "bootnetx64.efi") << pxed_->log();
    EXPECT_EQ(uefi["siaddr"], "192.0.2.1");
}
