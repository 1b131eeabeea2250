#pragma once
// The TOML blocks the tests' configurations share: the [server] header, the
// 192.0.2.0/24 test subnet, the relayed 198.51.100.0/24 subnet and the
// node10 reservation. Each function returns one block as text, with the
// parts that differ between tests as parameters; a test concatenates them
// and so keeps its own configuration. Header-only with standard includes
// only, so the libFuzzer harnesses (built by clang++ apart) can use it too.
#include <string>

namespace pxed::test::toml {

// [server] with one interface; `rest` holds the further keys, one a line.
inline std::string server(const std::string& iface, const std::string& rest = "") {
    return "[server]\ninterfaces = [\"" + iface + "\"]\n" + rest;
}

// [server] of a pxed run by PxedProcess: the lease database in its own dir.
inline std::string netns_server(const std::string& iface, const std::string& rest = "") {
    return server(iface, "lease-db = \"@DIR@/leases.db\"\n" + rest);
}

// A [[subnet]] with its range; `rest` holds router, dns, lease-time, boot...
inline std::string subnet(const std::string& cidr, const std::string& first, const std::string& last,
                          const std::string& rest) {
    return "\n[[subnet]]\ncidr = \"" + cidr + "\"\nrange = [\"" + first + "\", \"" + last + "\"]\n" + rest;
}

// The test LAN 192.0.2.0/24, range 192.0.2.100 to `last`, router 192.0.2.1
// (unless `router` is false); `rest` follows (dns, lease-time, boot...).
inline std::string lan_subnet(const std::string& last, const std::string& rest, bool router = true) {
    return subnet("192.0.2.0/24", "192.0.2.100", last, (router ? "router = \"192.0.2.1\"\n" : "") + rest);
}

// The test LAN 192.0.2.0/24 in proxy mode (another server hands out the
// addresses); `rest` holds boot, options...
inline std::string proxy_subnet(const std::string& rest) {
    return "\n[[subnet]]\ncidr = \"192.0.2.0/24\"\nproxy = true\n" + rest;
}

// The relayed subnet 198.51.100.0/24 with a 300 s lease; `rest` follows.
inline std::string relayed_subnet(const std::string& first, const std::string& last, const std::string& rest = "") {
    return subnet("198.51.100.0/24", first, last, "lease-time = 300\n" + rest);
}

// The boot line with a file for each of the four client kinds (BIOS PXE,
// UEFI x64 PXE, UEFI HTTP boot, iPXE).
inline std::string boot4(const std::string& bios, const std::string& uefi_x64, const std::string& uefi_http,
                         const std::string& ipxe) {
    return "boot = { bios = \"" + bios + "\", uefi-x64 = \"" + uefi_x64 + "\", uefi-http = \"" + uefi_http +
           "\", ipxe = \"" + ipxe + "\" }\n";
}

// A [[reservation]]; `rest` holds hostname, lease-time...
inline std::string reservation(const std::string& mac, const std::string& ip, const std::string& rest = "") {
    return "\n[[reservation]]\nmac = \"" + mac + "\"\nip = \"" + ip + "\"\n" + rest;
}

// The reservation most tests hold: 52:54:00:00:00:0a at 192.0.2.10, "node10".
inline std::string node10(const std::string& rest = "") {
    return reservation("52:54:00:00:00:0a", "192.0.2.10", "hostname = \"node10\"\n" + rest);
}

}  // namespace pxed::test::toml
