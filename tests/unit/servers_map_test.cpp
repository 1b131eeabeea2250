// The servers map's entries as the daemon shows them (bpf/servers_map.h):
// a server's bytes become printable text cut to what the map keeps, with
// the lengths as sent, and the boot file comes from option 67 or the file
// field. No kernel needed: the entries are built here.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

#include "bpf/servers_map.h"

using namespace pxed;

namespace {

pxed_server_key key() {
    pxed_server_key k{};
    k.server_id_be = htonl(0xc0000202);  // 192.0.2.2
    const uint8_t mac[6] = {2, 0, 0, 0, 0, 2};
    std::memcpy(k.mac, mac, 6);
    return k;
}

}  // namespace

TEST(ServersMap, HostileBytesBecomePrintableTextCutWithTheirLength) {
    pxed_server_seen v{};
    v.flags = PXED_SRV_F_HAS_60 | PXED_SRV_F_HAS_67 | PXED_SRV_F_HAS_54;
    v.len60 = 200;
    std::memset(v.opt60, 'A', sizeof v.opt60);
    v.opt60[3] = '\n';
    v.opt60[4] = 0x80;
    v.len67 = 11;
    std::memcpy(v.boot_file, "a\"b\\c.efi\0\0", 11);  // trailing zeros, as some servers send
    auto s = bpf::to_seen("s0", key(), v);
    EXPECT_EQ(s.server, Ipv4(192, 0, 2, 2));
    EXPECT_TRUE(s.by_option54);
    EXPECT_EQ(s.mac.str(), "02:00:00:00:00:02");
    EXPECT_EQ(s.vendor_class.size(), size_t(PXED_SRV_OPT60_LEN));
    EXPECT_EQ(s.vendor_class.substr(0, 6), "AAA??A");
    EXPECT_EQ(s.vendor_class_len, 200u);
    EXPECT_EQ(s.boot_file, "a\"b\\c.efi");
    EXPECT_EQ(s.boot_file_from, "option 67");
    EXPECT_FALSE(s.has_tftp_server);
    EXPECT_EQ(s.vlan_text(), "untagged");
}

TEST(ServersMap, TheFileFieldEndsAtItsFirstZero) {
    pxed_server_seen v{};
    v.flags = PXED_SRV_F_FILE_FIELD;
    std::memcpy(v.boot_file, "pxelinux.0\0junk", 15);
    auto s = bpf::to_seen("s0", key(), v);
    EXPECT_EQ(s.boot_file, "pxelinux.0");
    EXPECT_EQ(s.boot_file_from, "file field");
    EXPECT_FALSE(s.by_option54);
    // A whole field without a zero: cut to what the map keeps.
    std::memset(v.boot_file, 'x', sizeof v.boot_file);
    EXPECT_EQ(bpf::to_seen("s0", key(), v).boot_file.size(), size_t(PXED_SRV_FILE_LEN));
}

TEST(ServersMap, VlansAreNamedOuterDotInner) {
    auto k = key();
    k.vlan_outer = 100;
    EXPECT_EQ(bpf::to_seen("s0", k, pxed_server_seen{}).vlan_text(), "vlan 100");
    k.vlan_inner = 20;
    auto s = bpf::to_seen("s0", k, pxed_server_seen{});
    EXPECT_EQ(s.vlan_text(), "vlan 100.20");
    EXPECT_NE(s.id(), bpf::to_seen("s1", k, pxed_server_seen{}).id());
}
