#pragma once
// The dnsmasq.conf importer's working state, shared by its parts:
// dnsmasq_config.cpp (lines, hosts), dnsmasq_ranges.cpp (ranges into
// subnets), dnsmasq_tags.cpp (tag syntax, tag-setting lines),
// dnsmasq_classes.cpp (tags into classes), dnsmasq_options.cpp (option
// names and values) and dnsmasq_pxe.cpp (pxe-service, pxe-prompt,
// proxyDHCP). Internal.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"

namespace pxed::config::dnsmasq {

struct Error {
    std::string msg;
};
[[noreturn]] inline void fail(std::string m) { throw Error{std::move(m)}; }

inline Match node(Match::Kind k, std::vector<Match> sub = {}) {
    Match m;
    m.kind = k;
    m.sub = std::move(sub);
    return m;
}

// A directive's tag condition: every `pos` tag set, no `neg` tag set
// (dnsmasq's match_netid: AND of tag:x and tag:!y).
struct Cond {
    std::vector<std::string> pos, neg;
    bool empty() const { return pos.empty() && neg.empty(); }
    std::string str() const;
};

// A field of a line as written: `text` without quotes, `quoted` when any
// part of it was in double quotes (dnsmasq then never reads it as a number
// or an address).
struct Field {
    std::string text;
    bool quoted = false;
};
std::vector<Field> split_fields(const std::string& s);

// Takes the leading tag:/net:/set: fields (tag:!x, the old #x form too);
// `set` receives the set: fields (refused where it is null).
Cond take_cond(std::vector<Field>& f, std::vector<std::string>* set, const std::string& where);

struct OptLine {
    std::string where;
    int line = 0;               // order in the input, for "the last line wins"
    Cond cond;
    OptionValue ov;             // ov.code = the option (or the sub-option for vendor/encap)
    std::optional<uint8_t> encap;  // encap:N sub-option of option N
    std::optional<std::string> vendor;  // vendor:CLASS (option 43 sub-option)
};

struct BootLine {
    std::string where;
    int line = 0;
    Cond cond;
    std::string file, sname;
    std::optional<Ipv4> server;
};

struct TagIf {
    std::string where;
    int line = 0;
    std::vector<std::string> set;
    Cond cond;
};

struct PendingRange {
    std::string where;
    Ipv4 start, end;
    std::optional<Ipv4> mask;
    uint32_t lease = 3600;
    std::string iface;
    std::vector<std::string> set;
    bool proxy = false;  // <address>,proxy: start = end = the address
};

// An IPv6 dhcp-range (dnsmasq_v6.cpp).
struct PendingRange6 {
    std::string where;
    Ipv6 start, end;
    uint8_t prefix = 64;
    uint32_t lease = 3600;
};

// A dhcp-option=option6:... line.
struct Opt6Line {
    std::string where;
    Cond cond;
    uint16_t code = 0;
    std::vector<std::string> values;
};

// A pxe-service or pxe-prompt line, read once the ranges say whether the
// configuration serves proxyDHCP. `line`: its place among the option lines.
struct PxeLine {
    std::string key, where, val;
    int line = 0;
};

struct State {
    Config cfg;
    std::vector<std::string>* warnings = nullptr;
    std::optional<Ipv4> self;   // the served interface's address (dnsmasq's "this server", 0.0.0.0)
    std::map<std::string, std::vector<Match>> leaves;  // tag -> request tests that set it
    std::map<std::string, std::string> tag_where;      // tag -> first line that sets it
    std::set<std::string> host_tags;                   // set by dhcp-host
    std::vector<TagIf> tagifs;
    std::vector<PendingRange> ranges;
    std::vector<PendingRange6> ranges6;
    std::vector<Opt6Line> opts6;
    std::map<std::string, uint16_t> arch6_tags;  // tag -> option 61 architecture (dhcp-match=set:T,option6:61,N)
    std::vector<OptLine> opts;
    std::vector<BootLine> boots;
    std::vector<PxeLine> pxe_lines;
    std::vector<std::pair<std::string, Cond>> ignores;  // dhcp-ignore: where, condition
    int line = 0;
    bool router_set = false;   // some dhcp-option names option 3 (or suppresses it)

    void warn(std::string w) { warnings->push_back(std::move(w)); }
};

// dnsmasq_options.cpp
// dhcp-option / dhcp-option-force (and dhcp-optsfile lines).
void option_line(State& st, const std::string& where, const std::string& val, bool force);
// dhcp-match's option field: a number or option:name; nullopt if neither.
std::optional<uint8_t> option_code(const std::string& field);
// dhcp-match's value, as dnsmasq characterises it, into a request test.
Match match_value(uint8_t code, const Field& v, const std::string& where);

// dnsmasq_ranges.cpp
void range_line(State& st, const std::string& where, const std::string& val);
// Ranges become subnets, after every line (the interfaces are known).
void build_subnets(State& st, const IfaceNetLookup& iface_net);

// dnsmasq_v6.cpp: each returns false when the line is not a DHCPv6 one.
// dhcp-range with IPv6 addresses (`f`: the fields after the tags).
bool range6_line(State& st, const std::string& where, std::vector<Field> f);
// dhcp-option=option6:... (`f`: the fields from option6:NAME on).
bool option6_line(State& st, const std::string& where, const Cond& cond, std::vector<Field> f);
// dhcp-match=set:TAG,option6:61,ARCH (`f`: the fields after set:TAG).
bool match6_line(State& st, const std::string& tag, const std::vector<Field>& f, const std::string& where);
// After every line: [[subnet6]] from the ranges, with the options.
void build_subnets6(State& st);

// dnsmasq_pxe.cpp
// pxe-service / pxe-prompt: kept until build_pxe.
void pxe_line(State& st, const std::string& key, const std::string& where, const std::string& val);
// After the subnets, before the classes: with a proxy range, the menu and
// prompt into Config::pxe and the checks of what a proxy reply carries;
// without one, the Raspberry Pi menu as option 43, other forms refused.
void build_pxe(State& st);

// dnsmasq_tags.cpp
// dhcp-match, dhcp-vendorclass, dhcp-userclass, dhcp-mac, dhcp-circuitid,
// dhcp-remoteid, tag-if, dhcp-ignore lines.
bool tag_line(State& st, const std::string& key, const std::string& where, const std::string& val);

// dnsmasq_classes.cpp
// After every line: the tag classes, then the classes of dhcp-ignore,
// dhcp-boot and tagged dhcp-option lines, in dnsmasq's precedence.
void build_classes(State& st);

}  // namespace pxed::config::dnsmasq
