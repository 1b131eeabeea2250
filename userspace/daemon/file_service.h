#pragma once
// TFTP and HTTP boot on the boot root, each on a thread of its own that
// drops every capability before it reads from the network.
//
// Owns: the TFTP server, the HTTP server (with /metrics and the status
// page) and their threads.
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "daemon/interface.h"
#include "daemon/metrics.h"
#include "pxed/result.h"
#include "trace/transfer.h"

namespace pxed::tftp { class Server; }
namespace pxed::http { class Server; }

namespace pxed::daemon {

class FileService {
public:
    FileService();
    ~FileService();  // stops both threads
    FileService(const FileService&) = delete;
    FileService& operator=(const FileService&) = delete;

    // Binds and starts both servers as `cfg` says (nothing without
    // tftp-root): on the `served` interfaces' addresses (IPv4, and IPv6:
    // global, unique local and link-local), or on all with
    // file-service-bind = "all". `metrics` renders /metrics, on the HTTP
    // thread; `observer` hears of every transfer, on the servers' threads;
    // `status` answers /status.json (none: no status page).
    Result<void> start(const config::Config& cfg, const std::vector<IfaceInfo>& served,
                       std::function<std::string()> metrics, std::shared_ptr<trace::TransferObserver> observer,
                       std::function<Result<std::string>()> status = {});
    void stop();
    // Adds the TFTP and HTTP figures of the servers that run.
    void read_into(MetricsSnapshot& s) const;
    bool http_running() const { return http_ != nullptr; }

private:
    std::unique_ptr<tftp::Server> tftp_;
    std::unique_ptr<http::Server> http_;
    std::thread tftp_thread_, http_thread_;
};

}  // namespace pxed::daemon
