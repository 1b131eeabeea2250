#pragma once
// The pxectl commands: one handler per command, registered by name in one
// table (commands.cpp), run on the event-loop thread. Adding a command is
// adding a row. A handler returns the reply's data or throws
// control::CommandError with a message that says what is wrong and what to
// do about it; dispatch() is the boundary that the control server catches at.
#include <span>
#include <string_view>

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "pxed/net.h"

#include "control/control.h"

namespace pxed::daemon {

class Daemon;

using CommandHandler = nlohmann::json (*)(Daemon&, const control::Request&);

struct Command {
    std::string_view name;
    CommandHandler run;
    std::string_view summary;
    // Reads the store or the leases: commits under way finish first.
    bool flush = true;
};

std::span<const Command> commands();
nlohmann::json dispatch(Daemon& d, const control::Request& r);

// The handlers, by file.
nlohmann::json cmd_lease_list(Daemon& d, const control::Request& r);     // commands_lease.cpp
nlohmann::json cmd_lease_show(Daemon& d, const control::Request& r);
nlohmann::json cmd_lease_add(Daemon& d, const control::Request& r);
nlohmann::json cmd_lease_del(Daemon& d, const control::Request& r);
nlohmann::json cmd_lease_release(Daemon& d, const control::Request& r);
// The DHCPv6 leases (commands_lease6.cpp): rows appended to a lease list;
// show and del of an IPv6 address (nullopt when `key` is not one).
void list_leases6(Daemon& d, nlohmann::json& out, const std::optional<Ipv6Net>& net, const std::string& state);
std::optional<nlohmann::json> show_lease6(Daemon& d, const std::string& key);
std::optional<nlohmann::json> del_lease6(Daemon& d, const std::string& key);
nlohmann::json cmd_trace(Daemon& d, const control::Request& r);          // commands_trace.cpp
nlohmann::json cmd_boots(Daemon& d, const control::Request& r);
// The boots seen in the last `since_s` seconds (pxectl watch, /status.json).
nlohmann::json boots_json(Daemon& d, int64_t since_s, size_t max);

}  // namespace pxed::daemon
