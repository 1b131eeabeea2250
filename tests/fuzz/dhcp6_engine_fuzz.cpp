// Fuzzes the DHCPv6 codec and server state machine: any datagram, direct
// (multicast) or as if relayed (unicast from a relay), must never crash the
// engine, and a reply is always a server message of bounded size. The
// lease table persists across inputs, so sequences of messages are tried.
#include <cstdlib>

#include "config/config.h"
#include "dhcp6/engine6.h"

using namespace pxed;

namespace {

const config::Config& cfg() {
    static config::Config c = *config::parse_toml(R"(
[server]
interfaces = ["eth0"]
[[subnet6]]
prefix = "fd00:6::/64"
range = ["fd00:6::100", "fd00:6::10f"]
dns = ["fd00:6::53"]
domain-search = ["example.org"]
boot-params = ["a", "b"]
[subnet6.boot]
uefi-x64 = "grubx64.efi"
x64-uefi-http = "http://[fd00:6::1]/x.efi"
[[reservation6]]
mac = "52:54:00:12:34:56"
ip = "fd00:6::42"
)",
                                                  "fuzz.toml");
    return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static dhcp6::Engine6 eng(cfg(), {0, 3, 0, 1, 2, 0, 0, 0, 0, 1}, 80);
    static dhcp6::Link link{"eth0", 2, Mac{{2, 0, 0, 0, 0, 1}}, {*Ipv6::parse("fd00:6::1")}};
    static int64_t now = 1'000'000;
    now += 7;  // leases and offers expire as inputs go by
    if (size == 0) return 0;
    bool relayed = data[0] & 1;
    dhcp6::Request r;
    r.bytes = std::span<const uint8_t>(data + 1, size - 1);
    r.src = relayed ? *Ipv6::parse("fd00:6::fe") : *Ipv6::parse("fe80::5054:ff:fe12:3456");
    r.dst = relayed ? *Ipv6::parse("fd00:6::1") : *Ipv6::parse("ff02::1:2");
    r.link = &link;
    auto out = eng.handle(r, now);
    if (!out.reply.empty()) {
        uint8_t t = out.reply[0];
        if (t != 2 && t != 7 && t != 13) std::abort();
        if (out.reply.size() > 65535) std::abort();
    }
    if (eng.leases().size() > 1000) std::abort();  // bounded by the pool (16) and the reservation, plus stale rows
    return 0;
}
