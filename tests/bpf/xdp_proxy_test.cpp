// proxyDHCP in the kernel (BPF_PROG_TEST_RUN): every PXE client of a proxy
// subnet, reserved or not, gets the daemon's own proxy reply from the XDP
// program, byte for byte (the OFFER on port 67, the ACK on port 4011, the
// client's UUID copied in), sent where the daemon sends it; what the program
// cannot vouch for is passed with its reason. An exhaustive sweep over the
// architectures and option 60 words checks every kernel answer against the
// daemon's.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include "bpf/map_sync.h"
#include "config/config.h"
#include "dhcp/engine.h"
#include "dhcp/frame.h"
#include "dhcp/proxy.h"
#include "support/bpf_run.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::dhcp;
using pxed::test::Frame;

namespace {

namespace toml = pxed::test::toml;

const std::string kConfig =
    toml::server("test0") +
    toml::proxy_subnet("boot = { bios = \"pxelinux.0\", uefi-x64 = \"bootx64.efi\", uefi-http = \"http://192.0.2.1/x64.efi\", "
                       "ipxe = \"http://192.0.2.1/boot.ipxe\" }\n") +
    "\n[[option]]\ncode = 209\nstring = \"pxelinux.cfg/default\"\n"  // sent when asked (option 55)
    "\n[[class]]\nname = \"arm64\"\nmatch = { arch = \"arm64-uefi\" }\nboot-file = \"arm/grubaa64.efi\"\n"
    "\n[[class]]\nname = \"old\"\nmatch = { arch = 2 }\nignore = true\n"
    "\n[[reservation]]\nmac = \"52:54:00:00:00:0e\"\nboot-file = \"host.0\"\n"  // a host entry: the daemon's
    "\n[pxe]\n[[pxe.service]]\narch = 11\ntext = \"ARM64 installer\"\nfile = \"arm/grubaa64.efi\"\n";

const Mac kServerMac = *Mac::parse("02:00:00:00:00:01");
const Ipv4 kServerIp(192, 0, 2, 1);
const Ipv4 kClientIp(192, 0, 2, 77);  // from the address server
const Mac kClient = *Mac::parse("52:54:00:00:00:01");
const Mac kHost = *Mac::parse("52:54:00:00:00:0e");
const std::vector<uint8_t> kUuid = {0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                    0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01};

Packet pxe_request(MessageType t, const Mac& mac, std::optional<uint16_t> arch, const std::string& vendor,
                   bool uuid = true) {
    Packet p;
    p.xid = 0x5eed0002;
    p.set_mac(mac);
    p.options.set_u8(opt::MessageType, uint8_t(t));
    if (!vendor.empty()) p.options.set_str(opt::VendorClass, vendor);
    if (arch) p.options.set_u16(opt::ClientArch, *arch);
    p.options.set(opt::ClientNdi, std::vector<uint8_t>{1, 2, 1});
    if (uuid) p.options.set(opt::ClientGuid, kUuid);
    return p;
}

class XdpProxy : public pxed::test::XdpTest {
protected:
    void SetUp() override {
        XdpTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        load(kConfig);
        EXPECT_GT(proxy_blobs_, 0u);
    }
    void load(const std::string& text) {
        auto c = config::parse_toml(text, "proxy.toml");
        ASSERT_TRUE(c.ok()) << c.error();
        cfg_ = std::move(c.value());
        auto rep = bpf::sync_maps(*prog_, cfg_, bpf::IfaceView{"test0", 7, kServerMac, kServerIp, {}}, bpf::RateLimit{});
        ASSERT_TRUE(rep.ok()) << rep.error();
        ASSERT_TRUE(rep->proxy);
        proxy_blobs_ = rep->proxy_blobs;
        engine_ = std::make_unique<Engine>(cfg_);
    }

    // The frame a client sends: a broadcast DISCOVER to port 67, or a
    // REQUEST unicast from its address to this server's port 4011.
    static Frame frame_of(const Packet& req, bool boot_server) {
        UdpEndpoints ep;
        ep.src_mac = req.mac();
        ep.src_port = 68;
        if (boot_server) {
            ep.dst_mac = kServerMac;
            ep.src_ip = req.ciaddr;
            ep.dst_ip = kServerIp;
            ep.dst_port = 4011;
        } else {
            ep.dst_mac = *Mac::parse("ff:ff:ff:ff:ff:ff");
            ep.dst_ip = Ipv4(0xffffffff);
            ep.dst_port = 67;
        }
        return build_udp_frame(ep, serialize(req));
    }

    Outcome daemon(const Packet& req, bool boot_server) {
        RxInfo rx{kServerIp, *Ipv4Net::parse("192.0.2.0/24")};
        rx.boot_server_port = boot_server;
        if (boot_server) {
            rx.src_ip = req.ciaddr;
            rx.src_port = 68;
        }
        return engine_->handle(req, rx, 1000);
    }

    // The kernel must answer with exactly the daemon's reply, to where the
    // daemon sends it; returns the reply.
    std::optional<ParsedUdpFrame> answered(const Packet& req, bool boot_server, Frame& out) {
        auto k = run(frame_of(req, boot_server));
        auto d = daemon(req, boot_server);
        EXPECT_EQ(k.verdict, uint32_t(XDP_TX)) << "kernel passed; stats: " << stats_line();
        if (!d.reply) ADD_FAILURE() << "the daemon does not answer: " << d.note;
        if (k.verdict != XDP_TX || !d.reply) return std::nullopt;
        out = k.out;
        auto f = parse_udp_frame(out);
        if (!f) {
            ADD_FAILURE() << "kernel reply is not a UDP frame";
            return std::nullopt;
        }
        EXPECT_TRUE(f->ip_checksum_ok);
        EXPECT_TRUE(f->udp_checksum_ok);
        EXPECT_EQ(std::vector<uint8_t>(f->payload.begin(), f->payload.end()), encode(*d.reply))
            << "the kernel's reply differs from the daemon's";
        EXPECT_EQ(f->ep.dst_ip, d.reply->dst_ip);
        EXPECT_EQ(f->ep.dst_port, d.reply->dst_port);
        EXPECT_EQ(f->ep.src_port, d.reply->src_port);
        EXPECT_EQ(f->ep.src_ip, kServerIp);
        EXPECT_EQ(f->ep.src_mac, kServerMac);
        return f;
    }

    void passed(const Packet& req, bool boot_server, pxed_stat reason) {
        auto before = stat(reason);
        auto k = run(frame_of(req, boot_server));
        EXPECT_EQ(k.verdict, uint32_t(XDP_PASS)) << "the kernel answered a request that is the daemon's";
        EXPECT_EQ(stat(reason), before + 1) << stats_line();
    }

    config::Config cfg_;
    std::unique_ptr<Engine> engine_;
    size_t proxy_blobs_ = 0;
};

}  // namespace

TEST_F(XdpProxy, BiosDiscoverGetsTheProxyOfferFromTheKernelWithItsUuid) {
    Frame out;
    auto f = answered(pxe_request(MessageType::Discover, kClient, 0, "PXEClient:Arch:00000:UNDI:002001"), false, out);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->ep.dst_mac, *Mac::parse("ff:ff:ff:ff:ff:ff"));
    EXPECT_EQ(f->ep.dst_ip, Ipv4(0xffffffff));
    EXPECT_EQ(f->ep.src_port, 67);
    auto p = parse(f->payload);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->message_type(), MessageType::Offer);
    EXPECT_TRUE(p->yiaddr.is_zero());
    EXPECT_TRUE(p->broadcast());
    EXPECT_EQ(p->file_str(), "pxelinux.0");
    EXPECT_EQ(p->options.find(opt::ClientGuid)->data, kUuid);
    EXPECT_EQ(stat(PXED_STAT_TX_PROXY_OFFER), 1u);
    // A client without option 97 gets the reply without it.
    ASSERT_TRUE(answered(pxe_request(MessageType::Discover, kClient, 0, "PXEClient:Arch:00000:UNDI:002001", false),
                         false, out));
}

TEST_F(XdpProxy, Port4011RequestGetsTheAckBackToItsAddressFromPort4011) {
    Packet req = pxe_request(MessageType::Request, kClient, 7, "PXEClient:Arch:00007:UNDI:003016");
    req.ciaddr = kClientIp;
    Frame out;
    auto f = answered(req, true, out);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->ep.dst_mac, kClient);
    EXPECT_EQ(f->ep.dst_ip, kClientIp);
    EXPECT_EQ(f->ep.src_port, 4011);
    EXPECT_EQ(f->ep.dst_port, 68);
    auto p = parse(f->payload);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->message_type(), MessageType::Ack);
    EXPECT_EQ(p->ciaddr, kClientIp);
    EXPECT_FALSE(p->broadcast());
    EXPECT_EQ(p->file_str(), "bootx64.efi");
    EXPECT_TRUE(p->options.has(opt::VendorSpecific));
    EXPECT_EQ(stat(PXED_STAT_TX_PROXY_ACK), 1u);
    // The UEFI client's port 67 offer: no option 43, siaddr set (sent on to 4011).
    auto o = answered(pxe_request(MessageType::Discover, kClient, 7, "PXEClient:Arch:00007:UNDI:003016"), false, out);
    ASSERT_TRUE(o);
    auto op = parse(o->payload);
    ASSERT_TRUE(op.ok());
    EXPECT_FALSE(op->options.has(opt::VendorSpecific));
    EXPECT_EQ(op->siaddr, kServerIp);
}

TEST_F(XdpProxy, HttpBootIpxeAndClassesAnsweredInTheKernel) {
    Frame out;
    auto http = answered(pxe_request(MessageType::Discover, kClient, 16, "HTTPClient:Arch:00016:UNDI:003001"), false, out);
    ASSERT_TRUE(http);
    auto hp = parse(http->payload);
    EXPECT_EQ(hp->options.get_str(opt::VendorClass), "HTTPClient");
    Packet ipxe = pxe_request(MessageType::Discover, kClient, 0, "PXEClient:Arch:00000:UNDI:002001");
    ipxe.options.set_str(opt::UserClass, "iPXE");
    auto ip = answered(ipxe, false, out);
    ASSERT_TRUE(ip);
    EXPECT_EQ(parse(ip->payload)->file_str(), "http://192.0.2.1/boot.ipxe");
    // ARM64: the class file and the one-item UEFI menu (served as that file at 4011).
    Packet arm = pxe_request(MessageType::Request, kClient, 11, "PXEClient:Arch:00011:UNDI:003016");
    arm.ciaddr = kClientIp;
    auto a = answered(arm, true, out);
    ASSERT_TRUE(a);
    EXPECT_EQ(parse(a->payload)->file_str(), "arm/grubaa64.efi") << "a file with a dot gets no layer suffix";
}

TEST_F(XdpProxy, WhatTheKernelCannotVouchForIsPassed) {
    // Not a PXE client: the daemon counts it and leaves it to the address server.
    passed(pxe_request(MessageType::Discover, kClient, 0, "udhcp 1.35.0"), false, PXED_STAT_PASS_NOT_PXE);
    passed(pxe_request(MessageType::Discover, kClient, std::nullopt, ""), false, PXED_STAT_PASS_NOT_PXE);
    // A REQUEST on port 67 is the address server's.
    passed(pxe_request(MessageType::Request, kClient, 0, "PXEClient:Arch:00000:UNDI:002001"), false, PXED_STAT_PASS_MSG_TYPE);
    // A boot item names a menu's service.
    Packet item = pxe_request(MessageType::Request, kClient, 0, "PXEClient:Arch:00000:UNDI:002001");
    item.ciaddr = kClientIp;
    item.options.set(opt::VendorSpecific, std::vector<uint8_t>{71, 4, 0x80, 0, 0, 0, 255});
    passed(item, true, PXED_STAT_PASS_BOOT_ITEM);
    // A host entry's own settings are the daemon's, on both ports.
    passed(pxe_request(MessageType::Discover, kHost, 0, "PXEClient:Arch:00000:UNDI:002001"), false, PXED_STAT_PASS_DISABLED);
    Packet host4011 = pxe_request(MessageType::Request, kHost, 0, "PXEClient:Arch:00000:UNDI:002001");
    host4011.ciaddr = kClientIp;
    passed(host4011, true, PXED_STAT_PASS_DISABLED);
    // Option 55 without option 209: the daemon sends the smaller reply.
    Packet prl = pxe_request(MessageType::Discover, kClient, 0, "PXEClient:Arch:00000:UNDI:002001");
    prl.options.set(opt::ParamRequestList, std::vector<uint8_t>{1, 3, 43, 60, 66, 67});
    passed(prl, false, PXED_STAT_PASS_PRL);
    // A relayed request picks its subnet by giaddr.
    Packet relayed = pxe_request(MessageType::Discover, kClient, 0, "PXEClient:Arch:00000:UNDI:002001");
    relayed.giaddr = Ipv4(198, 51, 100, 1);
    passed(relayed, false, PXED_STAT_PASS_WRONG_SUBNET);
    // An ignored class: the daemon drops it.
    passed(pxe_request(MessageType::Discover, kClient, 2, "PXEClient:Arch:00002:UNDI:002001"), false,
           PXED_STAT_PASS_UNDECIDED);
}

// Every architecture slot and option 60 word, on both ports: each request is
// answered by the kernel with the daemon's bytes, or passed because the
// daemon has nothing to say to it or the program cannot decide.
TEST_F(XdpProxy, ExhaustiveSweepMatchesTheDaemon) {
    size_t answered_n = 0, passed_n = 0;
    for (uint32_t slot = 0; slot <= 65; slot++) {
        std::optional<uint16_t> arch;
        if (slot < 64) arch = uint16_t(slot);
        else if (slot == 65) arch = 300;
        for (const char* vendor : {"PXEClient:Arch:x", "HTTPClient:Arch:x"})
            for (bool boot_server : {false, true}) {
                Packet req = pxe_request(boot_server ? MessageType::Request : MessageType::Discover, kClient, arch, vendor);
                if (boot_server) req.ciaddr = kClientIp;
                auto k = run(frame_of(req, boot_server));
                auto d = daemon(req, boot_server);
                SCOPED_TRACE("arch slot " + std::to_string(slot) + " " + vendor + (boot_server ? " port 4011" : " port 67"));
                if (k.verdict == XDP_TX) {
                    answered_n++;
                    ASSERT_TRUE(d.reply) << "the kernel answered, the daemon does not: " << d.note;
                    auto f = parse_udp_frame(k.out);
                    ASSERT_TRUE(f);
                    EXPECT_EQ(std::vector<uint8_t>(f->payload.begin(), f->payload.end()), encode(*d.reply));
                } else {
                    passed_n++;
                    EXPECT_EQ(k.verdict, uint32_t(XDP_PASS));
                }
            }
    }
    EXPECT_EQ(answered_n + passed_n, 66u * 4);
    // BIOS, UEFI x64 (7 and 9), ARM64 and HTTP boot (16) have files: each
    // with both words on both ports.
    EXPECT_GE(answered_n, 20u) << "the kernel path answered too little to mean anything";
}

// A class on the MAC: the program answers any MAC, so it cannot decide
// such a class; every proxy client goes to the daemon.
TEST_F(XdpProxy, MacClassesMakeTheDaemonDecide) {
    load(kConfig + "\n[[class]]\nname = \"lab-macs\"\nmatch = { mac = \"52:54:00:99:00:00/32\" }\nboot-file = \"lab.0\"\n");
    passed(pxe_request(MessageType::Discover, kClient, 0, "PXEClient:Arch:00000:UNDI:002001"), false,
           PXED_STAT_PASS_UNDECIDED);
    auto d = daemon(pxe_request(MessageType::Discover, *Mac::parse("52:54:00:99:01:02"), 0, "PXEClient:Arch:00000:UNDI:002001"), false);
    ASSERT_TRUE(d.reply);
    EXPECT_EQ(d.reply->packet.file_str(), "lab.0");
}
