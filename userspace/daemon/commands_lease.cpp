// The lease commands: list, show, add (dynamic or static), del, release.
#include <spdlog/spdlog.h>

#include <ctime>
#include <limits>

#include "daemon/command_args.h"
#include "daemon/commands.h"
#include "daemon/daemon.h"

namespace pxed::daemon {

using nlohmann::json;

namespace {

// The lease-time argument: 60 s to 2^32-2 s, or "infinite".
std::optional<uint32_t> lease_time_arg(const control::Request& r) {
    if (!r.args.contains("lease_time")) return std::nullopt;
    auto& lt = r.args["lease_time"];
    if (lt.is_string() && lt.get<std::string>() == "infinite") return config::kInfiniteLease;
    if (lt.is_number_unsigned() && lt.get<uint64_t>() >= 60 && lt.get<uint64_t>() < config::kInfiniteLease)
        return uint32_t(lt.get<uint64_t>());
    fail("lease time " + lt.dump() + " must be 60 to 4294967294 seconds or \"infinite\"");
}

const config::Subnet& subnet_of(const config::Config& cfg, Ipv4 ip) {
    if (auto* sn = cfg.subnet_for(ip)) return *sn;
    std::string nets;
    for (auto& s : cfg.subnets) nets += (nets.empty() ? "" : ", ") + s.net.str();
    fail("address " + ip.str() + " is outside every subnet (" + nets + "): pick an address inside one");
}

json add_static(Daemon& d, const lease::StoredReservation& sr) {
    if (auto* f = d.cfg().reservation_for(sr.mac); f && !d.is_runtime(sr.mac))
        fail(sr.mac.str() + " is reserved (" + f->ip.str() + ") in " + d.cfg().source + ": change it there");
    auto rt = d.runtime_reservations();
    std::erase_if(rt, [&](auto& x) { return x.mac == sr.mac; });
    rt.push_back(sr);
    auto persist = [sr](lease::LeaseStore& s) { return s.put_reservation(sr); };
    if (auto r = d.change_config(ConfigChange{d.file_cfg(), std::move(rt), persist}); !r) fail(r.error());
    // A dynamic lease the MAC held elsewhere is given up.
    for (auto& [lip, l] : d.engine().leases().all())
        if (l.mac == sr.mac && lip != sr.ip) {
            d.engine().leases().erase(lip);
            break;
        }
    if (auto f = d.flush_sync(); !f) fail(f.error());
    spdlog::info("reservation added mac={} ip={} hostname={}", sr.mac.str(), sr.ip.str(), sr.hostname);
    return resv_json(*d.cfg().reservation_for(sr.mac), d.cfg(), true, d.engine());
}

json add_dynamic(Daemon& d, const Mac& mac, Ipv4 ip, const std::string& hostname, std::optional<uint32_t> lt_arg) {
    if (d.cfg().reservation_for(mac)) fail(mac.str() + " has a reservation: a dynamic lease would not be used");
    int64_t now = now_s();
    lease::Lease l;
    l.ip = ip;
    l.mac = mac;
    l.client = "hw:";
    l.client.push_back(char(1));
    l.client.append(reinterpret_cast<const char*>(mac.b.data()), 6);
    l.hostname = hostname;
    l.start = now;
    uint32_t lt = lt_arg.value_or(subnet_of(d.cfg(), ip).lease_time);
    l.expires = lt == config::kInfiniteLease ? std::numeric_limits<int64_t>::max() : now + lt;
    l.state = lease::State::Bound;
    d.engine().leases().put(l);
    if (auto f = d.flush_sync(); !f) fail(f.error());  // durable before we answer
    // A shared lease database may have refused it: another server's lease holds the address.
    if (auto* got = d.engine().leases().by_ip(ip); !got || got->mac != mac)
        fail("address " + ip.str() + " is leased to " + (got ? got->mac.str() : std::string("another client")) +
             " by another server sharing the lease database");
    spdlog::info("lease added mac={} ip={} lease_time={}", mac.str(), ip.str(), lt);
    return lease_json(*d.engine().leases().by_ip(ip), d.cfg());
}

// A run-time reservation of the MAC or address `key`, deleted; nullopt when
// neither has a reservation.
std::optional<json> del_reservation(Daemon& d, const std::optional<Mac>& mac, const std::optional<Ipv4>& ip) {
    for (auto& res : d.cfg().reservations) {
        if (!((mac && res.mac == *mac) || (ip && res.ip == *ip))) continue;
        if (!d.is_runtime(res.mac))
            fail("the reservation of " + res.mac.str() + " comes from " + d.cfg().source +
                 ": remove it there and run pxectl reload");
        Mac m = res.mac;
        auto rt = d.runtime_reservations();
        std::erase_if(rt, [&](auto& x) { return x.mac == m; });
        auto persist = [m](lease::LeaseStore& s) { return s.delete_reservation(m); };
        if (auto r = d.change_config(ConfigChange{d.file_cfg(), std::move(rt), persist}); !r) fail(r.error());
        spdlog::info("reservation deleted mac={}", m.str());
        return json{{"deleted", m.str()}};
    }
    return std::nullopt;
}

// The lease of a MAC or an address; fails naming the key when there is none.
lease::Lease find_lease(Daemon& d, const std::string& key, const std::optional<Mac>& mac,
                        const std::optional<Ipv4>& ip) {
    const lease::Lease* found = nullptr;
    for (auto& [lip, l] : d.engine().leases().all())
        if ((mac && l.mac == *mac) || (ip && lip == *ip)) found = &l;
    if (!found) fail("no lease for " + key + " (pxectl lease list shows them all)");
    return *found;
}

}  // namespace

json cmd_lease_list(Daemon& d, const control::Request& r) {
    std::optional<Ipv4Net> net;
    std::optional<Ipv6Net> net6;
    if (auto s = arg_str(r, "subnet", false); !s.empty()) {
        net = Ipv4Net::parse(s);
        net6 = Ipv6Net::parse(s);
        if (!net && !net6) fail("'" + s + "' is not a subnet like 192.0.2.0/24 or 2001:db8::/64");
    }
    std::string state = arg_str(r, "state", false);
    if (!state.empty() && state != "static" && state != "bound" && state != "offered" && state != "released" &&
        state != "declined")
        fail("unknown state '" + state + "': use static, bound, offered, released or declined");
    auto& cfg = d.cfg();
    int64_t now = now_s();
    json out = json::array();
    for (auto& res : cfg.reservations) {
        if (net6 || (net && !net->contains(res.ip))) continue;
        if (!state.empty() && state != "static") continue;
        out.push_back(resv_json(res, cfg, d.is_runtime(res.mac), d.engine()));
    }
    for (auto& [ip, l] : d.engine().leases().all()) {
        if (l.state == lease::State::Offered && l.expires <= now) continue;  // a lapsed offer
        if (auto* res = cfg.reservation_for(l.mac); res && res->ip == ip) continue;  // shown as its reservation
        if (net6 || (net && !net->contains(ip))) continue;
        if (!state.empty() && state != lease::to_string(l.state)) continue;
        out.push_back(lease_json(l, cfg));
    }
    if (!net) list_leases6(d, out, net6, state);
    return out;
}

json cmd_lease_show(Daemon& d, const control::Request& r) {
    auto& cfg = d.cfg();
    std::string key = arg_str(r, "key");
    if (auto j = show_lease6(d, key)) return *j;
    if (auto m = Mac::parse(key)) {
        if (auto* res = cfg.reservation_for(*m)) return resv_json(*res, cfg, d.is_runtime(*m), d.engine());
        for (auto& [ip, l] : d.engine().leases().all())
            if (l.mac == *m) return lease_json(l, cfg);
        fail("no lease or reservation for MAC " + m->str() + " (pxectl lease list shows them all)");
    }
    Ipv4 ip = parse_ip(key);
    for (auto& res : cfg.reservations)
        if (res.ip == ip) return resv_json(res, cfg, d.is_runtime(res.mac), d.engine());
    if (auto* l = d.engine().leases().by_ip(ip)) return lease_json(*l, cfg);
    fail("no lease or reservation for " + ip.str() + " (pxectl lease list shows them all)");
}

json cmd_lease_add(Daemon& d, const control::Request& r) {
    Mac mac = parse_mac(arg_str(r, "mac"));
    Ipv4 ip = parse_ip(arg_str(r, "ip"));
    std::string hostname = arg_str(r, "hostname", false);
    if (hostname.size() > 63) fail("hostname '" + hostname + "' is longer than 63 bytes");
    bool is_static = r.args.value("static", false);
    auto lease_time = lease_time_arg(r);
    (void)subnet_of(d.cfg(), ip);
    for (auto& res : d.cfg().reservations)
        if (res.ip == ip && res.mac != mac)
            fail("address " + ip.str() + " is reserved for " + res.mac.str() + ": delete that first");
    auto& leases = d.engine().leases();
    if (auto* l = leases.by_ip(ip); l && l->mac != mac && !leases.is_free(ip, now_s()))
        fail("address " + ip.str() + " is leased to " + l->mac.str() + ": pxectl lease del " + ip.str() + " first");
    if (is_static) return add_static(d, lease::StoredReservation{mac, ip, hostname, lease_time});
    return add_dynamic(d, mac, ip, hostname, lease_time);
}

json cmd_lease_del(Daemon& d, const control::Request& r) {
    std::string key = arg_str(r, "key");
    if (auto j = del_lease6(d, key)) return *j;
    std::optional<Mac> mac = Mac::parse(key);
    std::optional<Ipv4> ip = mac ? std::nullopt : std::optional<Ipv4>(parse_ip(key));
    if (auto deleted = del_reservation(d, mac, ip)) return *deleted;
    lease::Lease l = find_lease(d, key, mac, ip);
    d.engine().leases().erase(l.ip);
    if (auto f = d.flush_sync(); !f) fail(f.error());
    spdlog::info("lease deleted ip={} mac={}", l.ip.str(), l.mac.str());
    return json{{"deleted", l.ip.str()}};
}

json cmd_lease_release(Daemon& d, const control::Request& r) {
    std::string key = arg_str(r, "key");
    std::optional<Mac> mac = Mac::parse(key);
    std::optional<Ipv4> ip = mac ? std::nullopt : std::optional<Ipv4>(parse_ip(key));
    lease::Lease l = find_lease(d, key, mac, ip);
    if (l.state != lease::State::Bound) fail("the lease of " + l.ip.str() + " is not bound");
    l.state = lease::State::Released;
    l.expires = now_s();
    d.engine().leases().put(l);
    if (auto f = d.flush_sync(); !f) fail(f.error());
    spdlog::info("lease released ip={} mac={}", l.ip.str(), l.mac.str());
    return json{{"released", l.ip.str()}};
}

}  // namespace pxed::daemon
