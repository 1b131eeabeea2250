// Running transfers: the session state machine (session.h) decides what to
// send; this file reads the blocks from the file (pread, so the page cache
// serves every transfer of one file) or the netascii copy, sends them on the
// transfer's socket, feeds it ACKs and timeouts, and closes what a finished
// transfer held.
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include "tftp/codec.h"
#include "tftp/server_impl.h"

namespace pxed::tftp {

void Server::Impl::start(Transfer t, const Negotiated& neg, uint64_t size, const Limits& lim) {
    t.oack = neg.oack;
    t.session = std::make_unique<Session>(neg, size, lim);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = t.fd;
    epoll_ctl(epfd, EPOLL_CTL_ADD, t.fd, &ev);
    int fd = t.fd;
    spdlog::debug("tftp peer={} file=\"{}\" size={} blksize={} windowsize={}", t.peer.str(), t.file, size,
                  neg.blksize, neg.windowsize);
    netascii_bytes += t.mem.size();
    per_client[t.peer.key()]++;
    if (opt.observer) {
        t.trace = std::make_shared<trace::Transfer>();
        t.trace->protocol = trace::Protocol::Tftp;
        t.peer.to_trace(*t.trace);
        t.trace->path = t.file;
        t.trace->file = opt.root + "/" + t.file;
        t.trace->size = size;
        t.trace->started_us = trace::wall_us();
        opt.observer->started(t.trace);
    }
    auto [it, ok] = transfers.emplace(fd, std::move(t));
    stats->sessions_started++;
    stats->active++;
    auto out = it->second.session->start(now_ns());
    emit(it->second, out);
}

void Server::Impl::emit(Transfer& t, const std::vector<Session::Send>& out) {
    Session& s = *t.session;
    for (auto& o : out) {
        if (o.kind == Session::Send::Oack) {
            auto b = make_oack(t.oack);
            send(t.fd, b.data(), b.size(), 0);
            continue;
        }
        size_t len = s.length_of(o.block);
        buf.resize(4 + size_t(s.blksize()));
        put_data_header(buf.data(), Session::wire(o.block));
        if (len) {
            uint64_t off = s.offset_of(o.block);
            if (t.file_fd >= 0) {
                ssize_t n = pread(t.file_fd, buf.data() + 4, len, off_t(off));
                if (n != ssize_t(len)) {
                    finish(t, false, "read error");
                    return;
                }
            } else {
                std::memcpy(buf.data() + 4, t.mem.data() + off, len);
            }
        }
        if (send(t.fd, buf.data(), 4 + len, 0) > 0) stats->bytes_sent += len;
    }
    t.gen = next_gen++;
    timers.emplace(s.deadline(), t.fd, t.gen);
}

void Server::Impl::finish(Transfer& t, bool ok, const char* why, bool probe) {
    int fd = t.fd;
    spdlog::debug("tftp peer={} file=\"{}\" {} {}", t.peer.str(), t.file, ok ? "done" : "failed", why);
    (ok ? stats->sessions_completed : stats->sessions_failed)++;
    if (t.trace) {
        t.trace->bytes.store(t.session->acked_bytes(), std::memory_order_relaxed);
        t.trace->end(ok ? trace::Outcome::Done : probe ? trace::Outcome::Probed : trace::Outcome::Failed,
                     ok || probe ? "" : why, trace::wall_us());
        opt.observer->ended(t.trace);
    }
    stats->retransmissions += t.session->retransmissions();
    stats->active--;
    epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    if (t.file_fd >= 0) close(t.file_fd);
    netascii_bytes -= t.mem.size();
    if (auto pc = per_client.find(t.peer.key()); pc != per_client.end() && --pc->second == 0)
        per_client.erase(pc);
    transfers.erase(fd);
}

void Server::Impl::on_session_readable(int fd) {
    auto it = transfers.find(fd);
    if (it == transfers.end()) return;
    uint8_t pkt[516];
    for (int k = 0; k < 64; k++) {
        ssize_t n = recv(fd, pkt, sizeof pkt, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == ECONNREFUSED) {  // the client went away (ICMP port unreachable)
                finish(it->second, false, "client unreachable");
                return;
            }
            return;
        }
        std::span<const uint8_t> p(pkt, size_t(n));
        if (is_error(p)) {
            // An ERROR at the OACK, before any data: the client wanted the
            // size only (PXE ROMs ask tsize, then read the file in a second
            // transfer).
            bool probe = it->second.session->oack_pending();
            it->second.session->on_error();
            finish(it->second, false, "error from the client", probe);
            return;
        }
        auto ack = parse_ack(p);
        if (!ack) continue;
        Transfer& t = it->second;
        auto out = t.session->on_ack(*ack, now_ns());
        if (t.trace) t.trace->bytes.store(t.session->acked_bytes(), std::memory_order_relaxed);
        if (t.session->done()) {
            finish(t, true, "");
            return;
        }
        if (!out.empty()) emit(t, out);
    }
}

void Server::Impl::expire() {
    int64_t now = now_ns();
    while (!timers.empty() && std::get<0>(timers.top()) <= now) {
        auto [deadline, fd, gen] = timers.top();
        timers.pop();
        auto it = transfers.find(fd);
        if (it == transfers.end() || it->second.gen != gen) continue;  // stale entry
        Transfer& t = it->second;
        auto out = t.session->on_timeout(now);
        if (t.session->failed()) {
            finish(t, false, "out of retries");
            continue;
        }
        emit(t, out);
    }
}

}  // namespace pxed::tftp
