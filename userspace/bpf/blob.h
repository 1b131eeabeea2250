#pragma once
// Reply blobs for the XDP program, cut from the daemon's own rendered reply
// (dhcp/render.h), and the profiles: which request signatures
// (include/pxed/profile.h) the configuration treats alike. Pure.
#include <cstdint>
#include <optional>
#include <vector>

#include "config/config.h"
#include "dhcp/packet.h"
#include "dhcp/policy.h"
#include "pxed/abi.h"
#include "pxed/profile.h"

namespace pxed::bpf {

// The signature the program computes for a request, and what it knows of
// a request with a given signature.
uint32_t signature_of(const dhcp::Packet& req);
dhcp::KernelView view_of_signature(uint32_t sig);
// A request with exactly that view (option 93, 60, 77, 175).
dhcp::Packet synthetic_request(const dhcp::KernelView& v);

// Signature -> profile for one configuration. Two signatures share a profile
// when every test of every class that reads the request, and the boot
// tables, treat them alike; so one blob per profile and reservation is
// the daemon's answer to every signature of the profile. Past PXED_PROFILES
// distinct profiles, the remaining signatures get PXED_NO_PROFILE (passed).
struct Profiles {
    std::vector<uint32_t> of_signature;      // PXED_SIGNATURES entries
    std::vector<dhcp::KernelView> view;      // per profile: its first signature's view
    size_t unmapped = 0;                     // signatures left to the daemon for want of profiles
};
Profiles build_profiles(const config::Config& cfg);

// What a reservation brings to its classification besides the request: its
// subnet, the classes it lists, the outcome of the classes' MAC tests.
std::string class_context(const config::Config& cfg, const config::Reservation& r);
// ... and to its blobs: that, the server id, lease time, whether it has a
// host option (not which: host_option() is written apart) and its own boot
// settings. Reservations with one blob context have the same blob
// for every profile (the address is not in the blob).
std::string blob_context(const config::Config& cfg, const config::Reservation& r, Ipv4 server_id);

struct BlobInput {
    const config::Config* cfg = nullptr;
    const config::Subnet* subnet = nullptr;
    Ipv4 server_ip;
    const config::Reservation* reservation = nullptr;
    const config::AgentReservation* agent = nullptr;  // a reservation by option 82 (reservation is its resv)
};

// Whether a class test reads option 82 (circuit-id, remote-id, option 82).
bool reads_option82(const config::Match& m);
// The facts of a reservation by option 82 as the program sees its request:
// option 82 with its id, any MAC.
dhcp::Facts agent_facts(const dhcp::KernelView& v, const config::AgentReservation& a, const config::Subnet* s);

// Why a profile of a reservation has no blob.
enum class NoBlob { None, Undecided, Ignored, TooLarge, TooManyConditional };

// The blob for one profile (its view); nullopt, with the reason in *why,
// when the policy needs what the program does not read, says ignore, the
// reply does not fit PXED_TAIL_MAX or the 548 bytes every client accepts,
// or it has more than PXED_COND_MAX options that depend on option 55: the
// daemon then answers that client itself.
std::optional<pxed_reply_blob> render_blob(const BlobInput& in, const dhcp::KernelView& view, NoBlob* why = nullptr);

// The two steps of render_blob: the policy of a reservation for a view (nullopt
// and *why when there is no blob), and the blob of a resolved policy. Many
// profiles of one reservation come to the same policy; map_sync renders
// each distinct one once (policy_key).
std::optional<dhcp::Policy> blob_policy(const BlobInput& in, const dhcp::KernelView& view, NoBlob* why = nullptr);
std::optional<pxed_reply_blob> render_blob(const BlobInput& in, const dhcp::Policy& policy, NoBlob* why = nullptr);
std::string policy_key(const dhcp::Policy& p);

// A blob cut from a rendered reply (`conditional`: its options sent because
// asked for); nullopt and *why when it does not fit the program's limits.
std::optional<pxed_reply_blob> cut_blob(const dhcp::Packet& reply, const std::vector<uint8_t>& conditional,
                                        NoBlob* why = nullptr);

// proxyDHCP (userspace/bpf/proxy_blob.cpp): the blob of the proxy subnet
// `sn` for one profile, the OFFER on port 67 or the ACK on port 4011
// (boot_server); nullopt and *why when the program must pass such clients:
// the policy tests what it does not read (a MAC, say), ignores them, or
// there is nothing to boot.
std::optional<pxed_reply_blob> render_proxy_blob(const config::Config& cfg, const config::Subnet& sn, Ipv4 server_ip,
                                                 const dhcp::KernelView& view, bool boot_server, NoBlob* why = nullptr);
// What the proxy subnets' replies depend on besides the boot tables, for
// build_profiles(): appended to a signature's key.
void proxy_profile_key(const config::Config& cfg, const dhcp::KernelView& view, std::string& key);

// The reservation's own option, which the program writes after a blob's
// options (struct pxed_reservation host_opt): option 12 with its host name
// (or the option 12 of its own options); empty when it has none.
std::vector<uint8_t> host_option(const config::Reservation& r);

// Ones' complement sum (not inverted, folded) of bytes placed at an even offset.
uint16_t ones_sum(const uint8_t* p, size_t n);

}  // namespace pxed::bpf
