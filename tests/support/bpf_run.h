#pragma once
// Running frames through the XDP program with BPF_PROG_TEST_RUN, for the
// bpf tests (tests/bpf/) and nothing else: a fixture that loads the program
// (failing, not skipping, without root), one run, the counters, and
// table-driven cases in the style of katran's lib/testing: an input frame,
// the verdict expected, the pass reason counted, and optionally the exact
// output frame.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bpf/xdp_program.h"
#include "pxed/abi.h"

namespace pxed::test {

using Frame = std::vector<uint8_t>;

struct XdpRun {
    uint32_t verdict = 0;
    Frame out;  // the frame as the program left it (the reply for XDP_TX)
};

// Runs one frame once; a failing BPF_PROG_TEST_RUN fails the test.
XdpRun xdp_run(const bpf::XdpProgram& prog, const Frame& frame);

const char* verdict_name(uint32_t verdict);

// One row of a table: `frame` must get `verdict`; with `reason`, that
// counter goes up by exactly one; with `out`, the output frame is exactly it.
struct XdpCase {
    std::string name;
    Frame frame;
    uint32_t verdict;
    std::optional<pxed_stat> reason;
    std::optional<Frame> out;
};

// A row built by changing a good frame: `mutate` edits a copy of it.
XdpCase mutated(std::string name, const Frame& good, const std::function<void(Frame&)>& mutate, uint32_t verdict,
                std::optional<pxed_stat> reason);

// Loads the program for BPF_PROG_TEST_RUN (not attached, no pins).
class XdpTest : public ::testing::Test {
protected:
    void SetUp() override;

    XdpRun run(const Frame& frame) { return xdp_run(*prog_, frame); }
    // A counter summed over the CPUs; ~0 when the map cannot be read.
    uint64_t stat(pxed_stat s);
    // The non-zero counters, "name=value ...", for failure messages.
    std::string stats_line();
    // Checks one row (EXPECTs, so a table reports every failing row).
    void expect_case(const XdpCase& c);
    void expect_cases(const std::vector<XdpCase>& table) {
        for (auto& c : table) expect_case(c);
    }
    // Expects XDP_PASS with `reason` counted once more.
    void expect_pass(const Frame& frame, pxed_stat reason) { expect_case({"", frame, XDP_PASS, reason, {}}); }

    std::unique_ptr<bpf::XdpProgram> prog_;
};

}  // namespace pxed::test
