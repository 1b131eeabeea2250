#pragma once
// One lease: what the table (lease_table.h) keeps per address and the store
// (lease_store.h) keeps across restarts.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pxed/net.h"

namespace pxed::lease {

enum class State : uint8_t { Offered, Bound, Released, Declined };
std::string_view to_string(State s);

// Client identity: option 61 when present, else htype + chaddr (as RFC 2132 9.14).
using ClientKey = std::string;

struct Lease {
    Ipv4 ip;
    Mac mac;
    // Set by LeaseTable::put, different on every put: how the pools' queues
    // (address_pool.h) tell an entry about this lease from one about an
    // earlier lease of the address. Not stored. (It fills padding: a Lease
    // is no larger for it.)
    uint32_t seq = 0;
    ClientKey client;
    std::string hostname;
    std::vector<uint8_t> guid;  // option 97, client machine identifier
    int64_t start = 0;
    int64_t expires = 0;  // seconds since the epoch; INT64_MAX for infinite
    State state = State::Offered;
    bool is_static = false;
    // The store's version of this row when several daemons share the store
    // (PostgreSQL: the row's change sequence number); 0 when unknown or when
    // the store is this daemon's alone. A newer row from another daemon
    // replaces a table entry only when its version is higher.
    int64_t version = 0;
};

}  // namespace pxed::lease
