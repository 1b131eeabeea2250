#include "dhcp/proxy.h"

#include <algorithm>
#include <map>

#include "dhcp/render.h"

namespace pxed::dhcp {

namespace {
// PXE 2.1 option 43 sub-options.
constexpr uint8_t kDiscoveryControl = 6, kBootServers = 8, kBootMenu = 9, kMenuPrompt = 10, kBootItem = 71;
// Discovery control: bit 0 no broadcast discovery, bit 1 no multicast
// discovery, bit 3 "boot the file in this reply, no menu".
constexpr uint8_t kNoBroadcastNoMulticast = 3, kNoBroadcast = 2, kUseBootFile = 8;
constexpr uint16_t kFirstUefiArch = 6;  // dnsmasq: "Redirect EFI clients to port 4011"
constexpr size_t kUuidLen = 17;         // option 97: type 0 and a 16-byte GUID

bool asked(const Option* prl, uint8_t code) {
    return !prl || std::find(prl->data.begin(), prl->data.end(), code) != prl->data.end();
}
void put_u16(std::vector<uint8_t>& v, uint16_t x) {
    v.push_back(uint8_t(x >> 8));
    v.push_back(uint8_t(x));
}
void put_sub(std::vector<uint8_t>& v, uint8_t code, const std::vector<uint8_t>& data) {
    v.push_back(code);
    v.push_back(uint8_t(data.size()));
    v.insert(v.end(), data.begin(), data.end());
}
std::optional<uint16_t> client_arch(const Packet& req) {
    auto* o = req.options.find(opt::ClientArch);
    if (!o || o->data.size() < 2) return std::nullopt;
    return uint16_t(o->data[0] << 8 | o->data[1]);
}
// The boot item a REQUEST to port 4011 names: type and layer.
std::optional<std::pair<uint16_t, uint16_t>> boot_item(const Packet& req) {
    auto* o = req.options.find(opt::VendorSpecific);
    if (!o) return std::nullopt;
    auto& d = o->data;
    for (size_t i = 0; i < d.size() && d[i] != opt::End;) {
        if (d[i] == opt::Pad) {
            i++;
            continue;
        }
        if (i + 1 >= d.size() || i + 2 + d[i + 1] > d.size()) return std::nullopt;
        if (d[i] == kBootItem && d[i + 1] == 4) return std::pair{uint16_t(d[i + 2] << 8 | d[i + 3]), uint16_t(d[i + 4] << 8 | d[i + 5])};
        i += 2 + d[i + 1];
    }
    return std::nullopt;
}
std::string service_file(const config::PxeService& s, uint16_t layer) {
    if (s.file.find('.') != std::string::npos) return s.file;
    return s.file + "." + std::to_string(layer & 0x7fff);
}
}  // namespace

std::optional<std::string> pxe_vendor(const Packet& req) {
    auto v = req.options.get_str(opt::VendorClass);
    if (!v) return std::nullopt;
    if (v->starts_with("PXEClient")) return std::string("PXEClient");
    if (v->starts_with("HTTPClient")) return std::string("HTTPClient");
    return std::nullopt;
}

std::vector<uint8_t> pxe_menu_options(const config::PxeMenu& menu, uint16_t arch, Ipv4 server_ip) {
    auto services = menu.for_arch(arch);
    std::vector<uint8_t> servers, items;
    uint8_t control = services.empty() ? kUseBootFile : kNoBroadcastNoMulticast;
    for (auto* s : services) {
        put_u16(items, s->type);
        items.push_back(uint8_t(s->text.size()));
        items.insert(items.end(), s->text.begin(), s->text.end());
        // A file is served here, at port 4011; a typed item at its server,
        // or found by broadcast discovery when it has none.
        Ipv4 at = !s->file.empty() ? server_ip : s->server.value_or(Ipv4());
        if (!at.is_zero()) {
            put_u16(servers, s->type);
            servers.push_back(1);
            for (int k = 3; k >= 0; k--) servers.push_back(uint8_t(at.v >> (8 * k)));
        } else if (s->type != 0) {
            control = kNoBroadcast;
        }
    }
    std::vector<uint8_t> o;
    put_sub(o, kDiscoveryControl, {control});
    if (!servers.empty()) put_sub(o, kBootServers, servers);
    if (!items.empty()) put_sub(o, kBootMenu, items);
    // The prompt: the configured one; else dnsmasq's "PXE", which waits for
    // a choice when there is one to make and boots at once otherwise.
    std::vector<uint8_t> prompt;
    if (menu.prompt) {
        prompt.push_back(menu.timeout);
        prompt.insert(prompt.end(), menu.prompt->begin(), menu.prompt->end());
    } else {
        prompt = {uint8_t(services.size() > 1 ? 255 : 0), 'P', 'X', 'E'};
    }
    put_sub(o, kMenuPrompt, prompt);
    o.push_back(opt::End);
    return o;
}

std::string_view to_string(ProxySkip s) {
    switch (s) {
    case ProxySkip::NotPxe: return "not a PXE client (option 60 is not PXEClient or HTTPClient)";
    case ProxySkip::AddressServers: return "a message for the address server";
    case ProxySkip::NothingToBoot: return "nothing to boot: no boot file for this client and no PXE service for its architecture";
    case ProxySkip::UnknownBootItem: return "the boot item is not a service with a file here";
    }
    return "unknown";
}

Result<Packet, ProxySkip> render_proxy_reply(const Packet& req, const ProxyInput& in) {
    auto say = [](ProxySkip s) -> Result<Packet, ProxySkip> { return Err(s); };
    auto vendor = pxe_vendor(req);
    if (!vendor) return say(ProxySkip::NotPxe);
    auto type = req.message_type();
    bool ack = in.boot_server_port && (type == MessageType::Request || type == MessageType::Inform);
    if (!ack && !(type == MessageType::Discover && !in.boot_server_port))
        return say(ProxySkip::AddressServers);
    const Policy& pol = *in.policy;
    const config::PxeMenu& menu = *in.menu;

    Packet p = reply_header(req);
    if (!ack || req.ciaddr.is_zero()) p.flags |= kFlagBroadcast;
    else p.ciaddr = req.ciaddr;
    p.options.set_u8(opt::MessageType, uint8_t(ack ? MessageType::Ack : MessageType::Offer));
    p.options.set_ip(opt::ServerId, in.server_ip);
    std::map<uint8_t, std::vector<uint8_t>> rest;
    rest.emplace(opt::VendorClass, std::vector<uint8_t>(vendor->begin(), vendor->end()));

    auto item = ack ? boot_item(req) : std::nullopt;
    if (item) {
        // The boot server dialogue: the file of the item the client chose.
        auto* s = menu.by_type(item->first);
        if (!s || s->file.empty())
            return say(ProxySkip::UnknownBootItem);
        p.yiaddr = req.ciaddr;
        p.ciaddr = Ipv4();
        p.siaddr = s->server.value_or(in.server_ip);
        p.set_file(service_file(*s, item->second));
        std::vector<uint8_t> echo{kBootItem, 4, uint8_t(item->first >> 8), uint8_t(item->first),
                                  uint8_t(item->second >> 8), uint8_t(item->second), opt::End};
        rest.emplace(opt::VendorSpecific, std::move(echo));
    } else {
        auto arch = client_arch(req);
        bool uefi = arch && *arch >= kFirstUefiArch;
        auto services = arch ? menu.for_arch(*arch) : std::vector<const config::PxeService*>{};
        // dnsmasq's pxe_uefi_workaround: UEFI menus are broken in much
        // firmware; one item with a file is served as that file.
        const config::PxeService* only = uefi && services.size() == 1 && !services[0]->file.empty() ? services[0] : nullptr;
        if (uefi) p.siaddr = in.server_ip;
        if (only) {
            if (ack) {
                p.siaddr = only->server.value_or(in.server_ip);
                p.set_file(service_file(*only, 0));
                p.set_sname(p.siaddr.str());
            }
        } else if (!pol.boot_file.empty()) {
            p.siaddr = pol.next_server.value_or(in.server_ip);
            if (pol.boot_file.size() < p.file.size()) p.set_file(pol.boot_file);
            if (pol.server_name.size() < p.sname.size()) p.set_sname(pol.server_name);
        } else if (services.empty()) {
            return say(ProxySkip::NothingToBoot);
        }
        if (!uefi || (ack && !only)) rest.emplace(opt::VendorSpecific, pxe_menu_options(menu, arch.value_or(0), in.server_ip));
    }
    // The configured options the client asked for; a configured option 43
    // (a class's own menu) takes the place of the generated one. Never the
    // address server's settings.
    const Option* prl = req.options.find(opt::ParamRequestList);
    for (auto& c : pol.options) {
        if (c.code == opt::Hostname || c.code == opt::Router || c.code == opt::DnsServers || c.code == opt::DomainName)
            continue;
        if (!c.always && !asked(prl, c.code)) continue;
        if (!c.always && in.conditional) in.conditional->push_back(c.code);
        rest[c.code] = c.data;
    }
    for (auto& [code, data] : rest) p.options.set(code, data);
    // The client's UUID last (PXE 2.1: a proxy echoes it): the XDP program
    // copies it from the request after the blob's options.
    if (auto* uuid = req.options.find(opt::ClientGuid); uuid && uuid->data.size() == kUuidLen)
        p.options.set(opt::ClientGuid, uuid->data);
    if (auto* ri = req.options.find(opt::RelayAgentInfo)) p.options.set(opt::RelayAgentInfo, ri->data);
    return p;
}

}  // namespace pxed::dhcp
