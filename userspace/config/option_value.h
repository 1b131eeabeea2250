#pragma once
// DHCP option values and client architectures, as both front ends (TOML and
// dnsmasq.conf) write them: typed values encoded to the bytes on the wire,
// and the IANA processor architecture types (RFC 4578 option 93) by name.
// Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pxed/net.h"
#include "pxed/result.h"

namespace pxed::config {

// The IANA "Processor Architecture Types" registry (RFC 4578, RFC 5970 and
// the later registrations, 0-41). 7 and 9 are both x64 UEFI in practice:
// RFC 4578's text swapped them (errata 4383) and firmware sends either.
struct ArchInfo {
    uint16_t code;
    std::string_view name;  // pxed's name for it, as a [boot] key
    std::string_view iana;  // the registry's description
    bool http;              // UEFI/U-Boot HTTP boot: the reply says "HTTPClient" in option 60
};
const std::vector<ArchInfo>& arch_table();
const ArchInfo* arch_info(uint16_t code);
// A name of arch_table(), one of the aliases (bios, uefi-x64 = 7 and 9,
// uefi-http = 16, ebc = 9), or a number 0-65535. Several codes for uefi-x64.
std::vector<uint16_t> arch_codes(std::string_view name_or_number);
bool arch_is_http(uint16_t code);
// dnsmasq's pxe-service names for client system architectures (x86PC = 0,
// PC98, IA64_EFI, Alpha, Arc_x86, Intel_Lean_Client, IA32_EFI,
// x86-64_EFI = 7, Xscale_EFI, BC_EFI = 9, ARM32_EFI, ARM64_EFI = 11),
// compared without case.
std::optional<uint16_t> pxe_csa_code(std::string_view name);

// Encoders for the typed values of an option (one function per type).
std::vector<uint8_t> encode_ip(Ipv4 a);
std::vector<uint8_t> encode_u8(uint8_t v);
std::vector<uint8_t> encode_u16(uint16_t v);
std::vector<uint8_t> encode_u32(uint32_t v);
// "01:02:ff", "01-02-ff" or "0102ff"; nullopt when it is not hex.
std::optional<std::vector<uint8_t>> parse_hex(std::string_view s);
// Sub-options (code, value) encoded as an encapsulated option (43, 175,
// ...): each as code, length, value, and an end option (255) after them,
// as PXE 2.1 and dnsmasq's encapsulation write them.
std::vector<uint8_t> encode_suboptions(const std::vector<std::pair<uint8_t, std::vector<uint8_t>>>& subs);

// Options pxed writes itself; a configured one of these is refused, so that
// the reply never carries two of them: 53, 54, 51, 58, 59, 1 (set by the
// subnet), 52, 55, 57, 61, 82, 0 and 255.
bool option_is_reserved(uint8_t code);

}  // namespace pxed::config
