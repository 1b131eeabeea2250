#include "daemon/status_page.h"

#include <chrono>
#include <memory>
#include <mutex>

#include "daemon/command_args.h"
#include "daemon/commands.h"
#include "daemon/daemon.h"
#include "daemon/loop_calls.h"
#include "pxed/version.h"
#include "trace/transfer.h"

namespace pxed::daemon {

using nlohmann::json;

namespace {

// The boots of the last hour, at most this many machines (each with up to
// boot-trace-events events), and this many lease rows: the page stays a
// few MB at most and the loop's build a few milliseconds.
constexpr int64_t kBootsSinceS = 3600;
constexpr size_t kMaxBoots = 100;
constexpr size_t kMaxLeases = 2000;
constexpr auto kLoopTimeout = std::chrono::seconds(2);
constexpr auto kReuse = std::chrono::seconds(1);

}  // namespace

json status_json(Daemon& d) {
    json server{{"version", PXED_VERSION},
                {"uptime_s", now_s() - d.started_at()},
                {"node", d.node_name()},
                {"now_us", trace::wall_us()},
                {"boot_trace", d.cfg().boot_trace}};
    json boots = d.cfg().boot_trace ? boots_json(d, kBootsSinceS, kMaxBoots)
                                    : json{{"now_us", trace::wall_us()}, {"boots", json::array()}};
    // Read as they are in memory: no flush of the commits under way (the
    // next poll shows them), so the page never waits for the store.
    json leases = cmd_lease_list(d, control::Request{});
    size_t total = leases.size();
    if (total > kMaxLeases) leases.erase(leases.begin() + kMaxLeases, leases.end());
    return json{{"server", server},
                {"boots", boots},
                {"leases", leases},
                {"leases_total", total},
                {"counters", to_json(d.snapshot())}};
}

std::function<Result<std::string>()> status_source(Daemon& d, LoopCalls& calls) {
    struct Shared {
        std::timed_mutex m;  // one build at a time; the others wait for it
        std::string body;
        std::chrono::steady_clock::time_point at;
    };
    auto sh = std::make_shared<Shared>();
    return [&d, &calls, sh]() -> Result<std::string> {
        std::unique_lock lk(sh->m, std::defer_lock);
        if (!lk.try_lock_for(kLoopTimeout)) return Err(std::string("the status is busy: try again"));
        auto now = std::chrono::steady_clock::now();
        if (!sh->body.empty() && now - sh->at < kReuse) return sh->body;
        // Invalid UTF-8 from the network (a hostname, a vendor class) is
        // replaced, never a reason to fail the whole document.
        auto r = calls.call([&d] { return status_json(d).dump(-1, ' ', false, json::error_handler_t::replace); },
                            kLoopTimeout);
        if (!r) return r;
        sh->body = *r;
        sh->at = now;
        return r;
    };
}

}  // namespace pxed::daemon
