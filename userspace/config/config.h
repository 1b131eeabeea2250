#pragma once
// pxed configuration: what the TOML file (and later the dnsmasq.conf import)
// describes. Plain data; validated when loaded.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pxed/net.h"
#include "pxed/result.h"

namespace pxed::config {

inline constexpr uint32_t kInfiniteLease = 0xffffffff;

// Boot file selection (RFC 4578 client architecture, option 93).
struct BootFiles {
    std::string bios;       // arch 0, e.g. pxelinux.0
    std::string uefi_x64;   // arch 7 and 9, e.g. bootnetx64.efi
    std::string uefi_http;  // arch 16, an http:// URL
    std::string ipxe;       // user class "iPXE": script or URL
    std::optional<Ipv4> next_server;  // siaddr; defaults to the server address
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
};

struct Reservation {
    Mac mac;
    Ipv4 ip;
    std::string hostname;
    std::optional<uint32_t> lease_time;  // kInfiniteLease for infinite
};

enum class XdpMode { Off, Native, Generic, Auto };
// Where TFTP and HTTP listen: the served interfaces' addresses, or all.
enum class FileServiceBind { Interfaces, All };

struct Config {
    std::vector<std::string> interfaces;
    std::vector<Subnet> subnets;
    std::vector<Reservation> reservations;
    std::string lease_db = "/var/lib/pxed/leases.db";
    std::string tftp_root;          // empty: no TFTP and no HTTP file service
    std::optional<uint16_t> tftp_max_blksize;  // default: what fits the interface MTU
    uint32_t tftp_max_sessions_per_client = 256;  // concurrent transfers per client address
    uint16_t http_port = 80;        // 0: no HTTP server
    FileServiceBind file_service_bind = FileServiceBind::Interfaces;
    std::string control_socket = "/run/pxed/pxed.sock";
    std::string control_group = "pxed";  // may use the control socket besides root
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
    std::string source;  // where it came from, for messages

    const Subnet* subnet_for(Ipv4 a) const;
    const Reservation* reservation_for(const Mac& m) const;
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
// Cross-field checks shared by every front end.
Result<void> validate(const Config& c);

}  // namespace pxed::config
