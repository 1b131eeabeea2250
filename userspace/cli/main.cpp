// pxectl: administers a running pxed.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

#include "bpf/xdp_program.h"
#include "pxed/version.h"

using namespace pxed;

namespace {

// `pxectl stats`: the XDP counters, summed over CPUs, from the pinned maps.
int cmd_stats(const std::string& only_iface, bool json) {
    std::vector<std::string> ifaces;
    if (!only_iface.empty()) {
        ifaces.push_back(only_iface);
    } else {
        std::error_code ec;
        for (auto& e : std::filesystem::directory_iterator(PXED_PIN_ROOT, ec))
            if (e.is_directory()) ifaces.push_back(e.path().filename().string());
        std::sort(ifaces.begin(), ifaces.end());
        if (ifaces.empty()) {
            std::fprintf(stderr, "pxectl: no XDP maps under %s: is pxed running with XDP on?\n", PXED_PIN_ROOT);
            return 1;
        }
    }
    nlohmann::json out = nlohmann::json::object();
    for (auto& i : ifaces) {
        auto s = bpf::read_pinned_stats(i);
        if (!s) {
            std::fprintf(stderr, "pxectl: %s\n", s.error().c_str());
            return 1;
        }
        nlohmann::json xdp = nlohmann::json::object();
        for (uint32_t k = 0; k < PXED_STAT_MAX; k++) xdp[std::string(bpf::stat_name(pxed_stat(k)))] = (*s)[k];
        out[i]["xdp"] = xdp;
        if (!json) {
            std::printf("%s (kernel path, XDP)\n", i.c_str());
            for (uint32_t k = 0; k < PXED_STAT_MAX; k++)
                std::printf("  %-20s %llu\n", std::string(bpf::stat_name(pxed_stat(k))).c_str(),
                            static_cast<unsigned long long>((*s)[k]));
        }
    }
    if (json) std::printf("%s\n", out.dump(2).c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"pxectl: administer a running pxed", "pxectl"};
    app.set_version_flag("-V,--version", "pxectl " PXED_VERSION);
    app.require_subcommand(1);
    bool json = false;
    app.add_flag("--json", json, "machine-readable output");

    std::string iface;
    auto* stats = app.add_subcommand("stats", "counters: the XDP fast path by outcome and pass reason");
    stats->add_option("-i,--interface", iface, "only this interface");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return e.get_exit_code() == 0 ? 0 : (rc == 0 ? 0 : 2);
    }
    if (stats->parsed()) return cmd_stats(iface, json);
    return 2;
}
