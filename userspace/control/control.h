#pragma once
// The control socket: newline-delimited JSON over a Unix stream socket.
//   request:  {"version": 1, "command": "lease-list", "args": {...}}
//   response: {"version": 1, "ok": true, "data": ...}
//             {"version": 1, "ok": false, "error": "what is wrong and what to do"}
// The server runs inside the daemon's event loop: non-blocking, every
// connection bounded in size and time, so a bad client never stalls DHCP.
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "pxed/result.h"

namespace pxed::control {

inline constexpr int kProtocolVersion = 1;
inline constexpr size_t kMaxRequestBytes = 64 * 1024;
inline constexpr int kMaxJsonDepth = 16;  // arrays and objects inside each other
inline constexpr int64_t kRequestDeadlineNs = 5'000'000'000;
inline constexpr size_t kMaxConnections = 64;
inline constexpr const char* kDefaultSocket = "/run/pxed/pxed.sock";

struct Request {
    std::string command;
    nlohmann::json args = nlohmann::json::object();
};

// A command's failure: the message goes back to the client.
struct CommandError {
    std::string message;
};

// Parses one request line; the error is the message to send back. A request
// that nests arrays and objects deeper than kMaxJsonDepth is refused before
// it is parsed (the parser and the value's copies recurse per level).
Result<Request> parse_request(std::string_view line);
std::string ok_response(const nlohmann::json& data);
std::string error_response(const std::string& message);

using Handler = std::function<nlohmann::json(const Request&)>;  // may throw CommandError

class Server {
public:
    // Binds `path` (mode 0660, group `group` when it exists) after removing a
    // stale socket. Peers are also checked with SO_PEERCRED: root, the
    // daemon's own user, or members of `group`.
    static Result<std::unique_ptr<Server>> open(const std::string& path, const std::string& group, Handler h);
    ~Server();

    int listen_fd() const { return listen_fd_; }
    const std::string& path() const { return path_; }
    // Event-loop hooks: the owner polls listen_fd() and the fds it is told to
    // watch, and calls expire() now and then.
    void on_listen(const std::function<void(int)>& watch);
    void on_readable(int fd, const std::function<void(int)>& unwatch);
    void expire(const std::function<void(int)>& unwatch);
    bool owns(int fd) const { return conns_.count(fd) != 0; }

private:
    Server() = default;
    struct Conn {
        std::string buf;
        int64_t deadline = 0;
    };
    void close_conn(int fd, const std::function<void(int)>& unwatch);
    bool peer_allowed(int fd) const;

    int listen_fd_ = -1;
    std::string path_;
    gid_t gid_ = 0;
    bool have_group_ = false;
    Handler handler_;
    std::unordered_map<int, Conn> conns_;
};

}  // namespace pxed::control
