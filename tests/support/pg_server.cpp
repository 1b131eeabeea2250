#include "support/pg_server.h"

#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "support/netns.h"

namespace pxed::test {

namespace {

namespace fs = std::filesystem;

std::string quote(const std::string& s) { return Netns::quote(s); }

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Runs `cmd` through sh; stdout is returned, stderr goes to a file of its
// own so that a failing command's message can be quoted apart from its rows.
PsqlResult run(const std::string& cmd) {
    PsqlResult r;
    char errpath[] = "/tmp/pxedpg-err.XXXXXX";
    int fd = mkstemp(errpath);
    if (fd < 0) {
        r.err = "mkstemp failed";
        return r;
    }
    close(fd);
    FILE* p = popen((cmd + " 2>" + errpath).c_str(), "r");
    if (p) {
        std::array<char, 4096> buf;
        size_t n;
        while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
        int st = pclose(p);
        r.status = st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    r.err = slurp(errpath);
    unlink(errpath);
    return r;
}

// The newest installed server: PXED_PG_BINDIR, else the highest major
// version under /usr/lib/postgresql (Debian's layout) that has initdb.
std::string find_bindir() {
    if (const char* env = std::getenv("PXED_PG_BINDIR"); env && *env) return env;
    std::vector<std::pair<int, std::string>> found;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
        fs::path bin = e.path() / "bin";
        if (!fs::exists(bin / "initdb")) continue;
        found.emplace_back(std::atoi(e.path().filename().c_str()), bin.string());
    }
    if (found.empty())
        throw std::runtime_error("PgServer: no PostgreSQL server under /usr/lib/postgresql/*/bin "
                                 "(run scripts/setup-deps)");
    return std::max_element(found.begin(), found.end())->second;
}

}  // namespace

PgServer::PgServer() : bindir_(find_bindir()) {
    if (geteuid() != 0) throw std::runtime_error("PgServer: must run as root (it runs the server as user postgres)");
    const passwd* pw = getpwnam("postgres");
    if (!pw) throw std::runtime_error("PgServer: no `postgres` system user (run scripts/setup-deps)");
    // Short on purpose: a Unix socket path holds at most 107 bytes.
    char tmpl[] = "/tmp/pxedpg.XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("PgServer: mkdtemp failed");
    dir_ = tmpl;
    // 0755, not mkdtemp's 0700: pxed's lease thread is root without
    // CAP_DAC_OVERRIDE and could not enter a directory owned by postgres
    // otherwise (the data directory below stays 0700).
    if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0 || chmod(dir_.c_str(), 0755) != 0) {
        sh("rm -rf " + quote(dir_));
        throw std::runtime_error("PgServer: cannot hand " + dir_ + " to user postgres");
    }
}

PgServer::~PgServer() {
    // Also when running_ is false but a start half-succeeded: pg_ctl looks
    // at postmaster.pid and does nothing when no server runs.
    if (running_ || fs::exists(dir_ + "/data/postmaster.pid")) {
        try {
            pg_ctl("-m immediate -w -t 60 stop", "stop");
        } catch (...) {
        }
    }
    sh("rm -rf " + quote(dir_));
}

// Server commands run as postgres from inside dir_: the caller's working
// directory (a build tree under /root) may be closed to that user.
void PgServer::pg_ctl(const std::string& args, const std::string& what) const {
    PsqlResult r = run("cd " + quote(dir_) + " && runuser -u postgres -- " + quote(bindir_ + "/pg_ctl") + " -D " +
                       quote(dir_ + "/data") + " -l " + quote(dir_ + "/server.log") + " " + args);
    if (r.status != 0)
        throw std::runtime_error("PgServer: pg_ctl " + what + " failed (status " + std::to_string(r.status) +
                                 "): " + r.out + r.err + "\n--- server log tail (" + dir_ + "/server.log) ---\n" +
                                 log_tail());
}

void PgServer::initdb() {
    // --no-sync skips only initdb's own final flush; the running server
    // keeps fsync on, which the durability tests rely on.
    PsqlResult r = run("cd " + quote(dir_) + " && timeout 120 runuser -u postgres -- " + quote(bindir_ + "/initdb") +
                       " -D " + quote(dir_ + "/data") + " --auth=trust -U postgres -E UTF8 --locale=C --no-sync");
    if (r.status != 0)
        throw std::runtime_error("PgServer: initdb failed (status " + std::to_string(r.status) + "):\n" + r.out +
                                 r.err);
    std::ofstream conf(dir_ + "/data/postgresql.conf", std::ios::app);
    conf << "\n# tests/support/pg_server.cpp: Unix socket only, small footprint; fsync stays on.\n"
         << "listen_addresses = ''\n"
         << "unix_socket_directories = '" << dir_ << "'\n"
         << "unix_socket_permissions = 0777\n"
         << "port = 5432\n"
         << "shared_buffers = 16MB\n"
         << "max_connections = 50\n";
    if (!conf.flush()) throw std::runtime_error("PgServer: cannot write " + dir_ + "/data/postgresql.conf");
    initialised_ = true;
}

void PgServer::start() {
    if (running_) return;
    if (!initialised_) initdb();
    // -w -t: returns once the server accepts connections, or fails after 60 s.
    pg_ctl("-w -t 60 start", "start");
    running_ = true;
}

void PgServer::start_again() {
    if (!initialised_) throw std::runtime_error("PgServer: start_again() before start()");
    start();
}

void PgServer::stop() {
    if (!running_) return;
    pg_ctl("-m fast -w -t 60 stop", "stop -m fast");
    running_ = false;
}

void PgServer::kill_hard() {
    if (!running_) return;
    pg_ctl("-m immediate -w -t 60 stop", "stop -m immediate");
    running_ = false;
}

void PgServer::createdb(const std::string& name) {
    std::string ident = "\"";
    for (char c : name) ident += c == '"' ? std::string("\"\"") : std::string(1, c);
    psql("postgres", "CREATE DATABASE " + ident + "\"");
}

std::string PgServer::conninfo(const std::string& db) const {
    return "postgresql:///" + db + "?host=" + dir_ + "&user=postgres";
}

PsqlResult PgServer::try_psql(const std::string& db, const std::string& sql) const {
    // The timeout bounds a call against a server that hangs; statements in
    // tests take milliseconds. PGCONNECT_TIMEOUT bounds the connection.
    PsqlResult r = run("PGCONNECT_TIMEOUT=10 timeout 120 " + quote(bindir_ + "/psql") +
                       " -XAtq -v ON_ERROR_STOP=1 -d " + quote(conninfo(db)) + " -c " + quote(sql));
    if (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
    return r;
}

std::string PgServer::psql(const std::string& db, const std::string& sql) const {
    PsqlResult r = try_psql(db, sql);
    if (r.status != 0)
        throw std::runtime_error("PgServer: psql on " + db + " failed (status " + std::to_string(r.status) +
                                 "): " + r.err + "SQL: " + sql + "\n--- server log tail ---\n" + log_tail(10));
    return r.out;
}

std::string PgServer::log_tail(int lines) const {
    std::istringstream in(slurp(dir_ + "/server.log"));
    std::vector<std::string> all;
    for (std::string line; std::getline(in, line);) all.push_back(line);
    std::string out;
    for (size_t i = all.size() > size_t(lines) ? all.size() - lines : 0; i < all.size(); i++) out += all[i] + "\n";
    return out.empty() ? "(empty)\n" : out;
}

}  // namespace pxed::test
