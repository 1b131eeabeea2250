// [server] dhcp-script, dhcp-script-user and dhcp-script-on-renewal: the
// event script dnsmasq users know, checked when the file is read so that a
// typo is an error with its line, not a silence at the first lease.
#include "config/toml_internal.h"

namespace pxed::config::toml_detail {

void parse_dhcp_script(const Ctx& c, const toml::table& server, Config& cfg) {
    cfg.dhcp_script = get_str(c, server, "dhcp-script", "server");
    cfg.dhcp_script_user = get_str(c, server, "dhcp-script-user", "server");
    cfg.script_on_renewal = get_bool(c, server, "dhcp-script-on-renewal", "server").value_or(false);
    auto at = [&](const char* key) { return server[key] ? c.where(*server[key].node()) : c.where(server); };
    if (cfg.dhcp_script.empty()) {
        for (const char* k : {"dhcp-script-user", "dhcp-script-on-renewal"})
            if (server[k]) fail(at(k) + ": server." + k + " needs server.dhcp-script");
        return;
    }
    if (auto r = check_dhcp_script(cfg.dhcp_script); !r) fail(at("dhcp-script") + ": server." + r.error());
    if (!cfg.dhcp_script_user.empty())
        if (auto r = check_script_user(cfg.dhcp_script_user); !r) fail(at("dhcp-script-user") + ": server." + r.error());
}

}  // namespace pxed::config::toml_detail
