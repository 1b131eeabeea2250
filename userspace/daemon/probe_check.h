#pragma once
// `pxed --check` on proxy subnets: sends a PXE client's DISCOVER on each
// served interface whose subnet is in proxy mode and listens for the
// OFFERs (dhcp/probe.h judges them). Interfaces of other subnets get no
// packet at all.
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/interface.h"

namespace pxed::daemon {

struct ProbeReport {
    std::vector<std::string> answers;   // one line per OFFER taken, for stdout
    std::vector<std::string> warnings;  // one line each, for stderr
};

// Probes for `wait_s` seconds in all (the interfaces at once). An
// interface it cannot probe (no CAP_NET_RAW) gives a warning, not an error:
// the configuration itself is fine.
ProbeReport probe_proxy_subnets(const config::Config& cfg, const std::vector<IfaceInfo>& ifaces, double wait_s);

}  // namespace pxed::daemon
