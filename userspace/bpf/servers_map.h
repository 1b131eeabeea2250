#pragma once
// The XDP program's `servers` map (struct pxed_server_seen per server id,
// MAC and VLAN, include/pxed/abi.h): other DHCP servers whose replies the
// program received. Read by the daemon once a second in one bounded batch
// (the map holds PXED_SERVERS_MAX entries) and turned into SeenServer, the
// form pxectl stats, /metrics and the daemon's warning use.
#include <cstdint>
#include <functional>
#include <string>

#include "pxed/abi.h"
#include "pxed/net.h"
#include "pxed/result.h"

namespace pxed::bpf {

struct SeenServer {
    std::string iface;
    Ipv4 server;             // option 54, else the IP source
    bool by_option54 = false;
    Mac mac;                 // Ethernet source
    uint16_t vlan_outer = 0, vlan_inner = 0;
    uint64_t first_ns = 0, last_ns = 0;  // CLOCK_MONOTONIC
    uint32_t offers = 0, acks = 0, naks = 0;
    uint8_t last_type = 0;   // option 53 of the last reply
    Ipv4 yiaddr, siaddr;     // of the last reply
    bool relayed = false;    // the last reply went to port 67 (a relay)
    // What the last reply held: printable text (other bytes as '?'), cut to
    // what the map keeps; the lengths are as sent.
    bool has_vendor_class = false;
    std::string vendor_class;
    size_t vendor_class_len = 0;
    bool has_opt43 = false, opt43_pxe = false;  // option 43, with PXE sub-options 6/8/9/10
    size_t opt43_len = 0;
    bool has_tftp_server = false;
    std::string tftp_server;  // option 66
    std::string boot_file;    // option 67, else the BOOTP file field
    std::string boot_file_from;  // "option 67", "file field", or empty (none)
    size_t boot_file_len = 0;    // option 67's length, or the file field's text

    // "untagged", "vlan 100", "vlan 100.200" (QinQ: outer.inner).
    std::string vlan_text() const;  // "untagged", "vlan 100", "vlan 300.30"
    std::string vlan_ids() const;   // "0", "100", "300.30" (the metrics' label)
    // Identity of the server on an interface: for the warned-once set.
    std::string id() const;
    bool vendor_is_pxeclient() const { return vendor_class.rfind("PXEClient", 0) == 0; }
};

SeenServer to_seen(const std::string& iface, const pxed_server_key& k, const pxed_server_seen& v);

// Every entry of the map (at most PXED_SERVERS_MAX, in a few batch calls).
Result<void> read_servers(int fd, const std::string& iface, const std::function<void(SeenServer)>& each);

}  // namespace pxed::bpf
