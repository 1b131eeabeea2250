#include "lease/committer.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace pxed::lease {

Result<std::unique_ptr<Committer>> Committer::open(LeaseStore& store, std::function<void()> on_start) {
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) return Err(std::string("cannot create the lease commit thread's eventfd: ") + std::strerror(errno));
    return std::unique_ptr<Committer>(new Committer(store, efd, std::move(on_start)));
}

Committer::Committer(LeaseStore& store, int efd, std::function<void()> on_start) : store_(store), efd_(efd) {
    th_ = std::thread([this, on_start = std::move(on_start)] {
        if (on_start) on_start();
        run();
    });
}

Committer::~Committer() {
    wait();
    {
        std::lock_guard lk(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    th_.join();
    close(efd_);
}

void Committer::start(std::vector<Lease> upserts, std::vector<LeaseDelete> deletes, std::vector<Lease6> upserts6,
                      std::vector<Ipv6> deletes6) {
    {
        std::lock_guard lk(mu_);
        upserts_ = std::move(upserts);
        deletes_ = std::move(deletes);
        upserts6_ = std::move(upserts6);
        deletes6_ = std::move(deletes6);
        job_ = true;
        done_ = false;
    }
    busy_ = true;
    cv_.notify_all();
}

void Committer::run() {
    std::unique_lock lk(mu_);
    for (;;) {
        cv_.wait(lk, [this] { return job_ || stop_; });
        if (!job_) return;
        job_ = false;
        auto up = std::move(upserts_);
        auto del = std::move(deletes_);
        auto up6 = std::move(upserts6_);
        auto del6 = std::move(deletes6_);
        lk.unlock();
        Result<CommitResult> r = Err(std::string("lease commit threw"));
        try {
            r = store_.commit_all(up, del, Changes6{up6, del6});
        } catch (const std::exception& e) {
            r = Err(std::string("lease commit threw: ") + e.what());
        }
        lk.lock();
        result_ = std::move(r);
        done_ = true;
        uint64_t one = 1;
        (void)!write(efd_, &one, sizeof one);
        cv_.notify_all();
    }
}

Result<CommitResult> Committer::take() {
    uint64_t v;
    (void)!read(efd_, &v, sizeof v);
    busy_ = false;
    done_ = false;
    Result<CommitResult> r = std::move(*result_);
    result_.reset();
    return r;
}

std::optional<Result<CommitResult>> Committer::finished() {
    if (!busy_) return std::nullopt;
    std::lock_guard lk(mu_);
    if (!done_) return std::nullopt;
    return take();
}

std::optional<Result<CommitResult>> Committer::wait() {
    if (!busy_) return std::nullopt;
    std::unique_lock lk(mu_);
    cv_.wait(lk, [this] { return done_; });
    return take();
}

}  // namespace pxed::lease
