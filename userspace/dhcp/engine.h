#pragma once
// The DHCP server state machine (RFC 2131 section 4.3). Pure: a parsed
// request, where it came from and the time go in; a reply and where to send
// it come out. Sockets live in the daemon.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "dhcp/packet.h"
#include "dhcp/reply.h"
#include "lease/lease_table.h"

namespace pxed::dhcp {

// Why a request got no reply; counted and logged at debug by the daemon.
enum class Drop {
    None, NotRequest, NoMessageType, NoSubnet, PoolExhausted, OtherServer, UnknownClient, NotOurs,
    NotEthernet,  // htype/hlen other than Ethernet (1/6), as the XDP program passes them
};
std::string_view to_string(Drop d);

struct Outcome {
    std::optional<Reply> reply;
    Drop drop = Drop::None;
    std::string note;  // for the log line: what was decided
};

class Engine {
public:
    explicit Engine(const config::Config& cfg) : cfg_(&cfg) {}
    void set_config(const config::Config& cfg) { cfg_ = &cfg; }

    Outcome handle(const Packet& req, const RxInfo& rx, int64_t now);

    lease::LeaseTable& leases() { return leases_; }
    const lease::LeaseTable& leases() const { return leases_; }

    static constexpr int64_t kOfferHoldSeconds = 30;
    static constexpr int64_t kDeclineProbationSeconds = 3600;

private:
    struct Ctx;
    Outcome discover(Ctx& c);
    Outcome request(Ctx& c);
    Outcome decline(Ctx& c);
    Outcome release(Ctx& c);
    Outcome inform(Ctx& c);
    Reply make_reply(const Ctx& c, MessageType t, Ipv4 yiaddr, uint32_t lease_time) const;
    Reply make_nak(const Ctx& c, std::string_view why) const;
    uint32_t lease_time_for(const Ctx& c) const;
    std::vector<Ipv4> reserved_in(const config::Subnet& s) const;
    lease::ClientKey identify(const Packet& req);

    const config::Config* cfg_;
    lease::LeaseTable leases_;
};

lease::ClientKey client_key(const Packet& p);

}  // namespace pxed::dhcp
