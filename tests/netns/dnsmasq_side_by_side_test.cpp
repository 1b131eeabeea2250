// The corpus of dnsmasq.conf files (tests/data/dnsmasq/) served by dnsmasq
// itself and then by pxed --dnsmasq-conf on the same veth, to the same
// DISCOVERs (BIOS PXE, x64 and ARM64 UEFI, HTTP boot, iPXE with 77 and 175
// and with 175 only, a Raspberry Pi 3, a plain client, a node the file
// ignores): the OFFERs must agree option by option on what both render.
//
// Differences accepted, and why:
// - dnsmasq moves the boot file into option 67 (and the server name into
//   option 66) when the client lists them in option 55 (PXE ROMs and iPXE
//   do), leaving the header field empty; pxed always fills the header
//   field. Compared: option 67 if present, else the header field.
// - pxed sends option 66 = the next server's address with every boot
//   file; dnsmasq sends 66 only as above. Not compared unless the file sets it.
// - pxed sends option 43 {6: 8} (PXE discovery control "use the boot
//   file") to PXEClient clients with a boot file, which UEFI firmware needs
//   to skip boot server discovery; dnsmasq sends no 43 there. 43 is
//   compared (as a set of sub-options) only where dnsmasq sends one.
// - option 60: with a vendor: option 43, dnsmasq echoes the client's whole
//   option 60 ("PXEClient:Arch:00000:UNDI:002001"); pxed sends the word
//   "PXEClient" (PXE 2.1 says so; firmware compares that prefix) with a
//   boot file, and nothing without one (a client then has nothing to boot
//   either way). Otherwise compared where dnsmasq sends it.
// - dnsmasq NUL-terminates option 67 ("some PXE ROMs have bugs"); pxed
//   does not (RFC 2132: no terminator). Compared without the NUL.
// - Lease times (51, 58, 59), the offered address, option order, and
//   dnsmasq's own extras (hostname 12 it learnt, 28 broadcast both send) are
//   not compared; reservations are (the address).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "dhcp/packet.h"
#include "support/netns.h"
#include "support/pxe_clients.h"

using namespace pxed;
using namespace pxed::dhcp;
using namespace pxed::test;

namespace {

std::string pxed_bin() { return std::string(PXED_BINARY_DIR) + "/userspace/pxed"; }
std::string data(const std::string& f) { return std::string(PXED_SOURCE_DIR) + "/tests/data/dnsmasq/" + f; }

// Options compared whenever either server sends them.
const std::set<uint8_t> kCompared = {1, 3, 6, 15, 17, 26, 42};

// The corpus file for the namespace: serve s0, no TFTP (no directory to
// serve here), leases in `dir`, and its side files copied beside it
// (dnsmasq reads relative paths from its working directory, pxed beside
// the file: both `dir`).
std::string adapt(const std::string& name, const std::string& dir) {
    std::ifstream in(data(name));
    std::ostringstream out;
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("interface=", 0) == 0) line = "interface=s0";
        if (line.rfind("tftp-root=", 0) == 0 || line == "enable-tftp") continue;
        out << line << "\n";
    }
    out << "dhcp-leasefile=" << dir << "/leases\n";
    for (auto side : {"ironic-hosts", "foreman-hosts", "foreman-opts"}) sh("cp " + data(side) + " " + dir + "/");
    std::ofstream(dir + "/" + name) << out.str();
    return dir + "/" + name;
}

// Sends each DISCOVER from c0 (broadcast, no address) and collects the
// OFFER with its xid; a missing reply is absent from the map.
std::map<uint32_t, Packet> exchange(const Netns& cli, const std::vector<PxeClient>& clients, const std::string& dir) {
    std::string path = "/run/netns/" + cli.name();
    pid_t pid = fork();
    if (pid == 0) {
        int nsfd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0) _exit(2);
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        setsockopt(s, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
        setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "c0", 3);
        sockaddr_in me{};
        me.sin_family = AF_INET;
        me.sin_port = htons(68);
        if (bind(s, reinterpret_cast<sockaddr*>(&me), sizeof me) != 0) _exit(3);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(67);
        to.sin_addr.s_addr = htonl(INADDR_BROADCAST);
        for (auto& c : clients) {
            auto bytes = serialize(c.discover);
            for (int attempt = 0; attempt < 2; attempt++) {
                sendto(s, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
                bool got = false;
                for (int polls = 0; polls < 10 && !got; polls++) {
                    pollfd p{s, POLLIN, 0};
                    if (poll(&p, 1, 150) != 1) continue;
                    uint8_t buf[1500];
                    ssize_t n = recv(s, buf, sizeof buf, 0);
                    auto r = n > 0 ? parse(std::span<const uint8_t>(buf, size_t(n))) : Result<Packet, ParseError>(Err(ParseError::TooShort));
                    if (!r || r->xid != c.discover.xid) continue;
                    std::ofstream(dir + "/reply." + std::to_string(c.discover.xid), std::ios::binary)
                        .write(reinterpret_cast<char*>(buf), n);
                    got = true;
                }
                if (got) break;
            }
        }
        _exit(0);
    }
    waitpid(pid, nullptr, 0);
    std::map<uint32_t, Packet> out;
    for (auto& c : clients) {
        std::ifstream in(dir + "/reply." + std::to_string(c.discover.xid), std::ios::binary);
        std::vector<uint8_t> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (auto p = parse(b)) out[c.discover.xid] = *p;
    }
    sh("rm -f " + dir + "/reply.*");
    return out;
}

std::string hex(const std::vector<uint8_t>& v) {
    std::string s;
    char b[4];
    for (auto x : v) snprintf(b, sizeof b, "%02x", x), s += b;
    return s;
}

// Option 43's sub-options as a set (order differs between the servers).
std::set<std::string> subs(const Option* o) {
    std::set<std::string> out;
    if (!o) return out;
    for (size_t i = 0; i < o->data.size() && o->data[i] != 255;) {
        if (o->data[i] == 0) { i++; continue; }
        if (i + 1 >= o->data.size()) break;
        size_t n = o->data[i + 1];
        out.insert(hex(std::vector<uint8_t>(o->data.begin() + i, o->data.begin() + std::min(o->data.size(), i + 2 + n))));
        i += 2 + n;
    }
    return out;
}

std::string boot_file(const Packet& p) {
    if (auto f = p.options.get_str(opt::BootfileName)) {
        std::string s = *f;
        if (!s.empty() && s.back() == '\0') s.pop_back();  // dnsmasq NUL-terminates 67 for buggy ROMs
        return s;
    }
    return p.file_str();
}

// What differs between dnsmasq's offer `d` and pxed's `x`, beyond the
// accepted differences above; empty when they agree.
std::string compare(const std::string& who, const Packet& req, const Packet* d, const Packet* x) {
    if (!d || !x) return (d || x) ? who + ": only " + (d ? "dnsmasq" : "pxed") + " answered\n" : "";
    std::ostringstream o;
    if (boot_file(*d) != boot_file(*x)) o << who << ": boot file dnsmasq '" << boot_file(*d) << "' pxed '" << boot_file(*x) << "'\n";
    if (!boot_file(*d).empty() && d->siaddr != x->siaddr)
        o << who << ": siaddr dnsmasq " << d->siaddr.str() << " pxed " << x->siaddr.str() << "\n";
    for (uint8_t code : kCompared) {
        auto* a = d->options.find(code);
        auto* b = x->options.find(code);
        if ((a ? a->data : std::vector<uint8_t>{}) != (b ? b->data : std::vector<uint8_t>{}))
            o << who << ": option " << int(code) << " dnsmasq " << (a ? hex(a->data) : "-") << " pxed " << (b ? hex(b->data) : "-") << "\n";
    }
    if (auto* a = d->options.find(opt::VendorSpecific); a && subs(a) != subs(x->options.find(opt::VendorSpecific)))
        o << who << ": option 43 dnsmasq " << hex(a->data) << " pxed " << (x->options.find(43) ? hex(x->options.find(43)->data) : "-") << "\n";
    auto echo = req.options.get_str(opt::VendorClass);
    auto ours = x->options.get_str(opt::VendorClass);
    bool echoed = echo && d->options.get_str(opt::VendorClass) == echo && (!ours || echo->starts_with(*ours));
    if (auto a = d->options.get_str(opt::VendorClass); a && a != ours && !echoed)
        o << who << ": option 60 dnsmasq '" << *a << "' pxed '" << x->options.get_str(opt::VendorClass).value_or("-") << "'\n";
    return o.str();
}

// Stops the servers a test started (their pids are in `dir`) and removes
// `dir`, however the test ends (an ASSERT returns early).
struct Cleanup {
    std::string dir;
    ~Cleanup() {
        for (auto f : {"/dnsmasq.pid", "/pxed.pid"})
            sh("p=$(cat " + dir + f + " 2>/dev/null) && [ -n \"$p\" ] && kill $p 2>/dev/null && "
               "for i in $(seq 100); do kill -0 $p 2>/dev/null || break; sleep 0.1; done");
        sh("rm -rf " + dir);
    }
};

class SideBySide : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(SideBySide, OffersAgree) {
    if (!require_root()) return;
    if (sh("test -x /usr/sbin/dnsmasq") != 0) GTEST_SKIP() << "dnsmasq is not installed";
    const std::string name = GetParam();
    Netns srv("sbs"), cli("sbc");
    veth_pair(&srv, "s0", &cli, "c0");
    ASSERT_EQ(srv.run("ip addr add 192.0.2.1/24 dev s0 && ip link set s0 up"), 0);
    ASSERT_EQ(cli.run("ip link set c0 up"), 0);
    char t[] = "/tmp/pxedsbs.XXXXXX";
    std::string dir = mkdtemp(t);
    Cleanup cleanup{dir};
    std::string conf = adapt(name, dir);

    auto clients = pxe_clients();
    // A node the Ironic file ignores (its hosts file), a plain client elsewhere.
    clients.push_back({"ignored", pxe_discover("52:54:00:00:10:31", 0x5009, 0, "PXEClient:Arch:00000:UNDI:002001", kPxePrl)});
    // The LTSP and Foreman files' hosts (a reservation each).
    clients.push_back({"host", pxe_discover("52:54:00:00:20:01", 0x500a, 7, "PXEClient:Arch:00007:UNDI:003016", kPxePrl)});
    clients.push_back({"host21", pxe_discover("52:54:00:00:30:01", 0x500b, 0, "PXEClient:Arch:00000:UNDI:002001", kPxePrl)});

    // dnsmasq: no DNS, no ping check before offering (it would delay the
    // offers), root so that it may write the lease file in `dir`.
    // --no-daemon writes no pid file: $! is dnsmasq's (a simple command
    // after "cd ...;", not a subshell). Ready once it logs its range.
    srv.run("cd " + dir + "; /usr/sbin/dnsmasq --no-daemon --conf-file=" + conf + " --port=0 --no-ping --user=root > " +
            dir + "/dnsmasq.log 2>&1 & echo $! > " + dir + "/dnsmasq.pid");
    for (int i = 0; i < 50 && sh_out("cat " + dir + "/dnsmasq.log").find("DHCP, IP range") == std::string::npos; i++)
        usleep(100000);
    ASSERT_NE(sh_out("cat " + dir + "/dnsmasq.log").find("DHCP, IP range"), std::string::npos)
        << sh_out("cat " + dir + "/dnsmasq.log");
    auto from_dnsmasq = exchange(cli, clients, dir);
    sh("p=$(cat " + dir + "/dnsmasq.pid); kill $p; for i in $(seq 50); do kill -0 $p 2>/dev/null || break; sleep 0.1; done; "
       "rm " + dir + "/dnsmasq.pid");

    srv.run("cd " + dir + "; " + pxed_bin() + " --dnsmasq-conf " + conf + " > " + dir + "/pxed.log 2>&1 & echo $! > " +
            dir + "/pxed.pid");
    for (int i = 0; i < 100 && sh_out("cat " + dir + "/pxed.log").find(" ready") == std::string::npos; i++) usleep(50000);
    ASSERT_NE(sh_out("cat " + dir + "/pxed.log").find(" ready"), std::string::npos) << sh_out("cat " + dir + "/pxed.log");
    auto from_pxed = exchange(cli, clients, dir);
    sh("p=$(cat " + dir + "/pxed.pid); kill $p; for i in $(seq 100); do kill -0 $p 2>/dev/null || break; sleep 0.1; done; "
       "rm " + dir + "/pxed.pid");
    expect_no_sanitizer_report(sh_out("cat " + dir + "/pxed.log"), dir + "/pxed.log");

    std::string diffs;
    int answered = 0;
    for (auto& c : clients) {
        auto d = from_dnsmasq.find(c.discover.xid);
        auto x = from_pxed.find(c.discover.xid);
        const Packet* dp = d == from_dnsmasq.end() ? nullptr : &d->second;
        const Packet* xp = x == from_pxed.end() ? nullptr : &x->second;
        answered += dp != nullptr;
        diffs += compare(name + " " + c.name, c.discover, dp, xp);
        // A reserved address is the same; pool addresses may differ.
        bool reserved = (name == "ltsp.conf" && c.name == "host") || (name == "foreman.conf" && c.name == "host21");
        if (reserved && dp && xp && dp->yiaddr != xp->yiaddr)
            diffs += name + " " + c.name + ": address dnsmasq " + dp->yiaddr.str() + " pxed " + xp->yiaddr.str() + "\n";
    }
    EXPECT_GE(answered, 6) << name << ": dnsmasq answered too few\n" << sh_out("cat " + dir + "/dnsmasq.log");
    EXPECT_EQ(diffs, "") << sh_out("cat " + dir + "/dnsmasq.log | tail -40");
}

INSTANTIATE_TEST_SUITE_P(Corpus, SideBySide,
                         ::testing::Values("ironic.conf", "fog.conf", "ltsp.conf", "netbootxyz.conf", "foreman.conf",
                                           "rpi.conf"),
                         [](const auto& info) {
                             std::string n = info.param.substr(0, info.param.find('.'));
                             return n;
                         });
