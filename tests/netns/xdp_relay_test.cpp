// A relayed client with option 82 gets the address its switch port has a
// reservation for (circuit-id), from the kernel path: a relay namespace
// forwards the client's DISCOVER and REQUEST as a relay agent does (giaddr
// set, option 82 with the port's circuit id, from port 67), and the XDP
// program answers both, option 82 echoed; the tx counters move and the
// lease database stays empty (the daemon never saw the exchange).
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

#include "bpf/xdp_program.h"
#include "dhcp/packet.h"
#include "support/lan.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::dhcp;
using namespace pxed::test;

namespace {

// srv (s0 192.0.2.1/24) -- rly (c0 192.0.2.2/24 and 198.51.100.1/32, its address on the relayed network)
const std::string kConfig =
    toml::netns_server("s0", "xdp = \"native\"\n") + toml::lan_subnet("192.0.2.110", "lease-time = 600\n") +
    toml::relayed_subnet("198.51.100.100", "198.51.100.110", "router = \"198.51.100.1\"\n") +
    "\n[[reservation]]\ncircuit-id = \"sw1/7\"\nip = \"198.51.100.7\"\nhostname = \"port7\"\n";

const Ipv4 kGiaddr(198, 51, 100, 1);
const std::vector<uint8_t> kAgent = {1, 5, 's', 'w', '1', '/', '7', 2, 3, 's', 'w', '1'};

class XdpRelayNetns : public LanTest {
protected:
    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        ASSERT_NO_FATAL_FAILURE(start_lan(LanSpec().named("rsrv", "rrly").with_xdp_pass_on_client()));
        // The relay's address on the relayed network (no dummy devices here):
        // a second address of its link to the server.
        ASSERT_EQ(cli_->run("ip addr add 192.0.2.2/24 dev c0 && ip addr add 198.51.100.1/32 dev c0"), 0);
        ASSERT_EQ(srv_->run("ip route add 198.51.100.0/24 via 192.0.2.2"), 0);
        ASSERT_NO_FATAL_FAILURE(start_pxed(kConfig));
        ASSERT_NE(pxed_->log().find("relay_reservations=1"), std::string::npos) << pxed_->log();
    }

    // As the relay: sends `msg` from 198.51.100.1:67 to pxed's 192.0.2.1:67
    // up to three times; the first reply to port 67 of the relay, if any.
    std::optional<Packet> relay(const Packet& msg) {
        std::string out = pxed_->dir() + "/relay_reply.bin";
        std::string path = "/run/netns/" + cli_->name();
        auto bytes = serialize(msg);
        pid_t pid = fork();
        if (pid == 0) {
            int nsfd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0) _exit(2);
            int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            sockaddr_in me{};
            me.sin_family = AF_INET;
            me.sin_port = htons(67);
            me.sin_addr.s_addr = htonl(kGiaddr.v);
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

    Packet relayed(MessageType t) {
        Packet p;
        p.xid = 0x8207;
        p.hops = 1;
        p.giaddr = kGiaddr;
        p.set_mac(*Mac::parse("52:54:00:00:82:07"));
        p.options.set_u8(opt::MessageType, uint8_t(t));
        p.options.set(opt::RelayAgentInfo, kAgent);
        return p;
    }

    uint64_t stat(pxed_stat s) {
        auto r = bpf::read_pinned_stats("s0");
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
        return r.ok() ? (*r)[s] : 0;
    }
};

}  // namespace

TEST_F(XdpRelayNetns, ACircuitIdsReservationIsAnsweredByTheKernel) {
    uint64_t offers = stat(PXED_STAT_TX_OFFER), acks = stat(PXED_STAT_TX_ACK);
    auto offer = relay(relayed(MessageType::Discover));
    ASSERT_TRUE(offer) << "no OFFER reached the relay\n" << pxed_->log();
    EXPECT_EQ(offer->message_type(), MessageType::Offer);
    EXPECT_EQ(offer->yiaddr, Ipv4(198, 51, 100, 7));
    EXPECT_EQ(offer->giaddr, kGiaddr);
    ASSERT_TRUE(offer->options.find(opt::RelayAgentInfo));
    EXPECT_EQ(offer->options.find(opt::RelayAgentInfo)->data, kAgent);
    EXPECT_EQ(offer->options.get_str(opt::Hostname), "port7");

    auto req = relayed(MessageType::Request);
    req.options.set_ip(opt::ServerId, *offer->options.get_ip(opt::ServerId));
    req.options.set_ip(opt::RequestedIp, offer->yiaddr);
    auto ack = relay(req);
    ASSERT_TRUE(ack) << "no ACK reached the relay\n" << pxed_->log();
    EXPECT_EQ(ack->message_type(), MessageType::Ack);
    EXPECT_EQ(ack->yiaddr, Ipv4(198, 51, 100, 7));
    EXPECT_EQ(ack->options.find(opt::RelayAgentInfo)->data, kAgent);

    // The kernel answered both (the daemon would have written a lease).
    EXPECT_EQ(stat(PXED_STAT_TX_OFFER), offers + 1);
    EXPECT_EQ(stat(PXED_STAT_TX_ACK), acks + 1);
    auto n = sh_out("sqlite3 " + pxed_->dir() + "/leases.db \"SELECT count(*) FROM leases\"");
    EXPECT_EQ(n.empty() ? -1 : std::stoi(n), 0);
}
