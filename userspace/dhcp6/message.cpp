#include "dhcp6/message.h"

#include <algorithm>

namespace pxed::dhcp6 {

namespace {

uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

// Walks the options of `b` (code, value); false when one runs past the end.
template <class F>
bool each_option(std::span<const uint8_t> b, F&& f) {
    size_t i = 0;
    while (i < b.size()) {
        if (b.size() - i < 4) return false;
        uint16_t code = be16(&b[i]), len = be16(&b[i + 2]);
        if (b.size() - i - 4 < len) return false;
        if (!f(code, b.subspan(i + 4, len))) return false;
        i += 4 + size_t(len);
    }
    return true;
}

// RFC 8415 21.15/21.16: entries of a 16-bit length each.
bool length_prefixed(std::span<const uint8_t> v, std::vector<std::string>& out) {
    size_t i = 0;
    while (i < v.size()) {
        if (v.size() - i < 2) return false;
        uint16_t n = be16(&v[i]);
        if (v.size() - i - 2 < n) return false;
        out.emplace_back(reinterpret_cast<const char*>(&v[i + 2]), n);
        i += 2 + size_t(n);
    }
    return true;
}

bool parse_ia_na(std::span<const uint8_t> v, IaNa& ia) {
    if (v.size() < 12) return false;
    ia.iaid = be32(&v[0]);
    ia.t1 = be32(&v[4]);
    ia.t2 = be32(&v[8]);
    return each_option(v.subspan(12), [&](uint16_t code, std::span<const uint8_t> o) {
        if (code != opt::IaAddr) return true;
        if (o.size() < 24) return false;
        IaAddr a;
        std::copy_n(o.begin(), 16, a.addr.b.begin());
        a.preferred = be32(&o[16]);
        a.valid = be32(&o[20]);
        if (ia.addrs.size() < 16) ia.addrs.push_back(a);
        return true;
    });
}

bool parse_client_message(std::span<const uint8_t> b, Message& m) {
    if (b.size() < 4) return false;
    m.type = MsgType(b[0]);
    m.xid = uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
    bool have_client = false;
    return each_option(b.subspan(4), [&](uint16_t code, std::span<const uint8_t> v) {
        switch (code) {
        case opt::ClientId:
            if (have_client || v.size() < 2 || v.size() > 130) return false;
            m.client_id.assign(v.begin(), v.end());
            have_client = true;
            return true;
        case opt::ServerId:
            if (m.has_server_id || v.size() < 2 || v.size() > 130) return false;
            m.server_id.assign(v.begin(), v.end());
            m.has_server_id = true;
            return true;
        case opt::IaNa: {
            IaNa ia;
            if (!parse_ia_na(v, ia)) return false;
            if (m.ia_na.size() < 8) m.ia_na.push_back(std::move(ia));
            return true;
        }
        case opt::IaTa: m.has_ia_ta = true; return true;
        case opt::IaPd: m.has_ia_pd = true; return true;
        case opt::Oro:
            if (v.size() % 2) return false;
            for (size_t i = 0; i < v.size(); i += 2) m.oro.push_back(be16(&v[i]));
            return true;
        case opt::RapidCommit: m.rapid_commit = true; return true;
        case opt::ReconfAccept: m.reconf_accept = true; return true;
        case opt::ClientArch:
            if (v.size() % 2 || v.empty()) return false;
            for (size_t i = 0; i < v.size(); i += 2) m.archs.push_back(be16(&v[i]));
            return true;
        case opt::VendorClass:
            if (v.size() < 4) return false;
            m.vendor_enterprise = be32(&v[0]);
            return length_prefixed(v.subspan(4), m.vendor_class);
        case opt::UserClass: return length_prefixed(v, m.user_class);
        default: return true;
        }
    });
}

}  // namespace

const char* to_string(MsgType t) {
    static const char* const names[] = {"?",      "SOLICIT", "ADVERTISE", "REQUEST", "CONFIRM",
                                        "RENEW",  "REBIND",  "REPLY",     "RELEASE", "DECLINE",
                                        "RECONFIGURE", "INFORMATION-REQUEST", "RELAY-FORW", "RELAY-REPL"};
    auto i = size_t(t);
    return i < std::size(names) ? names[i] : "?";
}

bool Message::requested(uint16_t code) const { return std::find(oro.begin(), oro.end(), code) != oro.end(); }

bool Message::vendor_class_starts(std::string_view prefix) const {
    return std::any_of(vendor_class.begin(), vendor_class.end(), [&](auto& e) { return e.starts_with(prefix); });
}

Result<Parsed> parse(std::span<const uint8_t> bytes) {
    Parsed p;
    std::span<const uint8_t> b = bytes;
    if (b.size() > kMaxMessage * 64) return Err("message too long");
    while (!b.empty() && b[0] == uint8_t(MsgType::RelayForw)) {
        if (int(p.relays.size()) > kHopCountLimit) return Err("more relay layers than HOP_COUNT_LIMIT");
        if (b.size() < 34) return Err("relay message cut short");
        RelayHop hop;
        hop.hop_count = b[1];
        std::copy_n(b.begin() + 2, 16, hop.link.b.begin());
        std::copy_n(b.begin() + 18, 16, hop.peer.b.begin());
        std::span<const uint8_t> inner;
        bool has_inner = false;
        bool ok = each_option(b.subspan(34), [&](uint16_t code, std::span<const uint8_t> v) {
            if (code == opt::RelayMsg) {
                if (has_inner) return false;
                inner = v;
                has_inner = true;
            } else if (code == opt::InterfaceId) {
                hop.interface_id.emplace(v.begin(), v.end());
            } else if (code == opt::ClientLinkLayer && v.size() == 8 && be16(&v[0]) == 1) {
                Mac m;
                std::copy_n(v.begin() + 2, 6, m.b.begin());
                hop.client_mac = m;
            }
            return true;
        });
        if (!ok) return Err("relay message: an option runs past the end");
        if (!has_inner) return Err("relay message without a relay-message option");
        p.relays.push_back(std::move(hop));
        b = inner;
    }
    if (b.empty()) return Err("empty message");
    uint8_t t = b[0];
    if (t == uint8_t(MsgType::Advertise) || t == uint8_t(MsgType::Reply) || t == uint8_t(MsgType::Reconfigure) ||
        t == uint8_t(MsgType::RelayRepl) || t == 0 || t > uint8_t(MsgType::RelayRepl))
        return Err("message type " + std::to_string(t) + " is not one a server takes");
    if (!parse_client_message(b, p.msg)) return Err(std::string(to_string(MsgType(t))) + ": malformed options");
    return p;
}

std::optional<Mac> mac_of(const Parsed& p) {
    if (!p.relays.empty() && p.relays.back().client_mac) return p.relays.back().client_mac;
    auto& d = p.msg.client_id;
    // DUID-LLT: type 1, htype, time, address; DUID-LL: type 3, htype, address.
    size_t at = 0;
    if (d.size() == 14 && be16(&d[0]) == 1 && be16(&d[2]) == 1) at = 8;
    else if (d.size() == 10 && be16(&d[0]) == 3 && be16(&d[2]) == 1) at = 4;
    else return std::nullopt;
    Mac m;
    std::copy_n(d.begin() + long(at), 6, m.b.begin());
    return m;
}

std::optional<Mac> mac_from_link_local(const Ipv6& a) {
    if (!a.is_link_local() || a.b[11] != 0xff || a.b[12] != 0xfe) return std::nullopt;
    Mac m;
    m.b = {uint8_t(a.b[8] ^ 0x02), a.b[9], a.b[10], a.b[13], a.b[14], a.b[15]};
    return m;
}

Writer::Writer(MsgType type, uint32_t xid) {
    out_.reserve(256);
    out_ = {uint8_t(type), uint8_t(xid >> 16), uint8_t(xid >> 8), uint8_t(xid)};
}

Writer Writer::relay_repl(const RelayHop& hop) {
    Writer w;
    w.out_.reserve(320);
    w.out_.push_back(uint8_t(MsgType::RelayRepl));
    w.out_.push_back(hop.hop_count);
    w.out_.insert(w.out_.end(), hop.link.b.begin(), hop.link.b.end());
    w.out_.insert(w.out_.end(), hop.peer.b.begin(), hop.peer.b.end());
    if (hop.interface_id) w.option(opt::InterfaceId, *hop.interface_id);
    return w;
}

void Writer::u32(uint32_t v) {
    out_.insert(out_.end(), {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)});
}

void Writer::raw(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }

void Writer::option(uint16_t code, std::span<const uint8_t> data) {
    auto n = uint16_t(std::min<size_t>(data.size(), 0xffff));
    out_.insert(out_.end(), {uint8_t(code >> 8), uint8_t(code), uint8_t(n >> 8), uint8_t(n)});
    out_.insert(out_.end(), data.begin(), data.begin() + n);
}

void Writer::option(uint16_t code, std::string_view data) {
    option(code, std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}

void Writer::u16_option(uint16_t code, uint16_t v) {
    uint8_t b[2] = {uint8_t(v >> 8), uint8_t(v)};
    option(code, b);
}

void Writer::status(Status s, std::string_view text) {
    std::vector<uint8_t> v = {uint8_t(uint16_t(s) >> 8), uint8_t(s)};
    v.insert(v.end(), text.begin(), text.end());
    option(opt::StatusCode, v);
}

void Writer::ia_addr(const IaAddr& a) {
    size_t at = nest(opt::IaAddr);
    raw(a.addr.b);
    u32(a.preferred);
    u32(a.valid);
    close(at);
}

size_t Writer::nest(uint16_t code) {
    size_t at = out_.size();
    out_.insert(out_.end(), {uint8_t(code >> 8), uint8_t(code), 0, 0});
    return at;
}

void Writer::close(size_t at) {
    size_t n = out_.size() - at - 4;
    out_[at + 2] = uint8_t(n >> 8);
    out_[at + 3] = uint8_t(n);
}

}  // namespace pxed::dhcp6
