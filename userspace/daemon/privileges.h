#pragma once
// Capabilities: pxed needs CAP_NET_ADMIN, CAP_BPF, CAP_NET_RAW,
// CAP_NET_BIND_SERVICE (and CAP_SYS_ADMIN to mount bpffs) only to start.
// Once its sockets are bound and its XDP program attached, each thread keeps
// only what it still uses: the main thread CAP_BPF (map updates on reload
// and pxectl) and CAP_NET_ADMIN (detaching XDP at shutdown); the TFTP and
// HTTP threads nothing. Capabilities are per thread, so each thread calls
// this for itself before it handles anything from the network.
#include <string>
#include <vector>

namespace pxed::daemon {

enum class Keep { ControlPlane, Nothing };

// Drops every capability of the calling thread but those of `keep` that it
// has (and CAP_SYS_ADMIN with `sys_admin`: an XDP program behind libxdp's
// dispatcher needs it to be detached). Returns a line for the log.
std::string drop_capabilities(Keep keep, bool sys_admin = false);

}  // namespace pxed::daemon
