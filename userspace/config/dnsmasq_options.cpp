// dnsmasq's dhcp-option values: the option names of its table
// (src/dhcp-common.c opttab, the names a PXE set-up uses) and the way it
// reads a value when the type is not known (src/option.c parse_dhcp_opt):
// quoted text is a string, colon hex is bytes, digits are a number of the
// option's size (else the smallest of 1, 2, 4 bytes; a b/s/i suffix forces
// it), dotted quads are addresses, anything else is a string.
#include <algorithm>
#include <cctype>

#include "config/dnsmasq_fields.h"
#include "config/dnsmasq_import.h"
#include "config/option_value.h"

namespace pxed::config::dnsmasq {

namespace {

enum class Type { Guess, Addrs, Name, Time, Dec, Internal };
struct Named {
    std::string_view name;
    uint8_t code;
    Type type;
    uint8_t len = 0;  // Dec: bytes
};

// dnsmasq's names for the options a netboot set-up writes; the types are
// those of its table (OT_ADDR_LIST, OT_NAME, OT_TIME, n | OT_DEC, 0).
const Named kNames[] = {
    {"netmask", 1, Type::Addrs},         {"time-offset", 2, Type::Dec, 4},   {"router", 3, Type::Addrs},
    {"dns-server", 6, Type::Addrs},      {"log-server", 7, Type::Addrs},     {"lpr-server", 9, Type::Addrs},
    {"hostname", 12, Type::Internal},    {"boot-file-size", 13, Type::Dec, 2}, {"domain-name", 15, Type::Name},
    {"swap-server", 16, Type::Addrs},    {"root-path", 17, Type::Name},      {"extension-path", 18, Type::Name},
    {"ip-forward-enable", 19, Type::Dec, 1}, {"default-ttl", 23, Type::Dec, 1}, {"mtu", 26, Type::Dec, 2},
    {"broadcast", 28, Type::Internal},   {"static-route", 33, Type::Addrs},  {"nis-domain", 40, Type::Name},
    {"nis-server", 41, Type::Addrs},     {"ntp-server", 42, Type::Addrs},    {"vendor-encap", 43, Type::Internal},
    {"netbios-ns", 44, Type::Addrs},     {"netbios-dd", 45, Type::Addrs},    {"netbios-nodetype", 46, Type::Dec, 1},
    {"netbios-scope", 47, Type::Guess},  {"lease-time", 51, Type::Internal}, {"server-identifier", 54, Type::Internal},
    {"T1", 58, Type::Time},              {"T2", 59, Type::Time},             {"vendor-class", 60, Type::Guess},
    {"tftp-server", 66, Type::Name},     {"bootfile-name", 67, Type::Name},  {"smtp-server", 69, Type::Addrs},
    {"user-class", 77, Type::Guess},     {"client-arch", 93, Type::Dec, 2},  {"client-interface-id", 94, Type::Guess},
    {"client-machine-id", 97, Type::Guess}, {"posix-timezone", 100, Type::Name}, {"tzdb-timezone", 101, Type::Name},
    {"domain-search", 119, Type::Internal},  // RFC 1035 name lists: not encoded here
    {"sip-server", 120, Type::Internal}, {"classless-static-route", 121, Type::Internal},
    {"vendor-id-encap", 125, Type::Internal}, {"tftp-server-address", 150, Type::Addrs},
};

const Named* by_name(std::string_view n) {
    for (auto& e : kNames)
        if (e.name == n) return &e;
    return nullptr;
}
const Named* by_code(uint8_t c) {
    for (auto& e : kNames)
        if (e.code == c) return &e;
    return nullptr;
}

bool all_digits(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// dnsmasq's reading of an unquoted value (parse_dhcp_opt's "characterise").
struct Shape {
    bool addr = true, hex = true, dec = true;
    int digs = 1, dots = 0;
    char lenchar = 0;
};
Shape shape(std::string& v, bool match) {
    Shape s;
    bool dig = false;
    for (size_t i = 0; i < v.size(); i++) {
        char c = v[i];
        if (c == ',') s.dec = s.hex = false;
        else if (c == ':') { s.digs++; s.dec = s.addr = false; }
        else if (c == '/') { s.dec = s.hex = false; if (i == 0) s.addr = false; }
        else if (c == '.') { s.dec = s.hex = false; s.dots++; }
        else if (c == '-') s.hex = s.addr = false;
        else if (c == ' ') s.dec = s.hex = false;
        else if (c < '0' || c > '9') {
            s.addr = false;
            if (i + 1 == v.size() && s.dec && (c == 'b' || c == 's' || c == 'i')) s.lenchar = c;
            else s.dec = false;
            if (!std::isxdigit(uint8_t(c)) && !(c == '*' && match)) s.hex = false;
        } else dig = true;
    }
    if (!dig) s.dec = s.addr = false;
    if (s.lenchar) v.pop_back();
    return s;
}

std::vector<uint8_t> number(uint64_t val, size_t len) {
    std::vector<uint8_t> out(len);
    for (size_t i = 0; i < len; i++) out[i] = uint8_t(val >> ((len - i - 1) * 8));
    return out;
}

std::vector<uint8_t> addresses(const State& st, const std::string& v, const std::string& where) {
    std::vector<uint8_t> out;
    for (auto& a : split(v, ',')) {
        auto ip = Ipv4::parse(a);
        if (!ip) fail(where + ": '" + a + "' is not an IPv4 address (address/prefix forms are not supported)");
        if (ip->is_zero()) {
            // dnsmasq: 0.0.0.0 stands for its own address on the interface.
            if (!st.self) fail(where + ": 0.0.0.0 (this server) needs the served interface's address: it has none");
            ip = st.self;
        }
        auto b = encode_ip(*ip);
        out.insert(out.end(), b.begin(), b.end());
    }
    return out;
}

// The value fields of a dhcp-option line into bytes. `named` is null inside
// vendor:/encap: (dnsmasq guesses sub-option types).
std::vector<uint8_t> value(const State& st, const Named* named, const std::vector<Field>& f, const std::string& where) {
    std::string v;
    bool quoted = false;
    for (size_t i = 0; i < f.size(); i++) {
        v += (i ? "," : "") + f[i].text;
        quoted |= f[i].quoted;
    }
    Type t = named ? named->type : Type::Guess;
    if (quoted || t == Type::Name) return {v.begin(), v.end()};
    Shape s = shape(v, false);
    if (t == Type::Addrs) {
        if (!s.addr || s.dots == 0) fail(where + ": '" + v + "' is not a list of IPv4 addresses");
        return addresses(st, v, where);
    }
    if (t == Type::Time) {
        auto secs = lease_time(v);
        if (!secs) fail(where + ": '" + v + "' is not a time");
        return encode_u32(*secs);
    }
    if (s.hex && s.digs > 1) {
        auto h = parse_hex(v);
        if (!h) fail(where + ": '" + v + "' is not colon hex");
        return *h;
    }
    if (s.dec) {
        uint64_t n = std::strtoull(v.c_str(), nullptr, 10);
        size_t len = t == Type::Dec ? named->len : (n & 0xffff0000) ? 4 : (n & 0xff00) ? 2 : 1;
        if (s.lenchar) len = s.lenchar == 'b' ? 1 : s.lenchar == 's' ? 2 : 4;
        return number(n, len);
    }
    if (s.addr) return addresses(st, v, where);
    return {v.begin(), v.end()};
}

}  // namespace

std::optional<uint8_t> option_code(const std::string& field) {
    if (all_digits(field) && field.size() <= 3 && std::stoi(field) <= 255) return uint8_t(std::stoi(field));
    if (field.rfind("option:", 0) == 0)
        if (auto* n = by_name(field.substr(7))) return n->code;
    return std::nullopt;
}

Match match_value(uint8_t code, const Field& f, const std::string& where) {
    Match m;
    m.code = code;
    std::string v = f.text;
    Shape s = shape(v, true);
    if (!f.quoted && s.hex && s.digs > 1) {
        // Colon hex, * for any byte: a left-anchored masked compare.
        m.kind = Match::Kind::OptionBytes;
        for (auto& b : split(v, ':')) {
            if (b == "*") { m.text += '\0'; m.mask += '\0'; continue; }
            auto h = parse_hex(b.size() == 1 ? "0" + b : b);
            if (!h || h->size() != 1) fail(where + ": dhcp-match value '" + f.text + "' is not colon hex");
            m.text += char((*h)[0]);
            m.mask += char(0xff);
        }
        return m;
    }
    if (!f.quoted && s.dec) {
        // A number: dnsmasq compares it with each element of the option.
        // Option 93 is the one PXE set-ups test; its first element is the
        // client's architecture.
        if (code != 93) fail(where + ": dhcp-match on a number in option " + std::to_string(code) + " is not supported (only option 93, client-arch)");
        m.kind = Match::Kind::Arch;
        m.archs = {uint16_t(std::strtoul(v.c_str(), nullptr, 10))};
        return m;
    }
    if (!f.quoted && s.addr) fail(where + ": dhcp-match on an address value is not supported");
    m.kind = Match::Kind::OptionContains;  // dnsmasq: the string anywhere in the option
    m.text = f.text;
    return m;
}

void option_line(State& st, const std::string& where, const std::string& val, bool force) {
    std::vector<Field> f = split_fields(val);
    OptLine o;
    o.where = where;
    o.line = ++st.line;
    o.ov.always = force;
    const Named* named = nullptr;
    bool have_code = false;
    // Tags, vendor: and encap: come before the option, in any order.
    while (!f.empty() && !have_code) {
        std::string x = f.front().text;
        if (all_digits(x)) {
            int c = std::stoi(x.substr(0, 4));
            if (c < 1 || c > 254) fail(where + ": option " + x + " is not an option code");
            o.ov.code = uint8_t(c);
            have_code = true;
        } else if (x.rfind("option:", 0) == 0) {
            named = by_name(x.substr(7));
            if (!named) fail(where + ": " + x + ": pxed does not know this option name (use its number)");
            if (named->type == Type::Internal)
                fail(where + ": " + x + " is not supported (dnsmasq sets it itself or it needs its own encoding)");
            o.ov.code = named->code;
            have_code = true;
        } else if (x.rfind("option6:", 0) == 0) {
            option6_line(st, where, o.cond, f);
            return;
        } else if (x.rfind("vendor:", 0) == 0) {
            o.vendor = x.substr(7);
        } else if (x.rfind("encap:", 0) == 0) {
            auto c = option_code(x.substr(6));
            if (!c) fail(where + ": " + x + " is not an option code");
            o.encap = *c;
        } else if (x.rfind("vi-encap:", 0) == 0) {
            fail(where + ": vi-encap (option 125) is not supported");
        } else {
            std::vector<Field> one{f.front()};
            Cond c = take_cond(one, nullptr, where);
            if (!one.empty()) fail(where + ": '" + x + "' is neither a tag nor an option");
            o.cond.pos.insert(o.cond.pos.end(), c.pos.begin(), c.pos.end());
            o.cond.neg.insert(o.cond.neg.end(), c.neg.begin(), c.neg.end());
        }
        f.erase(f.begin());
    }
    if (!have_code) fail(where + ": dhcp-option '" + val + "' names no option");
    bool sub = o.vendor || o.encap;
    if (sub) named = nullptr;
    else if (!named) named = by_code(o.ov.code);
    if (!sub && option_is_reserved(o.ov.code))
        fail(where + ": option " + std::to_string(o.ov.code) + " is written by pxed itself and cannot be configured");
    if (!sub && named && named->type == Type::Internal)
        fail(where + ": option " + std::to_string(o.ov.code) + " is not supported (it needs its own encoding)");
    if (!sub && o.ov.code == 3) st.router_set = true;
    if (f.empty() && !sub && (o.ov.code == 3 || o.ov.code == 6 || o.ov.code == 15)) {
        // dnsmasq: no value = do not send its default (itself as router or
        // DNS server); pxed sends neither unless configured.
        st.warn(where + ": option " + std::to_string(o.ov.code) + " without a value: pxed sends none by default");
        return;
    }
    o.ov.data = value(st, named, f, where);
    if (o.ov.data.size() > 255) fail(where + ": the value is longer than 255 bytes");
    st.opts.push_back(std::move(o));
}

}  // namespace pxed::config::dnsmasq
