#pragma once
// proxyDHCP (PXE 2.1 section 2.2; dnsmasq's proxy mode): the replies of a
// subnet whose addresses another DHCP server hands out. A PXE client's
// DISCOVER gets a proxy OFFER (no address: the boot file, the server and
// the PXE options); its REQUEST to port 4011 gets the ACK of the boot
// server dialogue. Pure, like the renderer it shares the options with.
//
// Which requests, and what the replies hold, after dnsmasq (rfc2131.c,
// "proxy DHCP here" and the boot server branch before it):
// - only PXE clients: option 60 starts with "PXEClient" or "HTTPClient";
// - port 67: a DISCOVER gets an OFFER; anything else is the address
//   server's; port 4011: a REQUEST or INFORM gets an ACK;
// - yiaddr is 0; the broadcast bit is set unless the client has ciaddr;
// - UEFI clients (architecture >= 6) are sent on to port 4011: the OFFER
//   carries siaddr = this server and no option 43 (EDK2 then asks port
//   4011, where the ACK holds the PXE options); a UEFI menu of one item is
//   no menu: that item's file is the ACK's;
// - option 43: discovery control, the boot servers (8), the menu (9) and
//   the prompt (10) of the services for the client's architecture, or
//   "use the boot file" (discovery control 8) without a menu;
// - a REQUEST naming a boot item (43, sub-option 71) gets that item's file
//   (the layer appended when it has no dot), yiaddr = its ciaddr, and the
//   item echoed;
// - options 60 (the client's word), 97 (the client's UUID, echoed last)
//   and the configured options the client asked for; never the address
//   settings (mask, router, DNS, lease times, host name): those are the
//   address server's.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "dhcp/packet.h"
#include "dhcp/policy.h"
#include "pxed/result.h"

namespace pxed::dhcp {

inline constexpr uint16_t kPxeBootServerPort = 4011;

// The word option 60 starts with: "PXEClient" or "HTTPClient"; nullopt
// for any other client, which a proxy leaves alone.
std::optional<std::string> pxe_vendor(const Packet& req);

struct ProxyInput {
    const config::Subnet* subnet = nullptr;
    Ipv4 server_ip;
    const Policy* policy = nullptr;
    const config::PxeMenu* menu = nullptr;
    bool boot_server_port = false;  // the request came to port 4011
    // As RenderInput::conditional: options sent because the client asked.
    std::vector<uint8_t>* conditional = nullptr;
};

// Why a proxy leaves a request unanswered.
enum class ProxySkip {
    NotPxe,           // option 60 is not PXEClient/HTTPClient
    AddressServers,   // not a DISCOVER on 67 nor a REQUEST/INFORM on 4011
    NothingToBoot,    // no boot file for the client and no menu for its architecture
    UnknownBootItem,  // a 4011 REQUEST naming a boot item without a file here
};
std::string_view to_string(ProxySkip s);

// The proxy reply to `req` (a DISCOVER on port 67: OFFER; a REQUEST or
// INFORM on port 4011: ACK), or why there is none.
Result<Packet, ProxySkip> render_proxy_reply(const Packet& req, const ProxyInput& in);

// Option 43 of a proxy reply (the sub-options and the end option), for
// the services of architecture `arch`.
std::vector<uint8_t> pxe_menu_options(const config::PxeMenu& menu, uint16_t arch, Ipv4 server_ip);

}  // namespace pxed::dhcp
