// proxyDHCP's blobs: the daemon's proxy reply (dhcp/proxy.h) for what the
// program sees of a request, cut like a reservation's. Pure.
#include "bpf/blob.h"
#include "dhcp/proxy.h"

namespace pxed::bpf {

using namespace pxed::dhcp;

namespace {
constexpr uint16_t kHighArch = 0xffff;  // view_of_signature: some architecture >= 64

bool any_high_service(const config::PxeMenu& m) {
    for (auto& s : m.services)
        if (s.arch >= PXED_ARCH_SLOTS) return true;
    return false;
}
}  // namespace

std::optional<pxed_reply_blob> render_proxy_blob(const config::Config& cfg, const config::Subnet& sn, Ipv4 server_ip,
                                                 const KernelView& view, bool boot_server, NoBlob* why) {
    auto fail = [&](NoBlob w) -> std::optional<pxed_reply_blob> {
        if (why) *why = w;
        return std::nullopt;
    };
    if (why) *why = NoBlob::None;
    // The program reads "some value >= 64" only: a menu for one of those
    // is the daemon's to choose.
    if (view.arch == kHighArch && any_high_service(cfg.pxe)) return fail(NoBlob::Undecided);
    auto policy = resolve(cfg, HostRef{}, Facts::of_proxy(view, &sn));
    if (!policy) return fail(NoBlob::Undecided);
    if (policy->ignore) return fail(NoBlob::Ignored);
    Packet req = synthetic_request(view);
    if (boot_server) req.options.set_u8(opt::MessageType, uint8_t(MessageType::Request));
    std::vector<uint8_t> conditional;
    ProxyInput in;
    in.subnet = &sn;
    in.server_ip = server_ip;
    in.policy = &*policy;
    in.menu = &cfg.pxe;
    in.boot_server_port = boot_server;
    in.conditional = &conditional;
    auto reply = render_proxy_reply(req, in);
    if (!reply) return fail(NoBlob::Ignored);  // not a PXE client, or nothing to boot: the daemon counts it
    return cut_blob(*reply, conditional, why);
}

void proxy_profile_key(const config::Config& cfg, const KernelView& v, std::string& key) {
    if (!cfg.has_proxy()) return;
    key += "|p";
    for (auto& sn : cfg.subnets) {
        if (!sn.proxy) continue;
        for (Tri t : classify(cfg, HostRef{}, Facts::of_proxy(v, &sn))) key.push_back(char('0' + int(t)));
        key += '|';
    }
    // UEFI clients are sent on to port 4011 (dhcp/proxy.cpp), and each
    // architecture has its own menu.
    key += v.arch && *v.arch >= 6 ? 'u' : '-';
    key += v.vendor == VendorKind::HttpClient ? 'h' : v.vendor == VendorKind::PxeClient ? 'p' : '-';
    if (v.arch && (*v.arch != kHighArch || !any_high_service(cfg.pxe)))
        for (auto* s : cfg.pxe.for_arch(*v.arch)) key += std::to_string(s - cfg.pxe.services.data()) + ",";
    else if (v.arch)
        key += "high";
}

}  // namespace pxed::bpf
