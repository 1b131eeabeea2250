// Other DHCP servers seen by the XDP program (BPF_PROG_TEST_RUN): every
// OFFER, ACK and NAK it receives is noted in the servers map under its
// server id (option 54, else the IP source), MAC and VLAN, with what it
// sent; the frame is still passed with its counter. Hostile replies are
// passed and noted only when their options are well formed; requests are
// never noted.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <vector>

#include "bpf/servers_map.h"
#include "bpf/xdp_program.h"
#include "dhcp/frame.h"
#include "dhcp/packet.h"
#include "support/bpf_run.h"

using namespace pxed;
using namespace pxed::dhcp;
using pxed::test::Frame;

namespace {

const Mac kOtherMac = *Mac::parse("02:00:00:00:00:02");
const Ipv4 kOtherIp(192, 0, 2, 2);
const Mac kClient = *Mac::parse("52:54:00:00:00:31");
constexpr size_t kOpts = 14 + 20 + 8 + 240;  // the first option's code byte

Packet reply(MessageType t, bool with_server_id = true) {
    Packet p;
    p.op = 2;
    p.xid = 0x1234;
    p.flags = kFlagBroadcast;
    p.set_mac(kClient);
    p.yiaddr = Ipv4(192, 0, 2, 120);
    p.siaddr = kOtherIp;
    p.options.set_u8(opt::MessageType, uint8_t(t));
    if (with_server_id) p.options.set_ip(opt::ServerId, kOtherIp);
    return p;
}

Frame frame_of(const Packet& p, uint16_t dst_port = 68, Ipv4 src = kOtherIp) {
    UdpEndpoints ep;
    ep.src_mac = kOtherMac;
    ep.dst_mac = *Mac::parse("ff:ff:ff:ff:ff:ff");
    ep.src_ip = src;
    ep.dst_ip = dst_port == 68 ? Ipv4(0xffffffff) : Ipv4(192, 0, 2, 1);
    ep.src_port = 67;
    ep.dst_port = dst_port;
    return build_udp_frame(ep, serialize(p));
}

// A PXE server's reply: option 60 PXEClient, 43 with discovery control, 66, 67.
Packet pxe_offer() {
    Packet p = reply(MessageType::Offer);
    p.options.set_str(opt::VendorClass, "PXEClient");
    const uint8_t o43[] = {6, 1, 8, 255};
    p.options.set(opt::VendorSpecific, o43);
    p.options.set_str(opt::TftpServerName, "192.0.2.2");
    p.options.set_str(opt::BootfileName, "pxelinux.0");
    return p;
}

class XdpServers : public pxed::test::XdpTest {
protected:
    std::vector<bpf::SeenServer> seen() {
        std::vector<bpf::SeenServer> out;
        auto r = bpf::read_servers(prog_->servers_fd(), "test0", [&](bpf::SeenServer s) { out.push_back(std::move(s)); });
        EXPECT_TRUE(r.ok()) << r.error();
        return out;
    }
    // Passed, with `reason` counted once more; noted (rx_server_reply) or not.
    void expect_passed(const Frame& f, pxed_stat reason, bool noted) {
        uint64_t n = stat(PXED_STAT_RX_SERVER_REPLY);
        expect_pass(f, reason);
        EXPECT_EQ(stat(PXED_STAT_RX_SERVER_REPLY), n + (noted ? 1 : 0)) << stats_line();
    }
};

}  // namespace

TEST_F(XdpServers, AnOfferAndAnAckAreNotedWithWhatTheServerSent) {
    expect_passed(frame_of(pxe_offer()), PXED_STAT_PASS_NOT_DHCP, true);
    auto ack = pxe_offer();
    ack.options.set_u8(opt::MessageType, uint8_t(MessageType::Ack));
    ack.yiaddr = Ipv4(192, 0, 2, 121);
    expect_passed(frame_of(ack), PXED_STAT_PASS_NOT_DHCP, true);

    auto s = seen();
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].server, kOtherIp);
    EXPECT_TRUE(s[0].by_option54);
    EXPECT_EQ(s[0].mac, kOtherMac);
    EXPECT_EQ(s[0].vlan_text(), "untagged");
    EXPECT_EQ(s[0].offers, 1u);
    EXPECT_EQ(s[0].acks, 1u);
    EXPECT_EQ(s[0].naks, 0u);
    EXPECT_EQ(s[0].last_type, uint8_t(MessageType::Ack));
    EXPECT_EQ(s[0].yiaddr, Ipv4(192, 0, 2, 121));
    EXPECT_EQ(s[0].siaddr, kOtherIp);
    EXPECT_FALSE(s[0].relayed);
    EXPECT_TRUE(s[0].has_vendor_class);
    EXPECT_EQ(s[0].vendor_class, "PXEClient");
    EXPECT_EQ(s[0].vendor_class_len, 9u);
    EXPECT_TRUE(s[0].has_opt43);
    EXPECT_TRUE(s[0].opt43_pxe);
    EXPECT_EQ(s[0].opt43_len, 4u);
    EXPECT_EQ(s[0].tftp_server, "192.0.2.2");
    EXPECT_EQ(s[0].boot_file, "pxelinux.0");
    EXPECT_EQ(s[0].boot_file_from, "option 67");
    EXPECT_LE(s[0].first_ns, s[0].last_ns);
    EXPECT_NE(s[0].first_ns, 0u);
}

TEST_F(XdpServers, ANakIsCounted) {
    expect_passed(frame_of(reply(MessageType::Nak)), PXED_STAT_PASS_NOT_DHCP, true);
    auto s = seen();
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].naks, 1u);
    EXPECT_EQ(s[0].offers + s[0].acks, 0u);
    EXPECT_EQ(s[0].last_type, uint8_t(MessageType::Nak));
    EXPECT_FALSE(s[0].has_vendor_class);
    EXPECT_FALSE(s[0].has_opt43);
    EXPECT_EQ(s[0].boot_file_from, "");
}

// Without option 54 the IP source names the server; without option 67 the
// BOOTP file field is the boot file; option 43 without PXE's sub-options.
TEST_F(XdpServers, AReplyWithoutOption54IsKeyedByItsIpSource) {
    auto p = reply(MessageType::Offer, false);
    p.set_file("boot/grubx64.efi");
    const uint8_t o43[] = {1, 4, 1, 2, 3, 4, 255};
    p.options.set(opt::VendorSpecific, o43);
    expect_passed(frame_of(p, 68, Ipv4(192, 0, 2, 9)), PXED_STAT_PASS_NOT_DHCP, true);
    auto s = seen();
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].server, Ipv4(192, 0, 2, 9));
    EXPECT_FALSE(s[0].by_option54);
    EXPECT_EQ(s[0].boot_file, "boot/grubx64.efi");
    EXPECT_EQ(s[0].boot_file_from, "file field");
    EXPECT_TRUE(s[0].has_opt43);
    EXPECT_FALSE(s[0].opt43_pxe);
    EXPECT_EQ(s[0].opt43_len, 7u);
}

// A reply to a relay (port 67): not a BOOTREQUEST, so passed as malformed
// by the request path, and noted as relayed.
TEST_F(XdpServers, ARelayedReplyIsNoted) {
    auto p = pxe_offer();
    p.giaddr = Ipv4(192, 0, 2, 1);
    expect_passed(frame_of(p, 67), PXED_STAT_PASS_MALFORMED, true);
    auto s = seen();
    ASSERT_EQ(s.size(), 1u);
    EXPECT_TRUE(s[0].relayed);
    EXPECT_EQ(s[0].offers, 1u);
}

// Two servers, and one server from two MACs: three entries.
TEST_F(XdpServers, EachServerIdAndMacIsItsOwnEntry) {
    run(frame_of(reply(MessageType::Offer)));
    auto p = reply(MessageType::Offer);
    p.options.set_ip(opt::ServerId, Ipv4(192, 0, 2, 3));
    run(frame_of(p));
    auto f = frame_of(reply(MessageType::Offer));
    f[11] = 0x99;  // another Ethernet source
    run(f);
    EXPECT_EQ(seen().size(), 3u);
}

TEST_F(XdpServers, AHugeOption60IsCutToWhatTheMapKeeps) {
    auto p = reply(MessageType::Offer);
    p.options.set_str(opt::VendorClass, std::string(255, 'A'));
    expect_passed(frame_of(p), PXED_STAT_PASS_NOT_DHCP, true);
    auto s = seen();
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].vendor_class_len, 255u);
    EXPECT_EQ(s[0].vendor_class, std::string(PXED_SRV_OPT60_LEN, 'A'));
}

// Frames that are not (whole) replies are passed as before and not noted;
// the verifier has proved that none is read out of bounds.
TEST_F(XdpServers, HostileRepliesArePassedAndNotNoted) {
    auto good = frame_of(pxe_offer());
    ASSERT_EQ(good[kOpts], opt::MessageType);
    // Cut inside the options (the IP and UDP lengths still say more).
    expect_passed(Frame(good.begin(), good.begin() + kOpts + 5), PXED_STAT_PASS_NOT_DHCP, false);
    // Cut before the magic cookie.
    expect_passed(Frame(good.begin(), good.begin() + kOpts - 10), PXED_STAT_PASS_NOT_DHCP, false);
    // Option 53's length runs past the end of the payload.
    auto past = good;
    past[kOpts + 1] = 250;
    expect_passed(past, PXED_STAT_PASS_NOT_DHCP, false);
    // Option 53 of two bytes, and a message type that is not a reply's.
    auto two = good;
    two[kOpts + 1] = 2;
    expect_passed(two, PXED_STAT_PASS_NOT_DHCP, false);
    auto discover = good;
    discover[kOpts + 2] = 1;
    expect_passed(discover, PXED_STAT_PASS_NOT_DHCP, false);
    // No end option: the options run into the padding's zeros and end with the frame.
    auto no_end = frame_of(reply(MessageType::Offer));
    for (size_t i = kOpts; i < no_end.size(); i++)
        if (no_end[i] == 255) no_end[i] = 0;
    expect_passed(no_end, PXED_STAT_PASS_NOT_DHCP, false);
    // The UDP length says more than the IP length holds.
    auto udp_long = good;
    udp_long[14 + 20 + 4] = 0x0f;
    expect_passed(udp_long, PXED_STAT_PASS_NOT_DHCP, false);
    // Plain BOOTP: no option 53.
    Packet bootp = reply(MessageType::Offer);
    bootp.options = {};
    expect_passed(frame_of(bootp), PXED_STAT_PASS_NOT_DHCP, false);
    EXPECT_TRUE(seen().empty());
}

TEST_F(XdpServers, AClientsRequestIsNotNoted) {
    Packet d;
    d.xid = 7;
    d.set_mac(kClient);
    d.options.set_u8(opt::MessageType, uint8_t(MessageType::Discover));
    UdpEndpoints ep;
    ep.src_mac = kClient;
    ep.dst_mac = *Mac::parse("ff:ff:ff:ff:ff:ff");
    ep.dst_ip = Ipv4(0xffffffff);
    ep.src_port = 68;
    ep.dst_port = 67;
    expect_passed(build_udp_frame(ep, serialize(d)), PXED_STAT_PASS_NOT_RESERVED, false);
    // A request from port 67 to 67 (a relay forwarding it) is no reply either.
    ep.src_port = 67;
    d.giaddr = Ipv4(192, 0, 2, 1);
    d.hops = 1;
    run(build_udp_frame(ep, serialize(d)));
    EXPECT_TRUE(seen().empty());
    EXPECT_EQ(stat(PXED_STAT_RX_SERVER_REPLY), 0u);
}
