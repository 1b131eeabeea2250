#pragma once
// The DHCPv6 lease table of the SQLite store (sqlite_store.cpp): its schema,
// and the reads and writes the store runs inside its own transactions.
#include <sqlite3.h>

#include <functional>

#include "lease/lease_store.h"

namespace pxed::lease {

// Added beside the v4 tables (schema version 1 still: a table the older
// pxed never reads).
inline constexpr const char* kSchema6 = R"(
CREATE TABLE IF NOT EXISTS leases6 (
    ip BLOB PRIMARY KEY,         -- 16 bytes, network order
    duid BLOB NOT NULL,
    iaid INTEGER NOT NULL,
    mac BLOB,                    -- when the client showed one
    hostname TEXT NOT NULL DEFAULT '',
    start INTEGER NOT NULL,
    preferred INTEGER NOT NULL,  -- end of the preferred lifetime, seconds since the epoch
    expires INTEGER NOT NULL,    -- end of the valid lifetime
    state INTEGER NOT NULL,
    is_static INTEGER NOT NULL DEFAULT 0
);
)";

// Writes the changes (inside the caller's transaction); the error names
// the address.
Result<void> store_leases6(sqlite3* db, const Changes6& v6);
Result<size_t> load_leases6(sqlite3* db, const std::function<void(Lease6&&)>& f);

}  // namespace pxed::lease
