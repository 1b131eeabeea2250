// TOML: [pxe] (the boot menu of proxy replies) and what a proxy subnet may
// hold. Errors name the source, line and value.
#include "config/option_value.h"
#include "config/toml_internal.h"

namespace pxed::config::toml_detail {

void check_proxy_subnet(const Ctx& c, const toml::table& t, const std::string& what) {
    // The address server sends these; a proxy that sent them too would
    // contradict it (dnsmasq's proxy mode sends none of them either).
    for (const char* k : {"range", "router", "dns", "domain", "lease-time"})
        if (auto v = t[k])
            fail(c.where(*v.node()) + ": " + what + "." + k + ": a proxy subnet (proxy = true) " +
                 (std::string(k) == "range" ? "hands out no addresses" : std::string("sends no ") + k) +
                 ": the network's DHCP server does");
}

namespace {

const std::vector<std::string> kPxeKeys = {"prompt", "timeout", "service"};
const std::vector<std::string> kServiceKeys = {"arch", "text", "file", "type", "server"};

// dnsmasq's client system architecture names (pxe-service), besides pxed's.
uint16_t service_arch(const Ctx& c, const toml::node& n, const std::string& what) {
    if (auto i = n.value<int64_t>()) {
        if (*i < 0 || *i > 65535) fail(c.where(n) + ": " + what + " " + std::to_string(*i) + " is not 0-65535");
        return uint16_t(*i);
    }
    auto s = n.value<std::string>();
    if (!s) fail(c.where(n) + ": " + what + " must be an architecture name or number");
    if (auto csa = pxe_csa_code(*s)) return *csa;
    auto codes = arch_codes(*s);
    if (codes.empty()) fail(c.where(n) + ": " + what + " '" + *s + "' is not an architecture (bios, uefi-x64, arm64-uefi, ..., dnsmasq's x86PC, x86-64_EFI, ... or 0-65535)");
    return codes.front();  // uefi-x64: 7, the code EDK2 and OVMF send
}

PxeService parse_service(const Ctx& c, const toml::table& t, const std::string& what, uint16_t& next_type) {
    check_keys(c, t, kServiceKeys, what.c_str());
    PxeService s;
    s.where = c.where(t);
    auto arch = t["arch"];
    if (!arch) fail(c.where(t) + ": " + what + " needs arch (the client architecture it is shown to)");
    s.arch = service_arch(c, *arch.node(), what + ".arch");
    s.text = get_str(c, t, "text", what.c_str());
    if (s.text.empty()) fail(c.where(t) + ": " + what + " needs text (the menu line)");
    s.file = get_str(c, t, "file", what.c_str());
    if (auto ty = t["type"]) {
        auto i = ty.value<int64_t>();
        if (!i || *i < 1 || *i > 0x7fff)
            fail(c.where(*ty.node()) + ": " + what + ".type must be a boot server type 1-32767 (0 is the local disk: leave out file and type)");
        if (!s.file.empty()) fail(c.where(*ty.node()) + ": " + what + ": give file or type, not both");
        s.type = uint16_t(*i);
    } else if (!s.file.empty()) {
        s.type = next_type++;
    }
    s.server = opt_ip(c, t, "server", what);
    return s;
}

}  // namespace

PxeMenu parse_pxe(const Ctx& c, const toml::node& n) {
    auto t = n.as_table();
    if (!t) fail(c.where(n) + ": pxe must be a table: [pxe]");
    check_keys(c, *t, kPxeKeys, "[pxe]");
    PxeMenu m;
    if (auto p = (*t)["prompt"]) m.prompt = get_str(c, *t, "prompt", "pxe");
    if (auto to = (*t)["timeout"]) {
        auto i = to.value<int64_t>();
        if (!i || *i < 0 || *i > 254)
            fail(c.where(*to.node()) + ": pxe.timeout must be 0-254 seconds (leave it out to wait for a key)");
        if (!m.prompt) fail(c.where(*to.node()) + ": pxe.timeout needs a prompt");
        m.timeout = uint8_t(*i);
    }
    if (auto sv = (*t)["service"]) {
        auto arr = sv.as_array();
        if (!arr) fail(c.where(*sv.node()) + ": pxe.service must be an array of tables: [[pxe.service]]");
        uint16_t next_type = 0x8000;
        for (size_t i = 0; i < arr->size(); i++) {
            auto st = arr->get(i)->as_table();
            if (!st) fail(c.where(*arr->get(i)) + ": pxe.service entries must be tables");
            m.services.push_back(parse_service(c, *st, "pxe.service[" + std::to_string(i) + "]", next_type));
        }
    }
    return m;
}

}  // namespace pxed::config::toml_detail
