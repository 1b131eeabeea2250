#include "hooks/script_event.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace pxed::hooks {

namespace {

constexpr uint8_t kCpeWanOption = 125;    // vendor-identifying vendor-specific information (RFC 3925)
constexpr uint32_t kBroadbandForum = 3561;  // its enterprise number (TR-111)
constexpr uint8_t kMudUrl = 161;           // RFC 8520
constexpr uint8_t kCircuitId = 1, kRemoteId = 2, kSubscriberId = 6;  // option 82 sub-options

// dnsmasq's lease_add_extradata() with a delimiter: the data up to its
// first NUL, then the delimiter.
void add_field(std::string& ed, const uint8_t* p, size_t n, char delim) {
    size_t len = 0;
    while (len < n && p[len] != 0) len++;
    ed.append(reinterpret_cast<const char*>(p), len);
    ed.push_back(delim);
}

// add_extradata_opt(): an option of at least one byte, or an empty field.
void add_opt(std::string& ed, const std::vector<uint8_t>* data) {
    if (data && !data->empty()) add_field(ed, data->data(), data->size(), 0);
    else ed.push_back(0);
}

const std::vector<uint8_t>* option(const dhcp::Packet& p, uint8_t code) {
    auto* o = p.options.find(code);
    return o ? &o->data : nullptr;
}

// option_find1() over a run of sub-options (code, length, data): the data
// of `code` when at least one byte long.
std::optional<std::vector<uint8_t>> sub_option(const uint8_t* p, const uint8_t* end, uint8_t code) {
    while (end - p >= 2) {
        uint8_t c = p[0], len = p[1];
        if (end - p < 2 + len) return std::nullopt;
        if (c == code) return len >= 1 ? std::optional(std::vector<uint8_t>(p + 2, p + 2 + len)) : std::nullopt;
        p += 2 + len;
    }
    return std::nullopt;
}

void add_sub(std::string& ed, const std::optional<std::vector<uint8_t>>& v) { add_opt(ed, v ? &*v : nullptr); }

// rfc2131.c: option 125's Broadband Forum entry (device OUI, serial number,
// product class), which dnsmasq passes through for CPE WAN devices.
void add_cpewan(std::string& ed, const dhcp::Packet& req) {
    std::optional<std::vector<uint8_t>> oui, serial, cls;
    auto* o = option(req, kCpeWanOption);
    if (o && o->size() >= 5) {
        const uint8_t* d = o->data();
        size_t len = o->size();
        for (size_t off = 0; off < len - 5;) {
            uint32_t ent = uint32_t(d[off]) << 24 | uint32_t(d[off + 1]) << 16 | uint32_t(d[off + 2]) << 8 | d[off + 3];
            size_t elen = d[off + 4];
            if (ent == kBroadbandForum && off + elen + 5 <= len) {
                const uint8_t* x = d + off + 5;
                oui = sub_option(x, x + elen, 1);
                serial = sub_option(x, x + elen, 2);
                cls = sub_option(x, x + elen, 3);
                break;
            }
            off += elen + 5;
        }
    }
    add_sub(ed, oui);
    add_sub(ed, serial);
    add_sub(ed, cls);
}

// grab_extradata(): the next NUL-terminated field as a variable, cut at
// its first '=' (dnsmasq: "No '=' in value"); an empty field sets nothing.
// Returns where the next field starts, or npos once the data has ended.
size_t grab(std::string_view ed, size_t at, const std::string& name, ScriptEvent& e) {
    if (at == std::string_view::npos || at >= ed.size()) return std::string_view::npos;
    size_t nul = ed.find('\0', at);
    if (nul == std::string_view::npos) return std::string_view::npos;
    if (nul != at) {
        std::string_view v = ed.substr(at, nul - at);
        v = v.substr(0, v.find('='));
        e.env.emplace_back(name, std::string(v));
    }
    return nul + 1;
}

void put_u32(std::string& out, uint32_t v) {
    for (int i = 0; i < 4; i++) out.push_back(char(v >> (8 * i) & 0xff));
}

bool get_u32(std::string_view& in, uint32_t& v) {
    if (in.size() < 4) return false;
    v = 0;
    for (int i = 0; i < 4; i++) v |= uint32_t(uint8_t(in[size_t(i)])) << (8 * i);
    in.remove_prefix(4);
    return true;
}

bool get_str(std::string_view& in, std::string& s) {
    uint32_t n = 0;
    if (!get_u32(in, n) || in.size() < n) return false;
    s.assign(in.substr(0, n));
    in.remove_prefix(n);
    return s.find('\0') == std::string::npos;
}

}  // namespace

const std::string* ScriptEvent::get(std::string_view name) const {
    for (auto& [k, v] : env)
        if (k == name) return &v;
    return nullptr;
}

RequestFacts request_facts(const dhcp::Packet& req, std::string iface, const std::vector<std::string>& tags) {
    RequestFacts f;
    f.iface = std::move(iface);
    f.giaddr = req.giaddr;
    f.selecting = req.options.has(dhcp::opt::RequestedIp);
    std::string& ed = f.extradata;
    add_opt(ed, option(req, dhcp::opt::VendorClass));
    add_opt(ed, option(req, dhcp::opt::Hostname));
    add_cpewan(ed, req);
    if (auto* ri = option(req, dhcp::opt::RelayAgentInfo); ri && !ri->empty()) {
        const uint8_t* b = ri->data();
        const uint8_t* e = b + ri->size();
        add_sub(ed, sub_option(b, e, kCircuitId));
        add_sub(ed, sub_option(b, e, kSubscriberId));
        add_sub(ed, sub_option(b, e, kRemoteId));
    } else {
        ed.append(3, '\0');
    }
    if (auto* prl = option(req, dhcp::opt::ParamRequestList); prl && !prl->empty()) {
        for (size_t i = 0; i < prl->size(); i++) {
            std::string n = std::to_string(unsigned((*prl)[i]));
            add_field(ed, reinterpret_cast<const uint8_t*>(n.data()), n.size(), i + 1 == prl->size() ? 0 : ',');
        }
    } else {
        ed.push_back(0);
    }
    add_opt(ed, option(req, kMudUrl));
    std::vector<std::string> uniq;
    for (auto& t : tags)
        if (!t.empty() && std::find(uniq.begin(), uniq.end(), t) == uniq.end()) uniq.push_back(t);
    if (uniq.empty()) ed.push_back(0);
    for (size_t i = 0; i < uniq.size(); i++)
        add_field(ed, reinterpret_cast<const uint8_t*>(uniq[i].data()), uniq[i].size(), i + 1 == uniq.size() ? 0 : ' ');
    // Option 77: RFC 3004 counted strings become NUL-separated (dnsmasq
    // zeroes the length bytes of a well-formed option, then skips the
    // first); any other value is one string. Embedded NULs are kept here:
    // they separate USER_CLASS0, USER_CLASS1, ...
    if (auto* uc = option(req, dhcp::opt::UserClass); uc && !uc->empty()) {
        std::vector<uint8_t> d = *uc;
        size_t j = 0;
        while (j < d.size()) j += size_t(d[j]) + 1;
        if (j == d.size())
            for (j = 0; j < d.size();) {
                size_t next = j + size_t(d[j]) + 1;
                d[j] = 0;
                j = next;
            }
        size_t from = d[0] == 0 ? 1 : 0;
        ed.append(reinterpret_cast<const char*>(d.data()) + from, d.size() - from);
        ed.push_back(0);
    }
    return f;
}

const char* to_string(Action a) {
    switch (a) {
        case Action::Add: return "add";
        case Action::Old: return "old";
        case Action::Del: return "del";
    }
    return "?";
}

LeaseView view_of(const lease::Lease& l) {
    LeaseView v;
    v.mac = l.mac;
    v.ip = l.ip;
    v.hostname = l.hostname;
    if (l.client.starts_with("id:")) v.client_id = l.client.substr(3);
    v.expires = l.expires;
    return v;
}

bool legal_hostname(std::string_view name) {
    if (name.empty() || name.size() > 255) return false;
    for (size_t i = 0; i < name.size(); i++) {
        char c = name[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) continue;
        if (i > 0 && (c == '-' || c == '_')) continue;
        // The rest is a domain: dnsmasq's check_name() wants printable labels.
        if (c == '.' && i > 0)
            return std::all_of(name.begin() + long(i), name.end(), [](char x) { return x > 32 && x < 127; });
        return false;
    }
    return true;
}

std::string script_hostname(std::string_view name) {
    if (!legal_hostname(name)) return {};
    return std::string(name.substr(0, name.find('.')));
}

ScriptEvent lease_event(Action a, const LeaseView& l, const RequestFacts* facts, int64_t now, const EventOptions& o,
                        const std::string* old_hostname) {
    ScriptEvent e;
    std::string name = script_hostname(old_hostname ? *old_hostname : l.hostname);
    e.args = {to_string(a), l.mac.str(), l.ip.str()};
    if (!name.empty() && !old_hostname) e.args.push_back(name);
    if (!l.client_id.empty()) e.env.emplace_back("DNSMASQ_CLIENT_ID", hex_colons(l.client_id));
    if (!l.iface.empty()) e.env.emplace_back("DNSMASQ_INTERFACE", l.iface);
    bool infinite = l.expires == std::numeric_limits<int64_t>::max();
    e.env.emplace_back("DNSMASQ_LEASE_EXPIRES", std::to_string(infinite ? 0 : l.expires));
    // dnsmasq knows the domain when it made the name a FQDN: a name and a domain.
    if (!name.empty() && !l.domain.empty()) e.env.emplace_back("DNSMASQ_DOMAIN", l.domain);
    std::string_view ed = facts ? std::string_view(facts->extradata) : std::string_view();
    if (ed.empty()) e.env.emplace_back("DNSMASQ_DATA_MISSING", "1");
    size_t at = ed.empty() ? std::string_view::npos : 0;
    for (const char* v : {"DNSMASQ_VENDOR_CLASS", "DNSMASQ_SUPPLIED_HOSTNAME", "DNSMASQ_CPEWAN_OUI",
                          "DNSMASQ_CPEWAN_SERIAL", "DNSMASQ_CPEWAN_CLASS", "DNSMASQ_CIRCUIT_ID",
                          "DNSMASQ_SUBSCRIBER_ID", "DNSMASQ_REMOTE_ID", "DNSMASQ_REQUESTED_OPTIONS", "DNSMASQ_MUD_URL",
                          "DNSMASQ_TAGS"})
        at = grab(ed, at, v, e);
    if (!l.giaddr.is_zero()) e.env.emplace_back("DNSMASQ_RELAY_ADDRESS", l.giaddr.str());
    for (int i = 0; at != std::string_view::npos; i++) at = grab(ed, at, "DNSMASQ_USER_CLASS" + std::to_string(i), e);
    int64_t left = infinite ? 0 : std::max<int64_t>(0, l.expires - now);
    if (a != Action::Del && left != 0) e.env.emplace_back("DNSMASQ_TIME_REMAINING", std::to_string(left));
    if (old_hostname && !name.empty()) e.env.emplace_back("DNSMASQ_OLD_HOSTNAME", name);
    if (o.log_dhcp) e.env.emplace_back("DNSMASQ_LOG_DHCP", "1");
    return e;
}

ScriptEvent tftp_event(uint64_t size, const std::string& client, const std::string& file) {
    ScriptEvent e;
    e.args = {"tftp", std::to_string(size), client, file};
    return e;
}

const std::vector<std::string>& dnsmasq_variables() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v = {
            "DNSMASQ_CLIENT_ID",     "DNSMASQ_INTERFACE",     "DNSMASQ_LEASE_EXPIRES",   "DNSMASQ_LEASE_LENGTH",
            "DNSMASQ_DOMAIN",        "DNSMASQ_DATA_MISSING",  "DNSMASQ_VENDOR_CLASS",    "DNSMASQ_SUPPLIED_HOSTNAME",
            "DNSMASQ_CPEWAN_OUI",    "DNSMASQ_CPEWAN_SERIAL", "DNSMASQ_CPEWAN_CLASS",    "DNSMASQ_CIRCUIT_ID",
            "DNSMASQ_SUBSCRIBER_ID", "DNSMASQ_REMOTE_ID",     "DNSMASQ_REQUESTED_OPTIONS", "DNSMASQ_MUD_URL",
            "DNSMASQ_TAGS",          "DNSMASQ_RELAY_ADDRESS", "DNSMASQ_TIME_REMAINING",  "DNSMASQ_OLD_HOSTNAME",
            "DNSMASQ_LOG_DHCP",      "DNSMASQ_IAID",          "DNSMASQ_SERVER_DUID",     "DNSMASQ_MAC"};
        return v;
    }();
    return names;
}

std::string encode(const ScriptEvent& e) {
    std::string out;
    put_u32(out, uint32_t(e.args.size()));
    put_u32(out, uint32_t(e.env.size()));
    for (auto& a : e.args) {
        put_u32(out, uint32_t(a.size()));
        out += a;
    }
    for (auto& [k, v] : e.env) {
        put_u32(out, uint32_t(k.size()));
        out += k;
        put_u32(out, uint32_t(v.size()));
        out += v;
    }
    return out;
}

std::optional<ScriptEvent> decode(std::string_view in) {
    uint32_t nargs = 0, nenv = 0;
    if (in.size() > kMaxRecord || !get_u32(in, nargs) || !get_u32(in, nenv) || nargs == 0 || nargs > 8 || nenv > 256)
        return std::nullopt;
    ScriptEvent e;
    e.args.resize(nargs);
    for (auto& a : e.args)
        if (!get_str(in, a)) return std::nullopt;
    for (uint32_t i = 0; i < nenv; i++) {
        std::string k, v;
        if (!get_str(in, k) || !get_str(in, v)) return std::nullopt;
        // The helper runs as root: the daemon may name only dnsmasq's
        // variables, never PATH, LD_PRELOAD and the like.
        if (!k.starts_with("DNSMASQ_") || k.find('=') != std::string::npos) return std::nullopt;
        e.env.emplace_back(std::move(k), std::move(v));
    }
    if (!in.empty()) return std::nullopt;
    return e;
}

}  // namespace pxed::hooks
