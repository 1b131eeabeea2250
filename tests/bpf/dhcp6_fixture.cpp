#include "bpf/dhcp6_fixture.h"

#include "support/netns.h"

namespace pxed::test6 {

using namespace pxed::dhcp6;

const Mac kServerMac = *Mac::parse("02:00:00:00:00:01");
const Ipv6 kServerLL = *Ipv6::parse("fe80::1");
const Ipv6 kServerAddr = *Ipv6::parse("fd00:6::1");
const Ipv6 kAllServers = *Ipv6::parse("ff02::1:2");
const uint16_t kHttpPort = 8080;

std::string config_toml() {
    return R"(
[server]
interfaces = ["test0"]
http-port = 8080
[boot]
riscv64-uefi = "riscv64.efi"

[[subnet6]]
prefix = "fd00:6::/64"
range = ["fd00:6::100", "fd00:6::1ff"]
dns = ["fd00:6::53", "fd00:6::54"]
domain-search = ["lab.test", "example.org"]
preferred-lifetime = 1800
valid-lifetime = 3600
boot-params = ["console=ttyS0", "quiet"]
[subnet6.boot]
bios = "pxelinux.0"
uefi-x64 = "grubx64.efi"
x64-uefi-http = "/boot/grubx64.efi"
arm64-uefi = "http://[fd00:6::1]/arm/grubaa64.efi"
ipxe = "http://[fd00:6::1]/boot.ipxe"
any = "default.efi"

[[subnet6]]
prefix = "fd00:7::/64"
range = ["fd00:7::100", "fd00:7::1ff"]

# by MAC (the EUI-64 of the client's link-local address)
[[reservation6]]
mac = "52:54:00:00:66:0a"
ip = "fd00:6::10"
hostname = "node10"
# by DUID (DUID-UUID, 18 bytes)
[[reservation6]]
duid = "00:04:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00"
ip = "fd00:6::11"
# with a boot file of its own
[[reservation6]]
mac = "52:54:00:00:66:0c"
ip = "fd00:6::12"
boot-file = "special.efi"
# a DUID longer than the program's key: the daemon's
[[reservation6]]
duid = "00:02:00:00:01:37:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:11:12:13:14:15:16:17:18:19:1a:1b:1c:1d:1e:1f:20:21:22"
ip = "fd00:6::13"
# by MAC, found in a DUID-LL when the link-local address is no EUI-64
[[reservation6]]
mac = "52:54:00:00:66:0d"
ip = "fd00:6::14"
# on another link's subnet
[[reservation6]]
mac = "52:54:00:00:66:0e"
ip = "fd00:7::15"
)";
}

std::vector<uint8_t> server_duid() {
    auto& m = kServerMac.b;
    return {0, 3, 0, 1, m[0], m[1], m[2], m[3], m[4], m[5]};
}

Ipv6 eui64_link_local(const Mac& mac) {
    Ipv6 a;
    a.b[0] = 0xfe;
    a.b[1] = 0x80;
    a.b[8] = mac.b[0] ^ 0x02;
    a.b[9] = mac.b[1];
    a.b[10] = mac.b[2];
    a.b[11] = 0xff;
    a.b[12] = 0xfe;
    a.b[13] = mac.b[3];
    a.b[14] = mac.b[4];
    a.b[15] = mac.b[5];
    return a;
}

namespace {

std::vector<uint8_t> entries(const std::vector<std::string>& list) {
    std::vector<uint8_t> v;
    for (auto& e : list) {
        v.push_back(uint8_t(e.size() >> 8));
        v.push_back(uint8_t(e.size()));
        v.insert(v.end(), e.begin(), e.end());
    }
    return v;
}

}  // namespace

std::vector<uint8_t> Msg6::bytes() const {
    Writer w(type, xid);
    if (!duid.empty()) w.option(opt::ClientId, duid);
    if (!server_id.empty()) w.option(opt::ServerId, server_id);
    for (auto id : iaids) {
        size_t at = w.nest(opt::IaNa);
        w.u32(id);
        w.u32(3600);
        w.u32(5400);
        w.close(at);
    }
    w.u16_option(opt::ElapsedTime, 0);
    if (!oro.empty()) {
        std::vector<uint8_t> o;
        for (auto c : oro) o.insert(o.end(), {uint8_t(c >> 8), uint8_t(c)});
        w.option(opt::Oro, o);
    }
    if (rapid) w.option(opt::RapidCommit, std::string_view());
    if (arch) w.u16_option(opt::ClientArch, *arch);
    if (!vendor.empty()) {
        std::vector<uint8_t> v = {0, 0, 1, 0x57};
        auto e = entries(vendor);
        v.insert(v.end(), e.begin(), e.end());
        w.option(opt::VendorClass, v);
    }
    if (!user.empty()) w.option(opt::UserClass, entries(user));
    for (auto& [code, val] : raw) w.option(code, val);
    return w.take();
}

uint16_t udp6_sum(const Ipv6& src, const Ipv6& dst, const uint8_t* udp, size_t len) {
    uint32_t acc = 0;
    auto add = [&](const uint8_t* p, size_t n) {
        for (size_t i = 0; i < n; i += 2) acc += uint32_t(p[i] << 8 | (i + 1 < n ? p[i + 1] : 0));
    };
    add(src.b.data(), 16);
    add(dst.b.data(), 16);
    acc += uint32_t(len) + 17;
    add(udp, len);
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return uint16_t(acc);
}

Frame frame6(const Wire6& w, const std::vector<uint8_t>& payload) {
    Frame f(62 + payload.size());
    std::copy(w.dst_mac.b.begin(), w.dst_mac.b.end(), f.begin());
    std::copy(w.src_mac.b.begin(), w.src_mac.b.end(), f.begin() + 6);
    f[12] = 0x86;
    f[13] = 0xdd;
    size_t ulen = 8 + payload.size();
    f[14] = 0x60;
    f[18] = uint8_t(ulen >> 8);
    f[19] = uint8_t(ulen);
    f[20] = 17;
    f[21] = w.hop;
    std::copy(w.src.b.begin(), w.src.b.end(), f.begin() + 22);
    std::copy(w.dst.b.begin(), w.dst.b.end(), f.begin() + 38);
    f[54] = uint8_t(w.sport >> 8);
    f[55] = uint8_t(w.sport);
    f[56] = uint8_t(w.dport >> 8);
    f[57] = uint8_t(w.dport);
    f[58] = uint8_t(ulen >> 8);
    f[59] = uint8_t(ulen);
    std::copy(payload.begin(), payload.end(), f.begin() + 62);
    uint16_t c = uint16_t(~udp6_sum(w.src, w.dst, &f[54], ulen));
    if (!c) c = 0xffff;
    f[60] = uint8_t(c >> 8);
    f[61] = uint8_t(c);
    return f;
}

std::optional<Reply6> parse_reply6(const Frame& f) {
    if (f.size() < 62 || f[12] != 0x86 || f[13] != 0xdd || (f[14] >> 4) != 6 || f[20] != 17) return std::nullopt;
    Reply6 r;
    std::copy_n(f.begin(), 6, r.dst_mac.b.begin());
    std::copy_n(f.begin() + 6, 6, r.src_mac.b.begin());
    r.traffic_class = uint8_t((f[14] & 0x0f) << 4 | f[15] >> 4);
    r.flow = uint32_t(f[15] & 0x0f) << 16 | uint32_t(f[16]) << 8 | f[17];
    size_t plen = size_t(f[18] << 8 | f[19]);
    r.hop = f[21];
    std::copy_n(f.begin() + 22, 16, r.src.b.begin());
    std::copy_n(f.begin() + 38, 16, r.dst.b.begin());
    size_t ulen = size_t(f[58] << 8 | f[59]);
    if (54 + plen != f.size() || ulen != plen || ulen < 8) return std::nullopt;
    r.sport = uint16_t(f[54] << 8 | f[55]);
    r.dport = uint16_t(f[56] << 8 | f[57]);
    r.checksum_ok = (f[60] || f[61]) && udp6_sum(r.src, r.dst, &f[54], ulen) == 0xffff;
    r.payload.assign(f.begin() + 62, f.end());
    return r;
}

void Dhcp6Xdp::SetUp() {
    XdpTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto c = config::parse_toml(config_toml(), "dhcp6.toml");
    ASSERT_TRUE(c.ok()) << c.error();
    cfg_ = std::move(c.value());
    link_ = Link{"test0", 7, kServerMac, {kServerAddr}};
    // The interface: the program's config entry as the v4 sync writes it
    // (the MAC is the replies' Ethernet source).
    pxed_xdp_config xc{};
    xc.abi_version = PXED_ABI_VERSION;
    xc.enabled = 1;
    xc.ifindex = 7;
    std::copy(kServerMac.b.begin(), kServerMac.b.end(), xc.if_mac);
    ASSERT_TRUE(prog_->set_config(xc).ok());
    ASSERT_NO_FATAL_FAILURE(sync());
}

void Dhcp6Xdp::sync(const std::vector<bpf::Holder6>& holders) {
    bpf::Iface6View iv{"test0", kServerLL, link_.addrs, 64};
    auto rep = bpf::sync_maps6(*prog_, cfg_, iv, server_duid(), kHttpPort, holders);
    ASSERT_TRUE(rep.ok()) << rep.error();
    ASSERT_TRUE(rep->enabled);
}

Outcome Dhcp6Xdp::engine_reply(const Msg6& m, const Ipv6& src, Engine6* e) {
    Engine6 fresh(cfg_, server_duid(), kHttpPort);
    auto bytes = m.bytes();
    Request r{bytes, src, kAllServers, &link_};
    return (e ? e : &fresh)->handle(r, 1000);
}

void Dhcp6Xdp::expect_same(const Msg6& m, const Mac& mac, std::optional<Ipv6> src_in) {
    Ipv6 src = src_in.value_or(eui64_link_local(mac));
    auto d = engine_reply(m, src);
    ASSERT_FALSE(d.reply.empty()) << "the engine sends nothing: " << to_string(d.drop) << " " << d.detail;
    ASSERT_EQ(d.out, MsgType::Reply);
    auto k = run(frame6(Wire6{mac, *Mac::parse("33:33:00:01:00:02"), src}, m.bytes()));
    ASSERT_STREQ(pxed::test::verdict_name(k.verdict), "XDP_TX") << stats_line();
    auto r = parse_reply6(k.out);
    ASSERT_TRUE(r) << "the kernel's reply is not Ethernet/IPv6/UDP with lengths that add up";
    EXPECT_EQ(r->payload, d.reply) << "the kernel's DHCPv6 message differs from the daemon's";
    EXPECT_TRUE(r->checksum_ok);
    EXPECT_EQ(r->dst_mac, mac);
    EXPECT_EQ(r->src_mac, kServerMac);
    EXPECT_EQ(r->src, kServerLL);  // the daemon's socket answers a link-local client from ours
    EXPECT_EQ(r->dst, d.dst);
    EXPECT_EQ(r->dst, src);
    EXPECT_EQ(r->hop, 64);
    EXPECT_EQ(r->traffic_class, 0);
    EXPECT_EQ(r->sport, 547);
    EXPECT_EQ(r->dport, d.dst_port);
}

void Dhcp6Xdp::expect_pass6(const Frame& f, pxed_stat reason) {
    uint64_t before = stat(reason);
    auto k = run(f);
    EXPECT_STREQ(pxed::test::verdict_name(k.verdict), "XDP_PASS") << stats_line();
    EXPECT_EQ(stat(reason), before + 1) << "expected " << bpf::stat_name(reason) << "; " << stats_line();
    EXPECT_EQ(k.out, f) << "a passed frame was changed";
}

}  // namespace pxed::test6
