#include "support/bpf_run.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>

#include "support/netns.h"

namespace pxed::test {

XdpRun xdp_run(const bpf::XdpProgram& prog, const Frame& frame) {
    XdpRun r;
    r.out.resize(4096);  // larger than any frame BPF_PROG_TEST_RUN accepts for XDP
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = r.out.data(),
                .data_size_in = uint32_t(frame.size()), .data_size_out = uint32_t(r.out.size()), .repeat = 1);
    int err = bpf_prog_test_run_opts(prog.prog_fd(), &opts);
    EXPECT_EQ(err, 0) << "BPF_PROG_TEST_RUN: " << std::strerror(errno);
    r.verdict = opts.retval;
    r.out.resize(opts.data_size_out);
    return r;
}

const char* verdict_name(uint32_t verdict) {
    switch (verdict) {
    case XDP_ABORTED: return "XDP_ABORTED";
    case XDP_DROP: return "XDP_DROP";
    case XDP_PASS: return "XDP_PASS";
    case XDP_TX: return "XDP_TX";
    case XDP_REDIRECT: return "XDP_REDIRECT";
    default: return "unknown verdict";
    }
}

XdpCase mutated(std::string name, const Frame& good, const std::function<void(Frame&)>& mutate, uint32_t verdict,
                std::optional<pxed_stat> reason) {
    Frame f = good;
    mutate(f);
    return XdpCase{std::move(name), std::move(f), verdict, reason, std::nullopt};
}

void XdpTest::SetUp() {
    if (!require_root()) GTEST_SKIP_("not root: failure recorded");
    auto r = bpf::XdpProgram::load();
    ASSERT_TRUE(r.ok()) << r.error();
    prog_ = std::move(r.value());
    pxed_xdp_config c{};
    c.abi_version = PXED_ABI_VERSION;
    c.enabled = 1;
    ASSERT_TRUE(prog_->set_config(c).ok());
}

uint64_t XdpTest::stat(pxed_stat s) {
    auto r = prog_->read_stats();
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
    return r.ok() ? (*r)[s] : ~0ull;
}

std::string XdpTest::stats_line() {
    auto r = prog_->read_stats();
    if (!r.ok()) return r.error();
    std::string s;
    for (uint32_t i = 0; i < PXED_STAT_MAX; i++)
        if ((*r)[i]) s += std::string(bpf::stat_name(pxed_stat(i))) + "=" + std::to_string((*r)[i]) + " ";
    return s;
}

void XdpTest::expect_case(const XdpCase& c) {
    SCOPED_TRACE(c.name);
    uint64_t before = c.reason ? stat(*c.reason) : 0;
    auto r = run(c.frame);
    EXPECT_STREQ(verdict_name(r.verdict), verdict_name(c.verdict)) << stats_line();
    if (c.reason) {
        EXPECT_EQ(stat(*c.reason), before + 1) << "expected " << bpf::stat_name(*c.reason) << "; " << stats_line();
    }
    if (c.out) {
        EXPECT_EQ(r.out, *c.out) << "output frame differs";
    }
}

}  // namespace pxed::test
