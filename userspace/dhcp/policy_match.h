#pragma once
// The leaves of a class's match tree (dhcp/policy.h): each test on the
// whole request (the daemon) and on what the XDP program reads of it, in
// three-valued logic. Internal to policy.cpp; pure.
#include <string_view>
#include <vector>

#include "dhcp/policy.h"

namespace pxed::dhcp::match {

inline constexpr std::string_view kPxeClient = "PXEClient";
inline constexpr std::string_view kHttpClient = "HTTPClient";
inline constexpr std::string_view kIpxe = "iPXE";
inline constexpr uint8_t kIpxeEncap = 175;
inline constexpr uint16_t kKernelArchSlots = 64;  // the program knows option 93 values below this exactly

Tri tri(bool b);
std::string_view bytes(const Option& o);
bool contains(std::string_view hay, std::string_view needle);
// RFC 3004 user class entries; iPXE's raw "iPXE" (or anything that does not
// parse as entries) is one entry.
std::vector<std::string_view> user_class_entries(std::string_view v);

// Whether a test reads the request (architecture, options), not the host.
bool reads_request(config::Match::Kind k);
// A request test on the whole request (f.req set).
Tri exact_leaf(const config::Match& m, const Facts& f);
// A request test on what the program reads; Unknown where it cannot tell.
Tri kernel_leaf(const config::Match& m, const KernelView& k);

}  // namespace pxed::dhcp::match
