#pragma once
// pxectl trace and pxectl watch: the boot trace as text.
#include <functional>

#include <nlohmann/json.hpp>

namespace pxectl {

// One machine's timeline (the "trace" command's answer).
void print_trace(const nlohmann::json& machine);

struct WatchOptions {
    double interval_s = 1.0;
    long count = 0;       // polls; 0: until interrupted
    bool json = false;    // one JSON document per poll (a line each)
    bool once = false;    // one listing, no screen redraw
};
// Polls `boots` and redraws: one line per machine, a progress bar for a
// transfer under way. Returns when `count` polls are done or on SIGINT.
int watch(const std::function<nlohmann::json()>& boots, const WatchOptions& o);

}  // namespace pxectl
