#pragma once
// The one reply renderer: the options a reply carries for a (subnet, client
// architecture, reservation). The daemon uses it for its own replies and to
// fill the XDP reply blobs, so both paths send the same bytes.
#include <optional>
#include <string>

#include "config/config.h"
#include "dhcp/packet.h"

namespace pxed::dhcp {

// RFC 4578 client system architecture types that select a boot file.
enum class ClientArch : uint16_t { BiosX86 = 0, EfiIa32 = 6, EfiBc = 7, EfiX64 = 9, EfiX64Http = 16 };

struct BootChoice {
    std::string file;         // BOOTP file field / option 67
    bool http = false;        // UEFI HTTP boot: option 60 "HTTPClient"
    bool pxe_client = false;  // echo option 60 "PXEClient"
};

// What a request tells us about the boot firmware.
struct ClientProfile {
    std::optional<uint16_t> arch;  // option 93, first entry
    bool pxe = false;              // option 60 starts with "PXEClient"
    bool http_client = false;      // option 60 starts with "HTTPClient"
    bool ipxe = false;             // option 77 contains "iPXE"
};
ClientProfile profile_of(const Packet& req);

BootChoice choose_boot(const config::BootFiles& boot, const ClientProfile& p);

struct RenderInput {
    const config::Subnet* subnet = nullptr;
    Ipv4 server_ip;
    const config::Reservation* reservation = nullptr;
    uint32_t lease_time = 0;  // 0: no lease options (INFORM)
    BootChoice boot;
};

// Options after the message type, in the order they are written.
Options render_options(const RenderInput& in);

// siaddr for a reply: the configured next-server, else the server address.
Ipv4 next_server(const RenderInput& in);

// The reply message to `req`: the fixed fields taken from the request, the
// message type, the rendered options, siaddr and the file field. The engine
// sends it; the XDP blobs are cut from it, so both paths send these bytes.
Packet render_reply(const Packet& req, MessageType type, const RenderInput& in, Ipv4 yiaddr);

}  // namespace pxed::dhcp
