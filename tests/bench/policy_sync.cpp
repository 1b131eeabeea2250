// What the boot policy costs when the kernel maps are filled: the time to
// group the request signatures into profiles and to render every
// reservation's blobs (bpf::sync_maps into a loaded program's maps), for N
// reservations, with the plain subnet table and with a policy of eight
// classes (architecture, iPXE, vendor class, MAC, a host's own file), and
// with a host name per reservation (no two reservations share blobs).
// Benchmark, not test: it prints figures. Run as root (loads the program).
// Usage: bench_policy_sync [N...]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bpf/blob.h"
#include "bpf/map_sync.h"
#include "bpf/xdp_program.h"
#include "config/config.h"

using namespace pxed;

namespace {

const char* kPlain = R"(boot = { bios = "undionly.kpxe", uefi-x64 = "ipxe.efi", ipxe = "http://10.0.0.1/boot.ipxe" }
)";

const char* kClasses = R"(boot = { bios = "undionly.kpxe", uefi-x64 = "ipxe.efi", ipxe = "http://10.0.0.1/boot.ipxe" }
[[class]]
name = "ipxe"
match = { any = [ { user-class = "iPXE" }, { option = 175 } ] }
boot-file = "http://10.0.0.1/boot.ipxe"
[[class]]
name = "arm64"
match = { arch = ["arm64-uefi", "arm64-uefi-http"] }
boot-file = "snp-arm64.efi"
[[class]]
name = "http"
match = { vendor-class = "HTTPClient" }
boot-file = "http://10.0.0.1/ipxe.efi"
[[class]]
name = "rpi"
match = { vendor-class = "PXEClient", mac = "b8:27:eb:*:*:*" }
boot-file = "bootcode.bin"
options = [ { code = 43, always = true, sub = [ { code = 6, u8 = 3 }, { code = 10, hex = "00505845" } ] } ]
[[class]]
name = "lab"
match = { mac = "52:54:00:00:00:00/32" }
options = [ { code = 42, ips = ["10.0.0.1"] } ]
[[class]]
name = "riscv"
match = { arch = "riscv64-uefi" }
boot-file = "ipxe-riscv64.efi"
[[class]]
name = "loong"
match = { arch = "loongarch64-uefi" }
boot-file = "ipxe-loong64.efi"
[[class]]
name = "ia32"
match = { arch = "ia32-uefi" }
boot-file = "ipxe-i386.efi"
)";

std::string config_text(const char* policy, int n, bool named) {
    std::string s = "[server]\ninterfaces = [\"bench0\"]\n\n[[subnet]]\ncidr = \"10.0.0.0/8\"\n"
                    "range = [\"10.200.0.1\", \"10.200.0.100\"]\nrouter = \"10.0.0.1\"\n";
    s += policy;
    for (int i = 0; i < n; i++) {
        char buf[240];
        int a = i / 250, b = i % 250 + 1;
        std::snprintf(buf, sizeof buf,
                      "\n[[reservation]]\nmac = \"52:54:00:%02x:%02x:%02x\"\nip = \"10.%d.%d.%d\"\n%s%s%d%s", (i >> 16) & 0xff,
                      (i >> 8) & 0xff, i & 0xff, 1 + a / 256, a % 256, b, i % 100 == 0 ? "boot-file = \"own.efi\"\n" : "",
                      named ? "hostname = \"node" : "#", i, named ? "\"\n" : "\n");
        s += buf;
    }
    return s;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<int> sizes;
    for (int i = 1; i < argc; i++) sizes.push_back(std::atoi(argv[i]));
    if (sizes.empty()) sizes = {1000, 10000};
    std::printf("| policy | reservations | profiles | blobs | grouping (ms) | sync_maps (s) | per reservation (us) |\n");
    std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    struct Variant {
        const char* name;
        const char* policy;
        bool named;
    };
    for (auto [name, policy, named] : {Variant{"subnet table", kPlain, false}, Variant{"8 classes", kClasses, false},
                                       Variant{"8 classes, a host name each", kClasses, true}}) {
        for (int n : sizes) {
            auto cfg = config::parse_toml(config_text(policy, n, named), "bench");
            if (!cfg) {
                std::fprintf(stderr, "%s\n", cfg.error().c_str());
                return 1;
            }
            auto t0 = std::chrono::steady_clock::now();
            auto profiles = bpf::build_profiles(*cfg);
            double grouping = seconds_since(t0);
            auto prog = bpf::XdpProgram::load();
            if (!prog) {
                std::fprintf(stderr, "loading the program: %s\n", prog.error().c_str());
                return 1;
            }
            auto t1 = std::chrono::steady_clock::now();
            auto rep = bpf::sync_maps(**prog, *cfg, bpf::IfaceView{"bench0", 1, Mac{}, Ipv4(10, 0, 0, 1), {}},
                                      bpf::RateLimit{0, 0});
            double sync = seconds_since(t1);
            if (!rep) {
                std::fprintf(stderr, "sync: %s\n", rep.error().c_str());
                return 1;
            }
            std::printf("| %s | %d | %zu | %zu | %.1f | %.2f | %.0f |\n", name, n, profiles.view.size(), rep->blobs,
                        grouping * 1e3, sync, sync * 1e6 / n);
        }
    }
    return 0;
}
