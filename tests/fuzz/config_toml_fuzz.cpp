// Fuzzes the TOML configuration front end: any bytes give a Config or an
// error naming what is wrong; never a crash, never an escaping exception.
#include <cstdio>
#include <cstdlib>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto c = pxed::config::parse_toml(text, "fuzz.toml");
    if (!c.ok()) {
        if (c.error().empty()) std::abort();
        return 0;
    }
    // What the front end accepts is valid.
    auto v = pxed::config::validate(*c);
    if (!v.ok()) {
        std::fprintf(stderr, "accepted but invalid: %s\n", v.error().c_str());
        std::abort();
    }
    for (auto& s : c->subnets) {
        if (!s.net.contains(s.range_start) || !s.net.contains(s.range_end) || s.range_end < s.range_start) std::abort();
        (void)c->subnet_for(s.range_start);
    }
    for (auto& r : c->reservations) (void)c->reservation_for(r.mac);
    return 0;
}
