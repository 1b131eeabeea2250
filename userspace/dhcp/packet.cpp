#include "dhcp/packet.h"

#include <algorithm>
#include <cstring>

namespace pxed::dhcp {

namespace {

uint32_t load32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
uint16_t load16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
void store32(uint8_t* p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
void store16(uint8_t* p, uint16_t v) { p[0] = v >> 8; p[1] = uint8_t(v); }

// Parses one options field into `out`. A field ends at option 255 or, when
// its options run cleanly to its last byte, at its end: Kea and dnsmasq
// accept an options field without END, and so do we; an option whose
// length runs past the end is refused. `main`: the options field proper,
// where option 52 counts (the codec resolves it).
Result<bool, ParseError> parse_field(std::span<const uint8_t> f, Options& out, bool main) {
    size_t i = 0;
    while (i < f.size()) {
        uint8_t code = f[i];
        if (code == opt::Pad) { i++; continue; }
        if (code == opt::End) return true;
        if (i + 1 >= f.size()) return Err(ParseError::OptionOverrun);
        size_t len = f[i + 1];
        if (i + 2 + len > f.size()) return Err(ParseError::OptionOverrun);
        // Option 52 only counts in the main area; the codec resolves it.
        if (!(code == opt::Overload && !main)) out.append_raw(code, f.subspan(i + 2, len));
        i += 2 + len;
    }
    return false;
}

bool all_zero(std::span<const uint8_t> f) {
    return std::all_of(f.begin(), f.end(), [](uint8_t b) { return b == 0; });
}

void put_option(std::vector<uint8_t>& out, const Option& o) {
    // RFC 3396: a value longer than 255 bytes is split into several options.
    size_t off = 0;
    do {
        size_t n = std::min<size_t>(255, o.data.size() - off);
        out.push_back(o.code);
        out.push_back(uint8_t(n));
        out.insert(out.end(), o.data.begin() + off, o.data.begin() + off + n);
        off += n;
    } while (off < o.data.size());
}

}  // namespace

std::string_view to_string(MessageType t) {
    switch (t) {
    case MessageType::Discover: return "DISCOVER";
    case MessageType::Offer: return "OFFER";
    case MessageType::Request: return "REQUEST";
    case MessageType::Decline: return "DECLINE";
    case MessageType::Ack: return "ACK";
    case MessageType::Nak: return "NAK";
    case MessageType::Release: return "RELEASE";
    case MessageType::Inform: return "INFORM";
    }
    return "UNKNOWN";
}

std::string_view to_string(ParseError e) {
    switch (e) {
    case ParseError::TooShort: return "too short";
    case ParseError::BadMagic: return "bad magic cookie";
    case ParseError::BadHardware: return "bad hardware address length";
    case ParseError::OptionOverrun: return "option runs past the end";
    case ParseError::NoEndOption: return "no end option";
    case ParseError::BadOverload: return "bad option overload value";
    }
    return "unknown";
}

const Option* Options::find(uint8_t code) const {
    for (const auto& o : list_)
        if (o.code == code) return &o;
    return nullptr;
}

void Options::set(uint8_t code, std::span<const uint8_t> data) {
    for (auto& o : list_)
        if (o.code == code) { o.data.assign(data.begin(), data.end()); return; }
    list_.push_back(Option{code, std::vector<uint8_t>(data.begin(), data.end())});
}

void Options::append_raw(uint8_t code, std::span<const uint8_t> data) {
    for (auto& o : list_)
        if (o.code == code) { o.data.insert(o.data.end(), data.begin(), data.end()); return; }
    list_.push_back(Option{code, std::vector<uint8_t>(data.begin(), data.end())});
}

void Options::erase(uint8_t code) {
    std::erase_if(list_, [code](const Option& o) { return o.code == code; });
}

void Options::set_u8(uint8_t code, uint8_t v) { set(code, std::span<const uint8_t>(&v, 1)); }
void Options::set_u16(uint8_t code, uint16_t v) { uint8_t b[2]; store16(b, v); set(code, b); }
void Options::set_u32(uint8_t code, uint32_t v) { uint8_t b[4]; store32(b, v); set(code, b); }
void Options::set_ip(uint8_t code, Ipv4 ip) { set_u32(code, ip.v); }
void Options::set_ips(uint8_t code, std::span<const Ipv4> ips) {
    std::vector<uint8_t> b(ips.size() * 4);
    for (size_t i = 0; i < ips.size(); i++) store32(&b[i * 4], ips[i].v);
    set(code, b);
}
void Options::set_str(uint8_t code, std::string_view s) {
    set(code, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

std::optional<uint8_t> Options::get_u8(uint8_t code) const {
    auto* o = find(code);
    if (!o || o->data.size() != 1) return std::nullopt;
    return o->data[0];
}
std::optional<uint16_t> Options::get_u16(uint8_t code) const {
    auto* o = find(code);
    if (!o || o->data.size() != 2) return std::nullopt;
    return load16(o->data.data());
}
std::optional<uint32_t> Options::get_u32(uint8_t code) const {
    auto* o = find(code);
    if (!o || o->data.size() != 4) return std::nullopt;
    return load32(o->data.data());
}
std::optional<Ipv4> Options::get_ip(uint8_t code) const {
    auto v = get_u32(code);
    if (!v) return std::nullopt;
    return Ipv4(*v);
}
std::optional<std::string> Options::get_str(uint8_t code) const {
    auto* o = find(code);
    if (!o) return std::nullopt;
    return std::string(o->data.begin(), o->data.end());
}

std::optional<MessageType> Packet::message_type() const {
    auto v = options.get_u8(opt::MessageType);
    if (!v || *v < 1 || *v > 8) return std::nullopt;
    return MessageType(*v);
}

Mac Packet::mac() const {
    Mac m;
    std::copy_n(chaddr.begin(), 6, m.b.begin());
    return m;
}

void Packet::set_mac(const Mac& m) {
    chaddr.fill(0);
    std::copy(m.b.begin(), m.b.end(), chaddr.begin());
}

void Packet::set_sname(std::string_view s) {
    sname.fill(0);
    std::copy_n(s.begin(), std::min(s.size(), sname.size() - 1), sname.begin());
}

void Packet::set_file(std::string_view s) {
    file.fill(0);
    std::copy_n(s.begin(), std::min(s.size(), file.size() - 1), file.begin());
}

std::string Packet::file_str() const {
    auto end = std::find(file.begin(), file.end(), 0);
    return std::string(file.begin(), end);
}

std::string Packet::sname_str() const {
    auto end = std::find(sname.begin(), sname.end(), 0);
    return std::string(sname.begin(), end);
}

Result<Packet, ParseError> parse(std::span<const uint8_t> b) {
    if (b.size() < kMinMessageLen) return Err(ParseError::TooShort);
    Packet p;
    p.op = b[0];
    p.htype = b[1];
    p.hlen = b[2];
    p.hops = b[3];
    p.xid = load32(&b[4]);
    p.secs = load16(&b[8]);
    p.flags = load16(&b[10]);
    p.ciaddr = Ipv4(load32(&b[12]));
    p.yiaddr = Ipv4(load32(&b[16]));
    p.siaddr = Ipv4(load32(&b[20]));
    p.giaddr = Ipv4(load32(&b[24]));
    if (p.hlen > p.chaddr.size()) return Err(ParseError::BadHardware);
    std::memcpy(p.chaddr.data(), &b[28], 16);
    std::memcpy(p.sname.data(), &b[44], 64);
    std::memcpy(p.file.data(), &b[108], 128);
    if (load32(&b[236]) != kMagicCookie) return Err(ParseError::BadMagic);

    auto main = parse_field(b.subspan(kMinMessageLen), p.options, true);
    if (!main) return Err(main.error());

    // Option overload (RFC 2131 4.1): file first, then sname.
    if (auto* ov = p.options.find(opt::Overload)) {
        if (ov->data.size() != 1 || ov->data[0] < 1 || ov->data[0] > 3) return Err(ParseError::BadOverload);
        uint8_t v = ov->data[0];
        if (v & 1) {
            auto r = parse_field(std::span<const uint8_t>(p.file), p.options, false);
            if (!r) return Err(r.error());
            p.file.fill(0);
        }
        if (v & 2) {
            auto r = parse_field(std::span<const uint8_t>(p.sname), p.options, false);
            if (!r) return Err(r.error());
            p.sname.fill(0);
        }
        // Overload is a wire encoding detail: the packet holds the decoded options.
        p.options.erase(opt::Overload);
    }
    return p;
}

std::vector<uint8_t> serialize(const Packet& p) {
    std::vector<uint8_t> out(kMinMessageLen, 0);
    out[0] = p.op;
    out[1] = p.htype;
    out[2] = p.hlen;
    out[3] = p.hops;
    store32(&out[4], p.xid);
    store16(&out[8], p.secs);
    store16(&out[10], p.flags);
    store32(&out[12], p.ciaddr.v);
    store32(&out[16], p.yiaddr.v);
    store32(&out[20], p.siaddr.v);
    store32(&out[24], p.giaddr.v);
    std::memcpy(&out[28], p.chaddr.data(), 16);
    std::memcpy(&out[44], p.sname.data(), 64);
    std::memcpy(&out[108], p.file.data(), 128);
    store32(&out[236], kMagicCookie);
    // Message type first, as clients and relays expect it early.
    if (auto* mt = p.options.find(opt::MessageType)) put_option(out, *mt);
    for (const auto& o : p.options.all())
        if (o.code != opt::MessageType && o.code != opt::Pad && o.code != opt::End) put_option(out, o);
    out.push_back(opt::End);
    if (out.size() < kBootpMinLen) out.resize(kBootpMinLen, 0);
    return out;
}

std::optional<std::vector<uint8_t>> serialize_within(const Packet& p, size_t max_len) {
    if (max_len < kBootpMinLen) return std::nullopt;
    auto plain = serialize(p);
    if (plain.size() <= max_len) return plain;

    // Overload. Each option is placed whole (its RFC 3396 pieces together)
    // in the first area with room: the options field, then file, then sname
    // (the order a client reads them in). Every area ends with END.
    bool file_free = all_zero(p.file), sname_free = all_zero(p.sname);
    if (!file_free && !sname_free) return std::nullopt;
    std::vector<uint8_t> mt, agent;
    if (auto* o = p.options.find(opt::MessageType)) put_option(mt, *o);
    if (auto* o = p.options.find(opt::RelayAgentInfo)) put_option(agent, *o);  // RFC 3046: last, main area
    size_t fixed = kMinMessageLen + mt.size() + 3 /* option 52 */ + agent.size() + 1 /* END */;
    if (fixed > max_len) return std::nullopt;
    struct Area { std::vector<uint8_t> bytes; size_t cap; };
    Area areas[3] = {{{}, max_len - fixed}, {{}, file_free ? p.file.size() - 1 : 0}, {{}, sname_free ? p.sname.size() - 1 : 0}};
    for (const auto& o : p.options.all()) {
        if (o.code == opt::MessageType || o.code == opt::RelayAgentInfo || o.code == opt::Pad ||
            o.code == opt::End || o.code == opt::Overload)
            continue;
        std::vector<uint8_t> enc;
        put_option(enc, o);
        auto* a = std::find_if(std::begin(areas), std::end(areas),
                               [&](const Area& x) { return x.bytes.size() + enc.size() <= x.cap; });
        if (a == std::end(areas)) return std::nullopt;
        a->bytes.insert(a->bytes.end(), enc.begin(), enc.end());
    }
    uint8_t overload = uint8_t((areas[1].bytes.empty() ? 0 : 1) | (areas[2].bytes.empty() ? 0 : 2));
    std::vector<uint8_t> out(plain.begin(), plain.begin() + kMinMessageLen);
    if (overload & 1) {
        std::fill_n(&out[108], 128, 0);
        areas[1].bytes.push_back(opt::End);
        std::copy(areas[1].bytes.begin(), areas[1].bytes.end(), &out[108]);
    }
    if (overload & 2) {
        std::fill_n(&out[44], 64, 0);
        areas[2].bytes.push_back(opt::End);
        std::copy(areas[2].bytes.begin(), areas[2].bytes.end(), &out[44]);
    }
    out.insert(out.end(), mt.begin(), mt.end());
    if (overload) out.insert(out.end(), {opt::Overload, 1, overload});
    out.insert(out.end(), areas[0].bytes.begin(), areas[0].bytes.end());
    out.insert(out.end(), agent.begin(), agent.end());
    out.push_back(opt::End);
    if (out.size() < kBootpMinLen) out.resize(kBootpMinLen, 0);
    return out;
}

}  // namespace pxed::dhcp
