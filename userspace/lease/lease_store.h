#pragma once
// Durable lease storage behind a small interface. Two backends: the
// embedded SQLite store (sqlite/sqlite_store.cpp), one daemon's own, and
// PostgreSQL (postgres/), shared by several daemons serving the same pools.
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lease/lease6.h"
#include "lease/lease_table.h"
#include "pxed/result.h"

namespace pxed::lease {

struct StoredReservation {
    Mac mac;
    Ipv4 ip;
    std::string hostname;
    std::optional<uint32_t> lease_time;  // 0xffffffff: infinite
};

// What a commit wrote, and what it could not write because another daemon
// sharing the store holds the address (always empty for SQLite).
struct CommitResult {
    // Upserts refused: the address is another client's lease in the store
    // (not expired, not released). The store's row is returned, so the
    // caller's table learns it; the lease it tried to write was not stored.
    std::vector<Lease> lost;
    // The store's version of each row written (shared stores only).
    std::vector<std::pair<Ipv4, int64_t>> versions;
};

// A delete names the address and the version of the row the caller knows:
// a shared store deletes the row only if no other daemon wrote it since.
struct LeaseDelete {
    Ipv4 ip;
    int64_t version = 0;
};

// DHCPv6 leases a commit writes in the same transaction as its v4 ones:
// upserts by address, and deletes.
struct Changes6 {
    std::span<const Lease6> upserts;
    std::span<const Ipv6> deletes;
    bool empty() const { return upserts.empty() && deletes.empty(); }
};

class LeaseStore {
public:
    virtual ~LeaseStore() = default;
    // Every stored lease (offers are never stored), one at a time: a
    // million leases are never all in memory twice. Returns how many.
    virtual Result<size_t> load_each(const std::function<void(Lease&&)>& f) = 0;
    // The same, as a vector (tests, tools).
    Result<std::vector<Lease>> load_all() {
        std::vector<Lease> out;
        auto n = load_each([&](Lease&& l) { out.push_back(std::move(l)); });
        if (!n) return Err(n.error());
        return out;
    }
    // One transaction: upserts by address, then deletes. Durable on return
    // (fsync'd): the caller sends the replies about these leases only then.
    // A shared store writes an upsert only over its own client's row, an
    // expired or released one, or none; the others come back in `lost`.
    virtual Result<CommitResult> commit_all(std::span<const Lease> upserts, std::span<const LeaseDelete> deletes,
                                            const Changes6& v6) = 0;
    Result<CommitResult> commit(std::span<const Lease> upserts, std::span<const LeaseDelete> deletes) {
        return commit_all(upserts, deletes, {});
    }
    // Every stored DHCPv6 lease, one at a time. Returns how many.
    virtual Result<size_t> load_each6(const std::function<void(Lease6&&)>& f) = 0;
    // Static reservations added at run time (pxectl lease add --static);
    // those of the configuration file live in the file.
    virtual Result<std::vector<StoredReservation>> load_reservations() = 0;
    virtual Result<void> put_reservation(const StoredReservation& r) = 0;
    virtual Result<void> delete_reservation(const Mac& mac) = 0;
    // For status output and log lines: backend and location.
    virtual std::string describe() const = 0;
};

// Whether `lease_db` names a PostgreSQL database (a postgresql:// or
// postgres:// URI, or a libpq key=value string with dbname= or host=)
// rather than an SQLite file.
bool is_postgres_url(const std::string& lease_db);

// Opens (creating if absent) the SQLite store at `path` in WAL mode with
// synchronous=FULL. An existing file that is not a pxed lease database, or
// fails SQLite's integrity check, is reported and left untouched.
Result<std::unique_ptr<LeaseStore>> open_sqlite_store(const std::string& path);

}  // namespace pxed::lease
