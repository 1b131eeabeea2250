#include "bpf/map_sync.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <vector>

#include "bpf/blob.h"

namespace pxed::bpf {

namespace {

std::string errstr() { return std::strerror(errno); }

// The largest DHCP message the program sends: what a client without option
// 57 accepts (RFC 2131's 576-byte datagram less the IP and UDP headers).
constexpr size_t kMaxKernelReply = 548;

// A blob's bytes as a map key. Fixed size, so comparing two keys is one
// memcmp of a known length (a std::vector key made GCC 12 at -O3 warn,
// -Wstringop-overread, about a memcmp bound it could not prove).
using BlobBytes = std::array<uint8_t, sizeof(pxed_reply_blob)>;

BlobBytes bytes_of(const pxed_reply_blob& b) {
    BlobBytes out;
    std::memcpy(out.data(), &b, sizeof b);
    return out;
}

// Our address on a subnet as the interface sees it: its VLAN device's for a
// VLAN of this trunk, else the interface's own.
Ipv4 our_addr_on(const config::Subnet& sn, const IfaceView& iface) {
    for (auto& v : iface.vlans)
        if (sn.vlan && v.outer == sn.vlan && v.inner == sn.inner_vlan) return v.addr;
    return iface.addr;
}

// relay_reservations: upserts, then stale keys removed (the MAC map's order).
Result<void> sync_relay(int fd, const std::vector<std::pair<pxed_relay_key, pxed_reservation>>& want) {
    std::set<std::array<uint8_t, sizeof(pxed_relay_key)>> keep;
    auto bytes = [](const pxed_relay_key& k) {
        std::array<uint8_t, sizeof(pxed_relay_key)> b;
        std::memcpy(b.data(), &k, sizeof k);
        return b;
    };
    for (auto& [k, v] : want) {
        if (bpf_map_update_elem(fd, &k, &v, BPF_ANY) != 0) return Err("writing the relay_reservations map: " + errstr());
        keep.insert(bytes(k));
    }
    std::vector<pxed_relay_key> stale;
    pxed_relay_key key{}, next{};
    pxed_relay_key* prev = nullptr;
    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
        key = next;
        prev = &key;
        if (!keep.count(bytes(key))) stale.push_back(key);
    }
    for (auto& k : stale) bpf_map_delete_elem(fd, &k);
    return {};
}

}  // namespace

static_assert(config::kAgentIdMax == PXED_AGENT_ID_MAX, "config refuses ids the kernel key cannot hold");

pxed_relay_key relay_key(const config::AgentReservation& a) {
    pxed_relay_key k{};
    k.kind = uint8_t(a.kind);
    k.len = uint8_t(std::min(a.id.size(), size_t(PXED_AGENT_ID_MAX)));
    std::memcpy(k.id, a.id.data(), k.len);
    return k;
}

pxed_mac_key mac_key(const Mac& m) {
    pxed_mac_key k{};
    std::memcpy(k.mac, m.b.data(), 6);
    return k;
}

Result<SyncReport> sync_maps(const MapFds& fds, const config::Config& cfg, const IfaceView& iface,
                             const RateLimit& rate, const std::vector<Mac>& withheld, const std::vector<Ipv4>& held) {
    SyncReport rep;
    int resv_fd = fds.reservations, blobs_fd = fds.blobs, config_fd = fds.config;
    Profiles profiles = build_profiles(cfg);
    rep.profiles = profiles.view.size();
    rep.unmapped_signatures = profiles.unmapped;
    // New profiles renumber the blobs of every reservation: the program
    // passes everything (enabled = 0) until the three maps agree again.
    bool renumber = false;
    for (uint32_t sig = 0; sig < PXED_SIGNATURES && !renumber; sig++) {
        uint32_t current = 0;
        renumber = bpf_map_lookup_elem(fds.profiles, &sig, &current) != 0 || current != profiles.of_signature[sig];
    }
    pxed_xdp_config xc{};
    xc.abi_version = PXED_ABI_VERSION;
    xc.enabled = 1;
    xc.ifindex = uint32_t(iface.ifindex);
    xc.if_addr_be = htonl(iface.addr.v);
    std::memcpy(xc.if_mac, iface.mac.b.data(), 6);
    xc.rate_per_s = rate.per_second;
    xc.rate_burst = rate.burst;
    xc.flags = cfg.boot_trace ? PXED_CFG_TRACE : 0;
    uint32_t zero = 0;
    // An interface without an IPv4 address (attached for DHCPv6 alone):
    // the program passes every DHCPv4 frame there, as the daemon has no
    // DHCPv4 socket on it.
    bool v4_off = iface.addr.is_zero();
    xc.enabled = renumber || v4_off ? 0 : 1;
    if (bpf_map_update_elem(config_fd, &zero, &xc, BPF_ANY) != 0)
        return Err("writing the XDP config map of " + iface.name + ": " + errstr());
    if (renumber)
        for (uint32_t sig = 0; sig < PXED_SIGNATURES; sig++)
            if (bpf_map_update_elem(fds.profiles, &sig, &profiles.of_signature[sig], BPF_ANY) != 0)
                return Err("writing the profiles map of " + iface.name + ": " + errstr());

    // What the blob map holds now (a previous pxed's blobs included).
    std::map<BlobBytes, uint32_t> have;
    std::set<uint32_t> used_ids;
    {
        uint32_t key, next;
        uint32_t* prev = nullptr;
        pxed_reply_blob b{};
        while (bpf_map_get_next_key(blobs_fd, prev, &next) == 0) {
            key = next;
            prev = &key;
            if (bpf_map_lookup_elem(blobs_fd, &key, &b) == 0) {
                have.emplace(bytes_of(b), key);
                used_ids.insert(key);
            }
        }
    }

    // The desired reservations and the blobs they need.
    std::map<BlobBytes, uint16_t> want_blobs;
    std::map<uint16_t, size_t> opts_len_of;  // blob id -> its options' length
    std::vector<std::pair<pxed_mac_key, pxed_reservation>> want_resv;
    uint32_t next_id = 0;
    auto blob_id_for = [&](const pxed_reply_blob& b) -> uint16_t {
        auto bytes = bytes_of(b);
        if (auto it = want_blobs.find(bytes); it != want_blobs.end()) return it->second;
        uint32_t id;
        if (auto it = have.find(bytes); it != have.end()) {
            id = it->second;  // identical content already in the map
        } else {
            while (used_ids.count(next_id)) next_id++;
            if (next_id >= PXED_MAX_BLOBS) return PXED_NO_BLOB;  // the map is full: the daemon answers
            id = next_id++;
            used_ids.insert(id);
            if (bpf_map_update_elem(blobs_fd, &id, &b, BPF_ANY) != 0) return PXED_NO_BLOB;
        }
        want_blobs.emplace(std::move(bytes), uint16_t(id));
        opts_len_of[uint16_t(id)] = b.opts_len;
        return uint16_t(id);
    };

    std::map<std::string, std::array<uint16_t, PXED_PROFILES>> by_context;
    // A MAC's blobs are rendered for a request without option 82
    // (dhcp/policy_match.cpp kernel_leaf): with a class that reads it, a
    // request that carries it may get another answer, so the program passes
    // it (PXED_RESV_O82_PASS) and the daemon decides.
    bool o82_pass = std::any_of(cfg.classes.begin(), cfg.classes.end(),
                                [](const config::Class& c) { return c.match && reads_option82(*c.match); });
    // The map value of reservation `r` (a MAC's, or `agent`'s), on a subnet
    // of the configuration.
    auto value_of = [&](const config::Reservation& r, const config::AgentReservation* agent) -> Result<pxed_reservation> {
        const config::Subnet* sn = cfg.subnet_for(r.ip);
        Ipv4 server_id = sn->server_ip.value_or(our_addr_on(*sn, iface));
        pxed_reservation v{};
        v.ip_be = htonl(r.ip.v);
        v.server_id_be = htonl(server_id.v);
        v.net_be = htonl(sn->net.network().v);
        v.mask_be = htonl(sn->net.mask());
        v.lease_time_s = r.lease_time.value_or(sn->lease_time);
        v.flags = o82_pass ? PXED_RESV_O82_PASS : 0;
        // Reservations that share a blob context share their blob ids; within
        // one, the profiles that come to the same policy share a rendering.
        std::string ctx = blob_context(cfg, r, server_id);
        if (agent) ctx = "agent" + std::string(1, char(agent->kind)) + agent->id + '\0' + ctx;
        auto [cached, fresh_ctx] = by_context.try_emplace(ctx);
        if (fresh_ctx) {
            BlobInput in{&cfg, sn, server_id, &r, agent};
            std::map<std::string, uint16_t> rendered;  // this context's distinct policies
            for (uint32_t p = 0; p < PXED_PROFILES; p++) {
                cached->second[p] = PXED_BLOB_UNDECIDED;
                if (p >= profiles.view.size()) continue;
                NoBlob why;
                auto policy = blob_policy(in, profiles.view[p], &why);
                if (!policy) continue;  // undecided or ignored: the daemon decides
                auto [it, fresh] = rendered.emplace(policy_key(*policy), PXED_NO_BLOB);
                if (fresh)
                    if (auto blob = render_blob(in, *policy, &why)) it->second = blob_id_for(*blob);
                cached->second[p] = it->second;
            }
        }
        // The reservation's own option follows the blob's options; the whole
        // reply must still fit the 548 bytes every client accepts.
        auto host = host_option(r);
        if (host.size() > PXED_HOST_OPT_MAX) return Err("host option of " + r.ip.str() + " is too long");
        v.host_len = uint8_t(host.size());
        std::copy(host.begin(), host.end(), v.host_opt);
        v.host_csum = ones_sum(host.data(), host.size());
        bool all = true;
        for (uint32_t p = 0; p < PXED_PROFILES; p++) {
            v.blob_id[p] = cached->second[p];
            if (v.blob_id[p] < PXED_MAX_BLOBS &&
                dhcp::kMinMessageLen + opts_len_of[v.blob_id[p]] + host.size() + 1 > kMaxKernelReply)
                v.blob_id[p] = PXED_NO_BLOB;
            if (v.blob_id[p] == PXED_NO_BLOB) all = false;
        }
        if (!all) rep.not_in_kernel++;
        return v;
    };
    for (auto& r : cfg.reservations) {
        if (!cfg.subnet_for(r.ip)) continue;  // validate() refuses these
        if (std::find(withheld.begin(), withheld.end(), r.mac) != withheld.end()) {
            rep.withheld++;  // the daemon answers it until its conflict clears
            continue;
        }
        auto v = value_of(r, nullptr);
        if (!v) return Err(v.error());
        want_resv.emplace_back(mac_key(r.mac), *v);
    }
    // Reservations by option 82, unless a lease holds the address in the
    // daemon (`held`): then only the daemon knows whose it is.
    std::vector<std::pair<pxed_relay_key, pxed_reservation>> want_relay;
    for (auto& a : cfg.agent_reservations) {
        if (fds.relay_reservations < 0 || !cfg.subnet_for(a.resv.ip)) continue;
        if (std::find(held.begin(), held.end(), a.resv.ip) != held.end()) {
            rep.withheld++;
            continue;
        }
        auto v = value_of(a.resv, &a);
        if (!v) return Err(v.error());
        v->flags &= uint16_t(~PXED_RESV_O82_PASS);  // its blobs are rendered for option 82 with its id
        want_relay.emplace_back(relay_key(a), *v);
    }
    // A MAC's host entry comes before a reservation by option 82 (the
    // engine's order): in the map, disabled, so the program passes it.
    const config::Subnet* own_subnet = cfg.subnet_for(iface.addr);
    if (!want_relay.empty() && !(own_subnet && own_subnet->proxy))
        for (auto& h : cfg.hosts) {
            pxed_reservation v{};
            v.flags = PXED_RESV_DISABLED;
            for (auto& b : v.blob_id) b = PXED_BLOB_UNDECIDED;
            want_resv.emplace_back(mac_key(h.mac), v);
        }
    // proxyDHCP: a proxy subnet (the interface's own, key 0, or a VLAN's,
    // key 1 and up) answers every PXE client from per-profile blobs; host
    // entries there are passed (their own settings are the daemon's to apply).
    auto proxy_entry = [&](const config::Subnet* sn, Ipv4 addr) {
        pxed_proxy px{};
        for (uint32_t p = 0; p < PXED_PROFILES; p++) px.offer_blob[p] = px.ack_blob[p] = PXED_BLOB_UNDECIDED;
        if (!sn || !sn->proxy) return px;
        Ipv4 server_id = sn->server_ip.value_or(addr);
        px.enabled = 1;
        px.server_id_be = htonl(server_id.v);
        px.net_be = htonl(sn->net.network().v);
        px.mask_be = htonl(sn->net.mask());
        rep.proxy = true;
        for (uint32_t p = 0; p < profiles.view.size() && p < PXED_PROFILES; p++)
            for (bool boot_server : {false, true}) {
                auto blob = render_proxy_blob(cfg, *sn, server_id, profiles.view[p], boot_server);
                uint16_t id = blob ? blob_id_for(*blob) : uint16_t(PXED_BLOB_UNDECIDED);
                // The client's UUID (19 bytes) follows the options.
                if (id < PXED_MAX_BLOBS && dhcp::kMinMessageLen + opts_len_of[id] + 19 + 1 > kMaxKernelReply)
                    id = PXED_NO_BLOB;
                (boot_server ? px.ack_blob : px.offer_blob)[p] = id;
                rep.proxy_blobs += id < PXED_MAX_BLOBS;
            }
        return px;
    };
    if (iface.vlans.size() > PXED_MAX_VLAN_SUBNETS)
        return Err(iface.name + " serves " + std::to_string(iface.vlans.size()) + " VLANs, more than the " +
                   std::to_string(PXED_MAX_VLAN_SUBNETS) + " the XDP program holds");
    std::vector<pxed_proxy> slots{proxy_entry(cfg.subnet_for(iface.addr), iface.addr)};
    for (auto& v : iface.vlans) slots.push_back(proxy_entry(cfg.subnet_for(v.addr), v.addr));
    if (rep.proxy)
        for (auto& h : cfg.hosts) {
            pxed_reservation v{};
            v.flags = PXED_RESV_DISABLED;
            for (auto& b : v.blob_id) b = PXED_BLOB_UNDECIDED;
            want_resv.emplace_back(mac_key(h.mac), v);
        }
    // Every slot is written, the unused ones disabled: a VLAN dropped from
    // the configuration leaves nothing behind.
    if (fds.proxy >= 0)
        for (uint32_t k = 0; k <= PXED_MAX_VLAN_SUBNETS; k++) {
            pxed_proxy off{};
            if (bpf_map_update_elem(fds.proxy, &k, k < slots.size() ? &slots[k] : &off, BPF_ANY) != 0)
                return Err("writing the proxy map of " + iface.name + ": " + errstr());
        }
    if (fds.vlans >= 0) {
        std::set<uint32_t> want_vlans;
        for (size_t k = 0; k < iface.vlans.size(); k++) {
            auto& v = iface.vlans[k];
            pxed_vlan_key key{v.outer, v.inner};
            pxed_vlan val{};
            val.addr_be = htonl(v.addr.v);
            std::memcpy(val.mac, v.mac.b.data(), 6);
            val.proxy_slot = uint16_t(k + 1);
            if (bpf_map_update_elem(fds.vlans, &key, &val, BPF_ANY) != 0)
                return Err("writing the vlans map of " + iface.name + ": " + errstr());
            want_vlans.insert(uint32_t(v.outer) << 16 | v.inner);
        }
        std::vector<pxed_vlan_key> stale;
        pxed_vlan_key key{}, next{};
        pxed_vlan_key* prev = nullptr;
        while (bpf_map_get_next_key(fds.vlans, prev, &next) == 0) {
            key = next;
            prev = &key;
            if (!want_vlans.count(uint32_t(key.outer) << 16 | key.inner)) stale.push_back(key);
        }
        for (auto& k : stale) bpf_map_delete_elem(fds.vlans, &k);
        rep.vlans = iface.vlans.size();
    }
    if (want_blobs.size() > PXED_MAX_BLOBS) return Err("too many distinct reply blobs for " + iface.name);

    std::set<std::array<uint8_t, 6>> want_macs;
    for (auto& [k, v] : want_resv) {
        if (bpf_map_update_elem(resv_fd, &k, &v, BPF_ANY) != 0)
            return Err("writing the reservations map of " + iface.name + ": " + errstr());
        std::array<uint8_t, 6> m;
        std::memcpy(m.data(), k.mac, 6);
        want_macs.insert(m);
    }

    // Stale reservations, then unreferenced blobs.
    {
        std::vector<pxed_mac_key> stale;
        pxed_mac_key key{}, next{};
        pxed_mac_key* prev = nullptr;
        while (bpf_map_get_next_key(resv_fd, prev, &next) == 0) {
            key = next;
            prev = &key;
            std::array<uint8_t, 6> m;
            std::memcpy(m.data(), key.mac, 6);
            if (!want_macs.count(m)) stale.push_back(key);
        }
        for (auto& k : stale) bpf_map_delete_elem(resv_fd, &k);
        rep.removed = stale.size();
    }
    std::set<uint32_t> keep;
    for (auto& [b, id] : want_blobs) keep.insert(id);
    for (auto& [b, id] : have)
        if (!keep.count(id)) bpf_map_delete_elem(blobs_fd, &id);
    rep.reservations = want_resv.size();
    if (fds.relay_reservations >= 0) {
        auto r = sync_relay(fds.relay_reservations, want_relay);
        if (!r) return Err(r.error() + " of " + iface.name);
        rep.relay_reservations = want_relay.size();
    }
    rep.blobs = want_blobs.size();
    if (renumber && !v4_off) {
        xc.enabled = 1;
        if (bpf_map_update_elem(config_fd, &zero, &xc, BPF_ANY) != 0)
            return Err("enabling the XDP config map of " + iface.name + ": " + errstr());
    }
    return rep;
}

}  // namespace pxed::bpf
