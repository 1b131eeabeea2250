#pragma once
// Reservations the engine cannot honour yet (dhcp::ReservationConflict):
// another client still holds the address, or the reserved host declined it
// and it is held off. Their MACs are kept out of the kernel maps, so XDP
// passes those clients to the daemon, which gives them a dynamic address.
//
// Owns: the current set of deferred reservations by MAC, and when it was
// last compared with the engine's (conflicts end with time: a lease expires).
#include <cstdint>
#include <map>
#include <vector>

#include "dhcp/engine.h"

namespace pxed::daemon {

class DeferredReservations {
public:
    // Takes the engine's conflicts as the current set: warns once when one
    // begins (naming both MACs and the address), logs when one ends. Returns
    // the MACs to keep out of the kernel maps.
    std::vector<Mac> update(const dhcp::Engine& engine, int64_t now);
    // An engine outcome said a conflict began or ended.
    void mark_dirty() { dirty_ = true; }
    // After a turn of the loop: whether the set differs from the engine's
    // (checked at once when dirty, else once a second).
    bool changed(const dhcp::Engine& engine, int64_t now);
    // Addresses of reservations by option 82 that a lease holds, as of the
    // last update(): kept out of the kernel's relay_reservations map.
    const std::vector<Ipv4>& held() const { return held_; }

private:
    std::map<Mac, dhcp::ReservationConflict> current_;
    std::vector<Ipv4> held_;
    bool dirty_ = false;
    int64_t checked_ = 0;
};

}  // namespace pxed::daemon
