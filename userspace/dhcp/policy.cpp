#include "dhcp/policy.h"

#include <algorithm>
#include <map>

#include "config/option_value.h"
#include "dhcp/policy_match.h"

namespace pxed::dhcp {

using config::Match;
using K = Match::Kind;

using namespace match;

namespace {

Tri t_not(Tri a) { return a == Tri::Unknown ? a : tri(a == Tri::False); }

Tri request_leaf(const Match& m, const Facts& f) { return f.req ? exact_leaf(m, f) : kernel_leaf(m, f.kernel); }

Tri eval(const Match& m, const Facts& f, const config::Config& cfg, const std::vector<Tri>& done) {
    switch (m.kind) {
    case K::All: {
        Tri r = Tri::True;
        for (auto& s : m.sub) {
            Tri t = eval(s, f, cfg, done);
            if (t == Tri::False) return Tri::False;
            if (t == Tri::Unknown) r = Tri::Unknown;
        }
        return r;
    }
    case K::Any: {
        Tri r = Tri::False;
        for (auto& s : m.sub) {
            Tri t = eval(s, f, cfg, done);
            if (t == Tri::True) return Tri::True;
            if (t == Tri::Unknown) r = Tri::Unknown;
        }
        return r;
    }
    case K::Not: return m.sub.empty() ? Tri::Unknown : t_not(eval(m.sub[0], f, cfg, done));
    case K::Mac: {
        if (f.mac_unknown) return Tri::Unknown;
        for (size_t i = 0; i < 6; i++) {
            uint8_t mask = i < m.mask.size() ? uint8_t(m.mask[i]) : 0xff;
            if ((f.mac.b[i] & mask) != (m.mac.b[i] & mask)) return Tri::False;
        }
        return Tri::True;
    }
    case K::Subnet: return tri(f.subnet && m.net.contains(f.subnet->net.network()) && f.subnet->net.prefix >= m.net.prefix);
    case K::Known: return tri(f.known);
    case K::Member: {
        for (size_t i = 0; i < done.size(); i++)
            if (cfg.classes[i].name == m.name) return done[i];
        return Tri::False;  // validate() refuses a later or unknown class
    }
    default: return request_leaf(m, f);
    }
}

bool listed(const HostRef& h, const std::string& name) {
    return h.classes && std::find(h.classes->begin(), h.classes->end(), name) != h.classes->end();
}

// One level of options into `out`, where no higher level set the code.
void add_options(std::map<uint8_t, config::OptionValue>& out, const std::vector<config::OptionValue>& opts) {
    for (auto& o : opts) out.emplace(o.code, o);
}

config::OptionValue fixed(uint8_t code, std::vector<uint8_t> data) { return {code, std::move(data), true}; }

}  // namespace

Facts Facts::exact(const Packet& req, const config::Subnet* s, bool known) {
    Facts f;
    f.req = &req;
    f.mac = req.mac();
    f.subnet = s;
    f.known = known;
    return f;
}

Facts Facts::of_kernel(const KernelView& k, const Mac& mac, const config::Subnet* s) {
    Facts f;
    f.kernel = k;
    f.mac = mac;
    f.subnet = s;
    f.known = true;  // the program answers reserved clients only
    return f;
}

Facts Facts::of_proxy(const KernelView& k, const config::Subnet* s) {
    Facts f;
    f.kernel = k;
    f.subnet = s;
    f.mac_unknown = true;
    f.known = false;
    return f;
}

HostRef HostRef::of(const config::Reservation* r, const config::Host* h) {
    HostRef ref;
    if (r) {
        ref.set = &r->set;
        ref.classes = &r->classes;
        ref.hostname = r->hostname;
    } else if (h) {
        ref.set = &h->set;
        ref.classes = &h->classes;
        ref.hostname = h->hostname;
        ref.ignore = h->ignore;
    }
    return ref;
}

void request_tests(const Match& m, const Facts& f, std::vector<Tri>& out) {
    if (reads_request(m.kind)) out.push_back(request_leaf(m, f));
    for (auto& s : m.sub) request_tests(s, f, out);
}

std::vector<Tri> classify(const config::Config& cfg, const HostRef& host, const Facts& f) {
    std::vector<Tri> in;
    in.reserve(cfg.classes.size());
    for (auto& c : cfg.classes) {
        if (listed(host, c.name)) in.push_back(Tri::True);
        else if (c.match) in.push_back(eval(*c.match, f, cfg, in));
        else in.push_back(Tri::False);
    }
    return in;
}

std::optional<Policy> resolve(const config::Config& cfg, const HostRef& host, const Facts& f) {
    std::vector<Tri> in = classify(cfg, host, f);
    Policy p;
    // The host's own classes first, in its order, then the others in
    // configuration order.
    if (host.classes)
        for (auto& name : *host.classes)
            if (const config::Class* c = cfg.class_named(name)) p.classes.push_back(c);
    for (size_t i = 0; i < in.size(); i++) {
        if (in[i] == Tri::Unknown) return std::nullopt;
        if (in[i] == Tri::True && !listed(host, cfg.classes[i].name)) p.classes.push_back(&cfg.classes[i]);
    }
    p.ignore = host.ignore || std::any_of(p.classes.begin(), p.classes.end(), [](auto* c) { return c->ignore; });

    // The levels above the subnet, highest first.
    std::vector<const config::BootPolicy*> levels;
    if (host.set) levels.push_back(host.set);
    for (auto* c : p.classes) levels.push_back(&c->set);

    // What the request says about the firmware.
    std::optional<uint16_t> arch;
    bool pxe = false, http_client = false, ipxe = false;
    if (f.req) {
        if (auto* a = f.req->options.find(opt::ClientArch); a && a->data.size() >= 2)
            arch = uint16_t(a->data[0] << 8 | a->data[1]);
        auto vc = f.req->options.find(opt::VendorClass);
        pxe = vc && bytes(*vc).starts_with(kPxeClient);
        http_client = vc && bytes(*vc).starts_with(kHttpClient);
        if (auto* uc = f.req->options.find(opt::UserClass))
            for (auto e : user_class_entries(bytes(*uc)))
                if (e == kIpxe) ipxe = true;
        ipxe = ipxe || f.req->options.has(kIpxeEncap);
    } else {
        arch = f.kernel.arch;
        pxe = f.kernel.vendor == VendorKind::PxeClient;
        http_client = f.kernel.vendor == VendorKind::HttpClient;
        ipxe = f.kernel.ipxe || f.kernel.opt175;
        // A file for an architecture the program knows only as ">= 64".
        if (arch && *arch >= kKernelArchSlots) {
            for (auto* b : {f.subnet ? &f.subnet->boot : nullptr, &cfg.boot})
                if (b && (b->by_arch.lower_bound(kKernelArchSlots) != b->by_arch.end())) return std::nullopt;
        }
    }

    // The boot file: the first level that decides, else the subnet's and
    // then the global table.
    bool decided = false;
    for (auto* l : levels) {
        if (l->netboot == false) {
            decided = true;
            break;
        }
        if (l->boot_file) {
            p.boot_file = *l->boot_file;
            decided = true;
            break;
        }
    }
    if (!decided) {
        // The boot tables, the most specific key first, the subnet's table
        // before the global one for each: iPXE's script, the client's
        // architecture (no option 93: a BIOS PXE ROM or a plain DHCP
        // client, arch 0), then `any`.
        uint16_t a = arch.value_or(0);
        const config::BootFiles* tables[] = {f.subnet ? &f.subnet->boot : nullptr, &cfg.boot};
        auto first = [&](auto&& pick) {
            for (auto* b : tables)
                if (b)
                    if (const std::string* s = pick(*b); s && !s->empty()) return *s;
            return std::string();
        };
        if (ipxe) p.boot_file = first([](const config::BootFiles& b) { return &b.ipxe; });
        if (p.boot_file.empty())
            p.boot_file = first([&](const config::BootFiles& b) -> const std::string* {
                auto it = b.by_arch.find(a);
                return it == b.by_arch.end() ? nullptr : &it->second;
            });
        if (p.boot_file.empty()) p.boot_file = first([](const config::BootFiles& b) { return &b.any; });
    }
    if (!p.boot_file.empty()) {
        p.http = http_client || (arch && config::arch_is_http(*arch));
        p.pxe_client = pxe && !p.http;
    }
    for (auto* l : levels)
        if (!p.next_server && l->next_server) p.next_server = l->next_server;
    for (auto* l : levels)
        if (p.server_name.empty() && l->server_name) p.server_name = *l->server_name;
    for (auto* b : {f.subnet ? &f.subnet->boot : nullptr, &cfg.boot}) {
        if (!b) continue;
        if (!p.next_server && b->next_server) p.next_server = b->next_server;
        if (p.server_name.empty() && !b->server_name.empty()) p.server_name = b->server_name;
    }

    std::map<uint8_t, config::OptionValue> opts;
    if (host.set) add_options(opts, host.set->options);
    if (!host.hostname.empty()) opts.emplace(opt::Hostname, fixed(opt::Hostname, {host.hostname.begin(), host.hostname.end()}));
    for (auto* c : p.classes) add_options(opts, c->set.options);
    if (const auto* s = f.subnet) {
        add_options(opts, s->options);
        if (s->router) opts.emplace(opt::Router, fixed(opt::Router, config::encode_ip(*s->router)));
        if (!s->dns.empty()) {
            std::vector<uint8_t> v;
            for (auto& d : s->dns) {
                auto b = config::encode_ip(d);
                v.insert(v.end(), b.begin(), b.end());
            }
            opts.emplace(opt::DnsServers, fixed(opt::DnsServers, std::move(v)));
        }
        if (!s->domain.empty()) opts.emplace(opt::DomainName, fixed(opt::DomainName, {s->domain.begin(), s->domain.end()}));
    }
    add_options(opts, cfg.options);
    for (auto& [code, o] : opts) p.options.push_back(o);
    return p;
}

}  // namespace pxed::dhcp
