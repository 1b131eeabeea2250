#include "daemon/commit_pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace pxed::daemon {

namespace {

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

Result<std::unique_ptr<CommitPipeline>> CommitPipeline::open(lease::LeaseStore& store, lease::LeaseTable& leases,
                                                             Send send, std::function<void()> on_thread_start) {
    auto c = lease::Committer::open(store, std::move(on_thread_start));
    if (!c) return Err(c.error());
    return std::unique_ptr<CommitPipeline>(new CommitPipeline(leases, std::move(send), std::move(c.value())));
}

void CommitPipeline::collect() {
    for (auto ip : leases_.take_dirty()) {
        auto* l = leases_.by_ip(ip);
        if (l && l->state != lease::State::Offered) {
            next_changes_[ip.v] = *l;
            stored_.try_emplace(ip.v, 0);
        } else if (stored_.count(ip.v)) {
            next_changes_[ip.v] = std::nullopt;  // offers never reach the store
        }
    }
    for (auto& p : pending_) next_acks_.push_back(std::move(p));
    pending_.clear();
    if (!leases6_) return;
    for (auto& ip : leases6_->take_dirty()) {
        auto* l = leases6_->by_ip(ip);
        if (l && l->state != lease::State::Offered) {
            next_changes6_[ip] = *l;
            stored6_.insert(ip);
        } else if (stored6_.count(ip)) {
            next_changes6_[ip] = std::nullopt;
        }
    }
    for (auto& p : pending6_) next_acks6_.push_back(std::move(p));
    pending6_.clear();
}

void CommitPipeline::flush() {
    collect();
    if (!committer_->busy() && (!failing_ || now_ms() >= retry_at_ms_)) start_commit();
}

Result<void> CommitPipeline::flush_sync() {
    retry_at_ms_ = 0;  // an administrator's command tries now
    flush();
    while (committer_->busy()) {
        auto r = committer_->wait();
        on_commit(*r);
        if (failing_) break;
    }
    if (failing_) return Err("the lease database did not take the change (it is kept and tried again): " + last_error_);
    return {};
}

void CommitPipeline::on_readable() {
    if (auto r = committer_->finished()) on_commit(*r);
}

void CommitPipeline::send_all(std::vector<Held>& acks) {
    for (auto& a : acks) send_(a.socket, a.reply);
    acks.clear();
}

void CommitPipeline::send_all6(std::vector<Held6>& acks) {
    for (auto& a : acks) send6_(a);
    acks.clear();
}

size_t CommitPipeline::apply_remote(const std::vector<lease::Lease>& rows) {
    flush();  // this turn's changes count as on their way
    size_t n = 0;
    for (auto& l : rows) {
        if (next_changes_.count(l.ip.v) || inflight_changes_.count(l.ip.v)) continue;
        if (!leases_.apply_remote(l)) continue;
        stored_[l.ip.v] = l.version;
        n++;
    }
    leases_.take_dirty();  // a remote row may have displaced its client's older local one: not ours to write
    return n;
}

size_t CommitPipeline::apply_remote_deletes(const std::vector<lease::LeaseDelete>& rows) {
    flush();
    size_t n = 0;
    for (auto& d : rows) {
        if (next_changes_.count(d.ip.v) || inflight_changes_.count(d.ip.v)) continue;
        auto* l = leases_.by_ip(d.ip);
        if (!l || l->version != d.version) continue;
        leases_.erase(d.ip);
        stored_.erase(d.ip.v);
        n++;
    }
    leases_.take_dirty();  // gone from the store already: nothing of ours to write
    return n;
}

void CommitPipeline::on_failure(const std::string& error) {
    failed_++;
    if (!failing_) spdlog::error("lease commit failed, withholding {} ACKs and keeping {} changes to try again: {}",
                                 inflight_acks_.size(), inflight_changes_.size(), error);
    failing_ = true;
    last_error_ = error;
    backoff_ms_ = std::clamp(backoff_ms_ * 2, 500, 8000);
    retry_at_ms_ = now_ms() + backoff_ms_;
    // Newer changes of the same addresses win; the ACKs are dropped (the
    // clients ask again, and are answered from what is stored).
    for (auto& [ip, change] : inflight_changes_) next_changes_.try_emplace(ip, std::move(change));
    inflight_changes_.clear();
    inflight_acks_.clear();
    for (auto& [ip, change] : inflight_changes6_) next_changes6_.try_emplace(ip, std::move(change));
    inflight_changes6_.clear();
    inflight_acks6_.clear();
}

void CommitPipeline::on_lost(const lease::Lease& winner) {
    lost_++;
    spdlog::warn("lease {} went to {} on {} first: NAK instead of the ACK", winner.ip.str(), winner.mac.str(),
                 "another server");
    // This turn's changes and ACKs join the next batch first: they were made
    // before the table learns the winner, and a later ACK of the address
    // (the client asked again while the commit ran) is as wrong as the
    // running one's. Every one of them gets the NAK.
    collect();
    for (auto* acks : {&inflight_acks_, &next_acks_}) {
        for (auto it = acks->begin(); it != acks->end();) {
            if (it->reply.packet.yiaddr == winner.ip) {
                send_(it->socket, dhcp::nak_instead_of(it->reply, "address in use"));
                it = acks->erase(it);
            } else {
                ++it;
            }
        }
    }
    // The table learns the winner (apply_remote marks nothing dirty); a later
    // change of ours to the address would lose the same way.
    next_changes_.erase(winner.ip.v);
    leases_.apply_remote(winner);
    leases_.lost_to_other(winner.ip);
    stored_[winner.ip.v] = winner.version;
}

void CommitPipeline::on_commit(const Result<lease::CommitResult>& r) {
    if (!r) {
        on_failure(r.error());
    } else {
        if (failing_) spdlog::info("lease database is back: {} changes stored", inflight_changes_.size());
        failing_ = false;
        backoff_ms_ = 0;
        for (auto& [ip, v] : r->versions) {
            leases_.set_version(ip, v);
            stored_[ip.v] = v;
        }
        if (on_stored_) tell_stored(r->lost);
        for (auto& w : r->lost) on_lost(w);
        for (auto& [ip, change] : inflight_changes_)
            if (!change) stored_.erase(ip);
        inflight_changes_.clear();
        send_all(inflight_acks_);
        for (auto& [ip, change] : inflight_changes6_)
            if (!change) stored6_.erase(ip);
        inflight_changes6_.clear();
        send_all6(inflight_acks6_);
    }
    if (!failing_) start_commit();
}

void CommitPipeline::tell_stored(const std::vector<lease::Lease>& lost) {
    std::vector<std::pair<Ipv4, const lease::Lease*>> batch;
    batch.reserve(inflight_changes_.size());
    for (auto& [ip, change] : inflight_changes_) {
        bool was_lost = std::any_of(lost.begin(), lost.end(), [ip = ip](auto& w) { return w.ip.v == ip; });
        if (!was_lost) batch.emplace_back(Ipv4(ip), change ? &*change : nullptr);
    }
    on_stored_(batch);
}

void CommitPipeline::start_commit() {
    if (next_changes_.empty() && next_changes6_.empty()) {
        // These ACKs changed nothing on disk: they only had to wait for the
        // commits before them, which have finished.
        send_all(next_acks_);
        send_all6(next_acks6_);
        return;
    }
    std::vector<lease::Lease> upserts;
    std::vector<lease::LeaseDelete> deletes;
    for (auto& [ip, l] : next_changes_) {
        if (l) upserts.push_back(*l);
        else deletes.push_back(lease::LeaseDelete{Ipv4(ip), stored_.count(ip) ? stored_[ip] : 0});
    }
    inflight_changes_ = std::move(next_changes_);
    next_changes_.clear();
    inflight_acks_ = std::move(next_acks_);
    next_acks_.clear();
    std::vector<lease::Lease6> upserts6;
    std::vector<Ipv6> deletes6;
    for (auto& [ip, l] : next_changes6_) {
        if (l) upserts6.push_back(*l);
        else deletes6.push_back(ip);
    }
    inflight_changes6_ = std::move(next_changes6_);
    next_changes6_.clear();
    inflight_acks6_ = std::move(next_acks6_);
    next_acks6_.clear();
    committer_->start(std::move(upserts), std::move(deletes), std::move(upserts6), std::move(deletes6));
}

}  // namespace pxed::daemon
