#include "trace/recorder.h"

#include <algorithm>

namespace pxed::trace {

namespace {
constexpr uint64_t kAddressKey = 1ull << 63;
// With kAddressKey: an IPv6 client's, its 128 bits mixed into the low 62.
// No lease or neighbour names its MAC here (DHCPv6 identifies clients by
// DUID): its transfers are a machine of their own.
constexpr uint64_t kIpv6Key = 1ull << 62;
}

const char* to_string(Path p) { return p == Path::Kernel ? "kernel" : "daemon"; }

const char* to_string(Verdict v) {
    switch (v) {
        case Verdict::Answered: return "answered";
        case Verdict::Passed: return "passed";
        case Verdict::Dropped: return "dropped";
    }
    return "?";
}

Recorder::Recorder(Limits l, Resolver neighbour) : limits_(l), neighbour_(std::move(neighbour)) {
    limits_.machines = std::max<size_t>(limits_.machines, 1);
    limits_.events = std::max<size_t>(limits_.events, 1);
}

Machine Recorder::copy(const Slot& s, size_t events) {
    Machine m;
    m.mac = s.mac;
    m.address = s.address;
    size_t n = std::min(events, s.events.size());
    m.events.assign(s.events.end() - long(n), s.events.end());
    return m;
}

Recorder::Slot& Recorder::touch(Key k, int64_t at_us) {
    auto it = slots_.find(k);
    if (it == slots_.end()) {
        if (slots_.size() >= limits_.machines) {  // forget the least recently active
            slots_.erase(lru_.back());
            lru_.pop_back();
        }
        lru_.push_front(k);
        it = slots_.emplace(k, Slot{}).first;
        it->second.lru = lru_.begin();
    } else if (it->second.lru != lru_.begin()) {
        lru_.splice(lru_.begin(), lru_, it->second.lru);
    }
    it->second.last_us = std::max(it->second.last_us, at_us);
    return it->second;
}

void Recorder::insert(Slot& s, Event e) {
    auto& ev = s.events;
    // Kernel events arrive late (pulled every second): keep time order.
    auto pos = ev.end();
    while (pos != ev.begin() && std::prev(pos)->at_us > e.at_us) --pos;
    ev.insert(pos, std::move(e));
    while (ev.size() > limits_.events) ev.pop_front();
}

void Recorder::record(const Mac& mac, int64_t at_us, DhcpEvent d) {
    std::lock_guard lk(mu_);
    Slot& s = touch(key_of(mac), at_us);
    s.mac = mac;
    if (d.verdict == Verdict::Answered && !d.address.is_zero() && (d.reply == 5 || d.reply == 2)) {
        s.address = d.address;  // an ACK's or OFFER's address
        if (d.reply == 5) learn_locked(d.address, mac);
    }
    Event e;
    e.at_us = at_us;
    e.kind = Event::Kind::Dhcp;
    e.dhcp = std::move(d);
    insert(s, std::move(e));
}

void Recorder::learn(Ipv4 ip, const Mac& mac) {
    std::lock_guard lk(mu_);
    learn_locked(ip, mac);
}

void Recorder::learn_locked(Ipv4 ip, const Mac& mac) {
    if (ip.is_zero()) return;
    unknown_.erase(ip.v);
    auto it = by_ip_.find(ip.v);
    if (it != by_ip_.end()) {
        it->second.mac = mac;
        ip_order_.splice(ip_order_.begin(), ip_order_, it->second.order);
        return;
    }
    if (by_ip_.size() >= kMaxAddresses) {
        by_ip_.erase(ip_order_.back());
        ip_order_.pop_back();
    }
    ip_order_.push_front(ip.v);
    by_ip_.emplace(ip.v, Known{mac, ip_order_.begin()});
}

Recorder::Key Recorder::key_for_address(Ipv4 ip) {
    int64_t now = wall_us();
    {
        std::lock_guard lk(mu_);
        if (auto it = by_ip_.find(ip.v); it != by_ip_.end()) return key_of(it->second.mac);
        if (auto u = unknown_.find(ip.v); u != unknown_.end() && now - u->second < kUnknownUs) return kAddressKey | ip.v;
    }
    std::optional<Mac> m;
    if (neighbour_) m = neighbour_(ip);  // without the lock: it reads a file
    std::lock_guard lk(mu_);
    if (m) {
        learn_locked(ip, *m);
        unknown_.erase(ip.v);
        return key_of(*m);
    }
    if (unknown_.size() >= kMaxUnknown) unknown_.clear();
    unknown_[ip.v] = now;
    return kAddressKey | ip.v;
}

Recorder::Key Recorder::key_for_client(const Transfer& t) {
    if (!t.client6) return key_for_address(t.client);
    uint64_t h = t.client6->high64() * 0x9e3779b97f4a7c15ull ^ t.client6->low64();
    h ^= h >> 29;
    return kAddressKey | kIpv6Key | (h & (kIpv6Key - 1));
}

void Recorder::started(const std::shared_ptr<Transfer>& t) {
    Key k = key_for_client(*t);
    std::lock_guard lk(mu_);
    Slot& s = touch(k, t->started_us);
    if (!(k & kAddressKey)) {
        Mac m;
        for (int i = 5; i >= 0; i--) m.b[size_t(i)] = uint8_t(k >> (8 * (5 - i)));
        s.mac = m;
    }
    s.address = t->client;
    Event e;
    e.at_us = t->started_us;
    e.kind = Event::Kind::File;
    e.file = t;
    insert(s, std::move(e));
}

void Recorder::ended(const std::shared_ptr<Transfer>& t) {
    // A transfer that started is in its machine's ring already (its
    // atomics carry the end); a refused request is recorded now.
    if (t->outcome.load(std::memory_order_acquire) == Outcome::Refused) {
        started(t);
        return;
    }
    Key k = key_for_client(*t);
    std::lock_guard lk(mu_);
    if (auto it = slots_.find(k); it != slots_.end())
        it->second.last_us = std::max(it->second.last_us, t->ended_us.load(std::memory_order_relaxed));
}

std::optional<Machine> Recorder::machine(const Mac& mac) const {
    std::lock_guard lk(mu_);
    auto it = slots_.find(key_of(mac));
    if (it == slots_.end()) return std::nullopt;
    return copy(it->second, it->second.events.size());
}

std::optional<Machine> Recorder::machine_at(Ipv4 ip) const {
    std::lock_guard lk(mu_);
    Key k = kAddressKey | ip.v;
    if (auto m = by_ip_.find(ip.v); m != by_ip_.end()) k = key_of(m->second.mac);
    auto it = slots_.find(k);
    if (it == slots_.end()) return std::nullopt;
    return copy(it->second, it->second.events.size());
}

std::vector<Machine> Recorder::recent(int64_t since_us, size_t max_machines, size_t events) const {
    std::lock_guard lk(mu_);
    std::vector<Machine> out;
    for (Key k : lru_) {
        if (out.size() >= max_machines) break;
        auto& s = slots_.at(k);
        if (s.last_us < since_us) continue;  // lru_ is by activity, but a late kernel event can reorder
        out.push_back(copy(s, events));
    }
    return out;
}

std::optional<Mac> Recorder::mac_at(Ipv4 ip) const {
    std::lock_guard lk(mu_);
    if (auto m = by_ip_.find(ip.v); m != by_ip_.end()) return m->second.mac;
    return std::nullopt;
}

size_t Recorder::size() const {
    std::lock_guard lk(mu_);
    return slots_.size();
}

}  // namespace pxed::trace
