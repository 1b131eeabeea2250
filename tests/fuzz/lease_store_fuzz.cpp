// Fuzzes the SQLite lease-store loader: the input is written as the lease
// database file in a fresh temporary directory and opened as pxed opens it.
// It must load or be refused cleanly, and a refused file must be left byte
// for byte as it was.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "lease/lease_store.h"

namespace {
std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static std::string dir = [] {
        // tmpfs when there is one: the store fsyncs every commit.
        std::string tmpl = access("/dev/shm", W_OK) == 0 ? "/dev/shm/pxed-fuzz-lease-XXXXXX" : "/tmp/pxed-fuzz-lease-XXXXXX";
        if (!mkdtemp(tmpl.data())) std::abort();
        return tmpl;
    }();
    std::string db = dir + "/leases.db";
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) unlink((db + suffix).c_str());
    std::string orig(reinterpret_cast<const char*>(data), size);
    {
        std::ofstream out(db, std::ios::binary);
        out.write(orig.data(), std::streamsize(orig.size()));
    }
    bool refused = false;
    {
        auto s = pxed::lease::open_sqlite_store(db);
        if (!s.ok()) {
            refused = true;
            if (s.error().find(db) == std::string::npos) {
                std::fprintf(stderr, "refusal does not name the file: %s\n", s.error().c_str());
                std::abort();
            }
        } else {
            // Opened: what the daemon reads next must read (every check is
            // done before the file is touched, so a refusal comes from open).
            auto leases = (*s)->load_all();
            auto resv = (*s)->load_reservations();
            if (!leases.ok() || !resv.ok()) {
                std::fprintf(stderr, "opened, then unreadable: %s\n",
                             (!leases.ok() ? leases.error() : resv.error()).c_str());
                std::abort();
            }
        }
    }
    if (refused && slurp(db) != orig) {
        std::fprintf(stderr, "a refused lease database was changed\n");
        std::abort();
    }
    return 0;
}
