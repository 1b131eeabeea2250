#include "bpf/map_sync6.h"

#include <bpf/bpf.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <numeric>
#include <set>

#include "bpf/blob.h"
#include "bpf/tails6.h"
#include "dhcp6/engine6.h"

namespace pxed::bpf {

namespace {

std::string errstr() { return std::strerror(errno); }

using BlobBytes6 = std::array<uint8_t, sizeof(pxed6_blob)>;
using KeyBytes6 = std::array<uint8_t, sizeof(pxed6_client_key)>;

template <class T, class A>
A bytes_of(const T& v) {
    A out;
    std::memcpy(out.data(), &v, sizeof v);
    return out;
}

pxed6_blob blob_of(const std::vector<uint8_t>& tail) {
    pxed6_blob b{};
    b.len = uint16_t(tail.size());
    std::copy(tail.begin(), tail.end(), b.tail);
    b.csum = ones_sum(tail.data(), tail.size());
    return b;
}

// The keys of a hash map, as they are now.
template <class K>
std::vector<K> keys_of(int fd) {
    std::vector<K> out;
    K key{}, next{};
    K* prev = nullptr;
    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
        key = next;
        prev = &key;
        out.push_back(key);
    }
    return out;
}

// The tails index (an array of PXED6_TAILS entries), read and written in
// batches: one entry at a time is 32k system calls.
std::vector<uint16_t> read_index(int fd) {
    std::vector<uint16_t> out(PXED6_TAILS, uint16_t(PXED6_NO_BLOB));
    std::vector<uint32_t> keys(PXED6_TAILS);
    uint32_t count = PXED6_TAILS, out_batch = 0;
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    int rc = bpf_map_lookup_batch(fd, nullptr, &out_batch, keys.data(), out.data(), &count, &opts);
    if ((rc == 0 || errno == ENOENT) && count == PXED6_TAILS) return out;
    for (uint32_t k = 0; k < PXED6_TAILS; k++) bpf_map_lookup_elem(fd, &k, &out[k]);
    return out;
}

Result<void> write_index(int fd, const std::vector<uint16_t>& index) {
    std::vector<uint32_t> keys(PXED6_TAILS);
    std::iota(keys.begin(), keys.end(), 0u);
    uint32_t count = PXED6_TAILS;
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    if (bpf_map_update_batch(fd, keys.data(), index.data(), &count, &opts) == 0 && count == PXED6_TAILS) return {};
    for (uint32_t k = 0; k < PXED6_TAILS; k++)
        if (bpf_map_update_elem(fd, &k, &index[k], BPF_ANY) != 0) return Err("writing the dhcp6_tails map: " + errstr());
    return {};
}

// Every entry of a hash map not in `keep` is deleted.
template <class K, class A>
void remove_stale(int fd, const std::set<A>& keep) {
    for (auto& k : keys_of<K>(fd))
        if (!keep.count(bytes_of<K, A>(k))) bpf_map_delete_elem(fd, &k);
}

// The link entry: the subnet's lifetimes and our side of the link.
pxed6_link link_entry(const config::Subnet6& sn, const Tails6& t, const Iface6View& iface,
                      const std::vector<uint8_t>& server_duid) {
    pxed6_link l{};
    l.enabled = 1;
    l.flags = uint16_t((sn.rapid_commit ? PXED6_LINK_RAPID_COMMIT : 0) | (t.arch_overflow ? PXED6_LINK_ARCH_OVERFLOW : 0));
    l.hop_limit = iface.hop_limit;
    l.n_archs = uint8_t(t.archs.size());
    std::memcpy(l.src_addr, iface.link_local.b.data(), 16);
    auto lt = dhcp6::lifetimes(sn, 0, Ipv6{});
    l.t1 = lt.t1;
    l.t2 = lt.t2;
    l.preferred = lt.addrs[0].preferred;
    l.valid = lt.addrs[0].valid;
    std::copy(t.archs.begin(), t.archs.end(), l.archs);
    size_t n = server_duid.size();
    l.server_opt[1] = 2;  // option 2, Server Identifier
    l.server_opt[2] = uint8_t(n >> 8);
    l.server_opt[3] = uint8_t(n);
    std::copy(server_duid.begin(), server_duid.end(), l.server_opt + 4);
    l.server_opt_len = uint16_t(4 + n);
    l.server_opt_csum = ones_sum(l.server_opt, 4 + n);
    return l;
}

}  // namespace

pxed6_client_key duid_key6(const std::vector<uint8_t>& duid) {
    pxed6_client_key k{};
    k.kind = PXED6_KEY_DUID;
    k.len = uint8_t(std::min(duid.size(), size_t(PXED6_DUID_MAX)));
    std::memcpy(k.id, duid.data(), k.len);
    return k;
}

pxed6_client_key mac_key6(const Mac& m) {
    pxed6_client_key k{};
    k.kind = PXED6_KEY_MAC;
    k.len = 6;
    std::memcpy(k.id, m.b.data(), 6);
    return k;
}

std::vector<Holder6> holders6(const config::Config& cfg, const lease::LeaseTable6& leases, int64_t now) {
    std::vector<Holder6> out;
    for (auto& r : cfg.reservations6) {
        auto* l = leases.by_ip(r.ip);
        if (!l || l->state == lease::State::Released || l->expires <= now) continue;  // free for anyone
        out.push_back(Holder6{r.ip, l->duid, l->iaid, l->state == lease::State::Declined});
    }
    return out;
}

Result<Sync6Report> sync_maps6(const Map6Fds& fds, const config::Config& cfg, const Iface6View& iface,
                               const std::vector<uint8_t>& server_duid, uint16_t http_port,
                               const std::vector<Holder6>& holders) {
    Sync6Report rep;
    uint32_t zero = 0;
    pxed6_link old{};
    bool was_on = bpf_map_lookup_elem(fds.link, &zero, &old) == 0 && old.enabled;
    auto [sn, server] = dhcp6::link_subnet(cfg, iface.addrs);
    if (!sn || iface.link_local.is_zero() || server_duid.size() < 2 || server_duid.size() > 130) {
        // Off: the daemon answers every DHCPv6 client here.
        pxed6_link off{};
        if (bpf_map_update_elem(fds.link, &zero, &off, BPF_ANY) != 0)
            return Err("writing the dhcp6_link map of " + iface.name + ": " + errstr());
        for (auto& k : keys_of<pxed6_client_key>(fds.reservations)) bpf_map_delete_elem(fds.reservations, &k);
        for (auto& k : keys_of<uint32_t>(fds.blobs)) bpf_map_delete_elem(fds.blobs, &k);
        return rep;
    }
    std::vector<const config::Reservation6*> resv;
    for (auto& r : cfg.reservations6)
        if (sn->prefix.contains(r.ip)) resv.push_back(&r);  // Engine6 gives others a pool address here
    Tails6 t = render_tails6(cfg, http_port, *sn, server, resv);
    rep.archs = t.archs.size();
    rep.too_long = t.too_long;
    pxed6_link link = link_entry(*sn, t, iface, server_duid);

    // The blobs: content already in the map keeps its id.
    std::map<BlobBytes6, uint32_t> have;
    std::set<uint32_t> used;
    const auto existing = keys_of<uint32_t>(fds.blobs);
    for (auto id : existing) {
        pxed6_blob b{};
        if (bpf_map_lookup_elem(fds.blobs, &id, &b) == 0) have.emplace(bytes_of<pxed6_blob, BlobBytes6>(b), id);
        used.insert(id);
    }
    std::vector<uint16_t> id_of(t.blobs.size(), uint16_t(PXED6_NO_BLOB));
    std::set<uint32_t> keep_blobs;
    uint32_t next = 0;
    for (size_t i = 0; i < t.blobs.size(); i++) {
        auto b = blob_of(t.blobs[i]);
        auto bytes = bytes_of<pxed6_blob, BlobBytes6>(b);
        uint32_t id;
        if (auto it = have.find(bytes); it != have.end()) {
            id = it->second;
        } else {
            while (used.count(next)) next++;
            if (next >= PXED6_MAX_BLOBS) continue;  // full: those shapes are passed
            id = next;
            used.insert(id);
            if (bpf_map_update_elem(fds.blobs, &id, &b, BPF_ANY) != 0)
                return Err("writing the dhcp6_blobs map of " + iface.name + ": " + errstr());
        }
        id_of[i] = uint16_t(id);
        keep_blobs.insert(id);
    }
    rep.blobs = keep_blobs.size();
    std::vector<uint16_t> index(PXED6_TAILS, uint16_t(PXED6_NO_BLOB));
    for (uint32_t k = 0; k < PXED6_TAILS; k++)
        if (t.index[k] != PXED6_NO_BLOB) index[k] = id_of[t.index[k]];

    // The program reads the link entry, the index and a blob of one request
    // at different moments: while the link entry or the index change, it
    // passes every DHCPv6 client (the daemon answers them).
    auto old_index = read_index(fds.tails);
    pxed6_link old_on = old;
    old_on.enabled = 1;
    bool changed = std::memcmp(&old_on, &link, sizeof link) != 0 || old_index != index;
    if (changed && was_on) {
        old.enabled = 0;
        if (bpf_map_update_elem(fds.link, &zero, &old, BPF_ANY) != 0)
            return Err("writing the dhcp6_link map of " + iface.name + ": " + errstr());
    }
    if (old_index != index)
        if (auto r = write_index(fds.tails, index); !r) return Err(r.error() + " of " + iface.name);

    std::set<KeyBytes6> keep;
    for (auto* r : resv) {
        if (!r->mac && r->duid.size() > PXED6_DUID_MAX) {
            rep.not_in_kernel++;  // the program passes such DUIDs
            continue;
        }
        auto set = t.boot_sets.find(r->boot_file);
        if (set == t.boot_sets.end()) {
            rep.not_in_kernel++;
            continue;
        }
        pxed6_reservation v{};
        std::memcpy(v.addr, r->ip.b.data(), 16);
        v.boot_set = set->second;
        auto h = std::find_if(holders.begin(), holders.end(), [&](auto& x) { return x.ip == r->ip; });
        if (h != holders.end()) {
            if (h->declined || h->duid.size() > PXED6_DUID_MAX) {
                rep.withheld++;  // no one gets it here, or the program cannot name its holder
                continue;
            }
            v.flags = PXED6_RESV_HELD;
            v.holder_iaid = h->iaid;
            v.holder = duid_key6(h->duid);
            rep.held++;
        }
        auto key = r->mac ? mac_key6(*r->mac) : duid_key6(r->duid);
        if (bpf_map_update_elem(fds.reservations, &key, &v, BPF_ANY) != 0)
            return Err("writing the dhcp6_reservations map of " + iface.name + ": " + errstr());
        keep.insert(bytes_of<pxed6_client_key, KeyBytes6>(key));
    }
    rep.reservations = keep.size();
    if (changed || !was_on)
        if (bpf_map_update_elem(fds.link, &zero, &link, BPF_ANY) != 0)
            return Err("writing the dhcp6_link map of " + iface.name + ": " + errstr());
    remove_stale<pxed6_client_key, KeyBytes6>(fds.reservations, keep);
    for (auto id : existing)
        if (!keep_blobs.count(id)) bpf_map_delete_elem(fds.blobs, &id);
    rep.enabled = true;
    return rep;
}

}  // namespace pxed::bpf
