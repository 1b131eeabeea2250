#include "config/option_value.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace pxed::config {

const std::vector<ArchInfo>& arch_table() {
    static const std::vector<ArchInfo> t = {
        {0, "x86-bios", "x86 BIOS", false},
        {1, "pc98", "NEC/PC98 (deprecated)", false},
        {2, "itanium", "Itanium", false},
        {3, "alpha", "DEC Alpha (deprecated)", false},
        {4, "arc-x86", "Arc x86 (deprecated)", false},
        {5, "intel-lean-client", "Intel Lean Client (deprecated)", false},
        {6, "ia32-uefi", "x86 UEFI", false},
        {7, "x64-uefi", "x64 UEFI", false},
        {8, "xscale-uefi", "EFI Xscale (deprecated)", false},
        {9, "ebc", "EBC (sent by x64 UEFI firmware too)", false},
        {10, "arm32-uefi", "ARM 32-bit UEFI", false},
        {11, "arm64-uefi", "ARM 64-bit UEFI", false},
        {12, "ppc-openfirmware", "PowerPC Open Firmware", false},
        {13, "ppc-epapr", "PowerPC ePAPR", false},
        {14, "power-opal", "POWER OPAL v3", false},
        {15, "ia32-uefi-http", "x86 UEFI boot from HTTP", true},
        {16, "x64-uefi-http", "x64 UEFI boot from HTTP", true},
        {17, "ebc-http", "EBC boot from HTTP", true},
        {18, "arm32-uefi-http", "ARM UEFI 32 boot from HTTP", true},
        {19, "arm64-uefi-http", "ARM UEFI 64 boot from HTTP", true},
        {20, "x86-bios-http", "pc/at BIOS boot from HTTP", true},
        {21, "arm32-uboot", "ARM 32 uboot", false},
        {22, "arm64-uboot", "ARM 64 uboot", false},
        {23, "arm32-uboot-http", "ARM uboot 32 boot from HTTP", true},
        {24, "arm64-uboot-http", "ARM uboot 64 boot from HTTP", true},
        {25, "riscv32-uefi", "RISC-V 32-bit UEFI", false},
        {26, "riscv32-uefi-http", "RISC-V 32-bit UEFI boot from HTTP", true},
        {27, "riscv64-uefi", "RISC-V 64-bit UEFI", false},
        {28, "riscv64-uefi-http", "RISC-V 64-bit UEFI boot from HTTP", true},
        {29, "riscv128-uefi", "RISC-V 128-bit UEFI", false},
        {30, "riscv128-uefi-http", "RISC-V 128-bit UEFI boot from HTTP", true},
        {31, "s390-basic", "s390 Basic", false},
        {32, "s390-extended", "s390 Extended", false},
        {33, "mips32-uefi", "MIPS 32-bit UEFI", false},
        {34, "mips64-uefi", "MIPS 64-bit UEFI", false},
        {35, "sunway32-uefi", "Sunway 32-bit UEFI", false},
        {36, "sunway64-uefi", "Sunway 64-bit UEFI", false},
        {37, "loongarch32-uefi", "LoongArch 32-bit UEFI", false},
        {38, "loongarch32-uefi-http", "LoongArch 32-bit UEFI boot from HTTP", true},
        {39, "loongarch64-uefi", "LoongArch 64-bit UEFI", false},
        {40, "loongarch64-uefi-http", "LoongArch 64-bit UEFI boot from HTTP", true},
        {41, "rpiboot", "arm rpiboot (Raspberry Pi)", false},
    };
    return t;
}

const ArchInfo* arch_info(uint16_t code) {
    auto& t = arch_table();
    return code < t.size() ? &t[code] : nullptr;
}

bool arch_is_http(uint16_t code) {
    auto* a = arch_info(code);
    return a && a->http;
}

std::optional<uint16_t> pxe_csa_code(std::string_view name) {
    static constexpr std::string_view kCsa[] = {"x86PC",     "PC98",       "IA64_EFI",   "Alpha",
                                                 "Arc_x86",   "Intel_Lean_Client", "IA32_EFI", "x86-64_EFI",
                                                 "Xscale_EFI", "BC_EFI",    "ARM32_EFI",  "ARM64_EFI"};
    for (uint16_t i = 0; i < std::size(kCsa); i++) {
        auto& c = kCsa[i];
        if (c.size() == name.size() && std::equal(c.begin(), c.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            }))
            return i;
    }
    return std::nullopt;
}

std::vector<uint16_t> arch_codes(std::string_view s) {
    if (s == "bios") return {0};
    if (s == "uefi-x64" || s == "x64-uefi") return {7, 9};
    if (s == "uefi-http") return {16};
    for (auto& a : arch_table())
        if (a.name == s) return {a.code};
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size() && !s.empty() && v <= 0xffff) return {uint16_t(v)};
    return {};
}

std::vector<uint8_t> encode_ip(Ipv4 a) {
    return {uint8_t(a.v >> 24), uint8_t(a.v >> 16), uint8_t(a.v >> 8), uint8_t(a.v)};
}
std::vector<uint8_t> encode_u8(uint8_t v) { return {v}; }
std::vector<uint8_t> encode_u16(uint16_t v) { return {uint8_t(v >> 8), uint8_t(v)}; }
std::vector<uint8_t> encode_u32(uint32_t v) {
    return {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
}

std::optional<std::vector<uint8_t>> parse_hex(std::string_view s) {
    std::vector<uint8_t> out;
    auto nib = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        c = char(std::tolower(static_cast<unsigned char>(c)));
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    bool separated = s.find_first_of(":-") != std::string_view::npos;
    if (separated) {
        size_t i = 0;
        while (i <= s.size()) {
            size_t j = s.find_first_of(":-", i);
            if (j == std::string_view::npos) j = s.size();
            auto part = s.substr(i, j - i);
            if (part.empty() || part.size() > 2) return std::nullopt;
            int v = 0;
            for (char c : part) {
                int n = nib(c);
                if (n < 0) return std::nullopt;
                v = v * 16 + n;
            }
            out.push_back(uint8_t(v));
            i = j + 1;
        }
        return out;
    }
    if (s.empty() || s.size() % 2) return std::nullopt;
    for (size_t i = 0; i < s.size(); i += 2) {
        int a = nib(s[i]), b = nib(s[i + 1]);
        if (a < 0 || b < 0) return std::nullopt;
        out.push_back(uint8_t(a * 16 + b));
    }
    return out;
}

std::vector<uint8_t> encode_suboptions(const std::vector<std::pair<uint8_t, std::vector<uint8_t>>>& subs) {
    std::vector<uint8_t> out;
    for (auto& [code, v] : subs) {
        out.push_back(code);
        out.push_back(uint8_t(v.size()));
        out.insert(out.end(), v.begin(), v.end());
    }
    out.push_back(255);
    return out;
}

bool option_is_reserved(uint8_t code) {
    static constexpr uint8_t kReserved[] = {0, 1, 51, 52, 53, 54, 55, 57, 58, 59, 61, 82, 255};
    return std::find(std::begin(kReserved), std::end(kReserved), code) != std::end(kReserved);
}

}  // namespace pxed::config
