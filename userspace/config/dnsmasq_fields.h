#pragma once
// The field syntax of dnsmasq.conf lines, as dnsmasq reads it: comma-separated
// fields (quotes keep commas) and lease times with unit suffixes. Pure:
// strings in, values out.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pxed::config {

// Splits at `sep` outside double quotes; each field trimmed of blanks.
std::vector<std::string> split(const std::string& s, char sep);

// dnsmasq lease times: "45m", "12h", "1d", "3600", "infinite" (raised to
// dnsmasq's minimum of 120 s); nullopt when it is not one.
std::optional<uint32_t> lease_time(const std::string& s);

}  // namespace pxed::config
