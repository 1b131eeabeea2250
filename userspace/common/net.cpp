#include "pxed/net.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstdio>

namespace pxed {

std::optional<Ipv4> Ipv4::parse(std::string_view s) {
    // inet_pton accepts only the strict dotted-quad form, which is what we want.
    std::string z(s);
    in_addr a{};
    if (inet_pton(AF_INET, z.c_str(), &a) != 1) return std::nullopt;
    return Ipv4(ntohl(a.s_addr));
}

std::string Ipv4::str() const {
    char buf[INET_ADDRSTRLEN];
    in_addr a{htonl(v)};
    inet_ntop(AF_INET, &a, buf, sizeof buf);
    return buf;
}

std::optional<Ipv4Net> Ipv4Net::parse(std::string_view s) {
    auto slash = s.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto a = Ipv4::parse(s.substr(0, slash));
    if (!a) return std::nullopt;
    auto p = s.substr(slash + 1);
    unsigned prefix = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (ec != std::errc() || ptr != p.data() + p.size() || p.empty() || prefix > 32) return std::nullopt;
    return Ipv4Net{*a, uint8_t(prefix)};
}

std::string Ipv4Net::str() const { return network().str() + "/" + std::to_string(prefix); }

std::optional<Ipv6> Ipv6::parse(std::string_view s) {
    if (s.size() > INET6_ADDRSTRLEN) return std::nullopt;
    std::string z(s);
    Ipv6 r;
    if (inet_pton(AF_INET6, z.c_str(), r.b.data()) != 1) return std::nullopt;
    return r;
}

std::string Ipv6::str() const {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, b.data(), buf, sizeof buf);
    return buf;
}

std::optional<Ipv6Net> Ipv6Net::parse(std::string_view s) {
    auto slash = s.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto a = Ipv6::parse(s.substr(0, slash));
    if (!a) return std::nullopt;
    auto p = s.substr(slash + 1);
    unsigned prefix = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (ec != std::errc() || ptr != p.data() + p.size() || p.empty() || prefix > 128) return std::nullopt;
    return Ipv6Net{*a, uint8_t(prefix)};
}

std::string Ipv6Net::str() const { return network().str() + "/" + std::to_string(prefix); }

std::optional<Mac> Mac::parse(std::string_view s) {
    if (s.size() != 17) return std::nullopt;
    Mac m;
    for (size_t i = 0; i < 6; i++) {
        if (i > 0 && s[i * 3 - 1] != ':' && s[i * 3 - 1] != '-') return std::nullopt;
        unsigned v = 0;
        auto part = s.substr(i * 3, 2);
        auto [ptr, ec] = std::from_chars(part.data(), part.data() + 2, v, 16);
        if (ec != std::errc() || ptr != part.data() + 2) return std::nullopt;
        m.b[i] = uint8_t(v);
    }
    return m;
}

std::string Mac::str() const {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
    return buf;
}

std::string hex_colons(std::string_view bytes) {
    static const char* kHex = "0123456789abcdef";
    std::string s;
    s.reserve(bytes.size() * 3);
    for (size_t i = 0; i < bytes.size(); i++) {
        if (i) s.push_back(':');
        auto b = uint8_t(bytes[i]);
        s.push_back(kHex[b >> 4]);
        s.push_back(kHex[b & 15]);
    }
    return s;
}

}  // namespace pxed
