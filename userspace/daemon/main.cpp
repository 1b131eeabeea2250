// pxed: the PXE boot server daemon.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "pxed/version.h"

int main(int argc, char** argv) {
    CLI::App app{"pxed: PXE boot server (DHCPv4 with an XDP fast path, TFTP, HTTP boot)", "pxed"};
    app.set_version_flag("-V,--version", "pxed " PXED_VERSION);
    std::string config_path;
    app.add_option("-c,--config", config_path, "TOML configuration file")->check(CLI::ExistingFile);
    CLI11_PARSE(app, argc, argv);

    if (config_path.empty()) {
        std::fprintf(stderr, "pxed: no configuration given: pass --config FILE (see README.md)\n");
        return 2;
    }
    return 0;
}
