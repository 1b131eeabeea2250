#pragma once
// The DHCPv6 kernel path's tests (xdp_dhcp6_test.cpp, xdp_dhcp6_hostile_test.cpp):
// a configuration with a [[subnet6]] and reservations by MAC and by DUID,
// client messages and their Ethernet/IPv6/UDP frames, the reply frame read
// back, and a fixture that syncs the maps as the daemon does and runs
// Engine6 beside the program (the differential).
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <optional>
#include <string>
#include <vector>

#include "bpf/map_sync6.h"
#include "config/config.h"
#include "dhcp6/engine6.h"
#include "pxed/net.h"
#include "support/bpf_run.h"

namespace pxed::test6 {

using pxed::test::Frame;

extern const Mac kServerMac;
extern const Ipv6 kServerLL;     // our link-local address: the replies' source
extern const Ipv6 kServerAddr;   // our address in the subnet
extern const Ipv6 kAllServers;   // ff02::1:2
extern const uint16_t kHttpPort;

// A [[subnet6]] fd00:6::/64 with DNS, domains, boot files by architecture,
// boot parameters; reservations (see the .cpp for which).
std::string config_toml();
std::vector<uint8_t> server_duid();  // DUID-LL of kServerMac, as the daemon makes it

// fe80::/64 with the EUI-64 of `mac` (RFC 4291 2.5.1): a client's source.
Ipv6 eui64_link_local(const Mac& mac);

// A client's message, option by option; `raw` options go last as they are.
struct Msg6 {
    dhcp6::MsgType type = dhcp6::MsgType::Solicit;
    uint32_t xid = 0xa1b2c3;
    std::vector<uint8_t> duid;
    std::vector<uint8_t> server_id;  // a Request's
    std::vector<uint32_t> iaids = {0x0a0b0c0d};
    std::vector<uint16_t> oro = {dhcp6::opt::DnsServers};
    bool rapid = true;
    std::optional<uint16_t> arch;
    std::vector<std::string> vendor;  // option 16 entries (enterprise 343)
    std::vector<std::string> user;    // option 15 entries
    std::vector<std::pair<uint16_t, std::vector<uint8_t>>> raw;
    std::vector<uint8_t> bytes() const;
};

// The frame a client sends: Ethernet to 33:33:00:01:00:02, IPv6 to
// ff02::1:2, UDP 546 -> 547 with its checksum.
struct Wire6 {
    Mac src_mac;
    Mac dst_mac = *Mac::parse("33:33:00:01:00:02");
    Ipv6 src, dst = kAllServers;
    uint16_t sport = 546, dport = 547;
    uint8_t hop = 1;
};
Frame frame6(const Wire6& w, const std::vector<uint8_t>& payload);
// The UDP checksum of a segment (its checksum field counted as it is).
uint16_t udp6_sum(const Ipv6& src, const Ipv6& dst, const uint8_t* udp, size_t len);

// A reply frame read back; nullopt when it is not Ethernet/IPv6/UDP or its
// lengths do not add up.
struct Reply6 {
    Mac dst_mac, src_mac;
    Ipv6 src, dst;
    uint8_t hop = 0, traffic_class = 0;
    uint32_t flow = 0;
    uint16_t sport = 0, dport = 0;
    bool checksum_ok = false;
    std::vector<uint8_t> payload;
};
std::optional<Reply6> parse_reply6(const Frame& f);

class Dhcp6Xdp : public pxed::test::XdpTest {
protected:
    void SetUp() override;
    // The maps as the daemon syncs them, with the engine's holders.
    void sync(const std::vector<bpf::Holder6>& holders = {});
    // Runs `m` from `mac` (at `src`, default its EUI-64 link-local address)
    // through the program and through a fresh Engine6 (no leases: the
    // daemon's state when the kernel answers); expects XDP_TX with a frame
    // whose DHCPv6 payload is the engine's reply, byte for byte, and
    // headers as the daemon's socket sends them.
    void expect_same(const Msg6& m, const Mac& mac, std::optional<Ipv6> src = std::nullopt);
    // Expects XDP_PASS with `reason` counted and the frame untouched.
    void expect_pass6(const Frame& f, pxed_stat reason);
    // The engine's reply to `m` (a fresh engine unless `e`).
    dhcp6::Outcome engine_reply(const Msg6& m, const Ipv6& src, dhcp6::Engine6* e = nullptr);

    config::Config cfg_;
    dhcp6::Link link_;
};

}  // namespace pxed::test6
