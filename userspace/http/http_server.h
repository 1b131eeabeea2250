#pragma once
// HTTP boot: GET and HEAD of the boot root over HTTP/1.1 with Range (for iPXE
// and UEFI HTTP boot), the same path rules as TFTP, /metrics in the
// Prometheus text format, and the status page (/status, /status.json).
// cpp-httplib does the protocol.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/listen6.h"
#include "pxed/net.h"
#include "pxed/result.h"
#include "trace/transfer.h"

namespace pxed::http {

struct Options {
    std::string root;
    // Listens on each of these addresses (the served interfaces'); both
    // empty: on every address ([::], which takes IPv4 too; 0.0.0.0 on a
    // host without IPv6). /metrics is served wherever files are.
    std::vector<Ipv4> addresses;
    std::vector<Listen6> addresses6;
    uint16_t port = 80;
    // Hears of every file GET (not HEAD) and refused request; none: nobody.
    std::shared_ptr<trace::TransferObserver> observer;
    // status-page: /status (the page, built in) and /status.json (what this
    // returns; an error is answered 503). None: those paths are files under
    // the root like any other.
    std::function<Result<std::string>()> status;
};

struct Stats {
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> files{0};       // file responses (200 and 206)
    std::atomic<uint64_t> not_found{0};
    std::atomic<uint64_t> refused{0};
    std::atomic<uint64_t> bytes_sent{0};
};

// Returns the Prometheus text exposition of every counter pxed keeps.
using MetricsFn = std::function<std::string()>;

class Server {
public:
    static Result<std::unique_ptr<Server>> open(const Options& o, MetricsFn metrics);
    ~Server();
    void run();   // serves until stop()
    void stop();
    const Stats& stats() const { return stats_; }

private:
    struct Impl;
    explicit Server(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
    Stats stats_;
};

}  // namespace pxed::http
