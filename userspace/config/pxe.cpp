// Proxy subnets and the PXE boot menu: the checks every front end shares.
#include "config/config.h"
#include "config/option_value.h"

namespace pxed::config {

namespace {
// Option 43 holds at most 255 bytes; the menu (sub-option 9) shares it with
// discovery control, the boot servers and the prompt.
constexpr size_t kMenuMax = 200;
}  // namespace

Result<void> validate_pxe(const Config& c) {
    const std::string& src = c.source;
    for (auto& s : c.subnets) {
        if (!s.proxy) continue;
        std::string what = src + ": subnet " + s.net.str() + " (proxy)";
        if (s.known_clients_only)
            return Err(what + ": known-clients-only does not apply: a proxy answers every PXE client; "
                              "use a class with ignore = true to leave clients out");
        for (auto& r : c.reservations)
            if (s.net.contains(r.ip))
                return Err(src + ": reservation " + r.mac.str() + " -> " + r.ip.str() + ": subnet " + s.net.str() +
                           " is served in proxy mode, where another server hands out the addresses; give its "
                           "boot settings in a [[reservation]] without ip");
    }
    std::map<uint16_t, size_t> menu_bytes;
    for (auto& sv : c.pxe.services) {
        std::string what = (sv.where.empty() ? src : sv.where) + ": PXE service '" + sv.text + "'";
        if (sv.text.empty() || sv.text.size() > 80) return Err(what + ": the menu text must be 1-80 bytes");
        if (!sv.file.empty() && sv.file.size() > 120) return Err(what + ": file '" + sv.file + "' is longer than 120 bytes");
        size_t& n = menu_bytes[sv.arch];
        n += 3 + sv.text.size();
        if (n > kMenuMax)
            return Err(what + ": the menu for architecture " + std::to_string(sv.arch) + " takes more than " +
                       std::to_string(kMenuMax) + " bytes of option 43: shorten the texts");
        for (auto& o : c.pxe.services)
            if (&o != &sv && o.type == sv.type && sv.type != 0 && o.file != sv.file)
                return Err(what + ": boot server type " + std::to_string(sv.type) + " is also '" + o.text + "'");
    }
    if (c.pxe.prompt && (c.pxe.prompt->empty() || c.pxe.prompt->size() > 200))
        return Err(src + ": pxe.prompt must be 1-200 bytes");
    return {};
}

}  // namespace pxed::config
