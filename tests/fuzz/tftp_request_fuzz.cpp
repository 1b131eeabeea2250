// Fuzzes the TFTP request and option parser, the option negotiation, the
// safe open of the requested name under a boot root (with a symlink out, a
// symlink to .., an unreadable file and a FIFO in it), and the read-session
// state machine driven with a fake clock by ACKs, ERRORs, garbage and
// timeouts derived from the input.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tftp/codec.h"
#include "tftp/safe_open.h"
#include "tftp/session.h"

using namespace pxed::tftp;

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "tftp_request invariant broken: %s\n", what);
    std::abort();
}

void check_sends(const Session& s, const Negotiated& n, const std::vector<Session::Send>& out) {
    if (out.size() > n.windowsize && !(out.size() == 1 && out[0].kind == Session::Send::Oack))
        fail("more DATA blocks in one go than the window");
    for (auto& x : out) {
        if (x.kind == Session::Send::Oack) {
            if (n.oack.empty()) fail("OACK without options");
            continue;
        }
        if (x.block < 1 || x.block > s.total_blocks()) fail("DATA block outside the file");
        if (s.length_of(x.block) > s.blksize()) fail("DATA block longer than blksize");
        if (x.block < s.total_blocks() && s.length_of(x.block) != s.blksize()) fail("short DATA block before the last");
    }
}

struct Root {
    std::string path;
    int fd = -1;
};

const Root& boot_root() {
    static Root r = [] {
        char t[] = "/tmp/pxed-fuzz-tftp-XXXXXX";
        if (!mkdtemp(t)) std::abort();
        Root x;
        std::string top = t;
        x.path = top + "/root";
        auto put = [](const std::string& p, mode_t mode) {
            int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
            if (fd < 0 || write(fd, "boot", 4) != 4) std::abort();
            close(fd);
            chmod(p.c_str(), mode);
        };
        mkdir(x.path.c_str(), 0755);
        mkdir((x.path + "/pxelinux.cfg").c_str(), 0755);
        mkdir((x.path + "/boot-screens").c_str(), 0755);
        put(x.path + "/pxelinux.0", 0644);
        put(x.path + "/ldlinux.c32", 0644);
        put(x.path + "/pxelinux.cfg/default", 0644);
        put(x.path + "/boot-screens/splash.png", 0644);
        put(x.path + "/secret", 0600);
        put(top + "/outside", 0644);
        if (symlink("../outside", (x.path + "/escape").c_str()) != 0) std::abort();
        if (symlink("..", (x.path + "/up").c_str()) != 0) std::abort();
        if (symlink("/etc/passwd", (x.path + "/passwd").c_str()) != 0) std::abort();
        if (mkfifo((x.path + "/fifo").c_str(), 0644) != 0) std::abort();
        x.fd = open(x.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (x.fd < 0) std::abort();
        return x;
    }();
    return r;
}

// What the server would open for this name must be a world-readable
// regular file inside the root.
void check_open(const std::string& name) {
    const Root& root = boot_root();
    auto f = open_beneath(root.fd, name);
    if (!f.ok()) {
        if (f.error().message.empty()) fail("open refused without a reason");
        return;
    }
    char link[4096];
    std::string proc = "/proc/self/fd/" + std::to_string(f->fd);
    ssize_t n = readlink(proc.c_str(), link, sizeof link - 1);
    if (n <= 0) fail("opened fd has no path");
    link[n] = 0;
    std::string got(link);
    if (got.compare(0, root.path.size() + 1, root.path + "/") != 0) {
        std::fprintf(stderr, "'%s' opened %s\n", name.c_str(), got.c_str());
        fail("a file outside the boot root was opened");
    }
    struct stat st{};
    if (fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode) || !(st.st_mode & S_IROTH)) fail("opened a file not to be served");
    close(f->fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const uint8_t> in(data, size);
    (void)parse_ack(in);
    (void)is_error(in);
    auto r = parse_request(in);
    if (!r.ok()) {
        if (r.error().message.empty()) fail("parse error without a message");
        auto e = make_error(r.error().code, r.error().message);
        if (e.size() < 5 || e.back() != 0 || !is_error(e)) fail("ERROR packet malformed");
        return 0;
    }
    if (r->filename.empty()) fail("accepted an empty filename");
    check_open(r->filename);
    for (auto& [name, value] : r->options)
        for (char c : name)
            if (c >= 'A' && c <= 'Z') fail("option name not lower-cased");

    // The file size and interface cap come from the input too.
    uint32_t h = 2166136261u;
    for (uint8_t b : in) h = (h ^ b) * 16777619u;
    static const uint64_t kSizes[] = {0, 1, 511, 512, 513, 1432 * 3, 65536ull * 512 + 7, 1ull << 33};
    uint64_t file_size = kSizes[h % 8];
    Limits lim;
    lim.max_blksize = (h >> 8) & 1 ? 1432 : kMaxBlksize;
    lim.max_retries = 3;

    auto n = negotiate(*r, file_size, lim);
    if (!n.ok()) {
        if (n.error().code != ErrorCode::OptionRefused) fail("a refused option is not error 8");
        return 0;
    }
    if (n->blksize < kMinBlksize || n->blksize > lim.max_blksize) fail("negotiated blksize out of bounds");
    if (n->windowsize < 1) fail("window size 0");
    auto oack = make_oack(n->oack);
    if (oack.size() < 2 || oack[0] != 0 || oack[1] != 6) fail("OACK malformed");

    Session s(*n, file_size, lim);
    int64_t now = 1'000'000'000;
    auto out = s.start(now);
    check_sends(s, *n, out);
    uint64_t highest = 0;
    for (auto& x : out)
        if (x.kind == Session::Send::Data) highest = std::max(highest, x.block);
    // Events: each input byte is one.
    uint32_t consecutive_timeouts = 0;
    for (size_t i = 0; i < size && i < 512 && !s.done() && !s.failed(); i++) {
        uint8_t b = data[i];
        switch (b & 3) {
        case 0: {  // ACK of the highest block sent (or nearby)
            uint16_t w = Session::wire(highest) - uint16_t(b >> 5);
            out = s.on_ack(w, now + (b >> 2) * 1000);
            consecutive_timeouts = 0;
            break;
        }
        case 1:  // ACK with any wire number
            out = s.on_ack(uint16_t(b * 257 + i), now);
            break;
        case 2:  // time passes to the deadline
            now = std::max(now, s.deadline());
            out = s.on_timeout(now);
            if (++consecutive_timeouts > lim.max_retries + 1 && !s.failed()) fail("no give-up after max_retries");
            break;
        case 3:
            if (b == 0xff) {
                s.on_error();
                if (!s.failed()) fail("ERROR did not end the session");
                if (!s.on_ack(Session::wire(highest), now).empty()) fail("data after ERROR");
            }
            out = s.on_timeout(now - 1);  // early: nothing
            if (!out.empty()) fail("sent before the deadline");
            break;
        }
        now += 1000;
        check_sends(s, *n, out);
        for (auto& x : out)
            if (x.kind == Session::Send::Data) highest = std::max(highest, x.block);
        if (s.done() && !s.on_ack(Session::wire(highest), now).empty()) fail("data after done");
    }
    return 0;
}
