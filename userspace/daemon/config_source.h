#pragma once
// Where the configuration comes from (a TOML file or a dnsmasq.conf) and the
// checks that need the live interfaces. Owns nothing but the path.
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/interface.h"
#include "pxed/result.h"

namespace pxed::daemon {

// The configuration front end chosen on the command line.
struct ConfigSource {
    std::string path;
    bool dnsmasq = false;

    // Reads and validates the file (dnsmasq import warnings go to the log).
    Result<config::Config> load() const;
};

// Start-up checks that need the live interfaces: each must exist and have an
// address, and no reservation or range may hand out a server's own address.
Result<std::vector<IfaceInfo>> check_interfaces(const config::Config& cfg);
// The VLAN devices of the `vlan` subnets on the listed interfaces (trunks),
// appended to `ifaces` with their trunk named; part of check_interfaces.
Result<std::vector<IfaceInfo>> add_vlan_devices(const config::Config& cfg, std::vector<IfaceInfo> ifaces);

}  // namespace pxed::daemon
