// The leaves of a class's match tree: on the whole request (the daemon)
// and on what the XDP program reads of it (three-valued). Pure.
#include "dhcp/policy_match.h"

#include "dhcp/agent_reservation.h"

#include <algorithm>
#include <optional>
#include <string>

namespace pxed::dhcp::match {

using config::Match;
using K = Match::Kind;

Tri tri(bool b) { return b ? Tri::True : Tri::False; }

std::string_view bytes(const Option& o) { return {reinterpret_cast<const char*>(o.data.data()), o.data.size()}; }
bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

// RFC 3004 user class: entries of length byte + data. iPXE sends the raw
// string "iPXE" instead; a value that does not parse as entries is one
// plain string (dnsmasq does the same).
std::vector<std::string_view> user_class_entries(std::string_view v) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < v.size()) {
        size_t n = uint8_t(v[i]);
        if (n == 0 || i + 1 + n > v.size()) return {v};
        out.push_back(v.substr(i + 1, n));
        i += 1 + n;
    }
    return out.empty() ? std::vector<std::string_view>{v} : out;
}

// dnsmasq's substring search over option 77: RFC 3004 length bytes are
// zeroed first when the entries add up exactly.

namespace {

std::string user_class_flat(std::string_view v) {
    std::string s(v);
    size_t i = 0;
    while (i < s.size()) {
        size_t n = uint8_t(s[i]);
        if (n == 0 || i + 1 + n > s.size()) return std::string(v);
        s[i] = '\0';
        i += 1 + n;
    }
    return s;
}

// Option 82 sub-option `sub`: the rule reservations by option 82 use too.
std::optional<std::string_view> agent_sub(const Packet& req, uint8_t sub) { return agent_sub_option(req, sub); }

bool masked_prefix(std::string_view v, std::string_view pat, std::string_view mask) {
    if (v.size() < pat.size()) return false;
    for (size_t i = 0; i < pat.size(); i++) {
        uint8_t m = i < mask.size() ? uint8_t(mask[i]) : 0xff;
        if ((uint8_t(v[i]) & m) != (uint8_t(pat[i]) & m)) return false;
    }
    return true;
}

// Leaves on the whole request (the daemon).

}  // namespace

Tri exact_leaf(const Match& m, const Facts& f) {
    const Packet& r = *f.req;
    switch (m.kind) {
    case K::Arch: {
        const Option* o = r.options.find(opt::ClientArch);
        if (!o || o->data.size() < 2) return Tri::False;
        uint16_t a = uint16_t(o->data[0] << 8 | o->data[1]);
        return tri(std::find(m.archs.begin(), m.archs.end(), a) != m.archs.end());
    }
    case K::VendorClassPrefix: {
        const Option* o = r.options.find(opt::VendorClass);
        return tri(o && bytes(*o).starts_with(m.text));
    }
    case K::VendorClassContains: {
        const Option* o = r.options.find(opt::VendorClass);
        return tri(o && contains(bytes(*o), m.text));
    }
    case K::UserClass: {
        const Option* o = r.options.find(opt::UserClass);
        if (!o) return Tri::False;
        for (auto e : user_class_entries(bytes(*o)))
            if (e == m.text) return Tri::True;
        return Tri::False;
    }
    case K::UserClassContains: {
        const Option* o = r.options.find(opt::UserClass);
        return tri(o && contains(user_class_flat(bytes(*o)), m.text));
    }
    case K::OptionPresent: return tri(r.options.has(m.code));
    case K::OptionBytes: {
        const Option* o = r.options.find(m.code);
        return tri(o && masked_prefix(bytes(*o), m.text, m.mask));
    }
    case K::OptionContains: {
        const Option* o = r.options.find(m.code);
        return tri(o && contains(bytes(*o), m.text));
    }
    case K::CircuitId: {
        auto v = agent_sub(r, 1);
        return tri(v && *v == m.text);
    }
    case K::RemoteId: {
        auto v = agent_sub(r, 2);
        return tri(v && *v == m.text);
    }
    default: return Tri::Unknown;
    }
}

// Leaves on what the XDP program sees. A MAC's blobs answer a request
// without option 82; one with it is answered from them only when no class
// reads option 82 (bpf/map_sync.cpp PXED_RESV_O82_PASS), the program
// echoing it. A reservation by option 82 knows its own id (KernelView).
Tri kernel_leaf(const Match& m, const KernelView& k) {
    auto vendor = [&](std::string_view known) -> std::string_view {
        return k.vendor == VendorKind::PxeClient ? kPxeClient : known;
    };
    switch (m.kind) {
    case K::Arch: {
        if (!k.arch) return Tri::False;
        if (*k.arch < kKernelArchSlots)
            return tri(std::find(m.archs.begin(), m.archs.end(), *k.arch) != m.archs.end());
        bool any_high = std::any_of(m.archs.begin(), m.archs.end(), [](uint16_t a) { return a >= kKernelArchSlots; });
        return any_high ? Tri::Unknown : Tri::False;
    }
    case K::VendorClassPrefix:
    case K::VendorClassContains: {
        if (k.vendor == VendorKind::Absent) return Tri::False;
        if (k.vendor == VendorKind::Other) {
            // Known not to start with either word: nor with a longer prefix.
            bool extends = m.text.starts_with(kPxeClient) || m.text.starts_with(kHttpClient);
            return m.kind == K::VendorClassPrefix && extends ? Tri::False : Tri::Unknown;
        }
        // The program knows only that option 60 starts with this word.
        std::string_view word = vendor(kHttpClient);
        if (m.kind == K::VendorClassPrefix) {
            if (word.starts_with(m.text)) return Tri::True;
            if (m.text.starts_with(word)) return Tri::Unknown;  // longer: the rest is not known
            return Tri::False;
        }
        return contains(word, m.text) ? Tri::True : Tri::Unknown;
    }
    case K::UserClass: return tri(k.ipxe && m.text == kIpxe);
    case K::UserClassContains: return tri(k.ipxe && contains(kIpxe, m.text) && !m.text.empty());
    case K::OptionPresent:
        switch (m.code) {
        case kIpxeEncap: return tri(k.opt175);
        case opt::VendorClass: return tri(k.vendor != VendorKind::Absent);
        case opt::UserClass: return tri(k.ipxe);
        case opt::ClientArch: return tri(k.arch.has_value());
        case opt::RelayAgentInfo: return tri(k.o82);
        case opt::MessageType: return Tri::True;
        default: return Tri::Unknown;
        }
    case K::OptionBytes:
    case K::OptionContains: {
        bool absent = (m.code == opt::VendorClass && k.vendor == VendorKind::Absent) ||
                      (m.code == opt::UserClass && !k.ipxe) || (m.code == kIpxeEncap && !k.opt175) ||
                      (m.code == opt::ClientArch && !k.arch) || (m.code == opt::RelayAgentInfo && !k.o82);
        if (absent) return Tri::False;
        if (m.kind == K::OptionBytes && m.code == opt::ClientArch && k.arch && *k.arch < kKernelArchSlots &&
            m.text.size() <= 2) {
            std::string two = {char(*k.arch >> 8), char(*k.arch & 0xff)};
            return tri(masked_prefix(two, m.text, m.mask));
        }
        return Tri::Unknown;
    }
    case K::CircuitId:
    case K::RemoteId: {
        if (!k.o82) return Tri::False;
        uint8_t sub = m.kind == K::CircuitId ? 1 : 2;
        return k.agent_kind == sub ? tri(k.agent_id == m.text) : Tri::Unknown;
    }
    default: return Tri::Unknown;
    }
}

bool reads_request(K k) {
    switch (k) {
    case K::Arch: case K::VendorClassPrefix: case K::VendorClassContains: case K::UserClass:
    case K::UserClassContains: case K::OptionPresent: case K::OptionBytes: case K::OptionContains:
    case K::CircuitId: case K::RemoteId: return true;
    default: return false;
    }
}


}  // namespace pxed::dhcp::match
