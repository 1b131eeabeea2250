// TOML front end, boot policy: [boot] tables, options with typed values,
// [[class]] and its match expressions, a host's own boot settings.
#include <set>

#include "config/option_value.h"
#include "config/toml_internal.h"

namespace pxed::config::toml_detail {

namespace {

const std::vector<std::string> kClassKeys = {"name",        "match",   "boot-file", "next-server",
                                             "server-name", "netboot", "options",   "ignore"};
const std::vector<std::string> kValueTypes = {"ip", "ips", "u8", "u16", "u32", "string", "hex", "bool", "sub", "record"};

std::string key_list(const std::vector<std::string>& keys) {
    std::string s;
    for (auto& k : keys) s += (s.empty() ? "" : ", ") + k;
    return s;
}

int64_t get_int(const Ctx& c, const toml::node& n, const std::string& what, int64_t lo, int64_t hi) {
    auto i = n.value<int64_t>();
    if (!i || *i < lo || *i > hi)
        fail(c.where(n) + ": " + what + " must be a number from " + std::to_string(lo) + " to " + std::to_string(hi));
    return *i;
}

uint8_t get_code(const Ctx& c, const toml::table& t, const std::string& what) {
    auto v = t["code"];
    if (!v) fail(c.where(t) + ": " + what + " needs code = <1-254>");
    return uint8_t(get_int(c, *v.node(), what + ".code", 1, 254));
}

std::vector<uint8_t> parse_value(const Ctx& c, const toml::table& t, const std::string& what);

// Exactly one typed value in `t`, encoded.
std::vector<uint8_t> typed_value(const Ctx& c, const toml::table& t, const std::string& what) {
    const toml::node* found = nullptr;
    std::string type;
    for (auto& k : kValueTypes) {
        if (auto v = t[k]) {
            if (found) fail(c.where(*v.node()) + ": " + what + " has both " + type + " and " + k + ": give one value");
            found = v.node();
            type = k;
        }
    }
    if (!found) fail(c.where(t) + ": " + what + " needs a value: one of " + key_list(kValueTypes));
    const toml::node& n = *found;
    std::string vw = what + "." + type;
    if (type == "ip") return encode_ip(get_ip(c, n, vw));
    if (type == "ips") {
        auto arr = n.as_array();
        if (!arr || arr->empty()) fail(c.where(n) + ": " + vw + " must be a non-empty array of addresses");
        std::vector<uint8_t> out;
        for (auto& e : *arr) {
            auto b = encode_ip(get_ip(c, e, vw));
            out.insert(out.end(), b.begin(), b.end());
        }
        return out;
    }
    if (type == "u8") return encode_u8(uint8_t(get_int(c, n, vw, 0, 0xff)));
    if (type == "u16") return encode_u16(uint16_t(get_int(c, n, vw, 0, 0xffff)));
    if (type == "u32") return encode_u32(uint32_t(get_int(c, n, vw, 0, 0xffffffffLL)));
    if (type == "bool") {
        auto b = n.value<bool>();
        if (!b) fail(c.where(n) + ": " + vw + " must be true or false");
        return {uint8_t(*b ? 1 : 0)};
    }
    if (type == "string") {
        auto s = n.value<std::string>();
        if (!s) fail(c.where(n) + ": " + vw + " must be a string");
        return {s->begin(), s->end()};
    }
    if (type == "hex") {
        auto s = n.value<std::string>();
        auto h = s ? parse_hex(*s) : std::nullopt;
        if (!h) fail(c.where(n) + ": " + vw + " '" + s.value_or("?") + "' is not hex bytes like \"01:02:ff\"");
        return *h;
    }
    auto arr = n.as_array();
    if (!arr) fail(c.where(n) + ": " + vw + " must be an array of tables");
    if (type == "sub") {  // encapsulated sub-options, each { code = N, <value> }
        std::vector<std::pair<uint8_t, std::vector<uint8_t>>> subs;
        for (size_t i = 0; i < arr->size(); i++) {
            auto st = arr->get(i)->as_table();
            std::string sw = vw + "[" + std::to_string(i) + "]";
            if (!st) fail(c.where(*arr->get(i)) + ": " + sw + " must be a table { code = N, <type> = value }");
            uint8_t code = get_code(c, *st, sw);
            auto v = parse_value(c, *st, sw);
            if (v.size() > 255) fail(c.where(*st) + ": " + sw + " is " + std::to_string(v.size()) + " bytes; a sub-option holds 255");
            subs.emplace_back(code, std::move(v));
        }
        return encode_suboptions(subs);
    }
    std::vector<uint8_t> out;  // record: the parts one after the other
    for (size_t i = 0; i < arr->size(); i++) {
        auto st = arr->get(i)->as_table();
        std::string rw = vw + "[" + std::to_string(i) + "]";
        if (!st) fail(c.where(*arr->get(i)) + ": " + rw + " must be a table { <type> = value }");
        auto v = typed_value(c, *st, rw);
        out.insert(out.end(), v.begin(), v.end());
    }
    return out;
}

std::vector<uint8_t> parse_value(const Ctx& c, const toml::table& t, const std::string& what) {
    for (auto&& [k, v] : t) {
        std::string key(k.str());
        if (key != "code" && key != "always" && std::find(kValueTypes.begin(), kValueTypes.end(), key) == kValueTypes.end())
            fail(c.where(v) + ": unknown key '" + key + "' in " + what + " (code, always, or a value: " + key_list(kValueTypes) + ")");
    }
    return typed_value(c, t, what);
}

std::string get_text(const Ctx& c, const toml::node& n, const std::string& what) {
    auto s = n.value<std::string>();
    if (!s || s->empty()) fail(c.where(n) + ": " + what + " must be a non-empty string");
    return *s;
}

// "b8:27:eb:*:*:*" (a wildcard byte) or "b8:27:eb:00:00:00/24" (a prefix).
void parse_mac_pattern(const Ctx& c, const toml::node& n, const std::string& what, Match& m) {
    std::string s = get_text(c, n, what);
    std::string mask(6, char(0xff));
    int bits = 48;
    if (auto slash = s.find('/'); slash != std::string::npos) {
        try {
            size_t used = 0;
            bits = std::stoi(s.substr(slash + 1), &used);
            if (used != s.size() - slash - 1 || bits < 0 || bits > 48) throw 0;
        } catch (...) {
            fail(c.where(n) + ": " + what + " '" + s + "': the prefix after / must be 0-48 bits");
        }
        s = s.substr(0, slash);
        for (int i = 0; i < 6; i++) {
            int b = std::clamp(bits - 8 * i, 0, 8);
            mask[size_t(i)] = char(b == 0 ? 0 : uint8_t(0xff << (8 - b)));
        }
    }
    std::string pattern;
    size_t i = 0, byte = 0;
    while (i <= s.size() && byte < 6) {
        size_t j = s.find_first_of(":-", i);
        if (j == std::string::npos) j = s.size();
        std::string part = s.substr(i, j - i);
        if (part == "*") {
            mask[byte] = 0;
            pattern += "00";
        } else {
            pattern += part;
        }
        pattern += ":";
        byte++;
        i = j + 1;
    }
    pattern.pop_back();
    auto mac = byte == 6 && i > s.size() ? Mac::parse(pattern) : std::nullopt;
    if (!mac) fail(c.where(n) + ": " + what + " '" + s + "' is not a MAC pattern like \"b8:27:eb:*:*:*\" or \"b8:27:eb:00:00:00/24\"");
    m.mac = *mac;
    m.mask = mask;
}

Match parse_match(const Ctx& c, const toml::node& n, const std::string& what, int depth);

std::vector<Match> parse_match_list(const Ctx& c, const toml::node& n, const std::string& what, int depth) {
    auto arr = n.as_array();
    if (!arr || arr->empty()) fail(c.where(n) + ": " + what + " must be a non-empty array of match tables");
    std::vector<Match> out;
    for (size_t i = 0; i < arr->size(); i++)
        out.push_back(parse_match(c, *arr->get(i), what + "[" + std::to_string(i) + "]", depth + 1));
    return out;
}

// One test of a match table.
Match parse_test(const Ctx& c, const std::string& key, const toml::node& v, const std::string& what, int depth) {
    Match m;
    std::string w = what + "." + key;
    using K = Match::Kind;
    if (key == "all" || key == "any") {
        m.kind = key == "all" ? K::All : K::Any;
        m.sub = parse_match_list(c, v, w, depth);
    } else if (key == "not") {
        m.kind = K::Not;
        m.sub.push_back(parse_match(c, v, w, depth + 1));
    } else if (key == "arch") {
        m.kind = K::Arch;
        auto one = [&](const toml::node& e) {
            std::vector<uint16_t> codes;
            if (auto i = e.value<int64_t>(); i && *i >= 0 && *i <= 0xffff) codes = {uint16_t(*i)};
            else if (auto s = e.value<std::string>()) codes = arch_codes(*s);
            if (codes.empty())
                fail(c.where(e) + ": " + w + ": '" + e.value<std::string>().value_or("?") +
                     "' is not an architecture: a number 0-65535 or a name such as x86-bios, x64-uefi, arm64-uefi, x64-uefi-http");
            m.archs.insert(m.archs.end(), codes.begin(), codes.end());
        };
        if (auto arr = v.as_array()) {
            if (arr->empty()) fail(c.where(v) + ": " + w + " must not be empty");
            for (auto& e : *arr) one(e);
        } else {
            one(v);
        }
    } else if (key == "vendor-class" || key == "vendor-class-contains" || key == "user-class" ||
               key == "user-class-contains" || key == "circuit-id" || key == "remote-id") {
        m.kind = key == "vendor-class" ? K::VendorClassPrefix
                 : key == "vendor-class-contains" ? K::VendorClassContains
                 : key == "user-class" ? K::UserClass
                 : key == "user-class-contains" ? K::UserClassContains
                 : key == "circuit-id" ? K::CircuitId : K::RemoteId;
        m.text = get_text(c, v, w);
    } else if (key == "circuit-id-hex" || key == "remote-id-hex") {
        m.kind = key == "circuit-id-hex" ? K::CircuitId : K::RemoteId;
        auto h = parse_hex(get_text(c, v, w));
        if (!h) fail(c.where(v) + ": " + w + " is not hex bytes like \"00:04:00:64\"");
        m.text.assign(h->begin(), h->end());
    } else if (key == "option") {
        m.kind = K::OptionPresent;
        m.code = uint8_t(get_int(c, v, w, 1, 254));
    } else if (key == "option-hex" || key == "option-contains") {
        auto t = v.as_table();
        if (!t) fail(c.where(v) + ": " + w + " must be a table { code = N, value = \"...\" }");
        check_keys(c, *t, {"code", "value"}, w.c_str());
        m.code = get_code(c, *t, w);
        auto val = (*t)["value"];
        if (!val) fail(c.where(*t) + ": " + w + " needs value");
        std::string s = get_text(c, *val.node(), w + ".value");
        if (key == "option-contains") {
            m.kind = K::OptionContains;
            m.text = s;
        } else {
            m.kind = K::OptionBytes;  // hex bytes, '*' for any byte
            std::string pat;
            for (size_t i = 0; i <= s.size();) {
                size_t j = s.find(':', i);
                if (j == std::string::npos) j = s.size();
                std::string part = s.substr(i, j - i);
                auto h = part == "*" ? std::optional<std::vector<uint8_t>>{{0}} : parse_hex(part);
                if (!h || h->size() != 1) fail(c.where(*val.node()) + ": " + w + ".value '" + s + "' is not hex bytes like \"00:07\" (\"*\" for any byte)");
                m.text.push_back(char((*h)[0]));
                m.mask.push_back(part == "*" ? char(0) : char(0xff));
                i = j + 1;
            }
        }
    } else if (key == "mac") {
        m.kind = K::Mac;
        parse_mac_pattern(c, v, w, m);
    } else if (key == "subnet") {
        m.kind = K::Subnet;
        auto net = Ipv4Net::parse(get_text(c, v, w));
        if (!net) fail(c.where(v) + ": " + w + " is not a network like \"192.0.2.0/24\"");
        m.net = *net;
    } else if (key == "known") {
        auto b = v.value<bool>();
        if (!b) fail(c.where(v) + ": " + w + " must be true or false");
        m.kind = K::Known;
        if (!*b) {
            Match k = m;
            m = Match{};
            m.kind = K::Not;
            m.sub.push_back(k);
        }
    } else if (key == "class") {
        m.kind = K::Member;
        m.name = get_text(c, v, w);
    } else {
        fail(c.where(v) + ": unknown test '" + key + "' in " + what +
             " (all, any, not, arch, vendor-class, vendor-class-contains, user-class, user-class-contains, option, "
             "option-hex, option-contains, mac, circuit-id, circuit-id-hex, remote-id, remote-id-hex, subnet, known, class)");
    }
    return m;
}

// A match table: its tests must all hold.
Match parse_match(const Ctx& c, const toml::node& n, const std::string& what, int depth) {
    if (depth > 16) fail(c.where(n) + ": " + what + " nests more than 16 levels");
    auto t = n.as_table();
    if (!t || t->empty()) fail(c.where(n) + ": " + what + " must be a table of tests, such as { arch = \"arm64-uefi\" }");
    std::vector<Match> tests;
    for (auto&& [k, v] : *t) tests.push_back(parse_test(c, std::string(k.str()), v, what, depth));
    if (tests.size() == 1) return std::move(tests[0]);
    Match all;
    all.kind = Match::Kind::All;
    all.sub = std::move(tests);
    return all;
}

std::optional<std::string> opt_text(const Ctx& c, const toml::table& t, const char* key, const std::string& what,
                                    size_t max) {
    auto v = t[key];
    if (!v) return std::nullopt;
    auto s = v.value<std::string>();
    if (!s) fail(c.where(*v.node()) + ": " + what + "." + key + " must be a string");
    if (s->size() > max)
        fail(c.where(*v.node()) + ": " + what + "." + key + " '" + *s + "' is longer than " + std::to_string(max) + " bytes");
    return s;
}

}  // namespace

std::optional<bool> get_bool(const Ctx& c, const toml::table& t, const char* key, const std::string& what) {
    auto v = t[key];
    if (!v) return std::nullopt;
    auto b = v.value<bool>();
    if (!b) fail(c.where(*v.node()) + ": " + what + "." + key + " must be true or false");
    return b;
}

BootFiles parse_boot(const Ctx& c, const toml::node& n, const std::string& what) {
    auto t = n.as_table();
    if (!t) fail(c.where(n) + ": " + what + " must be a table");
    BootFiles b;
    std::set<uint16_t> own;  // codes given by a key of their own
    for (auto&& [k, v] : *t) {
        std::string key(k.str());
        std::string w = what + "." + key;
        if (key == "next-server") {
            b.next_server = get_ip(c, v, w);
            continue;
        }
        auto s = v.value<std::string>();
        if (!s) fail(c.where(v) + ": " + w + " must be a string");
        if (key == "server-name") {
            if (s->size() > 63) fail(c.where(v) + ": " + w + " '" + *s + "' is longer than 63 bytes");
            b.server_name = *s;
            continue;
        }
        if (s->empty() || s->size() > 127) fail(c.where(v) + ": " + w + ": boot file name '" + *s + "' must be 1-127 bytes");
        if (key == "ipxe") b.ipxe = *s;
        else if (key == "any") b.any = *s;
        else {
            auto codes = arch_codes(key);
            if (codes.empty())
                fail(c.where(v) + ": unknown key '" + key + "' in " + what +
                     ": an architecture (a number, or a name such as bios, uefi-x64, arm64-uefi, x64-uefi-http; "
                     "docs/CONFIG.md lists them), any, ipxe, next-server or server-name");
            // uefi-x64 stands for 7 and 9; a key of 7's or 9's own wins
            // over it, in whichever order the two are written.
            for (auto code : codes) {
                if (codes.size() == 1) {
                    if (own.count(code))
                        fail(c.where(v) + ": " + w + ": architecture " + std::to_string(code) + " is given a file twice");
                    own.insert(code);
                } else if (own.count(code)) {
                    continue;
                }
                b.by_arch[code] = *s;
            }
        }
    }
    return b;
}

std::vector<OptionValue> parse_options(const Ctx& c, const toml::node& n, const std::string& what) {
    auto arr = n.as_array();
    if (!arr) fail(c.where(n) + ": " + what + " must be an array of tables: [ { code = 42, ip = \"192.0.2.1\" } ]");
    std::vector<OptionValue> out;
    for (size_t i = 0; i < arr->size(); i++) {
        std::string w = what + "[" + std::to_string(i) + "]";
        auto t = arr->get(i)->as_table();
        if (!t) fail(c.where(*arr->get(i)) + ": " + w + " must be a table { code = N, <type> = value }");
        OptionValue o;
        o.code = get_code(c, *t, w);
        if (option_is_reserved(o.code))
            fail(c.where(*t) + ": " + w + ": option " + std::to_string(o.code) +
                 " is written by pxed itself (message type, server id, lease times, netmask, overload, client id, "
                 "relay agent information) and cannot be configured");
        o.data = parse_value(c, *t, w);
        if (o.data.size() > 255)
            fail(c.where(*t) + ": " + w + ": the value is " + std::to_string(o.data.size()) + " bytes; an option holds 255");
        o.always = get_bool(c, *t, "always", w).value_or(false);
        for (auto& prev : out)
            if (prev.code == o.code) fail(c.where(*t) + ": " + w + ": option " + std::to_string(o.code) + " is given twice");
        out.push_back(std::move(o));
    }
    return out;
}

BootPolicy parse_policy(const Ctx& c, const toml::table& t, const std::string& what) {
    BootPolicy p;
    p.boot_file = opt_text(c, t, "boot-file", what, 127);
    if (p.boot_file && p.boot_file->empty()) fail(c.where(t) + ": " + what + ".boot-file is empty (netboot = false says: no boot file)");
    p.next_server = opt_ip(c, t, "next-server", what);
    p.server_name = opt_text(c, t, "server-name", what, 63);
    p.netboot = get_bool(c, t, "netboot", what);
    if (p.netboot == true) p.netboot.reset();  // the default
    if (p.netboot == false && p.boot_file)
        fail(c.where(t) + ": " + what + " has both boot-file and netboot = false");
    if (auto o = t["options"]) p.options = parse_options(c, *o.node(), what + ".options");
    return p;
}

Class parse_class(const Ctx& c, const toml::table& t, size_t idx) {
    std::string what = "class[" + std::to_string(idx) + "]";
    check_keys(c, t, kClassKeys, what.c_str());
    Class k;
    k.where = c.where(t);
    k.name = get_str(c, t, "name", what.c_str());
    if (k.name.empty()) fail(c.where(t) + ": " + what + " needs name = \"...\"");
    what = "class '" + k.name + "'";
    if (auto m = t["match"]) k.match = parse_match(c, *m.node(), what + ".match", 0);
    k.set = parse_policy(c, t, what);
    k.ignore = get_bool(c, t, "ignore", what).value_or(false);
    return k;
}

}  // namespace pxed::config::toml_detail
