#include "daemon/hooks.h"

#include <spdlog/spdlog.h>

#include "dhcp/policy.h"

namespace pxed::daemon {

namespace {

// dnsmasq calls the script when a TFTP transfer has been sent in full, and
// when a client ended it after asking the file's size (a PXE ROM's probe),
// with the file's size: existing scripts count both.
class FileHook : public trace::TransferObserver {
public:
    explicit FileHook(std::shared_ptr<hooks::ScriptRunner> r) : runner_(std::move(r)) {}
    void started(const std::shared_ptr<trace::Transfer>&) override {}
    void ended(const std::shared_ptr<trace::Transfer>& t) override {
        if (t->protocol != trace::Protocol::Tftp) return;
        auto o = t->outcome.load(std::memory_order_acquire);
        if (o != trace::Outcome::Done && o != trace::Outcome::Probed) return;
        runner_->submit(hooks::tftp_event(t->size, t->client_str(), t->file));
    }

private:
    std::shared_ptr<hooks::ScriptRunner> runner_;
};

// The domain dnsmasq would put after the name: the subnet's, else option 15.
std::string domain_of(const config::Config& c, const config::Subnet& s) {
    if (!s.domain.empty()) return s.domain;
    for (auto* opts : {&s.options, &c.options})
        for (auto& o : *opts)
            if (o.code == dhcp::opt::DomainName) return std::string(o.data.begin(), o.data.end());
    return {};
}

int64_t now_s() { return int64_t(std::time(nullptr)); }

}  // namespace

Hooks::Hooks(std::shared_ptr<hooks::ScriptRunner> r, hooks::LeaseEvents::Options o)
    : runner_(std::move(r)), events_(std::move(o)), files_(std::make_shared<FileHook>(runner_)) {}

Result<std::unique_ptr<Hooks>> Hooks::start(const config::Config& c) {
    if (c.dhcp_script.empty()) return std::unique_ptr<Hooks>();
    auto r = hooks::ScriptRunner::start({c.dhcp_script, c.dhcp_script_user, 1024});
    if (!r) return Err(r.error());
    hooks::LeaseEvents::Options o;
    o.on_renewal = c.script_on_renewal;
    o.event.log_dhcp = spdlog::should_log(spdlog::level::debug);
    return std::unique_ptr<Hooks>(new Hooks(std::move(r.value()), o));
}

void Hooks::configure(const config::Config& c, const std::vector<DhcpSocket>& sockets) {
    std::vector<hooks::Network> nets;
    for (auto& s : sockets) {
        Ipv4Net n{s.info().addr, s.info().prefix};
        const config::Subnet* sn = c.subnet_for(s.info().addr);
        nets.push_back({n, s.info().name, sn ? domain_of(c, *sn) : std::string()});
    }
    for (auto& sn : c.subnets) nets.push_back({sn.net, {}, domain_of(c, sn)});  // relayed subnets: no interface
    events_.set_networks(std::move(nets));
    events_.set_log_dhcp(spdlog::should_log(spdlog::level::debug));
}

void Hooks::loaded(const lease::LeaseTable& t) {
    events_.load(t, now_s());
    spdlog::info("dhcp-script: {} lease(s) at start, each gets an \"old\" call", events_.known());
}

void Hooks::on_ack(const config::Config& cfg, const DhcpSocket& s, const dhcp::Packet& req, Ipv4 ip) {
    // DNSMASQ_TAGS: the classes the request is in (a dnsmasq.conf's tags),
    // "known", then the interface, as dnsmasq lists its tags.
    std::vector<std::string> tags;
    const config::Subnet* sn = cfg.subnet_for(ip);
    const config::Reservation* resv = cfg.reservation_for(req.mac());
    const config::Host* host = resv ? nullptr : cfg.host_for(req.mac());
    auto in = dhcp::classify(cfg, dhcp::HostRef::of(resv, host), dhcp::Facts::exact(req, sn, resv || host));
    for (size_t i = 0; i < in.size() && i < cfg.classes.size(); i++)
        if (in[i] == dhcp::Tri::True && cfg.classes[i].name.find('@') == std::string::npos)
            tags.push_back(cfg.classes[i].name);
    if (resv || host) tags.push_back("known");
    tags.push_back(s.info().name);
    events_.note_request(ip, hooks::request_facts(req, s.info().name, tags));
}

void Hooks::on_stored(const std::vector<hooks::LeaseEvents::Change>& batch) {
    events_.on_stored(batch, now_s(), out_);
    submit_all();
}

void Hooks::after_turn(const lease::LeaseTable& t) {
    runner_->flush();
    int64_t now = now_s();
    if (now != last_second_) {
        last_second_ = now;
        runner_->check_helper();
        events_.expire(t, now, std::min(kExpiryBudget, runner_->room()), out_);
    }
    // The "old" calls of a start or reload go at the script's pace and leave
    // room in the queue for the events of live clients.
    if (size_t room = runner_->room(); events_.replaying() && room > kLiveReserve)
        events_.replay(t, now, room - kLiveReserve, out_);
    submit_all();
}

void Hooks::submit_all() {
    for (auto& e : out_) runner_->submit(e);
    out_.clear();
}

HookFigures Hooks::figures() const {
    auto f = runner_->figures();
    return HookFigures{f.queued, f.run, f.dropped, f.failed, f.waiting};
}

}  // namespace pxed::daemon
