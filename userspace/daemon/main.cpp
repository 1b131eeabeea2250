// pxed: the PXE boot server daemon. Parses the command line, loads the
// configuration, and hands it to the Daemon (daemon.h), which does the rest.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "bpf/xdp_program.h"
#include "daemon/config_source.h"
#include "daemon/daemon.h"
#include "daemon/probe_check.h"
#include "lease/postgres/postgres.h"
#include "pxed/version.h"

using namespace pxed;

int main(int argc, char** argv) {
    CLI::App app{"pxed: PXE boot server (DHCPv4 with an XDP fast path, TFTP, HTTP boot)", "pxed"};
    app.set_version_flag("-V,--version", "pxed " PXED_VERSION);
    daemon::ConfigSource source;
    std::string dnsmasq_path;
    std::string log_level = "info";
    bool check_only = false, db_init = false, db_upgrade = false;
    double check_wait = 3;
    auto* toml_opt = app.add_option("-c,--config", source.path, "TOML configuration file");
    auto* dm_opt = app.add_option("--dnsmasq-conf", dnsmasq_path, "read a dnsmasq.conf (PXE subset) instead");
    toml_opt->excludes(dm_opt);
    app.add_option("-l,--log-level", log_level, "trace, debug, info, warn, error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
    app.add_flag("--check", check_only,
                 "validate the configuration (and the interfaces it names) and exit; on a proxy subnet, also "
                 "send a test DISCOVER and warn when no DHCP server offers an address or another server offers "
                 "boot information");
    app.add_option("--check-wait", check_wait,
                   "seconds --check listens for OFFERs on proxy subnets (0: no test DISCOVER)")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 60.0));
    auto* init_opt = app.add_flag("--db-init", db_init,
                                  "create pxed's schema in the (empty) PostgreSQL database named by lease-db, and exit");
    app.add_flag("--db-upgrade", db_upgrade,
                 "migrate the PostgreSQL database named by lease-db to this pxed's schema version, and exit")
        ->excludes(init_opt);
    CLI11_PARSE(app, argc, argv);
    if (!dnsmasq_path.empty()) {
        source.path = dnsmasq_path;
        source.dnsmasq = true;
    }
    if (source.path.empty()) {
        std::fprintf(stderr, "pxed: give a configuration: --config FILE (TOML) or --dnsmasq-conf FILE\n");
        return 2;
    }

    spdlog::set_level(spdlog::level::from_str(log_level));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
    bpf::route_library_logs();

    auto c = source.load();
    if (!c) {
        std::fprintf(stderr, "pxed: %s\n", c.error().c_str());
        return 1;
    }
    if (db_init || db_upgrade) {
        const char* flag = db_init ? "--db-init" : "--db-upgrade";
        if (!lease::is_postgres_url(c->lease_db)) {
            std::fprintf(stderr,
                         "pxed: %s is for a PostgreSQL lease-db (\"postgresql://...\"); lease-db in %s is the SQLite "
                         "file %s, whose schema pxed creates itself\n",
                         flag, source.path.c_str(), c->lease_db.c_str());
            return 2;
        }
        auto r = db_init ? lease::pg_db_init(c->lease_db) : lease::pg_db_upgrade(c->lease_db);
        if (!r) {
            std::fprintf(stderr, "pxed: %s\n", r.error().c_str());
            return 1;
        }
        std::printf("%s\n", r->c_str());
        return 0;
    }
    if (check_only) {
        auto chk = daemon::check_interfaces(*c);
        if (!chk) {
            std::fprintf(stderr, "pxed: %s\n", chk.error().c_str());
            return 1;
        }
        if (lease::is_postgres_url(c->lease_db)) {
            // The database a start would need: reachable, with this pxed's schema.
            auto v = lease::pg_schema_version(c->lease_db);
            std::string why = !v ? v.error()
                              : *v == 0 ? "lease database has no pxed schema: create it with pxed --db-init"
                              : *v < lease::kPgSchemaVersion ? "lease database has schema version " + std::to_string(*v) +
                                                                   ": run pxed --db-upgrade"
                              : *v > lease::kPgSchemaVersion ? "lease database has schema version " + std::to_string(*v) +
                                                                   ", newer than this pxed's"
                                                             : "";
            if (!why.empty()) {
                std::fprintf(stderr, "pxed: %s\n", why.c_str());
                return 1;
            }
        }
        // Warnings about the segment, not the file: the exit status stays 0.
        if (check_wait > 0) {
            auto probe = daemon::probe_proxy_subnets(*c, *chk, check_wait);
            for (auto& a : probe.answers) std::printf("%s\n", a.c_str());
            std::fflush(stdout);
            for (auto& w : probe.warnings) std::fprintf(stderr, "pxed --check: warning: %s\n", w.c_str());
        }
        std::printf("%s: ok (%zu interfaces, %zu subnets, %zu reservations)\n", source.path.c_str(),
                    c->interfaces.size(), c->subnets.size(), c->reservations.size());
        return 0;
    }
    daemon::Daemon d(source, std::move(c.value()));
    if (auto r = d.start(); !r) {
        spdlog::critical("{}", r.error());
        return 1;
    }
    return d.serve();
}
