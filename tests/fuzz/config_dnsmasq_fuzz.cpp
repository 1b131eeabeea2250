// Fuzzes the dnsmasq.conf front end: any bytes give a Config or an error
// naming the line; never a crash, never an escaping exception.
#include <cstdio>
#include <cstdlib>

#include "config/config.h"

using namespace pxed;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    // br0 is the tutorial's interface; eth1 has a small network.
    auto lookup = [](const std::string& ifname) -> std::optional<Ipv4Net> {
        if (ifname == "br0") return Ipv4Net::parse("192.168.1.1/24");
        if (ifname == "eth1") return Ipv4Net::parse("10.0.0.1/30");
        return std::nullopt;
    };
    std::vector<std::string> warnings;
    auto c = config::parse_dnsmasq(text, "fuzz.conf", lookup, warnings);
    if (!c.ok()) {
        if (c.error().empty()) std::abort();
        return 0;
    }
    auto v = config::validate(*c);
    if (!v.ok()) {
        std::fprintf(stderr, "accepted but invalid: %s\n", v.error().c_str());
        std::abort();
    }
    for (auto& s : c->subnets)  // a proxy subnet has no range
        if (!s.proxy && (!s.net.contains(s.range_start) || !s.net.contains(s.range_end) || s.range_end < s.range_start))
            std::abort();
    return 0;
}
