#pragma once
// The DHCPv6 server state machine (RFC 8415 18.3): takes a datagram as the
// daemon received it and gives back the reply, where it goes, and whether
// it must wait for the lease commit. Pure: time is a parameter; leases live
// in a LeaseTable6 whose changes the daemon stores (group commit) before a
// Reply that promises them leaves.
#include <array>
#include <deque>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "config/config.h"
#include "dhcp6/message.h"
#include "lease/lease6.h"

namespace pxed::dhcp6 {

// The interface a datagram came in on.
struct Link {
    std::string name;
    int ifindex = 0;
    Mac mac;
    std::vector<Ipv6> addrs;  // global and ULA addresses, not link-local
};

struct Request {
    std::span<const uint8_t> bytes;
    Ipv6 src;                   // the client (link-local) or the relay
    Ipv6 dst;                   // where it was sent: ff02::1:2 or one of ours
    const Link* link = nullptr;
};

// Why a request got no reply (counted; the trace and logs name it).
enum class Drop : uint8_t {
    None, Malformed, ServerIdPresent, NotOurServerId, NoServerId, NoClientId, Unicast, NoSubnet, NotServed, IaInInfoRequest,
    Count
};
const char* to_string(Drop d);

struct Outcome {
    std::vector<uint8_t> reply;  // empty: nothing to send
    Ipv6 dst;
    uint16_t dst_port = kClientPort;
    bool hold = false;  // a Reply about leases: leaves once they are stored
    MsgType in = MsgType::Solicit, out = MsgType::Reply;
    Drop drop = Drop::None;
    std::string detail;      // for logs: the parse error, the address, ...
    std::optional<Mac> mac;  // the client's, when seen
    Ipv6 addr;               // the first address the reply carries
    uint16_t no_addrs = 0;   // IAs answered NoAddrsAvail (the pool is full)
};

// What of a request decides the options that follow the IAs in a reply
// (the "tail"): the kernel path renders one tail per shape it answers, with
// the same code as the daemon (render_tail), so both send the same bytes.
struct Shape {
    bool dns = false, domains = false;  // option 23 / 24 in the ORO
    bool boot = false;                  // option 59 in the ORO, or option 61 present
    bool http = false;                  // vendor class (16) "HTTPClient..."
    bool ipxe = false;                  // user class (15) entry "iPXE"
    std::optional<uint16_t> arch;       // option 61's first entry
    static Shape of(const Message& m);
    auto operator<=>(const Shape&) const = default;
};

// A reply to a client, in order (RFC 8415 leaves the order free; this is
// pxed's, and the kernel path's): header (type, xid), Server Identifier,
// Client Identifier (the request's), one IA_NA per requested IA_NA (its
// IAID, T1, T2, one IA Address or a Status Code), Rapid Commit (a Reply to
// a Solicit), then the tail: DNS servers (23), domain list (24), boot file
// URL (59), boot file parameters (60), vendor class "HTTPClient" (16).
// The options after the IAs of a reply from subnet `sn` to a request of
// shape `s` by a client with reservation `resv` (or none); `server`: our
// address in URLs; `http_port`: the HTTP boot server's (render6.cpp).
std::vector<uint8_t> render_tail(const config::Config& cfg, uint16_t http_port, const config::Subnet6& sn,
                                 const config::Reservation6* resv, const Ipv6& server, const Shape& s);
// T1, T2, preferred and valid lifetime of an address from `sn`.
IaNa lifetimes(const config::Subnet6& sn, uint32_t iaid, const Ipv6& addr);
// The subnet a link's own clients are served from, and our address in it:
// the first of the link's addresses that is in a [[subnet6]] (server-ip
// replaces the address). {nullptr, ::} when none is.
std::pair<const config::Subnet6*, Ipv6> link_subnet(const config::Config& cfg, const std::vector<Ipv6>& addrs);

class Engine6 {
public:
    // Advertises held at once (their addresses kept from other clients);
    // past this the oldest yields, so a flood of Solicits from ever new
    // DUIDs cannot grow the table without bound.
    static constexpr size_t kMaxOffers = 65536;

    Engine6(const config::Config& cfg, std::vector<uint8_t> server_duid, uint16_t http_port);
    // A new configuration: subnets, reservations, files. Leases stay.
    void configure(const config::Config& cfg);
    Outcome handle(const Request& r, int64_t now);

    // The reservation of a client: by DUID, else by MAC.
    const config::Reservation6* reservation_for(const std::vector<uint8_t>& duid, const std::optional<Mac>& mac) const;
    lease::LeaseTable6& leases() { return leases_; }
    const std::vector<uint8_t>& server_duid() const { return duid_; }
    uint16_t http_port() const { return http_port_; }  // in boot file URLs (set at start)
    // Whether `a` is a reservation's address (the kernel path's maps follow
    // the leases on those: userspace/bpf/map_sync6.h holders6).
    bool is_reserved(const Ipv6& a) const { return reserved_.count(std::string(a.b.begin(), a.b.end())) != 0; }

private:
    struct Ctx;
    void answer(Ctx& c, int64_t now);
    bool assign(Ctx& c, const IaNa& ia, Writer& w, int64_t now, bool commit);
    bool extend(Ctx& c, const IaNa& ia, Writer& w, int64_t now);
    bool release(Ctx& c, const IaNa& ia, bool decline, int64_t now);

    const config::Config* cfg_;
    std::vector<uint8_t> duid_;
    uint16_t http_port_;
    std::unordered_map<std::string, const config::Reservation6*> by_duid_;
    std::unordered_map<uint64_t, const config::Reservation6*> by_mac_;
    std::unordered_set<std::string> reserved_;  // every reserved address
    lease::LeaseTable6 leases_;
    std::deque<Ipv6> offers_;  // addresses advertised, oldest first (some since bound or gone)
};

}  // namespace pxed::dhcp6
