#pragma once
// The DHCPv6 server state machine (RFC 8415 18.3): takes a datagram as the
// daemon received it and gives back the reply, where it goes, and whether
// it must wait for the lease commit. Pure: time is a parameter; leases live
// in a LeaseTable6 whose changes the daemon stores (group commit) before a
// Reply that promises them leaves.
#include <array>
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
    None, Malformed, ServerIdPresent, NotOurServerId, NoServerId, NoClientId, Unicast, NoSubnet, NotServed, Count
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
};

struct Counters6 {
    std::array<uint64_t, 14> rx{};  // by message type
    uint64_t advertise = 0, reply = 0, no_addrs = 0;
    std::array<uint64_t, size_t(Drop::Count)> dropped{};
};

class Engine6 {
public:
    Engine6(const config::Config& cfg, std::vector<uint8_t> server_duid, uint16_t http_port);
    // A new configuration: subnets, reservations, files. Leases stay.
    void configure(const config::Config& cfg);
    Outcome handle(const Request& r, int64_t now);

    lease::LeaseTable6& leases() { return leases_; }
    const Counters6& counters() const { return counters_; }
    const std::vector<uint8_t>& server_duid() const { return duid_; }

private:
    struct Ctx;
    void answer(Ctx& c, int64_t now);
    bool assign(Ctx& c, const IaNa& ia, Writer& w, int64_t now, bool commit);
    bool extend(Ctx& c, const IaNa& ia, Writer& w, int64_t now);
    void release(Ctx& c, const IaNa& ia, bool decline, int64_t now);
    void add_options(Ctx& c, Writer& w);
    std::string boot_url(const Ctx& c) const;
    const config::Reservation6* reservation(const Ctx& c) const;

    const config::Config* cfg_;
    std::vector<uint8_t> duid_;
    uint16_t http_port_;
    std::unordered_map<std::string, const config::Reservation6*> by_duid_;
    std::unordered_map<uint64_t, const config::Reservation6*> by_mac_;
    std::unordered_set<std::string> reserved_;  // every reserved address
    lease::LeaseTable6 leases_;
    Counters6 counters_;
};

}  // namespace pxed::dhcp6
