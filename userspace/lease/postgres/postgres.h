#pragma once
// The PostgreSQL lease store: several pxed daemons serving the same pools
// from one database (lease-db = "postgresql://..."). The schema is pxed's,
// versioned, created and migrated only on request (pxed --db-init,
// --db-upgrade), as Kea's kea-admin db-init / db-upgrade do: a daemon never
// changes a schema behind an administrator's back.
#include <cstdint>
#include <memory>
#include <string>

#include "lease/lease_store.h"

namespace pxed::lease {

// The schema version this pxed reads and writes.
constexpr int kPgSchemaVersion = 2;

// Creates pxed's tables in an empty database (every migration from
// nothing up to kPgSchemaVersion, in one transaction). Refuses a database
// that already has them. Returns the line to print.
Result<std::string> pg_db_init(const std::string& url);
// Migrates an older pxed schema to kPgSchemaVersion in one transaction;
// a schema already current is left alone. Returns the line to print.
Result<std::string> pg_db_upgrade(const std::string& url);
// The schema version found in the database; 0 when it has no pxed schema.
Result<int> pg_schema_version(const std::string& url);

// Opens the store for the daemon `node` (its name in the database: who
// wrote a row, whose status pxectl status shows). Fails, saying which
// command to run, when the schema is missing, older or newer.
Result<std::unique_ptr<LeaseStore>> open_postgres_store(const std::string& url, const std::string& node);

// Internal steps of pg_db_init, for the upgrade tests: the schema at an
// older `version`.
Result<std::string> pg_db_init_at(const std::string& url, int version);

}  // namespace pxed::lease
