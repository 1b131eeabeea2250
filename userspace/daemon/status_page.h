#pragma once
// /status.json (status-page = true): the server, the boots in progress and
// recently seen (as pxectl watch --json), the leases (as pxectl lease list
// --json) and the counters (as pxectl stats --json). The page itself is
// http/status_page.html.
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "pxed/result.h"

namespace pxed::daemon {

class Daemon;
class LoopCalls;

// The document; on the event loop only (it reads the lease table and the trace).
nlohmann::json status_json(Daemon& d);

// What the HTTP thread calls for /status.json: the document built on the
// event loop through `calls` (an error after 2 s or at shutdown), shared by
// the requests of the same second so that many open pages cost the loop one
// build a second.
std::function<Result<std::string>()> status_source(Daemon& d, LoopCalls& calls);

}  // namespace pxed::daemon
