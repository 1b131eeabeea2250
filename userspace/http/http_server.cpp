#include "http/http_server.h"

#include <fcntl.h>
#include <unistd.h>

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include "tftp/safe_open.h"

namespace pxed::http {

struct Server::Impl {
    Options opt;
    int root_fd = -1;
    httplib::Server srv;
    MetricsFn metrics;
    ~Impl() {
        if (root_fd >= 0) close(root_fd);
    }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::open(const Options& o, MetricsFn metrics) {
    auto impl = std::make_unique<Impl>();
    impl->opt = o;
    impl->metrics = std::move(metrics);
    impl->root_fd = ::open(o.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (impl->root_fd < 0) return Err("http root " + o.root + ": " + std::strerror(errno));
    std::unique_ptr<Server> self(new Server(std::move(impl)));
    Impl& s = *self->impl_;
    Stats& st = self->stats_;

    s.srv.Get("/metrics", [&s, &st](const httplib::Request&, httplib::Response& res) {
        st.requests++;
        res.set_content(s.metrics ? s.metrics() : std::string(), "text/plain; version=0.0.4");
    });
    // Every other path is a file under the root (HEAD is answered by the same
    // handler without a body; Range by cpp-httplib from the content provider).
    s.srv.Get(R"(/(.*))", [&s, &st](const httplib::Request& req, httplib::Response& res) {
        st.requests++;
        auto f = tftp::open_beneath(s.root_fd, req.matches[1].str());
        if (!f) {
            bool nf = f.error().kind == tftp::OpenErrorKind::NotFound;
            (nf ? st.not_found : st.refused)++;
            res.status = nf ? 404 : 403;
            res.set_content(f.error().message + "\n", "text/plain");
            return;
        }
        st.files++;
        auto fd = std::make_shared<int>(f->fd);
        uint64_t size = f->size;
        res.set_header("Accept-Ranges", "bytes");
        res.set_content_provider(
            size_t(size), "application/octet-stream",
            [fd, &st](size_t offset, size_t length, httplib::DataSink& sink) {
                char buf[64 * 1024];
                size_t n = std::min(length, sizeof buf);
                ssize_t r = pread(*fd, buf, n, off_t(offset));
                if (r <= 0) return false;
                st.bytes_sent += uint64_t(r);
                return sink.write(buf, size_t(r));
            },
            [fd](bool) { close(*fd); });
    });
    if (!s.srv.bind_to_port(o.address.c_str(), o.port))
        return Err("cannot bind HTTP " + o.address + ":" + std::to_string(o.port) + ": " + std::strerror(errno));
    return self;
}

void Server::run() { impl_->srv.listen_after_bind(); }
void Server::stop() { impl_->srv.stop(); }

}  // namespace pxed::http
