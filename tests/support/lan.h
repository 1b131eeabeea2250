#pragma once
// The two-namespace LAN most netns tests run on: a server namespace and a
// client namespace joined by one veth, the server end addressed, pxed run
// in the server namespace. LanTest owns the namespaces and the pxed
// process; a fixture derives from it and says what differs in a LanSpec.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "support/netns.h"

namespace pxed::test {

struct LanSpec {
    std::string srv_ns = "srv", cli_ns = "cli";  // short names (Netns prefixes them)
    std::string srv_if = "s0", cli_if = "c0";
    std::string srv_addr = "192.0.2.1/24";
    std::string cli_mac;                         // empty: the kernel's random one
    bool xdp_pass_on_client = false;             // XDP_TX on a veth reaches the peer only when its NAPI runs

    // Setters for what a fixture changes, chained: LanSpec().named("h", "c").
    LanSpec& named(const std::string& srv, const std::string& cli) {
        srv_ns = srv;
        cli_ns = cli;
        return *this;
    }
    LanSpec& server_if(const std::string& name) {
        srv_if = name;
        return *this;
    }
    LanSpec& client_mac(const std::string& mac) {
        cli_mac = mac;
        return *this;
    }
    LanSpec& with_xdp_pass_on_client() {
        xdp_pass_on_client = true;
        return *this;
    }
};

class LanTest : public ::testing::Test {
protected:
    // Creates the namespaces and the veth and brings both ends up; a gtest
    // fatal failure (check HasFatalFailure) when a step fails.
    void start_lan(const LanSpec& spec = {});
    // Starts pxed in the server namespace; fatal failure unless it is ready.
    void start_pxed(const std::string& config_toml, const std::string& log_level = "debug");
    // Stops a pxed still running (resumed first if a test stopped it with
    // SIGSTOP) and expects it to exit 0.
    void TearDown() override;

    std::unique_ptr<Netns> srv_, cli_;
    std::unique_ptr<PxedProcess> pxed_;
};

}  // namespace pxed::test
