#include "hooks/lease_events.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <limits>

namespace pxed::hooks {

namespace {

constexpr int64_t kInfinite = std::numeric_limits<int64_t>::max();

bool live(const lease::Lease* l, int64_t now) {
    return l && l->state == lease::State::Bound && l->expires > now;
}

uint64_t hash_client(const std::string& c) { return std::hash<std::string>{}(c); }

// dnsmasq's hostname_isequal() on the names the script sees.
bool same_name(const std::string& a, const std::string& b) {
    std::string x = script_hostname(a), y = script_hostname(b);
    return std::equal(x.begin(), x.end(), y.begin(), y.end(),
                      [](char p, char q) { return std::tolower(uint8_t(p)) == std::tolower(uint8_t(q)); });
}

}  // namespace

const Network* LeaseEvents::network_of(Ipv4 ip) const {
    for (auto& n : nets_)
        if (n.net.contains(ip)) return &n;
    return nullptr;
}

LeaseView LeaseEvents::view(Ipv4 ip, const Known& k) const {
    LeaseView v;
    v.mac = k.mac;
    v.ip = ip;
    v.hostname = k.hostname;
    v.client_id = k.client_id;
    v.expires = k.expires;
    v.iface = k.iface;
    v.giaddr = k.giaddr;
    if (auto* n = network_of(ip)) v.domain = n->domain;
    return v;
}

LeaseEvents::Known LeaseEvents::known_of(const lease::Lease& l) const {
    Known k;
    k.mac = l.mac;
    k.client = hash_client(l.client);
    k.hostname = l.hostname;
    if (l.client.starts_with("id:")) k.client_id = l.client.substr(3);
    k.expires = l.expires;
    if (auto* n = network_of(l.ip)) k.iface = n->iface;
    return k;
}

void LeaseEvents::remember(Ipv4 ip, Known k) {
    if (k.expires != kInfinite) expiry_.push({k.expires, ip.v});
    known_[ip.v] = std::move(k);
    // Renewals leave stale entries behind: rebuild before they outnumber the leases.
    if (expiry_.size() > 2 * known_.size() + 1024) {
        std::vector<Due> fresh;
        fresh.reserve(known_.size());
        for (auto& [a, x] : known_)
            if (x.expires != kInfinite) fresh.push_back({x.expires, a});
        expiry_ = decltype(expiry_)(std::greater<Due>(), std::move(fresh));
    }
}

void LeaseEvents::load(const lease::LeaseTable& t, int64_t now) {
    known_.clear();
    expiry_ = {};
    known_.reserve(t.size());
    for (auto& [ip, l] : t.all())
        if (live(&l, now)) remember(ip, known_of(l));
    replay_from_ = 0;
}

void LeaseEvents::on_stored(const std::vector<Change>& batch, int64_t now, std::vector<ScriptEvent>& out) {
    for (auto& [ip, l] : batch) {
        auto k = known_.find(ip.v);
        if (k == known_.end()) continue;
        bool same_client = live(l, now) && (k->second.mac == l->mac || k->second.client == hash_client(l->client));
        if (same_client) continue;
        // Released, declined, deleted, or the address went to another client.
        out.push_back(lease_event(Action::Del, view(ip, k->second), nullptr, now, opt_.event));
        known_.erase(k);
    }
    for (auto& [ip, l] : batch) {
        auto f = facts_.find(ip.v);
        std::optional<RequestFacts> facts;
        if (f != facts_.end()) {
            facts = std::move(f->second);
            facts_.erase(f);
        }
        if (live(l, now)) upsert(*l, facts ? &*facts : nullptr, now, out);
    }
}

void LeaseEvents::upsert(const lease::Lease& l, const RequestFacts* facts, int64_t now, std::vector<ScriptEvent>& out) {
    auto it = known_.find(l.ip.v);
    if (it == known_.end()) {
        Known k = known_of(l);
        if (facts) {
            if (!facts->iface.empty()) k.iface = facts->iface;
            k.giaddr = facts->giaddr;
        }
        out.push_back(lease_event(Action::Add, view(l.ip, k), facts, now, opt_.event));
        remember(l.ip, std::move(k));
        return;
    }
    Known k = it->second;
    bool changed = k.mac != l.mac;
    // As dnsmasq: a request without a (legal) name keeps the one the client gave before.
    std::optional<std::string> old_name;
    if (!script_hostname(l.hostname).empty() && !same_name(k.hostname, l.hostname)) {
        if (!script_hostname(k.hostname).empty()) old_name = k.hostname;
        k.hostname = l.hostname;
        changed = true;
    }
    // dnsmasq refreshes the request data (and the relay) only for a REQUEST
    // with option 50; a renewal's "old" has none (DNSMASQ_DATA_MISSING).
    const RequestFacts* data = facts && facts->selecting ? facts : nullptr;
    if (facts) {
        if (!facts->iface.empty() && facts->iface != k.iface) changed = true;
        if (!facts->iface.empty()) k.iface = facts->iface;
        if (data) changed = true;
        if (data && !facts->giaddr.is_zero()) k.giaddr = facts->giaddr;
    }
    if (opt_.on_renewal && k.expires != l.expires) changed = true;
    k.mac = l.mac;
    k.client = hash_client(l.client);
    if (l.client.starts_with("id:")) k.client_id = l.client.substr(3);
    k.expires = l.expires;
    if (old_name) out.push_back(lease_event(Action::Old, view(l.ip, k), data, now, opt_.event, &*old_name));
    if (changed) out.push_back(lease_event(Action::Old, view(l.ip, k), data, now, opt_.event));
    bool expiry_moved = k.expires != it->second.expires;
    if (expiry_moved) remember(l.ip, std::move(k));
    else it->second = std::move(k);
}

void LeaseEvents::expire(const lease::LeaseTable& t, int64_t now, size_t budget, std::vector<ScriptEvent>& out) {
    for (size_t n = 0; n < budget && !expiry_.empty() && expiry_.top().first <= now; n++) {
        auto [when, a] = expiry_.top();
        expiry_.pop();
        auto k = known_.find(a);
        if (k == known_.end() || k->second.expires != when) continue;  // renewed or gone since
        const lease::Lease* l = t.by_ip(Ipv4(a));
        if (live(l, now) && l->mac == k->second.mac) continue;  // renewed; its commit will tell
        out.push_back(lease_event(Action::Del, view(Ipv4(a), k->second), nullptr, now, opt_.event));
        known_.erase(k);
        facts_.erase(a);
    }
}

void LeaseEvents::replay(const lease::LeaseTable& t, int64_t now, size_t budget, std::vector<ScriptEvent>& out) {
    if (!replay_from_) return;
    auto& all = t.all();
    auto it = *replay_from_ > UINT32_MAX ? all.end() : all.lower_bound(Ipv4(uint32_t(*replay_from_)));
    for (size_t n = 0; n < budget && it != all.end(); ++it) {
        replay_from_ = uint64_t(it->first.v) + 1;
        auto k = known_.find(it->first.v);
        if (k == known_.end()) continue;
        out.push_back(lease_event(Action::Old, view(it->first, k->second), nullptr, now, opt_.event));
        n++;
    }
    if (it == all.end()) replay_from_.reset();
}

}  // namespace pxed::hooks
