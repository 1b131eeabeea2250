// HTTP boot, /metrics and the status page: one cpp-httplib server per bound address (the
// library binds one address per server), all with the same routes, the first
// run on the caller's thread and the others on threads of their own.
//
// IPv6: cpp-httplib clears IPV6_V6ONLY on the sockets it binds, so [::]
// alone takes both families (an IPv4 client appears as ::ffff:a.b.c.d); a
// link-local address is bound by its text with the zone, fe80::1%eth0.
#include "http/http_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "http/status_page_html.h"  // generated from http/status_page.html
#include "tftp/safe_open.h"

namespace pxed::http {

struct Server::Impl {
    Options opt;
    int root_fd = -1;
    std::vector<std::unique_ptr<httplib::Server>> srvs;  // one per address
    MetricsFn metrics;
    ~Impl() {
        if (root_fd >= 0) close(root_fd);
    }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

namespace {
// The routes, on one server: `root_fd` and `metrics` outlive it (Impl owns them).
void add_routes(httplib::Server& srv, const int& root_fd, const MetricsFn& metrics, Stats& st, const Options& o);
}

Result<std::unique_ptr<Server>> Server::open(const Options& o, MetricsFn metrics) {
    auto impl = std::make_unique<Impl>();
    impl->opt = o;
    impl->metrics = std::move(metrics);
    impl->root_fd = ::open(o.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (impl->root_fd < 0) return Err("http root " + o.root + ": " + std::strerror(errno));
    std::unique_ptr<Server> self(new Server(std::move(impl)));
    Impl& s = *self->impl_;
    // host: an address as getaddrinfo reads it; tentative: maybe still in
    // duplicate address detection (an IPv6 address of an interface that just
    // came up), which only IP_FREEBIND lets a socket bind.
    auto listen_at = [&](const std::string& host, bool tentative) -> Result<void> {
        auto srv = std::make_unique<httplib::Server>();
        add_routes(*srv, s.root_fd, s.metrics, self->stats_, s.opt);
        if (tentative)
            srv->set_socket_options([](int fd) {
                httplib::default_socket_options(fd);
                int one = 1;
                setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
            });
        if (!srv->bind_to_port(host.c_str(), o.port)) {
            std::string shown = host.find(':') == std::string::npos ? host : "[" + host + "]";
            return Err("cannot bind HTTP to " + shown + ":" + std::to_string(o.port) + ": " + std::strerror(errno));
        }
        s.srvs.push_back(std::move(srv));
        return {};
    };
    if (o.addresses.empty() && o.addresses6.empty()) {
        if (!listen_at("::", false) && !listen_at("0.0.0.0", false))
            return Err("cannot bind HTTP to [::] or 0.0.0.0:" + std::to_string(o.port) + ": " + std::strerror(errno));
    }
    for (Ipv4 a : o.addresses)
        if (auto r = listen_at(a.str(), false); !r) return Err(r.error());
    for (auto& a : o.addresses6)
        if (auto r = listen_at(a.str(), true); !r) return Err(r.error());
    return self;
}

void Server::run() {
    auto& srvs = impl_->srvs;
    std::vector<std::thread> others;
    for (size_t i = 1; i < srvs.size(); i++) others.emplace_back([&srvs, i] { srvs[i]->listen_after_bind(); });
    // stop() only reaches a server that is running: wait (bounded) for each.
    for (size_t i = 1; i < srvs.size(); i++)
        for (int k = 0; k < 2000 && !srvs[i]->is_running(); k++) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    srvs[0]->listen_after_bind();
    for (auto& t : others) t.join();
}

void Server::stop() {
    for (auto& s : impl_->srvs) s->stop();
}

namespace {
// The client of a trace record, from cpp-httplib's text of its address:
// IPv4, IPv6 (a link-local one's "%zone" left out), or an IPv4 client of the
// dual-stack [::] socket, ::ffff:a.b.c.d.
void set_client(trace::Transfer& t, std::string_view text) {
    text = text.substr(0, text.find('%'));
    if (auto a = Ipv4::parse(text)) {
        t.client = *a;
        return;
    }
    auto a6 = Ipv6::parse(text);
    if (!a6) return;
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(kMapped, kMapped + 12, a6->b.begin())) t.client = Ipv4(a6->b[12], a6->b[13], a6->b[14], a6->b[15]);
    else t.client6 = *a6;
}

// The observer's record of a GET: the client, the path and the bytes the
// answer will hold (a single range's length, else the file's size).
std::shared_ptr<trace::Transfer> transfer_of(const httplib::Request& req, const std::string& root, uint64_t size) {
    auto t = std::make_shared<trace::Transfer>();
    t->protocol = trace::Protocol::Http;
    set_client(*t, req.remote_addr);
    t->client_port = uint16_t(req.remote_port);
    t->path = req.matches[1].str();
    t->file = root + "/" + t->path;
    t->size = size;
    if (req.ranges.size() == 1 && size) {
        auto [first, last] = req.ranges[0];
        if (first < 0) {  // suffix: the last -first bytes
            t->size = std::min<uint64_t>(size, uint64_t(last));
        } else if (uint64_t(first) < size) {
            uint64_t end = last < 0 ? size - 1 : std::min<uint64_t>(uint64_t(last), size - 1);
            t->size = end - uint64_t(first) + 1;
        }
    }
    t->started_us = trace::wall_us();
    return t;
}

void add_routes(httplib::Server& srv, const int& root_fd, const MetricsFn& metrics, Stats& st, const Options& o) {
    srv.Get("/metrics", [&metrics, &st](const httplib::Request&, httplib::Response& res) {
        st.requests++;
        res.set_content(metrics ? metrics() : std::string(), "text/plain; version=0.0.4");
    });
    // The status page and its data (status-page = true). They shadow files
    // of the same names under the root; with the page off those paths are
    // files like any other.
    if (o.status) {
        srv.Get("/status", [&st](const httplib::Request&, httplib::Response& res) {
            st.requests++;
            // The page's own inline script and style, and fetches of
            // status.json from this server: nothing else runs or loads.
            res.set_header("Content-Security-Policy",
                           "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                           "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
            res.set_header("X-Content-Type-Options", "nosniff");
            res.set_header("Cache-Control", "no-cache");
            res.set_content(kStatusPageHtml, sizeof kStatusPageHtml - 1, "text/html; charset=utf-8");
        });
        srv.Get("/status.json", [&st, &o](const httplib::Request&, httplib::Response& res) {
            st.requests++;
            res.set_header("Cache-Control", "no-store");
            res.set_header("X-Content-Type-Options", "nosniff");
            auto body = o.status();
            if (!body) {
                res.status = 503;
                res.set_content(body.error() + "\n", "text/plain");
                return;
            }
            res.set_content(*body, "application/json");
        });
    }
    // Every other path is a file under the root (HEAD is answered by the same
    // handler without a body; Range by cpp-httplib from the content provider).
    srv.Get(R"(/(.*))", [&root_fd, &st, &o](const httplib::Request& req, httplib::Response& res) {
        st.requests++;
        const auto& obs = o.observer;
        bool head = req.method == "HEAD";
        auto f = tftp::open_beneath(root_fd, req.matches[1].str());
        if (!f) {
            bool nf = f.error().kind == tftp::OpenErrorKind::NotFound;
            (nf ? st.not_found : st.refused)++;
            res.status = nf ? 404 : 403;
            res.set_content(f.error().message + "\n", "text/plain");
            if (obs && !head) {
                auto t = transfer_of(req, o.root, 0);
                t->end(trace::Outcome::Refused, f.error().message, t->started_us);
                obs->ended(t);
            }
            return;
        }
        st.files++;
        auto fd = std::make_shared<int>(f->fd);
        uint64_t size = f->size;
        std::shared_ptr<trace::Transfer> t;
        if (obs && !head) {
            t = transfer_of(req, o.root, size);
            obs->started(t);
        }
        res.set_header("Accept-Ranges", "bytes");
        res.set_content_provider(
            size_t(size), "application/octet-stream",
            [fd, t, &st](size_t offset, size_t length, httplib::DataSink& sink) {
                char buf[64 * 1024];
                size_t n = std::min(length, sizeof buf);
                ssize_t r = pread(*fd, buf, n, off_t(offset));
                if (r <= 0) return false;
                st.bytes_sent += uint64_t(r);
                if (!sink.write(buf, size_t(r))) return false;
                if (t) t->bytes.fetch_add(uint64_t(r), std::memory_order_relaxed);
                return true;
            },
            [fd, t, obs](bool success) {
                close(*fd);
                if (!t) return;
                bool all = t->bytes.load(std::memory_order_relaxed) >= t->size;
                t->end(success && all ? trace::Outcome::Done : trace::Outcome::Failed,
                       success && all ? "" : "connection closed before the end", trace::wall_us());
                obs->ended(t);
            });
    });
}
}  // namespace

}  // namespace pxed::http
