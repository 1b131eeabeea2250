#pragma once
// dnsmasq's dhcp-script calls, built as dnsmasq 2.90 builds them
// (src/helper.c, src/rfc2131.c), so that a script written for dnsmasq runs
// unchanged: the arguments ("add" | "old" | "del", MAC, IP, [hostname];
// "tftp", size, client, file) and the DNSMASQ_* variables. Pure: a lease,
// what its request said and the time in, argv and environment out.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dhcp/packet.h"
#include "lease/lease.h"
#include "pxed/net.h"

namespace pxed::hooks {

// One run of the script: argv[1..] (argv[0] is the script's name, added by
// the helper) and the DNSMASQ_* variables it adds to the inherited
// environment (every other DNSMASQ_* name the helper removes, as dnsmasq's
// unsetenv does).
struct ScriptEvent {
    std::vector<std::string> args;
    std::vector<std::pair<std::string, std::string>> env;
    const std::string* get(std::string_view name) const;
    bool operator==(const ScriptEvent&) const = default;
};

// What a REQUEST that led to a lease said, kept until its lease is durable.
// dnsmasq keeps this "extradata" only for the next script run of the lease
// (src/lease.c, do_script_run); `extradata` is its byte string, built as
// rfc2131.c builds it: NUL-terminated fields in a fixed order (vendor
// class, supplied hostname, the three CPE WAN fields, circuit, subscriber
// and remote id, requested options, MUD URL, tags), then the user classes.
struct RequestFacts {
    std::string iface;     // where the request came in (DNSMASQ_INTERFACE)
    Ipv4 giaddr;           // the relay, if any (DNSMASQ_RELAY_ADDRESS)
    // The REQUEST carried option 50 (SELECTING or INIT-REBOOT): dnsmasq
    // then refreshes the request data and calls the script even when
    // nothing of the lease changed ("pick up INIT-REBOOT events").
    bool selecting = false;
    std::string extradata;
};

// `tags`: the tags the transaction set, dnsmasq's DNSMASQ_TAGS order.
RequestFacts request_facts(const dhcp::Packet& req, std::string iface, const std::vector<std::string>& tags);

enum class Action { Add, Old, Del };
const char* to_string(Action a);

// The state of a lease the way the script sees it.
struct LeaseView {
    Mac mac;
    Ipv4 ip;
    std::string hostname;   // the lease's name as stored (may hold a domain, or be illegal: see below)
    std::string client_id;  // option 61 bytes; empty: none
    int64_t expires = 0;    // seconds since the epoch; INT64_MAX: infinite
    std::string iface;      // the interface it was last seen on; empty: unknown
    Ipv4 giaddr;            // the relay it last came through
    std::string domain;     // the subnet's domain (dnsmasq's domain=); empty: none
};

LeaseView view_of(const lease::Lease& l);

struct EventOptions {
    bool log_dhcp = false;  // DNSMASQ_LOG_DHCP (dnsmasq's log-dhcp; pxed: log level debug)
};

// add/old/del of `l` at `now`. `facts`: the request's data (its extradata;
// null: DNSMASQ_DATA_MISSING=1). `old_hostname`: the "old" call dnsmasq
// makes first when a name was replaced or removed (no hostname argument,
// DNSMASQ_OLD_HOSTNAME set).
ScriptEvent lease_event(Action a, const LeaseView& l, const RequestFacts* facts, int64_t now, const EventOptions& o,
                        const std::string* old_hostname = nullptr);

// A completed TFTP transfer: "tftp <bytes> <client> <file on disk>", no
// DNSMASQ_* variables. The client's address as text: IPv4 or IPv6.
ScriptEvent tftp_event(uint64_t size, const std::string& client, const std::string& file);

// dnsmasq's legal_hostname(): letters, digits, '-' and '_' (not first) up
// to the first '.'. The script's hostname argument is the part before the
// first '.', and only a legal name is passed.
bool legal_hostname(std::string_view name);
std::string script_hostname(std::string_view name);

// Every variable name the script may get (the helper unsets the rest).
const std::vector<std::string>& dnsmasq_variables();

// The helper's wire format: one record per event (a SOCK_SEQPACKET message
// keeps the boundaries). Decoding refuses a malformed record and any
// variable not named DNSMASQ_*.
std::string encode(const ScriptEvent& e);
std::optional<ScriptEvent> decode(std::string_view bytes);
inline constexpr size_t kMaxRecord = 32 * 1024;

}  // namespace pxed::hooks
