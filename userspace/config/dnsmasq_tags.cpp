// dnsmasq's tag syntax: the fields of a line, the tag: conditions, and the
// lines that set tags from the request (dhcp-match, dhcp-vendorclass,
// dhcp-userclass, dhcp-mac, dhcp-circuitid, dhcp-remoteid) or from other
// tags (tag-if), and dhcp-ignore. dnsmasq_classes.cpp turns them into
// classes.
#include <algorithm>
#include <functional>

#include "config/dnsmasq_fields.h"
#include "config/dnsmasq_import.h"
#include "config/option_value.h"

namespace pxed::config::dnsmasq {

using K = Match::Kind;

std::string Cond::str() const {
    std::string s;
    for (auto& p : pos) s += (s.empty() ? "tag:" : ",tag:") + p;
    for (auto& n : neg) s += (s.empty() ? "tag:!" : ",tag:!") + n;
    return s;
}

std::vector<Field> split_fields(const std::string& s) {
    std::vector<Field> out(1);
    // Per field, which characters were inside quotes: dnsmasq strips the
    // blanks around a comma (pxe-service=x86PC, "Install Linux", pxelinux)
    // but keeps quoted ones ("Raspberry Pi Boot   ").
    std::vector<std::vector<bool>> in_q(1);
    bool q = false;
    for (char c : s) {
        if (c == '"') { q = !q; out.back().quoted = true; continue; }
        if (c == ',' && !q) { out.emplace_back(); in_q.emplace_back(); continue; }
        out.back().text += c;
        in_q.back().push_back(q);
    }
    for (size_t i = 0; i < out.size(); i++) {
        std::string& t = out[i].text;
        auto blank = [&](size_t k) { return !in_q[i][k] && (t[k] == ' ' || t[k] == '\t'); };
        size_t b = 0, e = t.size();
        while (b < e && blank(b)) b++;
        while (e > b && blank(e - 1)) e--;
        t = t.substr(b, e - b);
    }
    return out;
}

Cond take_cond(std::vector<Field>& f, std::vector<std::string>* set, const std::string& where) {
    Cond c;
    while (!f.empty()) {
        const std::string& x = f.front().text;
        std::string tag;
        if (x.rfind("tag:", 0) == 0 || x.rfind("net:", 0) == 0) tag = x.substr(4);
        else if (x.rfind("set:", 0) == 0) {
            if (!set) fail(where + ": set:" + x.substr(4) + " has no meaning here");
            set->push_back(x.substr(4));
        } else if (x.rfind("interface:", 0) == 0) fail(where + ": interface: filters are not supported");
        else break;
        if (!tag.empty()) {
            if (tag[0] == '!' || tag[0] == '#') c.neg.push_back(tag.substr(1));
            else c.pos.push_back(tag);
            if (tag.find('*') != std::string::npos) fail(where + ": tag wildcards are not supported");
        }
        f.erase(f.begin());
    }
    return c;
}

namespace {

// The tag a classifying line sets: "set:x", the old "net:x" or a bare "x".
std::string first_tag(std::vector<Field>& f, const std::string& key, const std::string& where) {
    if (f.size() < 2) fail(where + ": " + key + " needs set:TAG,<value>");
    std::string x = f.front().text;
    if (x.rfind("set:", 0) == 0 || x.rfind("net:", 0) == 0) x = x.substr(4);
    if (x.empty() || x.find(':') != std::string::npos) fail(where + ": " + key + " '" + x + "' is not a tag to set");
    f.erase(f.begin());
    return x;
}

void add_leaf(State& st, const std::string& tag, Match m, const std::string& where) {
    st.leaves[tag].push_back(std::move(m));
    st.tag_where.emplace(tag, where);
}

std::string joined(const std::vector<Field>& f, size_t from, bool* quoted) {
    std::string v;
    for (size_t i = from; i < f.size(); i++) {
        v += (i > from ? "," : "") + f[i].text;
        *quoted |= f[i].quoted;
    }
    return v;
}

}  // namespace

bool tag_line(State& st, const std::string& key, const std::string& where, const std::string& val) {
    std::vector<Field> f = split_fields(val);
    bool quoted = false;
    if (key == "dhcp-match") {
        std::string tag = first_tag(f, key, where);
        if (match6_line(st, tag, f, where)) return true;
        if (f[0].text.rfind("vi-encap:", 0) == 0) fail(where + ": dhcp-match on vi-encap (option 124/125) is not supported");
        auto code = option_code(f[0].text);
        if (!code) fail(where + ": dhcp-match option '" + f[0].text + "' is not an option number or a known option:name");
        if (f.size() == 1) {
            Match m = node(K::OptionPresent);
            m.code = *code;
            add_leaf(st, tag, m, where);
        } else {
            std::string v = joined(f, 1, &quoted);
            add_leaf(st, tag, match_value(*code, Field{v, quoted}, where), where);
        }
    } else if (key == "dhcp-vendorclass" || key == "dhcp-userclass") {
        std::string tag = first_tag(f, key, where);
        if (f[0].text.rfind("enterprise:", 0) == 0) fail(where + ": dhcp-vendorclass enterprise: (option 125) is not supported");
        Match m = node(key == "dhcp-vendorclass" ? K::VendorClassContains : K::UserClassContains);
        m.text = joined(f, 0, &quoted);  // dnsmasq: a substring anywhere in the option
        add_leaf(st, tag, m, where);
    } else if (key == "dhcp-mac") {
        std::string tag = first_tag(f, key, where);
        std::string mac = f[0].text;
        if (auto dash = mac.find('-'); dash != std::string::npos && dash <= 2) {
            if (mac.substr(0, dash) != "1") fail(where + ": dhcp-mac hardware type " + mac.substr(0, dash) + " is not Ethernet");
            mac = mac.substr(dash + 1);
        }
        auto bytes = split(mac, ':');
        if (bytes.size() != 6) fail(where + ": dhcp-mac '" + f[0].text + "' is not a MAC address with * wildcards");
        Match m = node(K::Mac);
        m.mask.assign(6, char(0xff));
        for (size_t i = 0; i < 6; i++) {
            if (bytes[i] == "*") { m.mask[i] = 0; continue; }
            auto h = parse_hex(bytes[i].size() == 1 ? "0" + bytes[i] : bytes[i]);
            if (!h || h->size() != 1) fail(where + ": dhcp-mac '" + f[0].text + "' is not a MAC address with * wildcards");
            m.mac.b[i] = (*h)[0];
        }
        add_leaf(st, tag, m, where);
    } else if (key == "dhcp-circuitid" || key == "dhcp-remoteid") {
        std::string tag = first_tag(f, key, where);
        Match m = node(key == "dhcp-circuitid" ? K::CircuitId : K::RemoteId);
        std::string v = joined(f, 0, &quoted);
        auto h = v.find(':') != std::string::npos && !quoted ? parse_hex(v) : std::nullopt;
        m.text = h ? std::string(h->begin(), h->end()) : v;  // dnsmasq: colon hex or a string, compared whole
        add_leaf(st, tag, m, where);
    } else if (key == "tag-if") {
        TagIf t;
        t.where = where;
        t.line = ++st.line;
        t.cond = take_cond(f, &t.set, where);
        if (t.set.empty() || !(f.empty() || (f.size() == 1 && f[0].text.empty())))
            fail(where + ": tag-if '" + val + "' needs set:TAG[,set:TAG],tag:...[,tag:!...] and nothing else");
        // dnsmasq's order: set: fields, then tag: fields; take_cond reads both.
        for (auto& s : t.set) st.tag_where.emplace(s, where);
        st.tagifs.push_back(t);
    } else if (key == "dhcp-ignore") {
        Cond c = take_cond(f, nullptr, where);
        if (c.empty() || !(f.empty() || (f.size() == 1 && f[0].text.empty())))
            fail(where + ": dhcp-ignore '" + val + "' needs tag:... fields only");
        st.ignores.emplace_back(where, c);
    } else {
        return false;
    }
    return true;
}

}  // namespace pxed::config::dnsmasq
