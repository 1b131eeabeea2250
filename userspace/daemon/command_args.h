#pragma once
// Argument parsing and JSON shapes shared by the command handlers. Every
// failure throws control::CommandError naming the bad value.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "control/control.h"
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
nlohmann::json resv_json(const config::Reservation& r, const config::Config& cfg, bool runtime);

}  // namespace pxed::daemon
