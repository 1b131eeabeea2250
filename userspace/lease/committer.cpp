#include "lease/committer.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace pxed::lease {

Committer::Committer(LeaseStore& store, std::function<void()> on_start) : store_(store) {
    efd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
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

void Committer::start(std::vector<Lease> upserts, std::vector<Ipv4> deletes) {
    {
        std::lock_guard lk(mu_);
        upserts_ = std::move(upserts);
        deletes_ = std::move(deletes);
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
        lk.unlock();
        Result<void> r = Err(std::string("lease commit threw"));
        try {
            r = store_.commit(up, del);
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

Result<void> Committer::take() {
    uint64_t v;
    (void)!read(efd_, &v, sizeof v);
    busy_ = false;
    done_ = false;
    Result<void> r = std::move(*result_);
    result_.reset();
    return r;
}

std::optional<Result<void>> Committer::finished() {
    if (!busy_) return std::nullopt;
    std::lock_guard lk(mu_);
    if (!done_) return std::nullopt;
    return take();
}

std::optional<Result<void>> Committer::wait() {
    if (!busy_) return std::nullopt;
    std::unique_lock lk(mu_);
    cv_.wait(lk, [this] { return done_; });
    return take();
}

}  // namespace pxed::lease
