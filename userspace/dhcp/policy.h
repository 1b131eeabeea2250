#pragma once
// Boot policy: which classes a request is in and what its reply carries
// (boot file, next server, server name, options), by the precedence
// host > classes (the host's own first, then in configuration order) >
// subnet > global. Pure.
//
// The same resolution runs on what the XDP program can see of a request
// (Facts::kernel): a test the program cannot decide evaluates to Unknown,
// and a policy that depends on one is not rendered into a reply blob, so
// the kernel passes such clients to the daemon.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "dhcp/packet.h"

namespace pxed::dhcp {

enum class Tri : uint8_t { False, True, Unknown };

// Option 60 as the XDP program classifies it.
enum class VendorKind : uint8_t { Absent = 0, PxeClient = 1, HttpClient = 2, Other = 3 };

// What the XDP program reads of a request (include/pxed/profile.h).
struct KernelView {
    std::optional<uint16_t> arch;  // option 93's first entry; >= 64 only as "some value >= 64"
    VendorKind vendor = VendorKind::Absent;
    bool ipxe = false;             // option 77 is "iPXE" (raw or one RFC 3004 entry); else absent
    bool opt175 = false;           // option 175 present
    // Option 82: absent, except for a reservation by option 82, whose
    // requests carry it with that id (agent_kind: its sub-option; the
    // other id is not known).
    bool o82 = false;
    uint8_t agent_kind = 0;
    std::string agent_id;
};

// The client-side facts a policy is decided on.
struct Facts {
    const Packet* req = nullptr;   // the daemon: the whole request
    KernelView kernel;             // used when req is null
    Mac mac;
    const config::Subnet* subnet = nullptr;
    bool known = false;            // a reservation or a host entry
    bool mac_unknown = false;      // the program answers for any MAC (proxy): MAC tests are Unknown
    static Facts exact(const Packet& req, const config::Subnet* s, bool known);
    static Facts of_kernel(const KernelView& k, const Mac& mac, const config::Subnet* s);
    // A proxy subnet's client as the program sees it: any MAC without a
    // reservation or host entry (those are passed), so not known.
    static Facts of_proxy(const KernelView& k, const config::Subnet* s);
};

// The host-level settings: a reservation's or a host entry's.
struct HostRef {
    const config::BootPolicy* set = nullptr;
    const std::vector<std::string>* classes = nullptr;
    std::string_view hostname;
    bool ignore = false;
    static HostRef of(const config::Reservation* r, const config::Host* h);
};

struct Policy {
    std::vector<const config::Class*> classes;  // member classes, in precedence order
    bool ignore = false;           // a host or class says: do not answer
    std::string boot_file;         // empty: no boot file
    bool http = false;             // option 60 "HTTPClient" with the boot file
    bool pxe_client = false;       // option 60 "PXEClient" with the boot file
    std::optional<Ipv4> next_server;
    std::string server_name;
    // One entry per code, in ascending code order: the configured options
    // at their levels, the subnet's router/dns/domain and the host name.
    std::vector<config::OptionValue> options;
};

// Class membership of the request: one Tri per config class, in order.
std::vector<Tri> classify(const config::Config& cfg, const HostRef& host, const Facts& f);

// The policy; nullopt when a test it depends on is Unknown (kernel facts).
std::optional<Policy> resolve(const config::Config& cfg, const HostRef& host, const Facts& f);

// The leaves of `m` that read the request (architecture, options 60, 77,
// 93, 175, ...), evaluated on `f`: the XDP profile map groups requests on
// which these agree.
void request_tests(const config::Match& m, const Facts& f, std::vector<Tri>& out);

}  // namespace pxed::dhcp
