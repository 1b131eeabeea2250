// Boot policy: class matching (every kind of test), precedence (host >
// classes > subnet > global), the boot tables, option 55, and the TOML
// front end's errors for it. Pure: no sockets, no kernel.
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/option_value.h"
#include "dhcp/engine.h"
#include "dhcp/policy.h"
#include "support/toml_fixture.h"

using namespace pxed;
using namespace pxed::dhcp;

namespace {

namespace toml = pxed::test::toml;

const std::string kBase = toml::server("eth0") + toml::lan_subnet("192.0.2.200", "domain = \"lab.test\"\n");

config::Config load(const std::string& rest) {
    auto c = config::parse_toml(kBase + rest, "policy.toml");
    EXPECT_TRUE(c.ok()) << c.error();
    return c.ok() ? std::move(c.value()) : config::Config{};
}

std::string error_of(const std::string& rest) {
    auto c = config::parse_toml(kBase + rest, "policy.toml");
    return c.ok() ? "" : c.error();
}

Packet req(const std::string& mac = "52:54:00:00:00:01") {
    Packet p;
    p.set_mac(*Mac::parse(mac));
    p.options.set_u8(opt::MessageType, 1);
    return p;
}

// The policy of `p` as the daemon resolves it on the first subnet.
Policy policy(const config::Config& c, const Packet& p) {
    const config::Reservation* r = c.reservation_for(p.mac());
    const config::Host* h = r ? nullptr : c.host_for(p.mac());
    return *resolve(c, HostRef::of(r, h), Facts::exact(p, &c.subnets[0], r || h));
}

std::vector<std::string> names(const Policy& p) {
    std::vector<std::string> n;
    for (auto* c : p.classes) n.push_back(c->name);
    return n;
}

const config::OptionValue* option(const Policy& p, uint8_t code) {
    for (auto& o : p.options)
        if (o.code == code) return &o;
    return nullptr;
}

}  // namespace

TEST(Policy, EveryKindOfTestMatches) {
    auto c = load(
        "\n[[class]]\nname = \"arm64\"\nmatch = { arch = [\"arm64-uefi\", 19] }\n"
        "\n[[class]]\nname = \"pxe\"\nmatch = { vendor-class = \"PXEClient\" }\n"
        "\n[[class]]\nname = \"msft\"\nmatch = { vendor-class-contains = \"MSFT\" }\n"
        "\n[[class]]\nname = \"ipxe\"\nmatch = { user-class = \"iPXE\" }\n"
        "\n[[class]]\nname = \"gpxe\"\nmatch = { user-class-contains = \"PXE\" }\n"
        "\n[[class]]\nname = \"has175\"\nmatch = { option = 175 }\n"
        "\n[[class]]\nname = \"x64hex\"\nmatch = { option-hex = { code = 93, value = \"00:*\" } }\n"
        "\n[[class]]\nname = \"guid\"\nmatch = { option-contains = { code = 97, value = \"RPi4\" } }\n"
        "\n[[class]]\nname = \"pi\"\nmatch = { mac = \"b8:27:eb:*:*:*\" }\n"
        "\n[[class]]\nname = \"oui\"\nmatch = { mac = \"52:54:00:00:00:00/24\" }\n"
        "\n[[class]]\nname = \"rack\"\nmatch = { circuit-id = \"ge-0/0/1\" }\n"
        "\n[[class]]\nname = \"remote\"\nmatch = { remote-id-hex = \"00:11\" }\n"
        "\n[[class]]\nname = \"lan\"\nmatch = { subnet = \"192.0.2.0/25\" }\n"
        "\n[[class]]\nname = \"wide\"\nmatch = { subnet = \"192.0.0.0/16\" }\n"
        "\n[[class]]\nname = \"unknown\"\nmatch = { known = false }\n"
        "\n[[class]]\nname = \"both\"\nmatch = { class = \"arm64\", not = { class = \"ipxe\" } }\n");
    auto p = req();
    EXPECT_EQ(names(policy(c, p)), (std::vector<std::string>{"oui", "wide", "unknown"}));

    p.options.set_u16(opt::ClientArch, 11);
    p.options.set_str(opt::VendorClass, "PXEClient:Arch:00011:UNDI:003000");
    std::vector<uint8_t> uc = {4, 'i', 'P', 'X', 'E'};  // one RFC 3004 entry
    p.options.set(opt::UserClass, uc);
    p.options.set(175, std::vector<uint8_t>{0x13, 1, 1, 255});
    p.options.set_str(97, "xxRPi4yy");
    std::vector<uint8_t> agent = {1, 8, 'g', 'e', '-', '0', '/', '0', '/', '1', 2, 2, 0x00, 0x11};
    p.options.set(opt::RelayAgentInfo, agent);
    EXPECT_EQ(names(policy(c, p)), (std::vector<std::string>{"arm64", "pxe", "ipxe", "gpxe", "has175", "x64hex",
                                                              "guid", "oui", "rack", "remote", "wide", "unknown"}));

    auto pi = req("b8:27:eb:12:34:56");
    pi.options.set_str(opt::VendorClass, "MSFT 5.0");
    pi.options.set_str(opt::UserClass, "iPXE");  // iPXE's raw (non-RFC 3004) form
    pi.options.set_u16(opt::ClientArch, 19);
    EXPECT_EQ(names(policy(c, pi)), (std::vector<std::string>{"arm64", "msft", "ipxe", "gpxe", "x64hex", "pi", "wide",
                                                               "unknown"}));
    pi.options.erase(opt::UserClass);
    EXPECT_EQ(names(policy(c, pi)),
              (std::vector<std::string>{"arm64", "msft", "x64hex", "pi", "wide", "unknown", "both"}));
}

TEST(Policy, HostOverClassesOverSubnetOverGlobal) {
    auto c = load(
        "options = [ { code = 42, ip = \"192.0.2.42\" }, { code = 44, ip = \"192.0.2.44\" } ]\n"
        "boot = { bios = \"subnet.0\" }\n"
        "\n[[reservation]]\nmac = \"52:54:00:00:00:01\"\nip = \"192.0.2.10\"\nclasses = [\"second\"]\n"
        "options = [ { code = 40, string = \"host\" } ]\n"
        "\n[boot]\nbios = \"global.0\"\nany = \"global-any\"\nnext-server = \"192.0.2.9\"\n"
        "\n[[option]]\ncode = 44\nip = \"192.0.2.99\"\n"
        "\n[[option]]\ncode = 45\nip = \"192.0.2.45\"\n"
        "\n[[class]]\nname = \"first\"\nmatch = { arch = 0 }\nboot-file = \"first.0\"\nnext-server = \"192.0.2.7\"\n"
        "options = [ { code = 40, string = \"first\" }, { code = 42, ip = \"192.0.2.1\" } ]\n"
        "\n[[class]]\nname = \"second\"\nboot-file = \"second.0\"\n"
        "options = [ { code = 42, ip = \"192.0.2.2\" }, { code = 43, hex = \"0601\" } ]\n");
    auto p = req();
    p.options.set_u16(opt::ClientArch, 0);
    auto pol = policy(c, p);
    EXPECT_EQ(names(pol), (std::vector<std::string>{"second", "first"}));  // the host's classes first
    EXPECT_EQ(pol.boot_file, "second.0");
    EXPECT_EQ(pol.next_server, Ipv4(192, 0, 2, 7));  // class first: second sets none
    EXPECT_EQ(std::string(option(pol, 40)->data.begin(), option(pol, 40)->data.end()), "host");
    EXPECT_EQ(option(pol, 42)->data, config::encode_ip(Ipv4(192, 0, 2, 2)));   // class over subnet
    EXPECT_EQ(option(pol, 44)->data, config::encode_ip(Ipv4(192, 0, 2, 44)));  // subnet over global
    EXPECT_EQ(option(pol, 45)->data, config::encode_ip(Ipv4(192, 0, 2, 45)));  // global
    ASSERT_TRUE(option(pol, opt::DomainName));
    for (size_t i = 1; i < pol.options.size(); i++) EXPECT_LT(pol.options[i - 1].code, pol.options[i].code);

    // Without classes: the subnet's table, then the global one, key by key.
    auto other = req("52:54:00:00:00:02");
    // No option 93: class first's arch test does not hold (the option is
    // absent), while the boot tables count it as arch 0.
    EXPECT_EQ(policy(c, other).boot_file, "subnet.0");
    other.options.set_u16(opt::ClientArch, 11);
    auto pol2 = policy(c, other);
    EXPECT_EQ(pol2.boot_file, "global-any");
    EXPECT_EQ(pol2.next_server, Ipv4(192, 0, 2, 9));
}

TEST(Policy, NetbootFalseAndTheFirstLevelThatDecides) {
    auto c = load(
        "boot = { any = \"subnet.0\" }\n"
        "\n[[reservation]]\nmac = \"52:54:00:00:00:01\"\nnetboot = false\n"
        "\n[[reservation]]\nmac = \"52:54:00:00:00:02\"\nboot-file = \"mine.0\"\nclasses = [\"off\"]\n"
        "\n[[class]]\nname = \"off\"\nmatch = { arch = 7 }\nnetboot = false\n"
        "\n[[class]]\nname = \"x64\"\nmatch = { arch = 7 }\nboot-file = \"x64.efi\"\n");
    EXPECT_EQ(policy(c, req("52:54:00:00:00:01")).boot_file, "");
    EXPECT_EQ(policy(c, req("52:54:00:00:00:02")).boot_file, "mine.0");  // the host over its class
    auto x64 = req("52:54:00:00:00:03");
    x64.options.set_u16(opt::ClientArch, 7);
    EXPECT_EQ(policy(c, x64).boot_file, "");  // class off comes first
    EXPECT_EQ(policy(c, req("52:54:00:00:00:03")).boot_file, "subnet.0");
    ASSERT_EQ(c.hosts.size(), 2u);  // entries without ip are host entries
    EXPECT_TRUE(c.reservations.empty());
}

TEST(Policy, BootTablesCoverEveryArchitecture) {
    auto c = load("boot = { bios = \"b.0\", uefi-x64 = \"x.efi\", 9 = \"nine.efi\", arm64-uefi = \"a.efi\", "
                  "x64-uefi-http = \"http://192.0.2.1/h.efi\", rpiboot = \"bootcode.bin\", ipxe = \"s.ipxe\" }\n");
    auto file = [&](std::optional<uint16_t> arch, bool ipxe = false) {
        auto p = req();
        if (arch) p.options.set_u16(opt::ClientArch, *arch);
        if (ipxe) p.options.set(175, std::vector<uint8_t>{0x13, 1, 1, 255});
        auto pol = policy(c, p);
        return pol.boot_file + (pol.http ? " http" : "");
    };
    EXPECT_EQ(file(std::nullopt), "b.0");
    EXPECT_EQ(file(0), "b.0");
    EXPECT_EQ(file(7), "x.efi");
    EXPECT_EQ(file(9), "nine.efi");  // its own key wins over the uefi-x64 alias
    EXPECT_EQ(file(11), "a.efi");
    EXPECT_EQ(file(16), "http://192.0.2.1/h.efi http");
    EXPECT_EQ(file(41), "bootcode.bin");
    EXPECT_EQ(file(6), "");
    EXPECT_EQ(file(11, true), "s.ipxe");
    EXPECT_EQ(config::arch_table().size(), 42u);
    for (auto& a : config::arch_table()) EXPECT_EQ(config::arch_codes(a.name).at(0), a.code) << a.name;
}

TEST(Policy, OptionsNotAskedForAreLeftOutUnlessAlways) {
    auto c = load("options = [ { code = 42, ip = \"192.0.2.42\" }, { code = 150, ip = \"192.0.2.150\", always = true } ]\n");
    pxed::dhcp::Engine e(c);
    auto p = req();
    auto has = [&](const Packet& q, uint8_t code) {
        auto o = e.handle(q, RxInfo{Ipv4(192, 0, 2, 1)}, 100);
        return o.reply && o.reply->packet.options.has(code);
    };
    EXPECT_TRUE(has(p, 42));  // no option 55: everything
    EXPECT_TRUE(has(p, 150));
    p.options.set(opt::ParamRequestList, std::vector<uint8_t>{1, 3, 6});
    EXPECT_FALSE(has(p, 42));
    EXPECT_TRUE(has(p, 150));
    EXPECT_TRUE(has(p, opt::DomainName));  // the subnet's own fields are sent as before
    p.options.set(opt::ParamRequestList, std::vector<uint8_t>{1, 3, 6, 42});
    EXPECT_TRUE(has(p, 42));
}

TEST(Policy, IgnoreAndKnownClientsOnly) {
    auto c = load("known-clients-only = true\n"
                  "\n[[reservation]]\nmac = \"52:54:00:00:00:01\"\nip = \"192.0.2.10\"\n"
                  "\n[[reservation]]\nmac = \"52:54:00:00:00:02\"\n"
                  "\n[[reservation]]\nmac = \"52:54:00:00:00:03\"\nignore = true\n"
                  "\n[[class]]\nname = \"no-http\"\nmatch = { vendor-class = \"HTTPClient\" }\nignore = true\n");
    pxed::dhcp::Engine e(c);
    auto run = [&](const Packet& p) { return e.handle(p, RxInfo{Ipv4(192, 0, 2, 1)}, 100); };
    auto o = run(req("52:54:00:00:00:09"));
    EXPECT_FALSE(o.reply);
    EXPECT_EQ(o.drop, Drop::Ignored);
    EXPECT_EQ(run(req("52:54:00:00:00:01")).reply->packet.yiaddr, Ipv4(192, 0, 2, 10));
    EXPECT_EQ(run(req("52:54:00:00:00:02")).reply->packet.yiaddr, Ipv4(192, 0, 2, 100));  // a host entry: the pool
    EXPECT_EQ(run(req("52:54:00:00:00:03")).drop, Drop::Ignored);
    auto http = req("52:54:00:00:00:01");
    http.options.set_str(opt::VendorClass, "HTTPClient:Arch:00016");
    EXPECT_EQ(run(http).drop, Drop::Ignored);
}

TEST(Policy, TomlErrorsNameTheValueAndLine) {
    EXPECT_NE(error_of("\n[[class]]\nname = \"a\"\nmatch = { arch = \"arm65-uefi\" }\n").find("'arm65-uefi' is not an architecture"),
              std::string::npos);
    EXPECT_NE(error_of("\n[[class]]\nname = \"a\"\nmatch = { class = \"b\" }\n\n[[class]]\nname = \"b\"\n")
                  .find("class 'b' is not defined before it"),
              std::string::npos);
    EXPECT_NE(error_of("\n[[class]]\nname = \"a\"\n\n[[class]]\nname = \"a\"\n").find("defined twice"), std::string::npos);
    EXPECT_NE(error_of("\n[[class]]\nname = \"a\"\nmatch = { colour = \"red\" }\n").find("unknown test 'colour'"),
              std::string::npos);
    EXPECT_NE(error_of("options = [ { code = 53, u8 = 1 } ]\n").find("option 53 is written by pxed itself"),
              std::string::npos);
    EXPECT_NE(error_of("options = [ { code = 42, ip = \"1.2.3\" } ]\n").find("'1.2.3' is not an IPv4 address"),
              std::string::npos);
    EXPECT_NE(error_of("options = [ { code = 42, ip = \"1.2.3.4\", u8 = 3 } ]\n").find("give one value"),
              std::string::npos);
    EXPECT_NE(error_of("options = [ { code = 42, hex = \"zz\" } ]\n").find("'zz' is not hex"), std::string::npos);
    EXPECT_NE(error_of("\n[[reservation]]\nmac = \"52:54:00:00:00:01\"\nclasses = [\"nope\"]\n").find("class 'nope' is not defined"),
              std::string::npos);
    EXPECT_NE(error_of("\n[[class]]\nname = \"a\"\nmatch = { mac = \"b8:27:eb:*:*\" }\n").find("is not a MAC pattern"),
              std::string::npos);
    std::string e = error_of("boot = { arm99 = \"x\" }\n");
    EXPECT_NE(e.find("policy.toml:"), std::string::npos) << e;
    EXPECT_NE(e.find("unknown key 'arm99'"), std::string::npos) << e;
}

TEST(Policy, EncodedValues) {
    auto c = load("options = [ { code = 43, sub = [ { code = 6, u8 = 8 }, { code = 9, record = [ { u16 = 0 }, { u8 = 3 }, "
                  "{ string = \"abc\" } ] } ] }, { code = 128, u32 = 16909060 }, { code = 129, bool = true }, "
                  "{ code = 130, ips = [\"192.0.2.1\", \"192.0.2.2\"] } ]\n");
    auto& o = c.subnets[0].options;
    EXPECT_EQ(o[0].data, (std::vector<uint8_t>{6, 1, 8, 9, 6, 0, 0, 3, 'a', 'b', 'c', 255}));
    EXPECT_EQ(o[1].data, (std::vector<uint8_t>{1, 2, 3, 4}));
    EXPECT_EQ(o[2].data, (std::vector<uint8_t>{1}));
    EXPECT_EQ(o[3].data, (std::vector<uint8_t>{192, 0, 2, 1, 192, 0, 2, 2}));
}
