#include "support/lan.h"

#include <signal.h>

namespace pxed::test {

void LanTest::start_lan(const LanSpec& spec) {
    srv_ = std::make_unique<Netns>(spec.srv_ns);
    cli_ = std::make_unique<Netns>(spec.cli_ns);
    veth_pair(srv_.get(), spec.srv_if, cli_.get(), spec.cli_if);
    ASSERT_EQ(srv_->run("ip addr add " + spec.srv_addr + " dev " + spec.srv_if + " && ip link set " + spec.srv_if +
                        " up"),
              0);
    std::string cli = "ip link set " + spec.cli_if + " up";
    if (!spec.cli_mac.empty()) cli = "ip link set " + spec.cli_if + " address " + spec.cli_mac + " && " + cli;
    ASSERT_EQ(cli_->run(cli), 0);
    if (spec.xdp_pass_on_client) {
        ASSERT_EQ(cli_->run("ip link set dev " + spec.cli_if + " xdpdrv obj " + PXED_XDP_PASS_OBJ + " sec xdp"), 0);
    }
}

void LanTest::start_pxed(const std::string& config_toml, const std::string& log_level) {
    pxed_ = std::make_unique<PxedProcess>(*srv_, config_toml, log_level);
    ASSERT_TRUE(pxed_->ready()) << pxed_->log();
}

void LanTest::TearDown() {
    if (pxed_ && pxed_->pid() > 0) {
        kill(pxed_->pid(), SIGCONT);
        EXPECT_EQ(pxed_->stop(), 0) << pxed_->log();
    }
}

}  // namespace pxed::test
