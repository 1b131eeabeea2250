#pragma once
// What pxectl trace, pxectl watch and /status show of the boot trace: each
// event as JSON with a one-line text, and per machine a summary of its
// boot (the stage it is at, the transfer under way, the last problem).
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "trace/recorder.h"

namespace pxed::trace {

// A machine is in progress while a transfer runs or for this long after
// its last event; a boot starts after this much silence.
inline constexpr int64_t kActiveUs = 30'000'000;
inline constexpr int64_t kBootGapUs = 300'000'000;

std::string event_text(const Event& e);
nlohmann::json event_json(const Event& e);
// The machine and every event of it.
nlohmann::json machine_json(const Machine& m);

struct BootSummary {
    int64_t first_us = 0;  // the boot's first event (after kBootGapUs of silence)
    int64_t last_us = 0;
    bool active = false;
    std::string stage;  // dhcp, tftp, http
    std::string last;   // event_text of the last event
    std::optional<std::string> problem;  // the last event, when it is a failure
    const Event* dhcp = nullptr;      // the last DHCP answer (OFFER/ACK/NAK)
    const Event* transfer = nullptr;  // the transfer running, if any
    size_t files_done = 0;
    uint64_t bytes_done = 0;
};
BootSummary summarize(const Machine& m, int64_t now_us);
// The summary and the boot's events (those from first_us on).
nlohmann::json boot_json(const Machine& m, int64_t now_us);

}  // namespace pxed::trace
