#include "cli/trace_view.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>

using nlohmann::json;

namespace pxectl {

namespace {

std::string str(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_null()) return "-";
    return v.dump();
}

// Local time of day with milliseconds.
std::string clock_of(int64_t us) {
    time_t t = time_t(us / 1'000'000);
    char b[32];
    std::strftime(b, sizeof b, "%H:%M:%S", std::localtime(&t));
    char out[48];
    std::snprintf(out, sizeof out, "%s.%03d", b, int((us / 1000) % 1000));
    return out;
}

std::string arch_name(int a) {
    switch (a) {
        case 0: return "BIOS";
        case 6: return "UEFI ia32";
        case 7: case 9: return "UEFI x64";
        case 10: return "UEFI arm32";
        case 11: return "UEFI arm64";
        case 16: return "UEFI x64 HTTP";
        case 19: return "UEFI arm64 HTTP";
        default: return "arch " + std::to_string(a);
    }
}

// What the request said of the client, once per DHCP line that has it.
std::string client_details(const json& e) {
    std::string s;
    if (e.value("kind", "") != "dhcp") return s;
    if (e["arch"].is_number()) s += arch_name(e["arch"].get<int>());
    for (const char* k : {"vendor_class", "user_class"})
        if (auto v = e.value(k, std::string()); !v.empty()) s += (s.empty() ? "" : ", ") + v;
    if (e.value("relayed", false)) s += (s.empty() ? "" : ", ") + std::string("relayed");
    return s;
}

std::string bar(uint64_t done, uint64_t total, int width) {
    int fill = total ? int(double(done) / double(total) * width) : width;
    fill = std::min(fill, width);
    // Appends: GCC 12 at -O3 warns -Wrestrict on `"[" + ...` (a false positive).
    std::string s(1, '[');
    s.append(size_t(fill), '#');
    s.append(size_t(width - fill), '-');
    s += ']';
    return s;
}

volatile std::sig_atomic_t g_stop = 0;
void on_sigint(int) { g_stop = 1; }

}  // namespace

void print_trace(const json& m) {
    std::printf("%s  %s", str(m["mac"]).c_str(), str(m["address"]).c_str());
    if (m.contains("lease")) std::printf("  lease %s until %s", str(m["lease"]["state"]).c_str(),
                                         str(m["lease"]["expires"]).c_str());
    std::printf("\n");
    for (auto& e : m["events"]) {
        std::string d = client_details(e);
        std::printf("%s  %-6s  %s%s%s\n", clock_of(e["at_us"].get<int64_t>()).c_str(), str(e["source"]).c_str(),
                    str(e["text"]).c_str(), d.empty() ? "" : "   ", d.c_str());
    }
}

int watch(const std::function<json()>& boots, const WatchOptions& o) {
    std::signal(SIGINT, on_sigint);
    bool tty = !o.json && !o.once && isatty(STDOUT_FILENO);
    for (long n = 0; !g_stop && (o.count == 0 || n < o.count) && !(o.once && n > 0); n++) {
        if (n > 0) std::this_thread::sleep_for(std::chrono::milliseconds(int64_t(o.interval_s * 1000)));
        if (g_stop) break;
        json j = boots();
        if (o.json) {
            std::printf("%s\n", j.dump().c_str());
            std::fflush(stdout);
            continue;
        }
        if (tty) std::printf("\033[H\033[2J");  // home, clear
        int64_t now = j.value("now_us", int64_t(0));
        std::printf("%-17s %-15s %-11s %7s  %s\n", "MACHINE", "ADDRESS", "STATE", "AGE", "NOW");
        for (auto& b : j["boots"]) {
            int64_t age = (now - b.value("first_us", now)) / 1'000'000;
            std::string what = str(b["last"]);
            if (auto& t = b["transfer"]; t.is_object()) {
                uint64_t done = t.value("bytes", uint64_t(0)), size = t.value("size", uint64_t(0));
                char pct[16];
                std::snprintf(pct, sizeof pct, "%3d%%", size ? int(100.0 * double(done) / double(size)) : 100);
                what = str(t["source"]);
                what += ' ';
                what += str(t["path"]);
                what += ' ';
                what += bar(done, size, 20);
                what += ' ';
                what += pct;
            } else if (!b["problem"].is_null()) {
                what = "! " + str(b["problem"]);
            }
            std::printf("%-17s %-15s %-11s %6llds  %s\n", str(b["mac"]).c_str(), str(b["address"]).c_str(),
                        str(b["state"]).c_str(), static_cast<long long>(age), what.c_str());
        }
        if (j["boots"].empty()) std::printf("(no boot seen recently)\n");
        std::fflush(stdout);
    }
    return 0;
}

}  // namespace pxectl
