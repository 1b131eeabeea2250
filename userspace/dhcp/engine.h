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
#include "dhcp/policy.h"
#include "dhcp/reply.h"
#include "lease/lease_table.h"

namespace pxed::dhcp {

// Why a request got no reply; counted and logged at debug by the daemon.
enum class Drop {
    None, NotRequest, NoMessageType, NoSubnet, PoolExhausted, OtherServer, UnknownClient, NotOurs,
    NotEthernet,  // htype/hlen other than Ethernet (1/6), as the XDP program passes them
    Ignored,      // the boot policy: a host or class with ignore, or an unknown client on a known-clients-only subnet
    NotPxe,          // proxy subnet: not a PXE client (option 60)
    NothingToBoot,   // proxy subnet: no boot file nor menu for the client, or an unknown boot item
    StoreUnavailable,  // the lease database takes no writes: no new lease (set_store_down)
};
std::string_view to_string(Drop d);

struct Outcome {
    std::optional<Reply> reply;
    Drop drop = Drop::None;
    std::string note;  // for the debug log line: what was decided (empty when notes are off)
    const config::Subnet* subnet = nullptr;  // PoolExhausted: the subnet whose pool it is
    std::string warning;  // logged at warn by the daemon when set (an operator must act)
    // A reservation's conflict may have begun or ended (a reserved address
    // declined, released or given up): the daemon re-syncs the kernel map.
    bool reservations_changed = false;
    bool proxy = false;  // a proxyDHCP reply: no lease behind it, nothing to commit
    // An ACK that changed nothing (a renewal answered from the stored lease
    // while the store is down, or a reservation's): it leaves at once.
    bool nothing_to_commit = false;
};

// A reservation that cannot take effect yet because another client still
// holds its address: a bound lease of another MAC (the reservation was added
// by a reload or restart while the address was leased), or the address was
// declined and is held off. As Kea (alloc_engine: "conflicting reservation")
// and dnsmasq ("not using configured address ... because it is leased to")
// do, the holder keeps the address until its lease ends, is released, or is
// refused at renewal; the reserved host gets a dynamic address meanwhile and
// its MAC stays out of the kernel map, so XDP passes it to the daemon.
struct ReservationConflict {
    Mac mac;       // the reserved host
    Ipv4 ip;       // its reserved address
    Mac holder;    // the MAC holding the address; zero for a declined address
    lease::State state = lease::State::Bound;  // Bound or Declined
    int64_t until = 0;  // when the holder's lease or the hold ends
    // One sentence for the log and pxectl, e.g. "192.0.2.50 is leased to
    // 52:54:00:00:00:02 until 2026-11-29T18:00:00Z; this host gets a dynamic
    // address meanwhile".
    std::string describe() const;
};

class Engine {
public:
    explicit Engine(const config::Config& cfg) { set_config(cfg); }
    // Also rebuilds the lease table's pools (the ranges and reservations).
    void set_config(const config::Config& cfg);

    Outcome handle(const Packet& req, const RxInfo& rx, int64_t now);

    // The conflict that defers reservation `r` at `now`, if any; all of them.
    std::optional<ReservationConflict> conflict_for(const config::Reservation& r, int64_t now) const;
    std::vector<ReservationConflict> reservation_conflicts(int64_t now) const;
    // The addresses of reservations by option 82 that a lease holds (bound
    // or declined): the kernel leaves them to the daemon, which knows whose
    // lease it is (agent_reservation.cpp).
    std::vector<Ipv4> agent_addresses_held(int64_t now) const;

    // Whether outcomes carry a note (on by default). The daemon turns them
    // off unless it logs at debug: no string is built per request then.
    void set_notes(bool on) { notes_ = on; }

    // The lease database takes no writes (unreachable, or commits fail).
    // Then, as documented in CONFIG.md ("When the lease database is
    // down"): reserved clients are answered as ever; a client whose bound
    // lease is stored (Lease::version != 0) is offered and renewed that
    // lease with the time it has left, nothing written; every other
    // DISCOVER and REQUEST is dropped (Drop::StoreUnavailable), never NAKed.
    void set_store_down(bool down) { store_down_ = down; }
    // Several servers share the lease store (PostgreSQL). Then a REQUEST
    // that chose another server for the address this one offered keeps the
    // offer's hold on it (the other server is taking it, and this one may
    // not know yet), instead of freeing it for the next client.
    void set_shared_store(bool shared) { shared_store_ = shared; }
    bool store_down() const { return store_down_; }

    lease::LeaseTable& leases() { return leases_; }
    const lease::LeaseTable& leases() const { return leases_; }

    static constexpr int64_t kOfferHoldSeconds = 30;
    static constexpr int64_t kDeclineProbationSeconds = 3600;
    // A DECLINE of a reserved address holds the reservation off this long
    // (dnsmasq's DECLINE_BACKOFF, 10 minutes): long enough that a host that
    // keeps finding its address taken sends one DECLINE per 10 minutes, not a
    // DECLINE/DISCOVER loop; short enough that the reservation comes back soon
    // after the other host is fixed. Kea's decline-probation-period (24 h) is
    // for pool addresses, where another address is as good.
    static constexpr int64_t kReservedDeclineHoldSeconds = 600;

private:
    struct Ctx;
    Outcome discover(Ctx& c);
    Outcome request(Ctx& c);
    Outcome decline(Ctx& c);
    Outcome decline_reserved(const config::Reservation& r, int64_t now);
    Outcome release(Ctx& c);
    Outcome inform(Ctx& c);
    Outcome proxy(Ctx& c);
    Reply make_reply(const Ctx& c, MessageType t, Ipv4 yiaddr, uint32_t lease_time) const;
    Reply make_nak(const Ctx& c, std::string_view why) const;
    uint32_t lease_time_for(const Ctx& c) const;
    lease::ClientKey identify(const Packet& req);
    // The reservation by option 82 that `req` falls under (agent_reservation.cpp).
    const config::AgentReservation* agent_reservation(const Packet& req, const config::Subnet& subnet,
                                                      int64_t now) const;

    template <class F>
    std::string note(F&& make) const {
        return notes_ ? make() : std::string();
    }

    const config::Config* cfg_ = nullptr;
    bool notes_ = true;
    bool store_down_ = false;
    bool shared_store_ = false;
    lease::LeaseTable leases_;
    // While the store is down: the client's stored bound lease, if any.
    const lease::Lease* stored_lease(const Ctx& c) const;
    // Whether `client` holds a live bound lease on `ip`.
    bool stored_bound(Ipv4 ip, const lease::ClientKey& client, int64_t now) const {
        auto* l = leases_.by_ip(ip);
        return l && l->client == client && l->state == lease::State::Bound && l->expires > now;
    }
};

lease::ClientKey client_key(const Packet& p);

}  // namespace pxed::dhcp
