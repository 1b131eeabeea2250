#include "control/control.h"

#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <vector>

namespace pxed::control {

namespace {
int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
void send_all(int fd, const std::string& s) {
    // A large answer (lease list of thousands) outgrows the socket buffer:
    // wait for the peer to read, but never more than kSendBudgetMs in all:
    // a peer that does not read is cut off, not waited for.
    constexpr int kSendBudgetMs = 1000;
    auto deadline = now_ns() + int64_t(kSendBudgetMs) * 1000000;
    size_t off = 0;
    while (off < s.size()) {
        ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            off += size_t(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int64_t left_ms = (deadline - now_ns()) / 1000000;
            pollfd p{fd, POLLOUT, 0};
            if (left_ms > 0 && poll(&p, 1, int(left_ms)) == 1 && (p.revents & POLLOUT)) continue;
        }
        return;
    }
}
// The deepest nesting of arrays and objects outside strings.
int json_depth(std::string_view s) {
    int depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (char c : s) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return deepest;
}
}  // namespace

Result<Request> parse_request(std::string_view line) {
    if (line.size() > kMaxRequestBytes)
        return Err("request of " + std::to_string(line.size()) + " bytes is longer than 64 KiB");
    if (int d = json_depth(line); d > kMaxJsonDepth)
        return Err("request nests arrays and objects " + std::to_string(d) + " deep; at most " +
                   std::to_string(kMaxJsonDepth) + " are allowed");
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) return Err(std::string("request is not JSON"));
    if (!j.is_object()) return Err(std::string("request must be a JSON object"));
    if (!j.contains("version") || !j["version"].is_number_integer())
        return Err(std::string("request has no \"version\""));
    if (j["version"].get<int64_t>() != kProtocolVersion)
        return Err("protocol version " + j["version"].dump() + " is not supported; this pxed speaks version " +
                   std::to_string(kProtocolVersion));
    if (!j.contains("command") || !j["command"].is_string()) return Err(std::string("request has no \"command\""));
    Request r;
    r.command = j["command"].get<std::string>();
    if (j.contains("args")) {
        if (!j["args"].is_object()) return Err(std::string("\"args\" must be an object"));
        r.args = j["args"];
    }
    return r;
}

std::string ok_response(const nlohmann::json& data) {
    nlohmann::json j{{"version", kProtocolVersion}, {"ok", true}, {"data", data}};
    return j.dump() + "\n";
}

std::string error_response(const std::string& message) {
    nlohmann::json j{{"version", kProtocolVersion}, {"ok", false}, {"error", message}};
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<std::unique_ptr<Server>> Server::open(const std::string& path, const std::string& group, Handler h) {
    std::unique_ptr<Server> s(new Server());
    s->path_ = path;
    s->handler_ = std::move(h);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path.size() >= sizeof a.sun_path) return Err("control socket path " + path + " is too long");
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    std::error_code ec;
    auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (ec) return Err("cannot create " + dir.string() + " for the control socket: " + ec.message());
    s->listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->listen_fd_ < 0) return Err(std::string("socket: ") + std::strerror(errno));
    // A socket file left by a pxed that did not exit cleanly: replace it only
    // when nothing answers on it (another pxed may be running).
    if (std::filesystem::exists(path, ec)) {
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool alive = connect(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        close(probe);
        if (alive) return Err("another pxed answers on " + path + ": stop it or set a different control-socket");
        unlink(path.c_str());
    }
    if (struct group* g = getgrnam(group.c_str())) {
        s->gid_ = g->gr_gid;
        s->have_group_ = true;
    }
    mode_t old = umask(0117);  // the socket is created 0660
    int rc = bind(s->listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    umask(old);
    if (rc != 0) return Err("cannot bind the control socket " + path + ": " + std::strerror(errno));
    if (s->have_group_ && chown(path.c_str(), 0, s->gid_) != 0)
        return Err("cannot give " + path + " to group " + group + ": " + std::strerror(errno));
    chmod(path.c_str(), 0660);
    if (listen(s->listen_fd_, 16) != 0) return Err(std::string("listen: ") + std::strerror(errno));
    return s;
}

Server::~Server() {
    for (auto& [fd, c] : conns_) close(fd);
    if (listen_fd_ >= 0) {
        close(listen_fd_);
        unlink(path_.c_str());
    }
}

bool Server::peer_allowed(int fd) const {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
    if (cred.uid == 0 || cred.uid == geteuid()) return true;
    if (!have_group_) return false;
    if (cred.gid == gid_) return true;
    // Supplementary groups of the peer's user.
    struct passwd* pw = getpwuid(cred.uid);
    if (!pw) return false;
    int n = 64;
    std::vector<gid_t> groups(static_cast<size_t>(n));
    if (getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &n) < 0) {
        groups.resize(size_t(n));
        if (getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &n) < 0) return false;
    }
    for (int i = 0; i < n; i++)
        if (groups[size_t(i)] == gid_) return true;
    return false;
}

void Server::on_listen(const std::function<void(int)>& watch) {
    for (int k = 0; k < 16; k++) {
        int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        if (!peer_allowed(fd)) {
            send_all(fd, error_response("permission denied: use root or a member of the control group"));
            close(fd);
            continue;
        }
        if (conns_.size() >= kMaxConnections) {
            send_all(fd, error_response("too many control connections"));
            close(fd);
            continue;
        }
        conns_[fd] = Conn{{}, now_ns() + kRequestDeadlineNs};
        watch(fd);
    }
}

void Server::close_conn(int fd, const std::function<void(int)>& unwatch) {
    unwatch(fd);
    close(fd);
    conns_.erase(fd);
}

void Server::on_readable(int fd, const std::function<void(int)>& unwatch) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    char buf[4096];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            close_conn(fd, unwatch);
            return;
        }
        if (n < 0) break;
        it->second.buf.append(buf, size_t(n));
        if (it->second.buf.size() > kMaxRequestBytes) {
            send_all(fd, error_response("request longer than 64 KiB"));
            close_conn(fd, unwatch);
            return;
        }
    }
    // Every complete line is one request.
    size_t nl;
    while ((nl = it->second.buf.find('\n')) != std::string::npos) {
        std::string line = it->second.buf.substr(0, nl);
        it->second.buf.erase(0, nl + 1);
        auto req = parse_request(line);
        std::string resp;
        if (!req) {
            resp = error_response(req.error());
        } else {
            try {
                resp = ok_response(handler_(*req));
            } catch (const CommandError& e) {
                resp = error_response(e.message);
            } catch (const std::exception& e) {
                resp = error_response(std::string("internal error: ") + e.what());
            }
        }
        send_all(fd, resp);
        it->second.deadline = now_ns() + kRequestDeadlineNs;
    }
}

void Server::expire(const std::function<void(int)>& unwatch) {
    int64_t now = now_ns();
    std::vector<int> late;
    for (auto& [fd, c] : conns_)
        if (c.deadline <= now) late.push_back(fd);
    for (int fd : late) {
        send_all(fd, error_response("request not completed within 5 s"));
        close_conn(fd, unwatch);
    }
}

}  // namespace pxed::control
