#include "daemon/file_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "daemon/privileges.h"
#include "http/http_server.h"
#include "tftp/server.h"

namespace pxed::daemon {

FileService::FileService() = default;
FileService::~FileService() { stop(); }

Result<void> FileService::start(const config::Config& cfg, const std::vector<IfaceInfo>& served,
                                std::function<std::string()> metrics,
                                std::shared_ptr<trace::TransferObserver> observer,
                                std::function<Result<std::string>()> status) {
    if (cfg.tftp_root.empty()) {
        spdlog::info("tftp-root not set: no TFTP or HTTP file service");
        return {};
    }
    // file-service-bind: the served interfaces' addresses (none: all).
    std::vector<Ipv4> addrs;
    std::vector<Listen6> addrs6;
    std::string where = "0.0.0.0", where6 = "::";
    if (cfg.file_service_bind == config::FileServiceBind::Interfaces) {
        where.clear();
        where6.clear();
        for (auto& i : served) {
            if (!i.addr.is_zero()) addrs.push_back(i.addr);  // zero: an IPv6-only interface
            // An address on two served interfaces is bound once.
            for (auto& a : i.addrs6)
                if (std::none_of(addrs6.begin(), addrs6.end(), [&](auto& x) { return x.addr == a && !x.scope; }))
                    addrs6.push_back(Listen6{a, 0, {}});
            // UEFI PXE over IPv6 fetches from the address DHCPv6 names,
            // but a client on the link may as well use the link-local one.
            if (i.link_local6) addrs6.push_back(Listen6{*i.link_local6, uint32_t(i.ifindex), i.name});
        }
        for (auto& a : addrs) {
            if (!where.empty()) where += ',';  // piece by piece: GCC 12 -O3 misjudges "," + str (-Wrestrict)
            where += a.str();
        }
        for (auto& a : addrs6) {
            if (!where6.empty()) where6 += ',';
            where6 += a.str();
        }
    }
    tftp::ServerOptions to;
    to.addresses = addrs;
    to.addresses6 = addrs6;
    to.root = cfg.tftp_root;
    to.max_blksize = cfg.tftp_max_blksize;
    to.max_sessions_per_client = cfg.tftp_max_sessions_per_client;
    to.observer = observer;
    auto t = tftp::Server::open(to);
    if (!t) return Err(t.error());
    tftp_ = std::move(t.value());
    tftp_thread_ = std::thread([this] {
        // Bound to port 69 already: this thread needs no privilege.
        spdlog::info("tftp thread: {}", drop_capabilities(Keep::Nothing));
        tftp_->run();
    });
    spdlog::info("tftp root={} addresses={} ipv6={} port=69", cfg.tftp_root, where, where6.empty() ? "none" : where6);
    if (cfg.http_port) {
        http::Options ho;
        ho.root = cfg.tftp_root;
        ho.port = cfg.http_port;
        ho.addresses = addrs;
        ho.addresses6 = addrs6;
        ho.observer = observer;
        ho.status = std::move(status);
        auto h = http::Server::open(ho, std::move(metrics));
        if (!h) return Err(h.error());
        http_ = std::move(h.value());
        http_thread_ = std::thread([this] {
            spdlog::info("http thread: {}", drop_capabilities(Keep::Nothing));
            http_->run();
        });
        spdlog::info("http root={} addresses={} ipv6={} port={} metrics=/metrics status={}", cfg.tftp_root,
                     where, where6.empty() ? "none" : where6, cfg.http_port, ho.status ? "/status" : "off");
    }
    return {};
}

void FileService::stop() {
    if (http_ && http_thread_.joinable()) {
        http_->stop();
        http_thread_.join();
    }
    if (tftp_ && tftp_thread_.joinable()) {
        tftp_->stop();
        tftp_thread_.join();
    }
}

void FileService::read_into(MetricsSnapshot& s) const {
    if (tftp_) s.tftp = read_figures(tftp_->stats());
    if (http_) s.http = read_figures(http_->stats());
}

}  // namespace pxed::daemon
