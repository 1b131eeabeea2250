#pragma once
// The PXE boot menu of proxy replies ([pxe] in TOML, dnsmasq's pxe-service
// and pxe-prompt). Plain data; config/pxe.cpp validates it.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pxed/net.h"

namespace pxed::config {

// A PXE boot menu entry (PXE 2.1: option 43's boot servers (8), menu (9)
// and the boot item a client asks a boot server for (71); dnsmasq's
// pxe-service).
struct PxeService {
    uint16_t arch = 0;           // the client architecture (option 93) it is shown to
    std::string text;            // the menu line
    // The PXE boot server type the item asks for: 0 boots from the local
    // disk; an item with a file gets 0x8000, 0x8001, ... in file order.
    uint16_t type = 0;
    std::string file;            // pxed serves it at port 4011; without a dot the layer follows: pxelinux -> pxelinux.0
    std::optional<Ipv4> server;  // the boot server; default this server
    std::string where;           // file:line, for messages
};

struct PxeMenu {
    std::vector<PxeService> services;
    std::optional<std::string> prompt;  // sub-option 10's text
    uint8_t timeout = 255;              // seconds before the first item boots; 255: until a key is pressed
    bool empty() const { return services.empty() && !prompt; }
    // The services shown to architecture `arch`, in file order.
    std::vector<const PxeService*> for_arch(uint16_t arch) const;
    const PxeService* by_type(uint16_t type) const;
};

}  // namespace pxed::config
