#pragma once
// `pxed --check` on a proxy subnet: the test DISCOVER it sends and what the
// OFFERs to it say about the segment. A proxy needs another server to hand
// out the addresses, and two servers answering PXE clients with boot
// information make the firmware boot from whichever answers first. Pure:
// the daemon (daemon/probe_check.cpp) sends and receives.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dhcp/packet.h"
#include "pxed/net.h"

namespace pxed::dhcp {

// The client hardware address of the probe: the interface's MAC made
// locally administered and changed in bytes 1 and 2, so that it is never a
// real host's and is the same on every run (an address server offers it
// the same address again instead of holding a new one each time).
Mac probe_mac(const Mac& iface_mac);

// A BIOS PXE ROM's DISCOVER (option 60 "PXEClient:Arch:00000:UNDI:002001",
// option 93 = 0, the broadcast flag: the replies come to a host that
// has no address yet), from `chaddr` with transaction id `xid`.
Packet probe_discover(uint32_t xid, const Mac& chaddr);

// One server's answer to the probe.
struct ProbeAnswer {
    Ipv4 server;             // option 54, else the IP source address
    Ipv4 yiaddr;             // 0: a proxy offer
    std::string boot;        // the boot information it carries, for the warning; empty: none
    bool pxe_client = false; // option 60 starts with "PXEClient"
    bool address_server() const { return !yiaddr.is_zero(); }
    bool proxy() const { return yiaddr.is_zero() && pxe_client; }
};

// The OFFERs the probe got on one interface.
class ProbeFindings {
public:
    // `ours`: the server ids pxed itself answers with (the interface's
    // address, the subnet's server-ip): pxed's own offer is not news.
    ProbeFindings(uint32_t xid, const Mac& chaddr, std::vector<Ipv4> ours)
        : xid_(xid), chaddr_(chaddr), ours_(std::move(ours)) {}

    // Takes a reply received on port 68 from `src_ip`. False when it is
    // no OFFER to the probe, or it is ours or a repeat of a server's.
    bool add(const Packet& reply, Ipv4 src_ip);
    const std::vector<ProbeAnswer>& answers() const { return answers_; }

    // The warnings, one line each, naming the interface: no address
    // server answered; another proxy answered; an address server also
    // sends boot information.
    std::vector<std::string> warnings(const std::string& ifname, double waited_s) const;

private:
    uint32_t xid_;
    Mac chaddr_;
    std::vector<Ipv4> ours_;
    std::vector<ProbeAnswer> answers_;
};

// The boot information a reply carries, as words for a warning ("boot file
// 'pxelinux.0', next server 192.0.2.3, PXE options (option 43)"); empty
// when it carries none.
std::string describe_boot(const Packet& reply);

}  // namespace pxed::dhcp
