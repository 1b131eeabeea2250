#include "config/dnsmasq_fields.h"

#include <charconv>

#include "config/config.h"

namespace pxed::config {

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false;
    for (char c : s) {
        if (c == '"') { quoted = !quoted; continue; }
        if (c == sep && !quoted) { out.push_back(cur); cur.clear(); continue; }
        cur += c;
    }
    out.push_back(cur);
    for (auto& f : out) {
        auto b = f.find_first_not_of(" \t");
        auto e = f.find_last_not_of(" \t");
        f = b == std::string::npos ? "" : f.substr(b, e - b + 1);
    }
    return out;
}

std::optional<uint32_t> lease_time(const std::string& s) {
    if (s == "infinite") return kInfiniteLease;
    if (s.empty()) return std::nullopt;
    uint64_t mult = 1;
    std::string num = s;
    switch (s.back()) {
    case 's': case 'S': num.pop_back(); break;
    case 'm': case 'M': mult = 60; num.pop_back(); break;
    case 'h': case 'H': mult = 3600; num.pop_back(); break;
    case 'd': case 'D': mult = 86400; num.pop_back(); break;
    case 'w': case 'W': mult = 604800; num.pop_back(); break;
    default: break;
    }
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
    if (ec != std::errc() || p != num.data() + num.size() || num.empty()) return std::nullopt;
    v *= mult;
    if (v < 120) v = 120;  // dnsmasq's minimum lease time
    if (v >= kInfiniteLease) return std::nullopt;
    return uint32_t(v);
}

}  // namespace pxed::config
