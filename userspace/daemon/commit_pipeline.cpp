#include "daemon/commit_pipeline.h"

#include <spdlog/spdlog.h>

namespace pxed::daemon {

Result<std::unique_ptr<CommitPipeline>> CommitPipeline::open(lease::LeaseStore& store, lease::LeaseTable& leases,
                                                             Send send, std::function<void()> on_thread_start) {
    auto c = lease::Committer::open(store, std::move(on_thread_start));
    if (!c) return Err(c.error());
    return std::unique_ptr<CommitPipeline>(new CommitPipeline(leases, std::move(send), std::move(c.value())));
}

void CommitPipeline::flush() {
    for (auto ip : leases_.take_dirty()) {
        auto* l = leases_.by_ip(ip);
        if (l && l->state != lease::State::Offered) {
            next_changes_[ip.v] = *l;
            stored_.insert(ip.v);
        } else if (stored_.erase(ip.v)) {
            next_changes_[ip.v] = std::nullopt;  // offers never reach the store
        }
    }
    for (auto& p : pending_) next_acks_.push_back(std::move(p));
    pending_.clear();
    if (!committer_->busy()) start_commit();
}

void CommitPipeline::flush_sync() {
    flush();
    while (committer_->busy()) on_commit(*committer_->wait());
}

void CommitPipeline::on_readable() {
    if (auto r = committer_->finished()) on_commit(*r);
}

void CommitPipeline::send_all(std::vector<Held>& acks) {
    for (auto& a : acks) send_(a.socket, a.reply);
    acks.clear();
}

void CommitPipeline::on_commit(const Result<void>& r) {
    if (!r) {
        spdlog::error("lease commit failed, withholding {} ACKs: {}", inflight_acks_.size(), r.error());
        inflight_acks_.clear();
    } else {
        send_all(inflight_acks_);
    }
    start_commit();
}

void CommitPipeline::start_commit() {
    if (next_changes_.empty()) {
        // These ACKs changed nothing on disk: they only had to wait for the
        // commits before them, which have finished.
        send_all(next_acks_);
        return;
    }
    std::vector<lease::Lease> upserts;
    std::vector<Ipv4> deletes;
    for (auto& [ip, l] : next_changes_) {
        if (l) upserts.push_back(std::move(*l));
        else deletes.push_back(Ipv4(ip));
    }
    next_changes_.clear();
    inflight_acks_ = std::move(next_acks_);
    next_acks_.clear();
    committer_->start(std::move(upserts), std::move(deletes));
}

}  // namespace pxed::daemon
