#pragma once
// pxed configuration: what the TOML file (and later the dnsmasq.conf import)
// describes. Plain data; validated when loaded.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/pxe.h"
#include "pxed/net.h"
#include "pxed/result.h"

namespace pxed::config {

inline constexpr uint32_t kInfiniteLease = 0xffffffff;

// A DHCP option to send: the code and its encoded value. Typed values
// (config/option_value.h) are encoded once, when the configuration is read.
struct OptionValue {
    uint8_t code = 0;
    std::vector<uint8_t> data;
    // Sent whether or not the client asked for it in option 55 (dnsmasq's
    // dhcp-option-force, Kea's always-send). Otherwise the option goes only
    // to clients that list it in option 55, or that send no option 55.
    bool always = false;
};

// Boot file selection by RFC 4578 client architecture (option 93), for a
// subnet or for every subnet ([boot] at the top level).
struct BootFiles {
    // Architecture number -> file (or URL). The named keys of the TOML
    // (bios, uefi-x64, arm64-uefi, ...) land here; uefi-x64 sets 7 and 9.
    std::map<uint16_t, std::string> by_arch;
    std::string any;        // for an architecture with no file of its own (and requests without option 93)
    std::string ipxe;       // iPXE (user class "iPXE" or option 175): script or URL
    std::optional<Ipv4> next_server;  // siaddr; defaults to the server address
    std::string server_name;          // sname; empty: none
    bool empty() const { return by_arch.empty() && any.empty() && ipxe.empty(); }
};

// What a class or a host may set; unset fields fall through to the next
// level (host > classes in order > subnet > global).
struct BootPolicy {
    std::optional<std::string> boot_file;
    std::optional<Ipv4> next_server;
    std::optional<std::string> server_name;
    std::optional<bool> netboot;   // false: an address, no boot file
    std::vector<OptionValue> options;
};

// A class's condition. A tree: leaves test the request, inner nodes combine.
struct Match {
    enum class Kind : uint8_t {
        All, Any, Not,           // sub
        Arch,                    // option 93's first entry is one of archs
        VendorClassPrefix,       // option 60 starts with text
        VendorClassContains,     // option 60 contains text (dnsmasq's dhcp-vendorclass)
        UserClass,               // option 77: the raw value or one RFC 3004 entry equals text
        UserClassContains,       // option 77 contains text (dnsmasq's dhcp-userclass)
        OptionPresent,           // option `code` is present
        OptionBytes,             // option `code` starts with `text` under `mask` (0xff bytes compare)
        OptionContains,          // option `code` contains `text` (dnsmasq's string dhcp-match)
        Mac,                     // chaddr & mask == value & mask
        CircuitId, RemoteId,     // option 82 sub-option 1 / 2 equals text
        Subnet,                  // the request is served from this subnet
        Known,                   // the client has a reservation or a host entry
        Member,                  // the client is in class `name` (an earlier class)
    };
    Kind kind = Kind::All;
    std::vector<Match> sub;
    std::vector<uint16_t> archs;
    std::string text;          // bytes to compare (strings and hex alike)
    std::string mask;          // OptionBytes: per byte mask; Mac: 6 bytes
    uint8_t code = 0;
    Mac mac;
    Ipv4Net net;
    std::string name;          // Member
};

struct Class {
    std::string name;
    std::optional<Match> match;  // none: only hosts that list the class are in it
    BootPolicy set;
    bool ignore = false;         // drop the requests of its members (dnsmasq's dhcp-ignore)
    std::string where;           // file:line, for messages
};

// The most addresses one range may hold: its free-address index
// (lease/free_set.h) takes 2.1 MiB at this size, whatever the occupancy.
inline constexpr uint64_t kMaxPoolAddresses = uint64_t(1) << 24;

struct Subnet {
    Ipv4Net net;
    Ipv4 range_start, range_end;
    std::optional<Ipv4> router;
    std::vector<Ipv4> dns;
    std::string domain;
    uint32_t lease_time = 3600;
    std::optional<Ipv4> server_ip;  // our address on it; else the interface address
    BootFiles boot;
    std::vector<OptionValue> options;
    bool known_clients_only = false;  // ignore clients without a reservation or host entry
    // proxyDHCP (dnsmasq's dhcp-range=<net>,proxy): another server hands out
    // the addresses; pxed answers only PXE clients (option 60 PXEClient or
    // HTTPClient), with the boot information and no address, and serves the
    // boot server dialogue on port 4011. No range, no leases.
    bool proxy = false;
    // On a VLAN of a trunk in `interfaces`: the outer tag's id, and the
    // inner one for QinQ (0: none). The daemon serves it on the kernel's
    // VLAN device for those ids; the XDP program on the trunk answers its
    // reserved clients with the tags kept (docs/CONFIG.md, "VLAN trunks").
    uint16_t vlan = 0, inner_vlan = 0;
    std::string where;  // file:line, for messages
};

struct Reservation {
    Mac mac;
    Ipv4 ip;
    std::string hostname;
    std::optional<uint32_t> lease_time;  // kInfiniteLease for infinite
    BootPolicy set;
    std::vector<std::string> classes;  // member of these classes whatever they match
};

// A reservation by option 82 (RFC 3046) instead of a MAC: the client
// relayed through this switch port (circuit id, sub-option 1) or this relay
// (remote id, sub-option 2), whatever its MAC, gets the address and
// settings, as Kea's host reservations by circuit-id. A MAC's reservation or
// host entry comes first; then circuit ids, then remote ids.
enum class AgentIdKind : uint8_t { Circuit = 1, Remote = 2 };  // the sub-option codes
inline constexpr size_t kAgentIdMax = 32;  // bytes of an id (the kernel map's key holds them)

struct AgentReservation {
    AgentIdKind kind = AgentIdKind::Circuit;
    std::string id;    // the sub-option's bytes
    Reservation resv;  // mac unset: the requester's
    std::string where; // file:line, for messages
    std::string describe() const;  // circuit-id "..." (hex when not printable)
};

// A known client without a reserved address: its own boot settings and
// classes, an address from the pool (a [[reservation]] without ip).
struct Host {
    Mac mac;
    std::string hostname;
    BootPolicy set;
    std::vector<std::string> classes;
    bool ignore = false;
};

// A DHCPv6 subnet (RFC 8415): addresses from `range` for IA_NA, boot file
// URLs (option 59, RFC 5970) by client architecture (option 61). Served on
// the interfaces that have an address in `prefix`, or to relays whose
// link-address is in it.
struct Subnet6 {
    Ipv6Net prefix;
    Ipv6 range_start, range_end;  // within one /64 (the low 64 bits are walked)
    std::vector<Ipv6> dns;        // option 23
    std::vector<std::string> domain_search;  // option 24
    uint32_t preferred_lifetime = 3600;
    uint32_t valid_lifetime = 7200;
    bool rapid_commit = true;     // answer a Solicit with rapid commit by a Reply (RFC 8415 18.3.1)
    // Preference option (7) in Advertises (RFC 8415 21.8); 255 makes a
    // client take this server's Advertise at once instead of collecting
    // others for its first retransmission time (18.2.1). Unset: none sent.
    std::optional<uint8_t> preference;
    std::optional<Ipv6> server_ip;  // our address in it for URLs; else the interface's in the prefix
    // Files by option 61 architecture, as [subnet.boot]; a path becomes
    // tftp://[server]/path, or http://[server]/path for an HTTP boot client
    // (vendor class "HTTPClient"); a URL is sent as it is.
    BootFiles boot;
    std::vector<std::string> boot_params;  // option 60 (RFC 5970 3.2)
    std::string where;
};

// A DHCPv6 reservation: by DUID, or by MAC (RFC 6939's client link-layer
// address, or the MAC in a DUID-LL/LLT, or the link-local EUI-64).
struct Reservation6 {
    std::vector<uint8_t> duid;  // empty: by mac
    std::optional<Mac> mac;
    Ipv6 ip;
    std::string hostname;
    std::optional<std::string> boot_file;  // overrides the subnet's file or URL
    std::string where;
};

enum class XdpMode { Off, Native, Generic, Auto };
// Where TFTP and HTTP listen: the served interfaces' addresses, or all.
enum class FileServiceBind { Interfaces, All };

struct Config {
    std::vector<std::string> interfaces;
    std::vector<Subnet> subnets;
    std::vector<Reservation> reservations;
    std::vector<Host> hosts;
    std::vector<AgentReservation> agent_reservations;
    std::vector<Class> classes;          // in evaluation order
    std::vector<Subnet6> subnets6;       // DHCPv6 ([[subnet6]])
    std::vector<Reservation6> reservations6;
    // The server's DUID (option 2); empty: DUID-LL of the first served
    // interface's MAC (stable while the NIC is).
    std::vector<uint8_t> server_duid;
    BootFiles boot;                      // [boot]: every subnet's fallback
    std::vector<OptionValue> options;    // [[option]]: every subnet's fallback
    PxeMenu pxe;                         // [pxe]: the boot menu of proxy replies
    // An SQLite file, or a PostgreSQL database ("postgresql://...") that
    // several pxed share.
    std::string lease_db = "/var/lib/pxed/leases.db";
    // This daemon's name in a shared lease database (who wrote a row,
    // pxectl status); empty: the host name.
    std::string node_name;
    std::string tftp_root;          // empty: no TFTP and no HTTP file service
    std::optional<uint16_t> tftp_max_blksize;  // default: what fits the interface MTU
    uint32_t tftp_max_sessions_per_client = 256;  // concurrent transfers per client address
    uint16_t http_port = 80;        // 0: no HTTP server
    FileServiceBind file_service_bind = FileServiceBind::Interfaces;
    std::string control_socket = "/run/pxed/pxed.sock";
    std::string control_group = "pxed";  // may use the control socket besides root
    // dnsmasq's dhcp-script: run with dnsmasq's arguments and environment on
    // lease changes and completed TFTP transfers (docs/CONFIG.md, "Event
    // scripts"). Read at start: a reload does not change them.
    std::string dhcp_script;         // absolute path; empty: none
    std::string dhcp_script_user;    // empty: the user pxed starts as (root)
    bool script_on_renewal = false;  // dnsmasq's script-on-renewal: "old" at each renewal too
    // NAK requests for addresses we have no record of (RFC 2131 4.3.2).
    // Off by default: a server that is not authoritative stays silent, so
    // pxed beside another DHCP server does not take its clients' leases
    // away (dnsmasq's default too; Kea is authoritative only on request).
    bool authoritative = false;
    XdpMode xdp = XdpMode::Auto;
    uint32_t xdp_rate_limit = 20;  // kernel answers per MAC per second; 0 = unlimited
    uint32_t xdp_rate_burst = 40;
    uint32_t dhcp_rate_limit = 20;  // requests the daemon takes per client MAC per second; 0 = unlimited
    uint32_t dhcp_rate_burst = 40;
    uint32_t relay_rate_limit = 0;  // requests per relay (giaddr) per second; 0 = unlimited
    uint32_t relay_rate_burst = 0;  // 0: the same as the limit
    // The boot trace (pxectl trace/watch, /status): the kernel path and the
    // daemon record every verdict per client MAC; the daemon keeps the
    // latest `boot_trace_events` events of `boot_trace_machines` machines.
    bool boot_trace = true;
    uint32_t boot_trace_machines = 1024;
    uint32_t boot_trace_events = 64;
    bool status_page = true;  // /status and /status.json on the HTTP server
    std::string source;  // where it came from, for messages

    const Subnet* subnet_for(Ipv4 a) const;
    bool has_proxy() const;
    const Reservation* reservation_for(const Mac& m) const;
    const Host* host_for(const Mac& m) const;
    const AgentReservation* agent_reservation_for(AgentIdKind k, std::string_view id) const;
    const Class* class_named(std::string_view name) const;
    const Subnet6* subnet6_for(const Ipv6& a) const;
};

// Reads and validates a TOML file. Errors name the file, line and value.
Result<Config> load_toml_file(const std::string& path);
Result<Config> parse_toml(std::string_view text, const std::string& source_name);

// The dnsmasq front end: the options a PXE set-up uses. `iface_net` gives an
// interface's own network (dnsmasq infers a range's netmask from it);
// `warnings` receives one line per option that is not supported or ignored.
using IfaceNetLookup = std::function<std::optional<Ipv4Net>(const std::string& ifname)>;
Result<Config> parse_dnsmasq(std::string_view text, const std::string& source_name, const IfaceNetLookup& iface_net,
                             std::vector<std::string>& warnings);
Result<Config> load_dnsmasq_file(const std::string& path, const IfaceNetLookup& iface_net,
                                 std::vector<std::string>& warnings);
// A dhcp-script as the front ends check it when they read it: an absolute
// path to an executable file; dhcp-script-user: a user that exists. The
// error names the problem, not the line (the caller adds where).
Result<void> check_dhcp_script(const std::string& path);
Result<void> check_script_user(const std::string& user);
// Cross-field checks shared by every front end.
Result<void> validate(const Config& c);
// Those of proxy subnets and the PXE menu (config/pxe.cpp); part of validate().
Result<void> validate_pxe(const Config& c);
// Those of [[subnet6]] and [[reservation6]] (config/toml_subnet6.cpp); part of validate().
Result<void> validate6(const Config& c);
// Those of the reservations by option 82 (config/toml_agent.cpp); part of validate().
Result<void> validate_agent_reservations(const Config& c);

}  // namespace pxed::config
