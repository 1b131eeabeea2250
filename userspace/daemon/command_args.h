#pragma once
// Argument parsing and JSON shapes shared by the command handlers. Every
// failure throws control::CommandError naming the bad value.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "control/control.h"
#include "dhcp/engine.h"
#include "lease/lease_table.h"
#include "pxed/net.h"

namespace pxed::daemon {

[[noreturn]] void fail(std::string msg);
int64_t now_s();
// A string argument; "" when optional and absent.
std::string arg_str(const control::Request& r, const char* name, bool required = true);
Mac parse_mac(const std::string& s);
Ipv4 parse_ip(const std::string& s);

nlohmann::json lease_json(const lease::Lease& l, const config::Config& cfg);
// A reservation; "conflict" says why it is not in force yet (another client holds its address).
nlohmann::json resv_json(const config::Reservation& r, const config::Config& cfg, bool runtime,
                         const dhcp::Engine& engine);

}  // namespace pxed::daemon
