// Boot policy in the kernel (BPF_PROG_TEST_RUN): for every kind of class
// test, a reserved client's request is either answered by the XDP program
// with exactly the daemon's bytes, or passed with the reason the program
// could not decide (pass_undecided, pass_prl). Each case also says which of
// the two it must be, so the kernel path is not vacuously "correct".
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include "bpf/blob.h"
#include "bpf/map_sync.h"
#include "config/config.h"
#include "dhcp/engine.h"
#include "dhcp/frame.h"
#include "support/bpf_run.h"
#include "support/pxe_clients.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::dhcp;
using pxed::test::pxe_clients;

namespace {

namespace toml = pxed::test::toml;

const std::string kRpiOption43 =
    "{ code = 43, always = true, sub = [ { code = 6, u8 = 3 }, { code = 10, hex = \"00505845\" },"
    " { code = 9, record = [ { u16 = 0 }, { u8 = 20 }, { string = \"Raspberry Pi Boot   \" } ] } ] }";

// Every kind of test a class can make, each deciding something visible.
const std::string kConfig =
    toml::server("test0") +
    toml::lan_subnet("192.0.2.200", "domain = \"lab.test\"\nboot = { bios = \"pxelinux.0\", uefi-x64 = \"x64.efi\" }\n") +
    toml::node10() +
    toml::reservation("b8:27:eb:00:00:01", "192.0.2.11") +
    toml::reservation("52:54:00:00:00:0c", "192.0.2.12", "boot-file = \"own.efi\"\nclasses = [\"lab\"]\n") +
    toml::reservation("52:54:00:00:00:0d", "192.0.2.13", "netboot = false\n") +
    "\n[boot]\nany = \"global-any.0\"\n"
    "\n[[option]]\ncode = 42\nips = [\"192.0.2.123\"]\n"  // sent only when asked for (option 55)
    "\n[[class]]\nname = \"ipxe\"\nmatch = { any = [ { user-class = \"iPXE\" }, { option = 175 } ] }\n"
    "boot-file = \"http://192.0.2.1/boot.ipxe\"\n"
    "\n[[class]]\nname = \"arm64\"\nmatch = { arch = \"arm64-uefi\" }\nboot-file = \"snp-arm64.efi\"\n"
    "\n[[class]]\nname = \"arm64-menu\"\nmatch = { all = [ { class = \"arm64\" }, { not = { class = \"ipxe\" } } ] }\n"
    "server-name = \"arm-boot\"\n"
    "\n[[class]]\nname = \"http\"\nmatch = { vendor-class = \"HTTPClient\" }\nnext-server = \"192.0.2.5\"\n"
    "\n[[class]]\nname = \"rpi\"\nmatch = { arch = 0, vendor-class = \"PXEClient\", mac = \"b8:27:eb:*:*:*\" }\n"
    "boot-file = \"bootcode.bin\"\noptions = [ { code = 60, string = \"PXEClient\", always = true }, " + kRpiOption43 + " ]\n"
    "\n[[class]]\nname = \"arm32\"\nmatch = { option-hex = { code = 93, value = \"00:0a\" } }\nboot-file = \"arm32.efi\"\n"
    "\n[[class]]\nname = \"lab\"\nmatch = { mac = \"52:54:00:00:00:00/40\" }\n"
    "options = [ { code = 17, string = \"/srv/lab\" } ]\n"
    "\n[[class]]\nname = \"rack\"\nmatch = { circuit-id = \"rack1\" }\nboot-file = \"rack.0\"\n"
    "\n[[class]]\nname = \"net\"\nmatch = { subnet = \"192.0.2.0/24\", known = true }\n"
    "options = [ { code = 15, string = \"class.test\", always = true } ]\n";

const Mac kServerMac = *Mac::parse("02:00:00:00:00:01");
const Ipv4 kServerIp(192, 0, 2, 1);
const Mac kNode10 = *Mac::parse("52:54:00:00:00:0a");
const Mac kPi = *Mac::parse("b8:27:eb:00:00:01");
const Mac kOwn = *Mac::parse("52:54:00:00:00:0c");
const Mac kNoBoot = *Mac::parse("52:54:00:00:00:0d");

struct Client {
    std::optional<uint16_t> arch;
    const char* vendor = nullptr;
    const char* user_class = nullptr;
    bool opt175 = false;
    std::vector<uint8_t> prl = {1, 3, 6, 12, 15, 17, 28, 42, 43, 60, 66, 67};
    bool no_prl = false;
};

Packet discover(const Mac& mac, const Client& c) {
    Packet p;
    p.xid = 0x5eed0001;
    p.set_mac(mac);
    p.options.set_u8(opt::MessageType, uint8_t(MessageType::Discover));
    if (!c.no_prl) p.options.set(opt::ParamRequestList, c.prl);
    if (c.arch) p.options.set_u16(opt::ClientArch, *c.arch);
    if (c.vendor) p.options.set_str(opt::VendorClass, c.vendor);
    if (c.user_class) p.options.set_str(opt::UserClass, c.user_class);
    if (c.opt175) p.options.set(175, std::vector<uint8_t>{0x13, 1, 1, 0x15, 1, 1, 255});
    return p;
}

class XdpPolicy : public pxed::test::XdpTest {
protected:
    void SetUp() override {
        XdpTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        load(kConfig);
    }
    void load(const std::string& text) {
        auto c = config::parse_toml(text, "policy.toml");
        ASSERT_TRUE(c.ok()) << c.error();
        cfg_ = std::move(c.value());
        bpf::IfaceView iv{"test0", 7, kServerMac, kServerIp, {}};
        auto rep = bpf::sync_maps(*prog_, cfg_, iv, bpf::RateLimit{});
        ASSERT_TRUE(rep.ok()) << rep.error();
        engine_ = std::make_unique<Engine>(cfg_);
    }

    // The daemon's reply to `req`, and the kernel's verdict on it; when the
    // kernel answers, its DHCP message must be the daemon's, byte for byte.
    // Returns the kernel's reply, or nullopt when it passed (counted under
    // `pass_reason`, which must then be one the caller allows).
    std::optional<Packet> check(const Packet& req, std::optional<pxed_stat> want_pass) {
        auto before = want_pass ? stat(*want_pass) : 0;
        auto k = run(dhcp::build_udp_frame(endpoints(req), serialize(req)));
        auto d = engine_->handle(req, RxInfo{kServerIp}, 1000);
        if (want_pass) {
            EXPECT_EQ(k.verdict, uint32_t(XDP_PASS)) << "the kernel answered a request it cannot decide";
            EXPECT_EQ(stat(*want_pass), before + 1) << stats_line();
            return std::nullopt;
        }
        EXPECT_EQ(k.verdict, uint32_t(XDP_TX)) << "kernel passed; stats: " << stats_line();
        if (k.verdict != XDP_TX || !d.reply) {
            ADD_FAILURE() << "no daemon reply: " << d.note;
            return std::nullopt;
        }
        auto f = parse_udp_frame(k.out);
        if (!f) {
            ADD_FAILURE() << "kernel reply is not a UDP frame";
            return std::nullopt;
        }
        std::vector<uint8_t> kernel_bytes(f->payload.begin(), f->payload.end());
        EXPECT_EQ(kernel_bytes, serialize(d.reply->packet)) << "the kernel's reply differs from the daemon's";
        auto kp = parse(kernel_bytes);
        if (!kp.ok()) return std::nullopt;
        return *kp;
    }

    static UdpEndpoints endpoints(const Packet& req) {
        UdpEndpoints ep;
        ep.src_mac = req.mac();
        ep.dst_mac = *Mac::parse("ff:ff:ff:ff:ff:ff");
        ep.src_ip = Ipv4();
        ep.dst_ip = Ipv4(0xffffffff);
        ep.src_port = 68;
        ep.dst_port = 67;
        return ep;
    }

    config::Config cfg_;
    std::unique_ptr<Engine> engine_;
};

std::string file_of(const Packet& p) { return p.options.get_str(opt::BootfileName).value_or(""); }

}  // namespace

TEST_F(XdpPolicy, ArchitectureClassesAndTablesAreAnsweredInTheKernel) {
    auto bios = check(discover(kNode10, {0, "PXEClient:Arch:00000:UNDI:002001"}), std::nullopt);
    ASSERT_TRUE(bios);
    EXPECT_EQ(file_of(*bios), "pxelinux.0");
    auto arm = check(discover(kNode10, {11, "PXEClient:Arch:00011:UNDI:003000"}), std::nullopt);
    ASSERT_TRUE(arm);
    EXPECT_EQ(file_of(*arm), "snp-arm64.efi");
    EXPECT_EQ(arm->sname_str(), "arm-boot");  // all [ class arm64, not class ipxe ]
    auto arm32 = check(discover(kNode10, {10, "PXEClient:Arch:00010:UNDI:003000"}), std::nullopt);
    ASSERT_TRUE(arm32);
    EXPECT_EQ(file_of(*arm32), "arm32.efi");  // option-hex on option 93
    auto riscv = check(discover(kNode10, {27, "PXEClient:Arch:00027:UNDI:003000"}), std::nullopt);
    ASSERT_TRUE(riscv);
    EXPECT_EQ(file_of(*riscv), "global-any.0");  // no file of its own: the global table's any
    // Above 63 the program knows only "some value >= 64": class arm32's
    // option-hex test on option 93 cannot be decided there.
    check(discover(kNode10, {300, nullptr}), PXED_STAT_PASS_UNDECIDED);
}

TEST_F(XdpPolicy, IpxeByUserClassOrOption175AloneGetsTheScript) {
    auto uc = check(discover(kNode10, {7, "PXEClient:Arch:00007:UNDI:003016", "iPXE"}), std::nullopt);
    ASSERT_TRUE(uc);
    EXPECT_EQ(file_of(*uc), "http://192.0.2.1/boot.ipxe");
    auto only175 = check(discover(kNode10, {11, "PXEClient:Arch:00011:UNDI:003010", nullptr, true}), std::nullopt);
    ASSERT_TRUE(only175);
    EXPECT_EQ(file_of(*only175), "http://192.0.2.1/boot.ipxe");  // ipxe precedes arm64
    EXPECT_EQ(only175->sname_str(), "");  // arm64-menu: not for iPXE
}

TEST_F(XdpPolicy, VendorMacSubnetAndKnownClassesInTheKernel) {
    auto http = check(discover(kNode10, {16, "HTTPClient:Arch:00016:UNDI:003016"}), std::nullopt);
    ASSERT_TRUE(http);
    EXPECT_EQ(http->options.get_str(opt::VendorClass), "HTTPClient");
    EXPECT_EQ(http->siaddr, Ipv4(192, 0, 2, 5));  // the http class's next-server
    EXPECT_EQ(http->options.get_str(17), "/srv/lab");  // mac class
    EXPECT_EQ(http->options.get_str(opt::DomainName), "class.test");  // subnet+known class over the subnet's domain

    auto pi = check(discover(kPi, {0, "PXEClient:Arch:00000:UNDI:002001"}), std::nullopt);
    ASSERT_TRUE(pi);
    EXPECT_EQ(file_of(*pi), "bootcode.bin");
    auto* o43 = pi->options.find(opt::VendorSpecific);
    ASSERT_TRUE(o43);
    // Sub-options in the order written (6, 10, 9), then the end option.
    std::string text = "Raspberry Pi Boot   ";
    std::vector<uint8_t> ordered = {6, 1, 3, 10, 4, 0, 'P', 'X', 'E', 9, 23, 0, 0, 20};
    ordered.insert(ordered.end(), text.begin(), text.end());
    ordered.push_back(255);
    EXPECT_EQ(o43->data, ordered);
}

TEST_F(XdpPolicy, HostSettingsWinOverClasses) {
    auto own = check(discover(kOwn, {11, "PXEClient:Arch:00011:UNDI:003000"}), std::nullopt);
    ASSERT_TRUE(own);
    EXPECT_EQ(file_of(*own), "own.efi");  // the host's file over class arm64's
    auto none = check(discover(kNoBoot, {7, "PXEClient:Arch:00007:UNDI:003016"}), std::nullopt);
    ASSERT_TRUE(none);
    EXPECT_EQ(file_of(*none), "");
    EXPECT_FALSE(none->options.has(opt::VendorClass));  // a plain offer: no PXE boot offer
    EXPECT_EQ(none->yiaddr, Ipv4(192, 0, 2, 13));
}

TEST_F(XdpPolicy, OptionsNotAskedForAreLeftToTheDaemon) {
    Client asks{0, "PXEClient:Arch:00000:UNDI:002001"};
    auto with42 = check(discover(kNode10, asks), std::nullopt);
    ASSERT_TRUE(with42);
    EXPECT_TRUE(with42->options.has(42));
    Client no_list = asks;
    no_list.no_prl = true;  // no option 55: everything configured goes
    auto all = check(discover(kNode10, no_list), std::nullopt);
    ASSERT_TRUE(all);
    EXPECT_TRUE(all->options.has(42));
    Client other = asks;
    other.prl = {1, 3, 6, 66, 67};  // 42 (and 17, 15) not asked for: the daemon answers without them
    check(discover(kNode10, other), PXED_STAT_PASS_PRL);
    auto d = engine_->handle(discover(kNode10, other), RxInfo{kServerIp}, 1000);
    ASSERT_TRUE(d.reply);
    EXPECT_FALSE(d.reply->packet.options.has(42));
    EXPECT_TRUE(d.reply->packet.options.has(opt::DomainName));  // always = true
}

TEST_F(XdpPolicy, TestsTheKernelCannotReadArePassed) {
    // An option 60 that starts with neither PXEClient nor HTTPClient: the
    // program knows that much, so class rpi's prefix test is decided (no).
    auto pi = check(discover(kPi, {0, "MSFT 5.0"}), std::nullopt);
    ASSERT_TRUE(pi);
    EXPECT_EQ(file_of(*pi), "pxelinux.0");

    // A prefix longer than the word the program reads, and a substring.
    std::string cfg = kConfig +
                      "\n[[class]]\nname = \"x64-only\"\nmatch = { vendor-class = \"PXEClient:Arch:00007\" }\n"
                      "boot-file = \"prefix.efi\"\n"
                      "\n[[class]]\nname = \"foo\"\nmatch = { vendor-class-contains = \"Foo\" }\nboot-file = \"foo.0\"\n";
    load(cfg);
    Client x64{7, "PXEClient:Arch:00007:UNDI:003016"};
    check(discover(kNode10, x64), PXED_STAT_PASS_UNDECIDED);
    auto d = engine_->handle(discover(kNode10, x64), RxInfo{kServerIp}, 1000);
    ASSERT_TRUE(d.reply);
    EXPECT_EQ(d.reply->packet.options.get_str(opt::BootfileName), "prefix.efi");
    Client foo{0, "XXFooYY"};
    check(discover(kNode10, foo), PXED_STAT_PASS_UNDECIDED);
    d = engine_->handle(discover(kNode10, foo), RxInfo{kServerIp}, 1000);
    ASSERT_TRUE(d.reply);
    EXPECT_EQ(d.reply->packet.options.get_str(opt::BootfileName), "foo.0");
    // Without option 60 both tests are decided (no): the kernel answers.
    auto plain = check(discover(kNode10, {0, nullptr}), std::nullopt);
    ASSERT_TRUE(plain);
    EXPECT_EQ(file_of(*plain), "pxelinux.0");
}

TEST_F(XdpPolicy, AnIgnoredClassKeepsTheKernelSilentAndTheDaemonDrops) {
    std::string cfg = kConfig + "\n[[class]]\nname = \"no-arm\"\nmatch = { arch = 11 }\nignore = true\n";
    load(cfg);
    check(discover(kNode10, {11, "PXEClient:Arch:00011:UNDI:003000"}), PXED_STAT_PASS_UNDECIDED);
    auto d = engine_->handle(discover(kNode10, {11, "PXEClient:Arch:00011:UNDI:003000"}), RxInfo{kServerIp}, 1000);
    EXPECT_FALSE(d.reply);
    EXPECT_EQ(d.drop, Drop::Ignored);
    ASSERT_TRUE(check(discover(kNode10, {0, "PXEClient:Arch:00000:UNDI:002001"}), std::nullopt));
}

TEST_F(XdpPolicy, EverySignatureAnsweredByTheKernelIsTheDaemonsAnswer) {
    // Exhaustive over what the program reads: every option 93 value below
    // 64, absent and one above, every option 60 word, with and without iPXE
    // and option 175, for each reserved host.
    int answered = 0, passed = 0;
    for (const Mac& mac : {kNode10, kPi, kOwn, kNoBoot}) {
        for (int a = -1; a <= 64; a++) {
            for (const char* vendor : {(const char*)nullptr, "PXEClient:Arch:00000", "HTTPClient:Arch:00016", "other"}) {
                for (int ipxe = 0; ipxe < 4; ipxe++) {
                    Client c;
                    if (a >= 0) c.arch = uint16_t(a == 64 ? 1000 : a);
                    c.vendor = vendor;
                    c.user_class = ipxe & 1 ? "iPXE" : nullptr;
                    c.opt175 = ipxe & 2;
                    auto req = discover(mac, c);
                    auto k = run(dhcp::build_udp_frame(endpoints(req), serialize(req)));
                    if (k.verdict != XDP_TX) {
                        passed++;
                        continue;
                    }
                    answered++;
                    auto d = engine_->handle(req, RxInfo{kServerIp}, 1000);
                    ASSERT_TRUE(d.reply);
                    auto f = parse_udp_frame(k.out);
                    ASSERT_TRUE(f);
                    ASSERT_EQ(std::vector<uint8_t>(f->payload.begin(), f->payload.end()), serialize(d.reply->packet))
                        << mac.str() << " arch " << a << " vendor " << (vendor ? vendor : "-") << " ipxe " << ipxe;
                }
            }
        }
    }
    EXPECT_GT(answered, passed) << "the kernel should answer most of these";
    RecordProperty("answered", answered);
    RecordProperty("passed", passed);
}

// The dnsmasq.conf corpus (tests/data/dnsmasq/) as pxed imports it, with a
// reservation added for each kind of firmware (tests/support/pxe_clients.h):
// what the kernel answers is the daemon's answer, byte for byte, and each
// file's classes fit the profiles (none of its signatures left over).
TEST_F(XdpPolicy, CorpusConfigurationsAnswerInTheKernelAsTheDaemonDoes) {
    int answered = 0, passed = 0;
    for (const char* file : {"ironic.conf", "fog.conf", "ltsp.conf", "netbootxyz.conf", "foreman.conf", "rpi.conf"}) {
        SCOPED_TRACE(file);
        std::vector<std::string> warnings;
        auto lan = [](const std::string&) { return Ipv4Net::parse("192.0.2.1/24"); };
        auto c = config::load_dnsmasq_file(std::string(PXED_SOURCE_DIR) + "/tests/data/dnsmasq/" + file, lan, warnings);
        ASSERT_TRUE(c.ok()) << c.error();
        cfg_ = std::move(c.value());
        uint8_t host = 230;
        for (auto& pc : pxe_clients()) {
            if (cfg_.reservation_for(pc.discover.mac()) || cfg_.host_for(pc.discover.mac())) continue;
            config::Reservation r;
            r.mac = pc.discover.mac();
            r.ip = Ipv4(192, 0, 2, host++);
            cfg_.reservations.push_back(r);
        }
        ASSERT_TRUE(config::validate(cfg_).ok()) << config::validate(cfg_).error();
        auto profiles = bpf::build_profiles(cfg_);
        EXPECT_EQ(profiles.unmapped, 0u) << profiles.view.size() << " profiles";
        bpf::IfaceView iv{"test0", 7, kServerMac, kServerIp, {}};
        auto rep = bpf::sync_maps(*prog_, cfg_, iv, bpf::RateLimit{});
        ASSERT_TRUE(rep.ok()) << rep.error();
        engine_ = std::make_unique<Engine>(cfg_);
        for (auto& pc : pxe_clients()) {
            SCOPED_TRACE(pc.name);
            auto& req = pc.discover;
            auto k = run(dhcp::build_udp_frame(endpoints(req), serialize(req)));
            auto d = engine_->handle(req, RxInfo{kServerIp}, 1000);
            if (k.verdict != XDP_TX) {
                EXPECT_EQ(k.verdict, uint32_t(XDP_PASS));
                passed++;
                continue;
            }
            answered++;
            ASSERT_TRUE(d.reply) << "the kernel answered a request the daemon drops: " << d.note;
            auto f = parse_udp_frame(k.out);
            ASSERT_TRUE(f);
            EXPECT_EQ(std::vector<uint8_t>(f->payload.begin(), f->payload.end()), serialize(d.reply->packet));
        }
    }
    std::printf("corpus: %d requests answered in the kernel, %d passed\n", answered, passed);
    EXPECT_GT(answered, 0);
}
