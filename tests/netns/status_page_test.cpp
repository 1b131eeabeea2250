// The status page (/status, /status.json) in headless Chromium: a machine in
// the client namespace takes a lease (udhcpc) and fetches files over TFTP and
// HTTP (curl); Chromium then renders the page from the same namespace, and
// the rendered DOM must show the machine, its files and its lease. The
// screenshot is kept as a test artefact: <build>/artifacts/status_page.png.
//
// Chromium as root in a namespace, as it works on Debian 12 (chromium 156):
//   HOME=<tmp> timeout 60 chromium --headless --no-sandbox --disable-gpu
//     --user-data-dir=<tmp>/profile --virtual-time-budget=5000
//     --dump-dom http://192.0.2.1/status
//   (--screenshot=<file> --window-size=1280,900 instead of --dump-dom)
// --no-sandbox: the sandbox refuses to run as root. --user-data-dir and HOME:
// a fresh profile each run, nothing left in /root. --virtual-time-budget:
// the page's timers run on virtual time and the budget does not run out while
// a fetch is pending, so the first poll of status.json has been rendered when
// the DOM is dumped. nsenter --net keeps the host's mounts, so /dev/shm and
// the fonts (fonts-dejavu-core) are there. Its D-Bus errors on stderr are
// noise (there is no session bus). The wrapper /usr/bin/chromium also prints
// "[: ...: unexpected operator" from /etc/chromium.d/dev-shm: noise too.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/lan.h"
#include "support/toml_fixture.h"

using namespace pxed::test;
using nlohmann::json;

namespace {

const std::string kMac = "52:54:00:5a:7a:01";
// A path that would be markup if the page used innerHTML: it must show as text.
const std::string kHostilePath = "<b id=injected>bold</b>";

class StatusPage : public LanTest {
protected:
    void SetUp() override {
        if (!require_root()) GTEST_SKIP_("not root: failure recorded");
        ASSERT_EQ(sh("command -v chromium >/dev/null"), 0) << "chromium is not installed (scripts/setup-deps)";
        char t[] = "/tmp/pxedstatus.XXXXXX";
        root_ = mkdtemp(t);
        chmod(root_.c_str(), 0755);
        // The boot files: pxelinux.0's size, and a 4 MB kernel (TFTP) and a
        // 1 MB initrd (HTTP), enough for the transfers to have a length.
        std::filesystem::create_directories(root_ + "/boot");
        ASSERT_EQ(sh("cd " + root_ + " && head -c 42000 /dev/urandom > pxelinux.0 && head -c 4194304 /dev/urandom "
                     "> boot/vmlinuz-status && head -c 1048576 /dev/urandom > boot/initrd-status.img && "
                     "chmod 755 boot && chmod 644 pxelinux.0 boot/*"),
                  0);
        ASSERT_NO_FATAL_FAILURE(start_lan(LanSpec().named("stsrv", "stcli").client_mac(kMac)));
    }
    void TearDown() override {
        LanTest::TearDown();
        if (!root_.empty()) sh("rm -rf " + root_);
    }
    std::string config(const std::string& extra = "") {
        return toml::netns_server("s0", "tftp-root = \"" + root_ + "\"\nhttp-port = 80\n" + extra) +
               toml::lan_subnet("192.0.2.150", "lease-time = 600\n");
    }
    // The machine boots: a lease (the address configured, as firmware
    // would), pxelinux.0 and the kernel over TFTP, the initrd over HTTP, and
    // a request for a file whose name is markup.
    void boot_machine() {
        auto lease = udhcpc_once(*cli_, "c0", 15, "-x hostname:status-box");
        ASSERT_EQ(lease["ip"], "192.0.2.100");
        ASSERT_EQ(cli_->run("ip addr add 192.0.2.100/24 dev c0"), 0);
        for (const char* f : {"pxelinux.0", "boot/vmlinuz-status"})
            ASSERT_EQ(cli_->run("timeout 60 curl -sS tftp://192.0.2.1/" + std::string(f) + " -o /dev/null"), 0) << f;
        ASSERT_EQ(cli_->run("timeout 30 curl -sSf http://192.0.2.1/boot/initrd-status.img -o /dev/null"), 0);
        cli_->run("timeout 10 atftp --get -r " + Netns::quote(kHostilePath) + " -l /dev/null 192.0.2.1 >/dev/null 2>&1");
    }
    // Headless Chromium on `url` from the client namespace with `args`
    // (--dump-dom: the DOM on stdout); returns stdout.
    std::string chromium(const std::string& args, const std::string& url = "http://192.0.2.1/status") {
        std::string dir = pxed_->dir() + "/chromium";
        std::filesystem::create_directories(dir);
        return cli_->out("HOME=" + dir + " timeout 60 chromium --headless --no-sandbox --disable-gpu --user-data-dir=" +
                         dir + "/profile --virtual-time-budget=5000 " + args + " " + url + " 2>>" + dir + "/stderr");
    }
    json status_json() {
        std::string body = cli_->out("timeout 10 curl -sSf http://192.0.2.1/status.json");
        json j = json::parse(body, nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << body;
        return j;
    }
    static size_t count(const std::string& s, const std::string& what) {
        size_t n = 0;
        for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) n++;
        return n;
    }

    std::string root_;
};

}  // namespace

TEST_F(StatusPage, JsonHasTheBootTheLeaseAndTheCounters) {
    ASSERT_NO_FATAL_FAILURE(start_pxed(config()));
    ASSERT_NO_FATAL_FAILURE(boot_machine());
    json j = status_json();
    ASSERT_TRUE(j.is_object());
    EXPECT_TRUE(j["server"]["version"].is_string());
    EXPECT_TRUE(j["server"]["uptime_s"].is_number());
    EXPECT_TRUE(j["server"]["node"].is_string());
    // The boot: DHCP and each file, done, with its size.
    const json* boot = nullptr;
    for (auto& b : j["boots"]["boots"])
        if (b["mac"] == kMac) boot = &b;
    ASSERT_NE(boot, nullptr) << j["boots"].dump(2);
    EXPECT_EQ((*boot)["address"], "192.0.2.100");
    EXPECT_EQ((*boot)["hostname"], "status-box");  // from the lease (option 12)
    EXPECT_TRUE((*boot)["state"] == "in progress" || (*boot)["state"] == "idle") << (*boot)["state"];
    EXPECT_GE((*boot)["files_done"].get<int>(), 3);
    std::map<std::string, json> files;
    bool dhcp = false;
    for (auto& e : (*boot)["events"]) {
        if (e["kind"] == "dhcp") dhcp = true;
        if (e["kind"] == "file") files[e["path"].get<std::string>()] = e;
    }
    EXPECT_TRUE(dhcp) << boot->dump(2);
    ASSERT_TRUE(files.count("boot/vmlinuz-status")) << boot->dump(2);
    EXPECT_EQ(files["boot/vmlinuz-status"]["outcome"], "done");
    EXPECT_EQ(files["boot/vmlinuz-status"]["size"], 4194304);
    EXPECT_EQ(files["boot/vmlinuz-status"]["source"], "tftp");
    EXPECT_EQ(files["boot/initrd-status.img"]["source"], "http");
    EXPECT_EQ(files["boot/initrd-status.img"]["outcome"], "done");
    EXPECT_TRUE(files.count("pxelinux.0"));
    // The lease, as pxectl lease list shows it.
    bool leased = false;
    for (auto& l : j["leases"])
        if (l["ip"] == "192.0.2.100" && l["mac"] == kMac && l["state"] == "bound") leased = true;
    EXPECT_TRUE(leased) << j["leases"].dump(2);
    EXPECT_EQ(j["leases_total"], j["leases"].size());
    // The counters, as pxectl stats shows them.
    EXPECT_GE(j["counters"]["dhcp"]["received"]["DISCOVER"].get<int>(), 1);
    EXPECT_GE(j["counters"]["dhcp"]["sent"]["daemon"]["ACK"].get<int>(), 1);
    EXPECT_GE(j["counters"]["tftp"]["completed"].get<int>(), 2);
    EXPECT_GE(j["counters"]["http"]["files"].get<int>(), 1);
}

TEST_F(StatusPage, ChromiumRendersTheBootingMachineAndKeepsAScreenshot) {
    ASSERT_NO_FATAL_FAILURE(start_pxed(config()));
    ASSERT_NO_FATAL_FAILURE(boot_machine());
    std::string dom = chromium("--dump-dom");
    std::string err = pxed_->dir() + "/chromium/stderr";
    ASSERT_NE(dom.find("</html>"), std::string::npos) << "no DOM from chromium: " << sh_out("tail -20 " + err);
    // The script ran and rendered a poll without an error.
    EXPECT_NE(dom.find("data-state=\"ok\""), std::string::npos) << dom;
    EXPECT_NE(dom.find("<div id=\"error\"></div>"), std::string::npos) << dom;
    // The machine and its files, on its timeline.
    EXPECT_NE(dom.find(kMac), std::string::npos) << dom;
    EXPECT_NE(dom.find("status-box"), std::string::npos) << dom;
    for (std::string f : {"tftp pxelinux.0", "tftp boot/vmlinuz-status", "http boot/initrd-status.img"})
        EXPECT_NE(dom.find(f), std::string::npos) << f << " not on the page:\n" << dom;
    // The lease table shows its address and MAC.
    auto table = dom.find("id=\"lease-table\"");
    ASSERT_NE(table, std::string::npos) << dom;
    EXPECT_NE(dom.find("192.0.2.100", table), std::string::npos) << dom;
    EXPECT_NE(dom.find(kMac, table), std::string::npos) << dom;
    // The file name that is markup shows as text: no element came of it.
    EXPECT_EQ(dom.find("id=\"injected\""), std::string::npos) << dom;
    EXPECT_NE(dom.find("&lt;b id=injected&gt;bold&lt;/b&gt;"), std::string::npos) << dom;
    EXPECT_GE(count(dom, "class=\"lane\""), 4u);  // DHCP and three files

    // The screenshot, kept under the build tree.
    std::string png = std::string(PXED_BINARY_DIR) + "/artifacts/status_page.png";
    std::filesystem::create_directories(std::filesystem::path(png).parent_path());
    std::filesystem::remove(png);
    chromium("--screenshot=" + png + " --window-size=1280,900 --hide-scrollbars");
    std::ifstream in(png, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GT(bytes.size(), 24u) << sh_out("tail -20 " + err);
    EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    auto be32 = [&](size_t at) {
        return uint32_t(uint8_t(bytes[at])) << 24 | uint32_t(uint8_t(bytes[at + 1])) << 16 |
               uint32_t(uint8_t(bytes[at + 2])) << 8 | uint32_t(uint8_t(bytes[at + 3]));
    };
    EXPECT_EQ(be32(16), 1280u);  // IHDR width and height
    EXPECT_EQ(be32(20), 900u);
}

TEST_F(StatusPage, EmptyListsRenderWithoutErrors) {
    ASSERT_NO_FATAL_FAILURE(start_pxed(config()));
    ASSERT_EQ(cli_->run("ip addr add 192.0.2.2/24 dev c0"), 0);
    std::string dom = chromium("--dump-dom");
    EXPECT_NE(dom.find("data-state=\"ok\""), std::string::npos) << dom;
    EXPECT_NE(dom.find("<div id=\"error\"></div>"), std::string::npos) << dom;
    EXPECT_NE(dom.find("No boots in the last hour."), std::string::npos) << dom;
    EXPECT_NE(dom.find("No leases or reservations."), std::string::npos) << dom;
    EXPECT_NE(dom.find("DHCP by type and path"), std::string::npos) << dom;
}

TEST_F(StatusPage, OffServesThosePathsAsFiles) {
    ASSERT_NO_FATAL_FAILURE(start_pxed(config("status-page = false\n")));
    ASSERT_EQ(cli_->run("ip addr add 192.0.2.2/24 dev c0"), 0);
    auto code = [&](const std::string& path) {
        return cli_->out("timeout 10 curl -s -o /dev/null -w '%{http_code}' http://192.0.2.1" + path);
    };
    EXPECT_EQ(code("/status"), "404");
    EXPECT_EQ(code("/status.json"), "404");
    EXPECT_EQ(code("/metrics"), "200");
    // A file of that name under the root is served as one.
    ASSERT_EQ(sh("echo hello > " + root_ + "/status.json && chmod 644 " + root_ + "/status.json"), 0);
    EXPECT_EQ(cli_->out("timeout 10 curl -sS http://192.0.2.1/status.json"), "hello\n");
}

TEST_F(StatusPage, StopsCleanlyWhilePagesPoll) {
    ASSERT_NO_FATAL_FAILURE(start_pxed(config()));
    ASSERT_EQ(cli_->run("ip addr add 192.0.2.2/24 dev c0"), 0);
    // Four clients asking for status.json without a pause while pxed stops:
    // the HTTP thread's calls onto the loop must not hold the exit up.
    std::string loop = "for i in $(seq 1 2000); do curl -s -o /dev/null -m 5 http://192.0.2.1/status.json || break; done";
    for (int i = 0; i < 4; i++) cli_->run("(" + loop + ") >/dev/null 2>&1 &");
    ASSERT_EQ(cli_->run("timeout 10 curl -sSf -o /dev/null http://192.0.2.1/status.json"), 0);
    EXPECT_EQ(pxed_->stop(), 0) << pxed_->log();
    EXPECT_NE(pxed_->log().find("shutting down"), std::string::npos);
}
