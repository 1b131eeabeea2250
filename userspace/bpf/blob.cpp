#include "bpf/blob.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "config/option_value.h"
#include "dhcp/render.h"
#include "dhcp/reply.h"

namespace pxed::bpf {

using namespace pxed::dhcp;

namespace {
constexpr uint8_t kIpxeEncap = 175;
// The options of a 300-byte (RFC 1542 minimum) reply, end option and padding included.
constexpr size_t kBootpMinOptions = kBootpMinLen - kMinMessageLen;
constexpr std::string_view kIpxe = "iPXE";

bool starts_with(const Option* o, std::string_view w) {
    return o && o->data.size() >= w.size() && std::memcmp(o->data.data(), w.data(), w.size()) == 0;
}
}  // namespace

uint32_t signature_of(const Packet& req) {
    const Option* a = req.options.find(opt::ClientArch);
    bool has_arch = a && a->data.size() >= 2;
    uint16_t arch = has_arch ? uint16_t(a->data[0] << 8 | a->data[1]) : 0;
    const Option* vc = req.options.find(opt::VendorClass);
    uint32_t vendor = !vc ? PXED_VENDOR_ABSENT
                      : starts_with(vc, "PXEClient") ? PXED_VENDOR_PXECLIENT
                      : starts_with(vc, "HTTPClient") ? PXED_VENDOR_HTTPCLIENT
                                                      : PXED_VENDOR_OTHER;
    bool ipxe = false;
    if (const Option* uc = req.options.find(opt::UserClass)) {
        std::string_view v(reinterpret_cast<const char*>(uc->data.data()), uc->data.size());
        ipxe = v == kIpxe || (v.size() == 5 && v[0] == 4 && v.substr(1) == kIpxe);
    }
    return pxed_signature(has_arch, arch, vendor, ipxe, req.options.has(kIpxeEncap));
}

KernelView view_of_signature(uint32_t sig) {
    KernelView v;
    uint32_t slot = sig / 16;
    if (slot < PXED_ARCH_SLOTS) v.arch = uint16_t(slot);
    else if (slot == PXED_ARCH_SLOT_HIGH) v.arch = uint16_t(0xffff);  // some value >= 64
    v.vendor = VendorKind((sig / 4) % 4);
    v.ipxe = sig & 2;
    v.opt175 = sig & 1;
    return v;
}

Packet synthetic_request(const KernelView& v) {
    Packet req;
    req.options.set_u8(opt::MessageType, uint8_t(MessageType::Discover));
    if (v.arch) req.options.set_u16(opt::ClientArch, *v.arch);
    if (v.vendor == VendorKind::PxeClient) req.options.set_str(opt::VendorClass, "PXEClient");
    if (v.vendor == VendorKind::HttpClient) req.options.set_str(opt::VendorClass, "HTTPClient");
    if (v.vendor == VendorKind::Other) req.options.set_str(opt::VendorClass, "other");
    if (v.ipxe) req.options.set_str(opt::UserClass, kIpxe);
    if (v.opt175) req.options.set(kIpxeEncap, std::vector<uint8_t>{0x13, 1, 1, 255});
    return req;
}

namespace {
// The MAC tests of a match, evaluated on `mac` (a reservation's), appended.
void mac_tests(const config::Match& m, const Mac& mac, std::string& out) {
    if (m.kind == config::Match::Kind::Mac) {
        bool eq = true;
        for (size_t i = 0; i < 6; i++) {
            uint8_t mask = i < m.mask.size() ? uint8_t(m.mask[i]) : 0xff;
            eq = eq && (mac.b[i] & mask) == (m.mac.b[i] & mask);
        }
        out.push_back(eq ? '1' : '0');
    }
    for (auto& s : m.sub) mac_tests(s, mac, out);
}
}  // namespace

bool reads_option82(const config::Match& m) {
    using K = config::Match::Kind;
    if (m.kind == K::CircuitId || m.kind == K::RemoteId) return true;
    if ((m.kind == K::OptionPresent || m.kind == K::OptionBytes || m.kind == K::OptionContains) &&
        m.code == opt::RelayAgentInfo)
        return true;
    return std::any_of(m.sub.begin(), m.sub.end(), reads_option82);
}

Facts agent_facts(const KernelView& v, const config::AgentReservation& a, const config::Subnet* s) {
    KernelView k = v;
    k.o82 = true;
    k.agent_kind = uint8_t(a.kind);
    k.agent_id = a.id;
    Facts f = Facts::of_kernel(k, Mac{}, s);
    f.mac_unknown = true;  // whatever machine is on the port
    return f;
}

std::string class_context(const config::Config& cfg, const config::Reservation& r) {
    const config::Subnet* sn = cfg.subnet_for(r.ip);
    std::string key = sn ? sn->net.str() : "-";
    for (auto& c : r.classes) key += "|" + c;
    key += "|";
    for (auto& c : cfg.classes)
        if (c.match) mac_tests(*c.match, r.mac, key);
    return key;
}

std::string blob_context(const config::Config& cfg, const config::Reservation& r, Ipv4 server_id) {
    std::string key = class_context(cfg, r) + '\0' + server_id.str() + '\0' +
                      std::to_string(r.lease_time.value_or(0)) + (r.lease_time ? "" : "-") + '\0' + (host_option(r).empty() ? "0" : "1") + '\0';
    auto& p = r.set;
    key += p.boot_file ? "f" + *p.boot_file : "-";
    key += '\0';
    key += p.next_server ? p.next_server->str() : "-";
    key += p.server_name ? "s" + *p.server_name : "-";
    key += '\0';
    key += p.netboot ? (*p.netboot ? "1" : "0") : "-";
    for (auto& o : p.options) {
        key += char(o.code);
        key += char(o.always);
        key += char(o.data.size());
        key.append(o.data.begin(), o.data.end());
    }
    return key;
}

Profiles build_profiles(const config::Config& cfg) {
    Profiles out;
    out.of_signature.assign(PXED_SIGNATURES, PXED_NO_PROFILE);
    // What a reservation brings to its classification besides the request:
    // its subnet, the classes it lists, the outcome of the MAC tests. One
    // representative per distinct context.
    std::map<std::string, const config::Reservation*> contexts;
    for (auto& r : cfg.reservations) contexts.emplace(class_context(cfg, r), &r);
    // Reservations by option 82: their subnet, classes and, when a class
    // reads option 82, their id.
    bool any82 = std::any_of(cfg.classes.begin(), cfg.classes.end(),
                             [](const config::Class& c) { return c.match && reads_option82(*c.match); });
    std::map<std::string, const config::AgentReservation*> agent_contexts;
    for (auto& a : cfg.agent_reservations) {
        const config::Subnet* sn = cfg.subnet_for(a.resv.ip);
        std::string k = sn ? sn->net.str() : "-";
        for (auto& c : a.resv.classes) k += "|" + c;
        if (any82) k += '\0' + std::string(1, char(a.kind)) + a.id;
        agent_contexts.emplace(std::move(k), &a);
    }
    std::vector<const config::BootFiles*> tables;
    for (auto& s : cfg.subnets) tables.push_back(&s.boot);
    tables.push_back(&cfg.boot);
    bool any_ipxe = false, high_keys = false;
    for (auto* t : tables) {
        any_ipxe = any_ipxe || !t->ipxe.empty();
        high_keys = high_keys || t->by_arch.lower_bound(PXED_ARCH_SLOTS) != t->by_arch.end();
    }
    std::map<std::string, uint32_t> ids;
    for (uint32_t sig = 0; sig < PXED_SIGNATURES; sig++) {
        KernelView v = view_of_signature(sig);
        // The key: the classes each context's reservations are in, then what
        // the boot tables and the built-in rules (option 60 echo, HTTP boot,
        // iPXE) make of this view. Signatures with one key get one reply
        // from every reservation.
        std::string key;
        for (auto& [ctx, r] : contexts) {
            Facts f = Facts::of_kernel(v, r->mac, cfg.subnet_for(r->ip));
            for (Tri t : classify(cfg, HostRef::of(r, nullptr), f)) key.push_back(char('0' + int(t)));
            key += '|';
        }
        for (auto& [ctx, a] : agent_contexts) {
            Facts f = agent_facts(v, *a, cfg.subnet_for(a->resv.ip));
            for (Tri t : classify(cfg, HostRef::of(&a->resv, nullptr), f)) key.push_back(char('0' + int(t)));
            key += '|';
        }
        // Built-in rules: only what resolve() reads (so that, say, option
        // 175 does not split profiles when no table has an ipxe entry).
        bool ipxe = v.ipxe || v.opt175;
        uint16_t a = v.arch.value_or(0);
        bool high = v.arch && *v.arch >= PXED_ARCH_SLOTS;
        bool http = v.vendor == VendorKind::HttpClient || (v.arch && config::arch_is_http(*v.arch));
        key += char('0' + http) + std::string(1, char('0' + (v.vendor == VendorKind::PxeClient)));
        if (high_keys) key += char('0' + high);
        if (ipxe && any_ipxe) {
            key += "|ipxe";  // a table's ipxe entry, whatever the architecture
        } else {
            for (auto* t : tables) {
                key += '|';
                if (auto it = t->by_arch.find(a); !high && it != t->by_arch.end()) key += "a" + it->second;
                else key += "*";
            }
        }
        proxy_profile_key(cfg, v, key);
        auto [it, fresh] = ids.emplace(key, uint32_t(ids.size()));
        if (it->second >= PXED_PROFILES) {
            ids.erase(it);
            out.unmapped++;
            continue;
        }
        if (fresh) out.view.push_back(v);
        out.of_signature[sig] = it->second;
    }
    return out;
}

uint16_t ones_sum(const uint8_t* p, size_t n) {
    uint32_t acc = 0;
    size_t i = 0;
    for (; i + 1 < n; i += 2) acc += uint32_t(p[i] << 8 | p[i + 1]);
    if (i < n) acc += uint32_t(p[i] << 8);
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return uint16_t(acc);
}

std::vector<uint8_t> host_option(const config::Reservation& r) {
    std::vector<uint8_t> v;
    for (auto& o : r.set.options)
        if (o.code == opt::Hostname) v = o.data;
    if (v.empty() && !r.hostname.empty()) v.assign(r.hostname.begin(), r.hostname.end());
    if (v.empty()) return {};
    v.insert(v.begin(), {opt::Hostname, uint8_t(v.size())});
    return v;
}

std::optional<Policy> blob_policy(const BlobInput& in, const KernelView& view, NoBlob* why) {
    if (why) *why = NoBlob::None;
    const config::Reservation* r = in.reservation;
    Facts facts = in.agent ? agent_facts(view, *in.agent, in.subnet) : Facts::of_kernel(view, r ? r->mac : Mac{}, in.subnet);
    auto policy = resolve(*in.cfg, HostRef::of(r, nullptr), facts);
    if (!policy || policy->ignore) {
        if (why) *why = policy ? NoBlob::Ignored : NoBlob::Undecided;
        return std::nullopt;
    }
    // The host's own option 12 is the reservation's, not the blob's.
    if (r && !host_option(*r).empty())
        std::erase_if(policy->options, [](const config::OptionValue& o) { return o.code == opt::Hostname; });
    return policy;
}

std::string policy_key(const Policy& p) {
    std::string k = p.boot_file;
    k += '\0';
    k += char('0' + p.http) + std::string(1, char('0' + p.pxe_client));
    k += p.next_server ? p.next_server->str() : "-";
    k += '\0' + p.server_name + '\0';
    for (auto& o : p.options) {
        k += char(o.code);
        k += char(o.always);
        k += char(o.data.size());
        k.append(o.data.begin(), o.data.end());
    }
    return k;
}

std::optional<pxed_reply_blob> render_blob(const BlobInput& in, const KernelView& view, NoBlob* why) {
    auto policy = blob_policy(in, view, why);
    if (!policy) return std::nullopt;
    return render_blob(in, *policy, why);
}

std::optional<pxed_reply_blob> render_blob(const BlobInput& in, const Policy& policy, NoBlob* why) {
    if (why) *why = NoBlob::None;
    const config::Reservation* r = in.reservation;
    // The reply does not depend on the request beyond the policy: the
    // request's fixed fields are the program's to fill in, and a request
    // with option 82 or 57 never reaches a blob.
    Packet req;
    req.options.set_u8(opt::MessageType, uint8_t(MessageType::Discover));
    RenderInput ri;
    ri.subnet = in.subnet;
    ri.server_ip = in.server_ip;
    ri.lease_time = r && r->lease_time ? *r->lease_time : in.subnet->lease_time;
    ri.policy = &policy;
    std::vector<uint8_t> conditional;
    ri.conditional = &conditional;
    Packet reply = render_reply(req, MessageType::Offer, ri, r ? r->ip : Ipv4());
    return cut_blob(reply, conditional, why);
}

std::optional<pxed_reply_blob> cut_blob(const Packet& reply, const std::vector<uint8_t>& conditional, NoBlob* why) {
    auto fail = [&](NoBlob w) -> std::optional<pxed_reply_blob> {
        if (why) *why = w;
        return std::nullopt;
    };
    if (conditional.size() > PXED_COND_MAX) return fail(NoBlob::TooManyConditional);
    auto bytes = serialize(reply);
    // The kernel does not read option 57: it answers only with a reply that
    // every client accepts (576-byte datagrams, RFC 2131 2). A larger one is
    // left to the daemon, which fits it to the client (reply.h fit_reply);
    // map_sync checks again with the reservation's own option.
    if (bytes.size() > max_reply_size(Packet{})) return fail(NoBlob::TooLarge);
    // The options up to the end option: the program writes the end option
    // and the padding itself, after the reservation's own option.
    size_t i = kMinMessageLen;
    while (i < bytes.size() && bytes[i] != opt::End) i += bytes[i] == opt::Pad ? 1 : 2 + bytes[i + 1];
    size_t opts_len = i - kMinMessageLen;
    if (i >= bytes.size() || opts_len > PXED_TAIL_MAX - kBootpMinOptions || bytes[kMinMessageLen] != opt::MessageType ||
        bytes[kMinMessageLen + 1] != 1)
        return fail(NoBlob::TooLarge);
    pxed_reply_blob b{};
    b.opts_len = uint16_t(opts_len);
    std::memcpy(&b.siaddr_be, &bytes[20], 4);
    b.n_cond = uint8_t(conditional.size());
    std::copy(conditional.begin(), conditional.end(), b.cond);
    std::memcpy(b.sname_file, &bytes[44], PXED_SNAME_FILE_LEN);
    std::memcpy(b.tail, &bytes[kMinMessageLen], opts_len);
    b.tail[opts_len] = opt::End;  // and zeros after it: the padding
    b.tail[2] = 0;  // option 53's value: the program writes OFFER or ACK
    uint32_t acc = uint32_t(ones_sum(b.sname_file, PXED_SNAME_FILE_LEN)) + ones_sum(b.tail, opts_len);
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    b.csum = uint16_t(acc);
    return b;
}

}  // namespace pxed::bpf
