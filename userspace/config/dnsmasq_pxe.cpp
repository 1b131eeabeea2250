// dnsmasq's PXE menu directives (pxe-service, pxe-prompt) and what a
// proxyDHCP configuration (dhcp-range=<network>,proxy) implies, read as
// src/option.c reads them and src/rfc2131.c uses them.
//
// With a proxy range, the menu and the prompt become Config::pxe, which
// pxed sends in its proxy replies (dhcp/proxy.h). pxed's menu is one for
// every client, so a tagged pxe-service or pxe-prompt is refused. Without
// a proxy range pxed sends no menu (it has no boot server dialogue on an
// address-serving subnet), so only the Raspberry Pi form translates: an
// option 43 class for BIOS PXE clients, as before proxy support; the
// other forms are refused.
#include <algorithm>

#include "config/dnsmasq_import.h"
#include "config/option_value.h"

namespace pxed::config::dnsmasq {

namespace {

std::optional<uint32_t> number(const std::string& s) {
    if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    return uint32_t(std::stoul(s));
}

// pxe-service=[tag:<tag>,]<CSA>,<menu text>[,<basename>|<bootservicetype>][,<server address>|<server_name>]
PxeService service(const PxeLine& l, uint16_t& next_type) {
    const std::string& where = l.where;
    std::vector<Field> f = split_fields(l.val);
    Cond c = take_cond(f, nullptr, where);
    if (!c.empty())
        fail(where + ": pxe-service for " + c.str() + " only: pxed's PXE menu is the same for every client of a "
                     "proxy subnet, it cannot pick entries by tag; remove the tag (dhcp-boot=" + c.str() +
                     ",<file> gives a boot file by tag)");
    if (f.size() < 2 || f[1].text.empty()) fail(where + ": pxe-service '" + l.val + "' needs <CSA>,<menu text>");
    PxeService s;
    s.where = where;
    if (auto csa = pxe_csa_code(f[0].text)) s.arch = *csa;
    else if (auto n = number(f[0].text); n && *n <= 0xffff) s.arch = uint16_t(*n);
    else
        fail(where + ": pxe-service client system type '" + f[0].text + "' is neither one of dnsmasq's (x86PC, PC98, "
                     "IA64_EFI, Alpha, Arc_x86, Intel_Lean_Client, IA32_EFI, x86-64_EFI, Xscale_EFI, BC_EFI, ARM32_EFI, "
                     "ARM64_EFI) nor a number");
    s.text = f[1].text;
    if (f.size() >= 3) {
        // A number is a boot server type the client looks for (0: the
        // local disk); anything else a file served here, with dnsmasq's
        // type counter: 0x8000, 0x8001, ... in the order of the lines.
        const std::string& x = f[2].text;
        if (x.empty()) fail(where + ": pxe-service '" + l.val + "': the basename or boot service type is empty");
        if (auto n = number(x)) {
            if (*n > 0xffff) fail(where + ": pxe-service boot service type " + x + " is not 0-65535");
            s.type = uint16_t(*n);
        } else {
            s.file = x;
            s.type = next_type++;
        }
    }
    if (f.size() >= 4) {
        auto ip = Ipv4::parse(f[3].text);
        if (!ip)
            fail(where + ": pxe-service server '" + f[3].text + "' is not an IPv4 address: dnsmasq looks names up in "
                         "/etc/hosts, pxed does not resolve names; give the address");
        if (!ip->is_zero()) s.server = ip;  // 0.0.0.0: none, as in dnsmasq
    }
    if (f.size() > 4) fail(where + ": pxe-service '" + l.val + "' has fields after the server address");
    return s;
}

// pxe-prompt=[tag:<tag>,]<prompt>[,<timeout>]
void prompt(State& st, const PxeLine& l, std::string& prev) {
    const std::string& where = l.where;
    std::vector<Field> f = split_fields(l.val);
    Cond c = take_cond(f, nullptr, where);
    if (!c.empty())
        fail(where + ": pxe-prompt for " + c.str() + " only: pxed's PXE prompt is the same for every client of a "
                     "proxy subnet; remove the tag");
    if (f.empty() || f[0].text.empty()) fail(where + ": pxe-prompt needs the prompt text");
    if (f[0].text.size() > 200) fail(where + ": pxe-prompt text is longer than 200 bytes");
    if (f.size() > 2) fail(where + ": pxe-prompt '" + l.val + "' has fields after the timeout");
    // dnsmasq: no timeout = 255, wait for a key. A timeout that is not a
    // number dnsmasq also reads as 255, silently; pxed refuses it.
    uint8_t timeout = 255;
    if (f.size() == 2) {
        auto n = number(f[1].text);
        if (!n || *n > 255) fail(where + ": pxe-prompt timeout '" + f[1].text + "' is not 0-255 seconds");
        timeout = uint8_t(*n);
    }
    // Two lines: dnsmasq sends both sub-options, the later line's first,
    // which is the one a client reads.
    if (!prev.empty()) st.warn(prev + ": pxe-prompt: the later one (" + where + ") takes its place, as in dnsmasq");
    prev = where;
    st.cfg.pxe.prompt = f[0].text;
    st.cfg.pxe.timeout = timeout;
}

// The Raspberry Pi form without a proxy range: a menu entry of type 0
// ("local boot") for BIOS PXE, which the Raspberry Pi 3 boot ROM needs to
// see in option 43 (its text is the ROM's match), in the replies that give
// the address, as dnsmasq's pxe_opts() adds it there.
void rpi_menu(State& st, const PxeLine& l) {
    const std::string& where = l.where;
    const std::string& val = l.val;
    std::vector<Field> f = split_fields(val);
    Cond c = take_cond(f, nullptr, where);
    if (!c.empty() || f.size() != 2 || (f[0].text != "x86PC" && f[0].text != "0"))
        fail(where + ": pxe-service '" + val + "' is not supported without a proxy range: pxed sends PXE menus only "
                     "in proxy replies (dhcp-range=<network>,proxy); on an address range only "
                     "pxe-service=x86PC,\"<menu text>\" (the Raspberry Pi boot menu) translates");
    const std::string& text = f[1].text;
    if (st.leaves.count("pxe-service=x86PC")) fail(where + ": a second pxe-service line is not supported (one menu entry)");
    if (text.size() > 240) fail(where + ": pxe-service menu text is too long");
    OptLine o;
    o.where = where;
    o.line = l.line;
    o.ov.always = true;
    // dnsmasq's pxe_opts(): discovery control 3 (no multicast/broadcast
    // discovery), the menu {type 0, text}, the prompt {0, "PXE"}.
    std::vector<uint8_t> menu = {0, 0, uint8_t(text.size())};
    menu.insert(menu.end(), text.begin(), text.end());
    o.ov.code = 43;
    o.ov.data = encode_suboptions({{6, {3}}, {9, menu}, {10, {0, 'P', 'X', 'E'}}});
    o.cond.pos = {"pxe-service=x86PC"};  // an internal tag: PXEClient, architecture 0
    st.opts.push_back(o);
    OptLine v = o;
    v.line = l.line + 1;
    v.ov.code = 60;
    v.ov.data = {'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't'};
    st.opts.push_back(v);
    Match pxe = node(Match::Kind::VendorClassPrefix);
    pxe.text = "PXEClient";
    Match arch = node(Match::Kind::Arch);
    arch.archs = {0};
    st.leaves[o.cond.pos[0]].push_back(node(Match::Kind::All, {pxe, arch}));
    st.tag_where[o.cond.pos[0]] = where;
    // dnsmasq answers every other PXE client too once a pxe-service
    // exists: no menu for its architecture, so discovery control 8 ("boot
    // the file named") and the prompt, with "PXEClient". Below every
    // dhcp-option line (line 0).
    OptLine rest = o;
    rest.line = 0;
    rest.where = where + " (other PXE clients)";
    rest.cond.pos = {"pxe-service=PXEClient"};
    rest.ov.data = encode_suboptions({{6, {8}}, {10, {0, 'P', 'X', 'E'}}});
    st.opts.push_back(rest);
    rest.ov = v.ov;
    st.opts.push_back(rest);
    st.leaves[rest.cond.pos[0]].push_back(pxe);
    st.tag_where[rest.cond.pos[0]] = where;
}

// What dnsmasq's proxy reply carries besides the menu: only dhcp-option-pxe
// lines (option_filter's pxemode 2) and vendor sub-options merged into its
// option 43. pxed's proxy reply carries the options the client asks for,
// never the address settings (3, 6, 15), and a configured option 43 in
// place of the menu: warn for the first, refuse the second.
void proxy_options(State& st, const PendingRange& proxy) {
    for (auto& o : st.opts) {
        bool is43 = o.vendor || (o.encap ? *o.encap == 43 : o.ov.code == 43);
        if (is43)
            fail(o.where + ": option 43 beside a proxy range (" + proxy.where + ") is not supported: dnsmasq adds "
                           "vendor sub-options to the PXE options of its proxy replies, pxed would send them in "
                           "place of the menu");
        uint8_t code = o.encap ? *o.encap : o.ov.code;
        if (!o.encap && (code == 3 || code == 6 || code == 15)) continue;  // neither sends them there
        st.warn(o.where + ": option " + std::to_string(code) + ": pxed's proxy replies carry it when the client "
                "asks for it, dnsmasq's carry only dhcp-option-pxe lines");
    }
}

// dhcp-host with an address in a proxy subnet: the address is the address
// server's; dnsmasq still knows the host (its name, set: tags, "known").
// A host entry (no address) in pxed.
void proxy_hosts(State& st) {
    Config& c = st.cfg;
    for (auto it = c.reservations.begin(); it != c.reservations.end();) {
        const Subnet* s = c.subnet_for(it->ip);
        if (!s || !s->proxy) {
            ++it;
            continue;
        }
        st.warn(c.source + ": dhcp-host " + it->mac.str() + "," + it->ip.str() + ": subnet " + s->net.str() +
                " is served in proxy mode, where the address server gives the addresses: pxed keeps the host's "
                "name and tags without the address, as dnsmasq does");
        Host h;
        h.mac = it->mac;
        h.hostname = it->hostname;
        h.set = it->set;
        h.classes = it->classes;
        c.hosts.push_back(std::move(h));
        it = c.reservations.erase(it);
    }
}

}  // namespace

void pxe_line(State& st, const std::string& key, const std::string& where, const std::string& val) {
    st.pxe_lines.push_back(PxeLine{key, where, val, ++st.line});
    ++st.line;  // the Raspberry Pi menu takes two option lines (43 and 60)
}

void build_pxe(State& st) {
    const PendingRange *proxy = nullptr, *pool = nullptr;
    for (auto& r : st.ranges) {
        auto& first = r.proxy ? proxy : pool;
        if (!first) first = &r;
    }
    if (!proxy) {
        for (auto& l : st.pxe_lines) {
            if (l.key == "pxe-service") rpi_menu(st, l);
            else
                fail(l.where + ": pxe-prompt is not supported without a proxy range: pxed sends the PXE prompt only "
                               "in proxy replies (dhcp-range=<network>,proxy)");
        }
        return;
    }
    uint16_t next_type = 0x8000;
    std::string prev_prompt;
    for (auto& l : st.pxe_lines) {
        if (l.key == "pxe-service") st.cfg.pxe.services.push_back(service(l, next_type));
        else prompt(st, l, prev_prompt);
    }
    if (pool && !st.cfg.pxe.empty())
        st.warn(pool->where + ": dnsmasq also sends the PXE menu (pxe-service, pxe-prompt) in this range's replies; "
                "pxed sends it only in proxy replies (" + proxy->where + ")");
    proxy_options(st, *proxy);
    proxy_hosts(st);
}

}  // namespace pxed::config::dnsmasq
