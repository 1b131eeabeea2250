// The rtnetlink link messages pxed reads its VLAN devices from: built here
// as the kernel sends them (struct nlmsghdr, struct ifinfomsg, attributes).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstring>
#include <string>
#include <vector>

#include "daemon/vlan_devices.h"

using namespace pxed::daemon;

namespace {

struct Msg {
    std::vector<uint8_t> b;
    // Appends an attribute; returns its offset so a nest can be closed.
    size_t attr(uint16_t type, const void* data, size_t len) {
        size_t at = b.size();
        rtattr a{};
        a.rta_len = uint16_t(RTA_LENGTH(len));
        a.rta_type = type;
        b.resize(at + RTA_SPACE(len));
        std::memcpy(b.data() + at, &a, sizeof a);
        if (len) std::memcpy(b.data() + at + RTA_LENGTH(0), data, len);
        return at;
    }
    size_t nest(uint16_t type) { return attr(type, nullptr, 0); }
    void end(size_t at) {
        uint16_t len = uint16_t(b.size() - at);
        std::memcpy(b.data() + at, &len, sizeof len);
    }
    std::vector<uint8_t> done() {
        uint32_t len = uint32_t(b.size());
        std::memcpy(b.data(), &len, sizeof len);
        return b;
    }
};

Msg link(int ifindex, const std::string& name) {
    Msg m;
    m.b.resize(NLMSG_LENGTH(sizeof(ifinfomsg)));
    nlmsghdr h{};
    h.nlmsg_type = RTM_NEWLINK;
    std::memcpy(m.b.data(), &h, sizeof h);
    ifinfomsg i{};
    i.ifi_index = ifindex;
    std::memcpy(m.b.data() + NLMSG_LENGTH(0), &i, sizeof i);
    m.attr(IFLA_IFNAME, name.c_str(), name.size() + 1);
    return m;
}

std::vector<uint8_t> vlan_link(int ifindex, const std::string& name, int lower, uint16_t vid, uint16_t proto) {
    Msg m = link(ifindex, name);
    int32_t l = lower;
    m.attr(IFLA_LINK, &l, sizeof l);
    size_t info = m.nest(IFLA_LINKINFO);
    m.attr(IFLA_INFO_KIND, "vlan", 5);
    size_t data = m.nest(IFLA_INFO_DATA);
    m.attr(IFLA_VLAN_ID, &vid, sizeof vid);
    uint16_t p = htons(proto);
    m.attr(IFLA_VLAN_PROTOCOL, &p, sizeof p);
    m.end(data);
    m.end(info);
    return m.done();
}

}  // namespace

TEST(VlanDevices, ReadsIdProtocolAndLowerDevice) {
    auto msg = vlan_link(9, "trunk0.300", 4, 300, 0x88a8);
    auto d = parse_vlan_link(msg.data(), msg.size());
    ASSERT_TRUE(d);
    EXPECT_EQ(d->name, "trunk0.300");
    EXPECT_EQ(d->ifindex, 9);
    EXPECT_EQ(d->lower, 4);
    EXPECT_EQ(d->vid, 300);
    EXPECT_EQ(d->proto, 0x88a8);
}

TEST(VlanDevices, OtherLinksAndShortMessagesAreNoVlan) {
    auto plain = link(4, "trunk0").done();
    EXPECT_FALSE(parse_vlan_link(plain.data(), plain.size()));
    auto msg = vlan_link(9, "trunk0.100", 4, 100, 0x8100);
    for (size_t cut = 0; cut < msg.size(); cut++) {
        auto copy = std::vector<uint8_t>(msg.begin(), msg.begin() + long(cut));
        // The header's length still says the whole message: refused.
        EXPECT_FALSE(parse_vlan_link(copy.data(), copy.size())) << "cut at " << cut;
    }
    // An attribute that claims more than the message holds.
    auto bad = msg;
    bad[NLMSG_LENGTH(sizeof(ifinfomsg))] = 0xff;
    bad[NLMSG_LENGTH(sizeof(ifinfomsg)) + 1] = 0x7f;
    EXPECT_FALSE(parse_vlan_link(bad.data(), bad.size()));
}

TEST(VlanDevices, FindsSingleAndStackedDevices) {
    std::vector<VlanDevice> all = {{"trunk0.100", 10, 4, 100, 0x8100},
                                   {"trunk0.300", 11, 4, 300, 0x88a8},
                                   {"trunk0.300.30", 12, 11, 30, 0x8100},
                                   {"eth1.100", 13, 5, 100, 0x8100}};
    EXPECT_EQ(find_vlan_device(all, 4, 100, 0)->name, "trunk0.100");
    EXPECT_EQ(find_vlan_device(all, 5, 100, 0)->name, "eth1.100");
    EXPECT_EQ(find_vlan_device(all, 4, 300, 30)->name, "trunk0.300.30");
    EXPECT_FALSE(find_vlan_device(all, 4, 300, 31));
    EXPECT_FALSE(find_vlan_device(all, 4, 200, 0));
}
