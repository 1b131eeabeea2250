// Reservations that cannot take effect yet (ReservationConflict in
// engine.h): how the engine finds them, describes them, and holds a reserved
// address off after a DECLINE. Split from engine.cpp to keep each file short.
#include <ctime>
#include <limits>

#include "dhcp/engine.h"

namespace pxed::dhcp {

using lease::Lease;
using lease::State;

std::optional<ReservationConflict> Engine::conflict_for(const config::Reservation& r, int64_t now) const {
    const Lease* l = leases_.held_against(r.ip, r.mac, now);
    if (!l) return std::nullopt;
    return ReservationConflict{r.mac, r.ip, l->mac, l->state, l->expires};
}

std::vector<ReservationConflict> Engine::reservation_conflicts(int64_t now) const {
    std::vector<ReservationConflict> out;
    for (auto& r : cfg_->reservations)
        if (auto c = conflict_for(r, now)) out.push_back(*c);
    return out;
}

std::string ReservationConflict::describe() const {
    std::string when = "it is released";
    if (until != std::numeric_limits<int64_t>::max()) {
        time_t t = time_t(until);
        tm u{};
        char b[32];
        gmtime_r(&t, &u);
        std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &u);
        when = b;
    }
    std::string what = state == State::Declined
                           ? ip.str() + " was declined (another host on the wire uses it) and is held off until " + when
                           : ip.str() + " is leased to " + holder.str() + " until " + when;
    return what + "; this host gets a dynamic address meanwhile";
}

// The host found its reserved address in use on the wire (ARP). It usually got
// the address from the kernel, so no lease is in the table. As dnsmasq does,
// the reservation is held off for kReservedDeclineHoldSeconds: the address is
// quarantined (a Declined lease, owned by nobody), conflict_for() reports it,
// the daemon takes the MAC out of the kernel map, and the host gets a dynamic
// address meanwhile (dnsmasq and Kea both fall back to the pool).
Outcome Engine::decline_reserved(const config::Reservation& r, int64_t now) {
    Outcome o;
    if (auto* l = leases_.held_against(r.ip, r.mac, now); l && l->state == State::Bound) {
        o.drop = Drop::NotOurs;
        o.note = "decline of reserved " + r.ip.str() + ", which is leased to " + l->mac.str() + " (deferred)";
        return o;
    }
    Lease q;
    q.ip = r.ip;
    q.client = "declined:" + r.ip.str();
    q.start = now;
    q.expires = now + kReservedDeclineHoldSeconds;
    q.state = State::Declined;
    leases_.erase(r.ip);
    leases_.put(q);
    o.note = "declined reserved " + r.ip.str();
    o.reservations_changed = true;
    o.warning = "reserved address " + r.ip.str() + " of " + r.mac.str() +
                " declined: another host on the wire uses it; the reservation is held off for " +
                std::to_string(kReservedDeclineHoldSeconds) + " s and " + r.mac.str() +
                " gets a dynamic address meanwhile: find the host using " + r.ip.str();
    return o;
}

}  // namespace pxed::dhcp
