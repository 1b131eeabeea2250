#include "bpf/tails6.h"

#include <set>
#include <string>
#include <unordered_map>

namespace pxed::bpf {

dhcp6::Shape shape_of(uint32_t bits, uint32_t slot, const std::vector<uint16_t>& archs) {
    dhcp6::Shape s;
    s.dns = bits & PXED6_SHAPE_DNS;
    s.domains = bits & PXED6_SHAPE_DOMAINS;
    s.boot = bits & PXED6_SHAPE_BOOT;
    s.http = bits & PXED6_SHAPE_HTTP;
    s.ipxe = bits & PXED6_SHAPE_IPXE;
    if (slot && slot <= archs.size()) s.arch = archs[slot - 1];
    return s;
}

Tails6 render_tails6(const config::Config& cfg, uint16_t http_port, const config::Subnet6& sn, const Ipv6& server,
                     const std::vector<const config::Reservation6*>& resv) {
    Tails6 t;
    // The architectures a boot table names: any other gets what a request
    // without option 61 gets (render_tail reads option 61 only to look it
    // up in by_arch), so it shares slot 0.
    std::set<uint16_t> named;
    for (const config::BootFiles* b : {&sn.boot, &cfg.boot})
        for (auto& [arch, file] : b->by_arch) named.insert(arch);
    for (uint16_t a : named) {
        if (t.archs.size() == PXED6_ARCHS) {
            t.arch_overflow = true;
            break;
        }
        t.archs.push_back(a);
    }
    // Boot sets: render_tail reads a reservation's boot-file and nothing
    // else of it, so reservations with the same boot-file share their tails.
    // One reservation stands for each set (set 0: none when no reservation
    // is without a boot-file of its own; its tails are the same).
    std::vector<const config::Reservation6*> rep{nullptr};
    // A named empty key: GCC 12 at -O2 with the sanitizers misjudges a
    // temporary std::nullopt key as used uninitialized (-Wmaybe-uninitialized).
    const std::optional<std::string> no_file;
    t.boot_sets.emplace(no_file, uint16_t(0));
    for (auto* r : resv) {
        auto [it, fresh] = t.boot_sets.try_emplace(r->boot_file, uint16_t(rep.size()));
        if (fresh && rep.size() < PXED6_BOOT_SETS) rep.push_back(r);
        else if (fresh) t.boot_sets.erase(it);  // past PXED6_BOOT_SETS: the daemon answers it
        else if (it->second == 0 && !rep[0]) rep[0] = r;
    }
    t.index.assign(PXED6_TAILS, uint16_t(PXED6_NO_BLOB));
    // Tails by their bytes (as a string: GCC 12 at -O3 warns
    // -Wstringop-overread inside std::vector's operator<, a false positive).
    std::unordered_map<std::string, uint16_t> ids;
    for (uint32_t set = 0; set < rep.size(); set++)
        for (uint32_t bits = 0; bits < PXED6_SHAPES; bits++)
            for (uint32_t slot = 0; slot <= t.archs.size(); slot++) {
                if (slot && !(bits & PXED6_SHAPE_BOOT)) continue;  // option 61 present sets the boot bit
                auto tail = dhcp6::render_tail(cfg, http_port, sn, rep[set], server, shape_of(bits, slot, t.archs));
                if (tail.size() > PXED6_TAIL_MAX) {
                    t.too_long++;
                    continue;
                }
                auto [it, fresh] = ids.try_emplace(std::string(tail.begin(), tail.end()), uint16_t(t.blobs.size()));
                if (fresh) t.blobs.push_back(std::move(tail));
                t.index[PXED6_TAIL_INDEX(set, bits, slot)] = it->second;
            }
    return t;
}

}  // namespace pxed::bpf
