// The pxectl commands, run on the daemon's event-loop thread. Errors say
// what is wrong and what to do about it.
#include <unistd.h>

#include <ctime>
#include <limits>

#include "daemon/daemon.h"

namespace pxed::daemon {

using nlohmann::json;

namespace {

[[noreturn]] void fail(std::string msg) { throw control::CommandError{std::move(msg)}; }

int64_t now_s() { return int64_t(std::time(nullptr)); }

std::string arg_str(const control::Request& r, const char* name, bool required = true) {
    if (!r.args.contains(name)) {
        if (required) fail(std::string("missing argument \"") + name + "\"");
        return {};
    }
    if (!r.args[name].is_string()) fail(std::string("argument \"") + name + "\" must be a string");
    return r.args[name].get<std::string>();
}

Mac parse_mac(const std::string& s) {
    auto m = Mac::parse(s);
    if (!m) fail("'" + s + "' is not a MAC address (like 52:54:00:12:34:56)");
    return *m;
}

Ipv4 parse_ip(const std::string& s) {
    auto ip = Ipv4::parse(s);
    if (!ip) fail("'" + s + "' is not an IPv4 address");
    return *ip;
}

json expiry_json(int64_t expires) {
    if (expires == std::numeric_limits<int64_t>::max()) return "infinite";
    return expires;
}

json lease_json(const lease::Lease& l, const config::Config& cfg) {
    const config::Subnet* sn = cfg.subnet_for(l.ip);
    return json{{"ip", l.ip.str()},
                {"mac", l.mac.str()},
                {"hostname", l.hostname},
                {"state", std::string(lease::to_string(l.state))},
                {"expires", expiry_json(l.expires)},
                {"subnet", sn ? sn->net.str() : ""},
                {"static", false},
                {"source", "dynamic"}};
}

bool is_runtime(const std::vector<lease::StoredReservation>& rt, const Mac& m) {
    for (auto& r : rt)
        if (r.mac == m) return true;
    return false;
}

json resv_json(const config::Reservation& r, const config::Config& cfg, bool runtime, const dhcp::Engine& engine) {
    const config::Subnet* sn = cfg.subnet_for(r.ip);
    uint32_t lt = r.lease_time.value_or(sn ? sn->lease_time : 0);
    json j{{"ip", r.ip.str()},
           {"mac", r.mac.str()},
           {"hostname", r.hostname},
           {"state", "static"},
           {"expires", nullptr},
           {"lease_time", lt == config::kInfiniteLease ? json("infinite") : json(lt)},
           {"subnet", sn ? sn->net.str() : ""},
           {"static", true},
           {"source", runtime ? "pxectl" : "config"}};
    if (auto c = engine.conflict_for(r, now_s())) j["conflict"] = c->describe();  // another client holds r.ip
    return j;
}

}  // namespace

Result<config::Config> Daemon::merge_runtime(config::Config c) const {
    for (auto& r : runtime_resv) {
        if (auto* f = c.reservation_for(r.mac)) {
            spdlog::warn("reservation {} -> {} added with pxectl is shadowed by {} in {}", r.mac.str(), r.ip.str(),
                         f->ip.str(), c.source);
            continue;
        }
        config::Reservation x;
        x.mac = r.mac;
        x.ip = r.ip;
        x.hostname = r.hostname;
        x.lease_time = r.lease_time;
        c.reservations.push_back(x);
    }
    auto v = config::validate(c);
    if (!v) return Err(v.error());
    return c;
}

json Daemon::handle(const control::Request& r) {
    // Commands read and write the store: every commit under way finishes
    // first (and the answers it held leave), and theirs are synchronous.
    flush_sync();
    const std::string& cmd = r.command;
    int64_t now = now_s();

    if (cmd == "lease-list") {
        std::optional<Ipv4Net> net;
        if (auto s = arg_str(r, "subnet", false); !s.empty()) {
            net = Ipv4Net::parse(s);
            if (!net) fail("'" + s + "' is not a subnet like 192.0.2.0/24");
        }
        std::string state = arg_str(r, "state", false);
        if (!state.empty() && state != "static" && state != "bound" && state != "offered" && state != "released" &&
            state != "declined")
            fail("unknown state '" + state + "': use static, bound, offered, released or declined");
        json out = json::array();
        for (auto& res : cfg->reservations) {
            if (net && !net->contains(res.ip)) continue;
            if (!state.empty() && state != "static") continue;
            out.push_back(resv_json(res, *cfg, is_runtime(runtime_resv, res.mac), *engine));
        }
        for (auto& [ip, l] : engine->leases().all()) {
            if (l.state == lease::State::Offered && l.expires <= now) continue;  // a lapsed offer
            if (auto* res = cfg->reservation_for(l.mac); res && res->ip == ip) continue;  // shown as its reservation
            if (net && !net->contains(ip)) continue;
            if (!state.empty() && state != lease::to_string(l.state)) continue;
            out.push_back(lease_json(l, *cfg));
        }
        return out;
    }

    if (cmd == "lease-show") {
        std::string key = arg_str(r, "key");
        if (auto m = Mac::parse(key)) {
            if (auto* res = cfg->reservation_for(*m)) return resv_json(*res, *cfg, is_runtime(runtime_resv, *m), *engine);
            for (auto& [ip, l] : engine->leases().all())
                if (l.mac == *m) return lease_json(l, *cfg);
            fail("no lease or reservation for MAC " + m->str() + " (pxectl lease list shows them all)");
        }
        Ipv4 ip = parse_ip(key);
        for (auto& res : cfg->reservations)
            if (res.ip == ip) return resv_json(res, *cfg, is_runtime(runtime_resv, res.mac), *engine);
        if (auto* l = engine->leases().by_ip(ip)) return lease_json(*l, *cfg);
        fail("no lease or reservation for " + ip.str() + " (pxectl lease list shows them all)");
    }

    if (cmd == "lease-add") {
        Mac mac = parse_mac(arg_str(r, "mac"));
        Ipv4 ip = parse_ip(arg_str(r, "ip"));
        std::string hostname = arg_str(r, "hostname", false);
        if (hostname.size() > 63) fail("hostname '" + hostname + "' is longer than 63 bytes");
        bool is_static = r.args.value("static", false);
        std::optional<uint32_t> lease_time;
        if (r.args.contains("lease_time")) {
            auto& lt = r.args["lease_time"];
            if (lt.is_string() && lt.get<std::string>() == "infinite") lease_time = config::kInfiniteLease;
            else if (lt.is_number_unsigned() && lt.get<uint64_t>() >= 60 && lt.get<uint64_t>() < config::kInfiniteLease)
                lease_time = uint32_t(lt.get<uint64_t>());
            else fail("lease time " + lt.dump() + " must be 60 to 4294967294 seconds or \"infinite\"");
        }
        const config::Subnet* sn = cfg->subnet_for(ip);
        if (!sn) {
            std::string nets;
            for (auto& s : cfg->subnets) nets += (nets.empty() ? "" : ", ") + s.net.str();
            fail("address " + ip.str() + " is outside every subnet (" + nets + "): pick an address inside one");
        }
        for (auto& res : cfg->reservations)
            if (res.ip == ip && res.mac != mac)
                fail("address " + ip.str() + " is reserved for " + res.mac.str() + ": delete that first");
        if (auto* l = engine->leases().by_ip(ip); l && l->mac != mac && !engine->leases().is_free(ip, now))
            fail("address " + ip.str() + " is leased to " + l->mac.str() + ": pxectl lease del " + ip.str() +
                 " first");
        if (is_static) {
            if (auto* f = cfg->reservation_for(mac); f && !is_runtime(runtime_resv, mac))
                fail(mac.str() + " is reserved (" + f->ip.str() + ") in " + cfg->source + ": change it there");
            lease::StoredReservation sr{mac, ip, hostname, lease_time};
            auto rt = runtime_resv;
            std::erase_if(rt, [&](auto& x) { return x.mac == mac; });
            rt.push_back(sr);
            auto saved = runtime_resv;
            runtime_resv = rt;
            auto file_cfg = source.load();
            auto merged = file_cfg ? merge_runtime(std::move(file_cfg.value())) : Result<config::Config>(Err(file_cfg.error()));
            if (!merged) {
                runtime_resv = saved;
                fail(merged.error());
            }
            if (auto chk = check_interfaces(*merged); !chk) {
                runtime_resv = saved;
                fail(chk.error());
            }
            // Durable first, then in force: the engine and the XDP maps.
            if (auto w = store->put_reservation(sr); !w) {
                runtime_resv = saved;
                fail(w.error());
            }
            apply(std::move(merged.value()));
            // A dynamic lease the MAC held elsewhere is given up.
            for (auto& [lip, l] : engine->leases().all())
                if (l.mac == mac && lip != ip) {
                    engine->leases().erase(lip);
                    break;
                }
            flush_sync();
            spdlog::info("reservation added mac={} ip={} hostname={}", mac.str(), ip.str(), hostname);
            return resv_json(*cfg->reservation_for(mac), *cfg, true, *engine);
        }
        if (cfg->reservation_for(mac)) fail(mac.str() + " has a reservation: a dynamic lease would not be used");
        lease::Lease l;
        l.ip = ip;
        l.mac = mac;
        l.client = "hw:";
        l.client.push_back(char(1));
        l.client.append(reinterpret_cast<const char*>(mac.b.data()), 6);
        l.hostname = hostname;
        l.start = now;
        uint32_t lt = lease_time.value_or(sn->lease_time);
        l.expires = lt == config::kInfiniteLease ? std::numeric_limits<int64_t>::max() : now + lt;
        l.state = lease::State::Bound;
        engine->leases().put(l);
        flush_sync();  // durable before we answer
        spdlog::info("lease added mac={} ip={} lease_time={}", mac.str(), ip.str(), lt);
        return lease_json(*engine->leases().by_ip(ip), *cfg);
    }

    if (cmd == "lease-del" || cmd == "lease-release") {
        std::string key = arg_str(r, "key");
        std::optional<Mac> mac = Mac::parse(key);
        std::optional<Ipv4> ip = mac ? std::nullopt : std::optional<Ipv4>(parse_ip(key));
        if (cmd == "lease-del") {
            for (auto& res : cfg->reservations) {
                if ((mac && res.mac == *mac) || (ip && res.ip == *ip)) {
                    if (!is_runtime(runtime_resv, res.mac))
                        fail("the reservation of " + res.mac.str() + " comes from " + cfg->source +
                             ": remove it there and run pxectl reload");
                    Mac m = res.mac;
                    if (auto w = store->delete_reservation(m); !w) fail(w.error());
                    std::erase_if(runtime_resv, [&](auto& x) { return x.mac == m; });
                    auto file_cfg = source.load();
                    if (!file_cfg) fail(file_cfg.error());
                    auto merged = merge_runtime(std::move(file_cfg.value()));
                    if (!merged) fail(merged.error());
                    apply(std::move(merged.value()));
                    spdlog::info("reservation deleted mac={}", m.str());
                    return json{{"deleted", m.str()}};
                }
            }
        }
        const lease::Lease* found = nullptr;
        for (auto& [lip, l] : engine->leases().all())
            if ((mac && l.mac == *mac) || (ip && lip == *ip)) found = &l;
        if (!found) fail("no lease for " + key + " (pxectl lease list shows them all)");
        lease::Lease l = *found;
        if (cmd == "lease-del") {
            engine->leases().erase(l.ip);
        } else {
            if (l.state != lease::State::Bound) fail("the lease of " + l.ip.str() + " is not bound");
            l.state = lease::State::Released;
            l.expires = now;
            engine->leases().put(l);
        }
        flush_sync();
        spdlog::info("lease {} ip={} mac={}", cmd == "lease-del" ? "deleted" : "released", l.ip.str(), l.mac.str());
        return json{{cmd == "lease-del" ? "deleted" : "released", l.ip.str()}};
    }

    if (cmd == "stats") {
        json j;
        json rx = json::object(), tx = json::object();
        for (size_t t = 1; t <= 8; t++) rx[std::string(dhcp::to_string(dhcp::MessageType(t)))] = counters.received[t].load();
        uint64_t k_offer = 0, k_ack = 0;
        json x = json::object();
        for (auto& xp : xdp) {
            auto st = xp.prog->read_stats();
            if (!st) continue;
            json one = json::object();
            for (uint32_t i = 0; i < PXED_STAT_MAX; i++) one[std::string(bpf::stat_name(pxed_stat(i)))] = (*st)[i];
            k_offer += (*st)[PXED_STAT_TX_OFFER];
            k_ack += (*st)[PXED_STAT_TX_ACK];
            x[xp.iface.name] = one;
        }
        j["dhcp"] = {{"received", rx},
                     {"sent", {{"daemon", {{"OFFER", counters.sent[2].load()}, {"ACK", counters.sent[5].load()},
                                           {"NAK", counters.sent[6].load()}}},
                               {"kernel", {{"OFFER", k_offer}, {"ACK", k_ack}}}}},
                     {"parse_errors", counters.parse_errors.load()},
                     {"pool_exhausted", counters.pool_exhausted.load()},
                     {"rate_limited_client", counters.rate_limited_client.load()},
                     {"rate_limited_relay", counters.rate_limited_relay.load()}};
        j["xdp"] = x;
        if (tftp) {
            auto& t = tftp->stats();
            j["tftp"] = {{"requests", t.requests.load()},         {"completed", t.sessions_completed.load()},
                         {"failed", t.sessions_failed.load()},     {"active", t.active.load()},
                         {"bytes", t.bytes_sent.load()},           {"errors_sent", t.errors_sent.load()},
                         {"retransmissions", t.retransmissions.load()}, {"ignored", t.ignored.load()},
                         {"busy", t.busy.load()}};
        }
        if (http) {
            auto& h = http->stats();
            j["http"] = {{"requests", h.requests.load()}, {"files", h.files.load()}, {"bytes", h.bytes_sent.load()},
                         {"not_found", h.not_found.load()}, {"refused", h.refused.load()}};
        }
        return j;
    }

    if (cmd == "status") {
        json ifs = json::array();
        for (auto& s : sockets) {
            json i{{"name", s.info().name}, {"ifindex", s.info().ifindex}, {"address", s.info().addr.str()},
                   {"mac", s.info().mac.str()}, {"xdp_mode", "off"}, {"xdp_prog_id", nullptr},
                   {"pinned_maps", nullptr}};
            for (auto& xp : xdp)
                if (xp.iface.name == s.info().name) {
                    i["xdp_mode"] = xp.prog->mode_name();
                    i["xdp_prog_id"] = xp.prog->prog_id();
                    i["pinned_maps"] = bpf::pin_dir(xp.iface.name);
                }
            ifs.push_back(i);
        }
        json counts = json::object();
        for (auto& [ip, l] : engine->leases().all()) counts[std::string(lease::to_string(l.state))] = counts.value(std::string(lease::to_string(l.state)), 0) + 1;
        return json{{"version", PXED_VERSION},
                    {"pid", getpid()},
                    {"uptime_s", now - started_at},
                    {"config", source.path},
                    {"lease_db", store->describe()},
                    {"leases", counts},
                    {"reservations", cfg->reservations.size()},
                    {"interfaces", ifs},
                    {"tftp_root", cfg->tftp_root},
                    {"http_port", tftp && http ? json(cfg->http_port) : json(nullptr)},
                    {"control_socket", control ? control->path() : ""}};
    }

    if (cmd == "reload") {
        auto r2 = reload();
        if (!r2) fail("reload refused, the running configuration stays: " + r2.error());
        return json{{"message", *r2}};
    }

    fail("unknown command '" + cmd + "'");
}

}  // namespace pxed::daemon
