// pxectl: administers a running pxed.
#include <CLI/CLI.hpp>

#include "pxed/version.h"

int main(int argc, char** argv) {
    CLI::App app{"pxectl: administer a running pxed", "pxectl"};
    app.set_version_flag("-V,--version", "pxectl " PXED_VERSION);
    app.require_subcommand(0, 1);
    CLI11_PARSE(app, argc, argv);
    std::fputs(app.help().c_str(), stdout);
    return 0;
}
