// Issue 14, items 3, 5, 6 and 9 on the wire: pxed answers a client of a
// relayed subnet that talks to it through a router without the relay
// (RENEW, NAK, INFORM), echoes option 82 without a giaddr, accepts options
// without END; and a boot chain of real clients with and without a client
// id keeps one address. Real sockets in network namespaces.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "dhcp/packet.h"
#include "support/lan.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::dhcp;
using namespace pxed::test;

namespace {

// srv (s0 192.0.2.1/24) -- r0 [rtr: forwards, no relay] r1 -- c0 (198.51.100.10, .11 /24)
// pxed serves 192.0.2.0/24 on s0 and 198.51.100.0/24 (a relayed subnet);
// the client's MAC has a reservation there.
const std::string kRoutedConfig = toml::netns_server("s0", "authoritative = true\nxdp = \"off\"\n") +
                                  toml::lan_subnet("192.0.2.110", "lease-time = 600\n") +
                                  toml::relayed_subnet("198.51.100.100", "198.51.100.110", "router = \"198.51.100.1\"\n") +
                                  toml::reservation("52:54:00:00:03:0a", "198.51.100.10");

const Mac kClient = *Mac::parse("52:54:00:00:03:0a");
const uint8_t kAgent[] = {1, 6, 's', 'w', '1', '/', '1', '7'};

// Three namespaces (a router between server and client), so it adds rtr_
// and lays its own links, but starts and stops pxed as every LanTest does.
class RoutedClient : public LanTest {
protected:
    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        srv_ = std::make_unique<Netns>("srv");
        rtr_ = std::make_unique<Netns>("rtr");
        cli_ = std::make_unique<Netns>("cli");
        veth_pair(srv_.get(), "s0", rtr_.get(), "r0");
        veth_pair(rtr_.get(), "r1", cli_.get(), "c0");
        for (auto [ns, cmd] : std::initializer_list<std::pair<Netns*, const char*>>{
                 {srv_.get(), "ip addr add 192.0.2.1/24 dev s0 && ip link set s0 up && "
                              "ip route add 198.51.100.0/24 via 192.0.2.2"},
                 {rtr_.get(), "ip addr add 192.0.2.2/24 dev r0 && ip addr add 198.51.100.1/24 dev r1 && "
                              "ip link set r0 up && ip link set r1 up && sysctl -qw net.ipv4.ip_forward=1"},
                 {cli_.get(), "ip addr add 198.51.100.10/24 dev c0 && ip addr add 198.51.100.11/24 dev c0 && "
                              "ip link set c0 up && ip route add default via 198.51.100.1"}}) {
            ASSERT_EQ(ns->run(cmd), 0) << cmd;
        }
        ASSERT_EQ(cli_->run("ping -c1 -W2 192.0.2.1 >/dev/null"), 0) << "no route between the namespaces";
        ASSERT_NO_FATAL_FAILURE(start_pxed(kRoutedConfig));
    }

    // Sends `bytes` from ciaddr:68 in the client namespace to pxed's
    // 192.0.2.1:67 (unicast, through the router) up to three times, and
    // returns the first DHCP reply that reaches ciaddr:68; nullopt if none.
    std::optional<Packet> exchange(Ipv4 ciaddr, const std::vector<uint8_t>& bytes) {
        std::string out = pxed_->dir() + "/reply.bin";
        std::string path = "/run/netns/" + cli_->name();
        pid_t pid = fork();
        if (pid == 0) {
            int nsfd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0) _exit(2);
            int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            int one = 1;
            setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            sockaddr_in me{};
            me.sin_family = AF_INET;
            me.sin_port = htons(68);
            me.sin_addr.s_addr = htonl(ciaddr.v);
            if (bind(s, reinterpret_cast<sockaddr*>(&me), sizeof me) != 0) _exit(3);
            sockaddr_in srv{};
            srv.sin_family = AF_INET;
            srv.sin_port = htons(67);
            srv.sin_addr.s_addr = htonl(Ipv4(192, 0, 2, 1).v);
            for (int attempt = 0; attempt < 3; attempt++) {
                sendto(s, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&srv), sizeof srv);
                pollfd p{s, POLLIN, 0};
                if (poll(&p, 1, 2000) == 1) {
                    uint8_t buf[1500];
                    ssize_t n = recv(s, buf, sizeof buf, 0);
                    if (n <= 0) _exit(4);
                    std::ofstream(out, std::ios::binary).write(reinterpret_cast<char*>(buf), n);
                    _exit(0);
                }
            }
            _exit(1);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
        std::ifstream in(out, std::ios::binary);
        std::vector<uint8_t> reply((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto p = parse(reply);
        if (!p) return std::nullopt;
        return *p;
    }

    Packet request(MessageType t, const Mac& mac, Ipv4 ciaddr) {
        Packet p;
        p.xid = 0x1400 + uint32_t(t);
        p.set_mac(mac);
        p.ciaddr = ciaddr;
        p.options.set_u8(opt::MessageType, uint8_t(t));
        return p;
    }

    std::unique_ptr<Netns> rtr_;  // srv_, cli_ and pxed_ are LanTest's
};

}  // namespace

// Item 3 (+ item 6): the RENEW is judged against 198.51.100.0/24 (its
// ciaddr), ACKed, and the ACK is routed back to ciaddr; the option 82 that
// a snooping switch added (giaddr 0) comes back in it.
TEST_F(RoutedClient, RenewThroughARouterIsAckedAtCiaddr) {
    auto renew = request(MessageType::Request, kClient, Ipv4(198, 51, 100, 10));
    renew.options.set(opt::RelayAgentInfo, kAgent);
    auto r = exchange(renew.ciaddr, serialize(renew));
    ASSERT_TRUE(r) << "no reply reached 198.51.100.10\n" << pxed_->log();
    EXPECT_EQ(r->message_type(), MessageType::Ack) << pxed_->log();
    EXPECT_EQ(r->yiaddr, Ipv4(198, 51, 100, 10));
    EXPECT_EQ(r->options.get_u32(opt::LeaseTime), 300u);
    EXPECT_EQ(r->options.get_ip(opt::Router), Ipv4(198, 51, 100, 1));
    ASSERT_TRUE(r->options.has(opt::RelayAgentInfo)) << "option 82 not echoed";
    EXPECT_EQ(r->options.find(opt::RelayAgentInfo)->data, std::vector<uint8_t>(std::begin(kAgent), std::end(kAgent)));
}

// Item 3 (+ item 6): a NAK to a routed client is unicast to its ciaddr
// (a broadcast on s0 would never reach it), with option 82.
TEST_F(RoutedClient, NakThroughARouterReachesTheClient) {
    auto renew = request(MessageType::Request, *Mac::parse("52:54:00:00:03:0b"), Ipv4(198, 51, 100, 11));
    renew.options.set(opt::RelayAgentInfo, kAgent);
    auto r = exchange(renew.ciaddr, serialize(renew));
    ASSERT_TRUE(r) << "no reply reached 198.51.100.11\n" << pxed_->log();
    EXPECT_EQ(r->message_type(), MessageType::Nak);
    EXPECT_TRUE(r->options.has(opt::RelayAgentInfo)) << "option 82 not echoed in the NAK";
}

// Item 3 (+ item 9): an INFORM from the routed client gets its own
// subnet's options, also when its options field has no END option.
TEST_F(RoutedClient, InformWithoutEndGetsItsSubnetsOptions) {
    auto inf = request(MessageType::Inform, kClient, Ipv4(198, 51, 100, 10));
    const uint8_t prl[] = {1, 3, 28};
    inf.options.set(opt::ParamRequestList, prl);
    auto bytes = serialize(inf);
    size_t i = kMinMessageLen;
    while (bytes[i] != opt::End) i += 2 + bytes[i + 1];
    bytes.resize(i);  // the options run to the end of the datagram, no END
    auto r = exchange(inf.ciaddr, bytes);
    ASSERT_TRUE(r) << "no reply reached 198.51.100.10\n" << pxed_->log();
    EXPECT_EQ(r->message_type(), MessageType::Ack);
    EXPECT_EQ(r->options.get_ip(opt::Router), Ipv4(198, 51, 100, 1));
    EXPECT_EQ(r->options.get_ip(opt::BroadcastAddr), Ipv4(198, 51, 100, 255));
}

// Item 9: a request whose htype/hlen is not Ethernet (1/6) is dropped by
// the daemon, as the XDP program passes it, and counted.
TEST_F(RoutedClient, NonEthernetHardwareIsDroppedAndCounted) {
    auto inf = request(MessageType::Inform, kClient, Ipv4(198, 51, 100, 10));
    inf.htype = 6;  // IEEE 802
    EXPECT_FALSE(exchange(inf.ciaddr, serialize(inf))) << pxed_->log();
    auto out = sh_out(std::string(PXED_BINARY_DIR) + "/userspace/pxectl -s " + pxed_->dir() + "/pxed.sock --json stats");
    auto j = nlohmann::json::parse(out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << out;
    EXPECT_EQ(j["dhcp"]["not_ethernet"], 3) << out;  // three attempts, none answered
    inf.htype = 1;
    EXPECT_TRUE(exchange(inf.ciaddr, serialize(inf))) << pxed_->log();
}

namespace {
const std::string kChainConfig =
    toml::netns_server("s0") +
    toml::lan_subnet("192.0.2.103", "lease-time = 600\nboot = { bios = \"pxelinux.0\" }\n", /*router=*/false);

class ClientIdentity : public LanTest {};
}  // namespace

// Item 5: one machine's boot chain with busybox udhcpc: the PXE ROM's
// stage without a client id (-C), then iPXE's with 01+MAC (udhcpc's
// default), then the ROM again; one address throughout. A different
// client id on the same MAC is a different client.
TEST_F(ClientIdentity, BootChainKeepsOneAddress) {
    if (!require_root()) GTEST_SKIP_("not root: failure recorded");
    ASSERT_NO_FATAL_FAILURE(start_lan(LanSpec().client_mac("52:54:00:00:05:01")));
    ASSERT_NO_FATAL_FAILURE(start_pxed(kChainConfig));
    const Netns& cli = *cli_;
    const PxedProcess& pxed = *pxed_;
    const std::string pxe = "-V PXEClient:Arch:00000:UNDI:002001 -x 0x5d:0000";
    auto rom = udhcpc_once(cli, "c0", 15, "-C " + pxe);
    ASSERT_FALSE(rom["ip"].empty()) << pxed.log();
    EXPECT_EQ(rom["boot_file"], "pxelinux.0");
    auto ipxe = udhcpc_once(cli, "c0", 15, "-x 0x4d:69505845");  // client id 01+MAC, user class iPXE
    EXPECT_EQ(ipxe["ip"], rom["ip"]) << pxed.log();
    auto rom2 = udhcpc_once(cli, "c0", 15, "-C " + pxe);
    EXPECT_EQ(rom2["ip"], rom["ip"]) << pxed.log();
    auto other = udhcpc_once(cli, "c0", 15, "-x 0x3d:ff000000010001");
    ASSERT_FALSE(other["ip"].empty()) << pxed.log();
    EXPECT_NE(other["ip"], rom["ip"]) << "another client id is another client";
    // LanTest::TearDown stops pxed and expects it to exit 0.
}
