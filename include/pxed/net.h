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

}  // namespace pxed
