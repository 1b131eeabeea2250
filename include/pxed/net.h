#pragma once
// Address value types shared by every userspace target.
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pxed {

// An IPv4 address in host byte order.
struct Ipv4 {
    uint32_t v = 0;
    constexpr Ipv4() = default;
    constexpr explicit Ipv4(uint32_t host_order) : v(host_order) {}
    constexpr Ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
        : v(uint32_t(a) << 24 | uint32_t(b) << 16 | uint32_t(c) << 8 | d) {}
    constexpr bool is_zero() const { return v == 0; }
    auto operator<=>(const Ipv4&) const = default;

    static std::optional<Ipv4> parse(std::string_view s);
    std::string str() const;
};

// An IPv4 network: address and prefix length.
struct Ipv4Net {
    Ipv4 addr;
    uint8_t prefix = 0;
    constexpr uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t(0) << (32 - prefix); }
    constexpr Ipv4 network() const { return Ipv4(addr.v & mask()); }
    constexpr Ipv4 broadcast() const { return Ipv4(network().v | ~mask()); }
    constexpr bool contains(Ipv4 a) const { return (a.v & mask()) == network().v; }
    auto operator<=>(const Ipv4Net&) const = default;

    static std::optional<Ipv4Net> parse(std::string_view s);  // "a.b.c.d/n"
    std::string str() const;
};

// An IPv6 address, network byte order (as on the wire).
struct Ipv6 {
    std::array<uint8_t, 16> b{};
    auto operator<=>(const Ipv6&) const = default;
    bool is_zero() const {
        for (auto x : b)
            if (x) return false;
        return true;
    }
    bool is_link_local() const { return b[0] == 0xfe && (b[1] & 0xc0) == 0x80; }
    bool is_multicast() const { return b[0] == 0xff; }
    // The low 64 bits (the interface identifier of a /64), and the address
    // with them replaced: how pools of up to 2^64 addresses are walked.
    uint64_t low64() const {
        uint64_t v = 0;
        for (int i = 8; i < 16; i++) v = v << 8 | b[i];
        return v;
    }
    uint64_t high64() const {
        uint64_t v = 0;
        for (int i = 0; i < 8; i++) v = v << 8 | b[i];
        return v;
    }
    Ipv6 with_low64(uint64_t v) const {
        Ipv6 r = *this;
        for (int i = 15; i >= 8; i--, v >>= 8) r.b[i] = uint8_t(v);
        return r;
    }

    static std::optional<Ipv6> parse(std::string_view s);  // RFC 4291 text, no zone
    std::string str() const;                               // RFC 5952 text
};

// An IPv6 network: address and prefix length.
struct Ipv6Net {
    Ipv6 addr;
    uint8_t prefix = 0;
    bool contains(const Ipv6& a) const {
        for (int i = 0, bits = prefix; bits > 0; i++, bits -= 8) {
            uint8_t m = bits >= 8 ? 0xff : uint8_t(0xff << (8 - bits));
            if ((a.b[i] & m) != (addr.b[i] & m)) return false;
        }
        return true;
    }
    Ipv6 network() const {
        Ipv6 r;
        for (int i = 0, bits = prefix; bits > 0 && i < 16; i++, bits -= 8)
            r.b[i] = addr.b[i] & (bits >= 8 ? 0xff : uint8_t(0xff << (8 - bits)));
        return r;
    }
    auto operator<=>(const Ipv6Net&) const = default;

    static std::optional<Ipv6Net> parse(std::string_view s);  // "addr/n"
    std::string str() const;
};

// An Ethernet hardware address.
struct Mac {
    std::array<uint8_t, 6> b{};
    auto operator<=>(const Mac&) const = default;

    static std::optional<Mac> parse(std::string_view s);  // "aa:bb:cc:dd:ee:ff" or with '-'
    std::string str() const;
    // The six bytes as one number, for hash keys.
    uint64_t key() const {
        uint64_t k = 0;
        for (auto x : b) k = k << 8 | x;
        return k;
    }
};

// Bytes as lower-case hex pairs joined by ':' ("00:03:00:01"), as DUIDs,
// client identifiers and binary relay ids are shown; "" for no bytes.
std::string hex_colons(std::string_view bytes);
inline std::string hex_colons(const uint8_t* p, size_t n) {
    return hex_colons(std::string_view(reinterpret_cast<const char*>(p), n));
}

}  // namespace pxed
