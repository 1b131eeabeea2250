#pragma once
// Durable lease storage behind a small interface. One backend exists: the
// embedded SQLite store (sqlite/sqlite_store.cpp). The interface is kept
// small so that a store shared by several daemons (PostgreSQL) can fit it.
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lease/lease_table.h"
#include "pxed/result.h"

namespace pxed::lease {

struct StoredReservation {
    Mac mac;
    Ipv4 ip;
    std::string hostname;
    std::optional<uint32_t> lease_time;  // 0xffffffff: infinite
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
    virtual Result<void> commit(std::span<const Lease> upserts, std::span<const Ipv4> deletes) = 0;
    // Static reservations added at run time (pxectl lease add --static);
    // those of the configuration file live in the file.
    virtual Result<std::vector<StoredReservation>> load_reservations() = 0;
    virtual Result<void> put_reservation(const StoredReservation& r) = 0;
    virtual Result<void> delete_reservation(const Mac& mac) = 0;
    // For status output and log lines: backend and location.
    virtual std::string describe() const = 0;
};

// Opens (creating if absent) the SQLite store at `path` in WAL mode with
// synchronous=FULL. An existing file that is not a pxed lease database, or
// fails SQLite's integrity check, is reported and left untouched.
Result<std::unique_ptr<LeaseStore>> open_sqlite_store(const std::string& path);

}  // namespace pxed::lease
