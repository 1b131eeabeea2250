// The TFTP server's per-block I/O, measured primitive by primitive, so that
// the way pxed reads and sends a block is chosen by measurement (issue 5):
//
//   pread+send      pread() the block into a buffer behind the 4-byte DATA
//                   header, send() it (what the server does today)
//   mmap+copy+send  the file mapped once; memcpy the block, send()
//   mmap+sendmsg    the file mapped once; sendmsg() with two iovecs (header,
//                   mapped block): no copy in userspace
//   mmap+sendmmsg   as above, W blocks per sendmmsg() (a window of W blocks,
//                   RFC 7440, or W sessions ready at once)
//   io_uring        W IORING_OP_SENDMSG per submit, as above
//
// A connected UDP socket on the loopback of a network namespace (the script
// runs this in one it creates) sends to a receiver thread that drains with
// recvmmsg(). The figure is the sender's wall time per block; the receiver's
// count shows how many arrived (a sender faster than the receiver loses
// datagrams to the receive buffer, so the count is printed beside it).
// Benchmark, not test: prints figures only.
#include <arpa/inet.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

struct File {
    int fd = -1;
    const uint8_t* map = nullptr;
    size_t size = 0;
};

File open_file(const char* path) {
    File f;
    f.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f.fd < 0) die(path);
    struct stat st{};
    if (fstat(f.fd, &st) < 0) die("fstat");
    f.size = size_t(st.st_size);
    void* m = mmap(nullptr, f.size, PROT_READ, MAP_SHARED, f.fd, 0);
    if (m == MAP_FAILED) die("mmap");
    f.map = static_cast<const uint8_t*>(m);
    // Warm the page cache, as a boot file being served is.
    std::vector<uint8_t> tmp(1 << 20);
    for (off_t o = 0; pread(f.fd, tmp.data(), tmp.size(), o) > 0; o += off_t(tmp.size())) {
    }
    return f;
}

struct Receiver {
    int fd = -1;
    uint16_t port = 0;
    std::atomic<uint64_t> got{0};
    std::atomic<bool> stop{false};
    std::thread th;

    Receiver() {
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) die("socket");
        int sz = 64 << 20;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
        timeval tv{0, 100000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) die("bind");
        socklen_t l = sizeof a;
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &l);
        port = ntohs(a.sin_port);
        th = std::thread([this] { run(); });
    }
    ~Receiver() {
        stop = true;
        th.join();
        close(fd);
    }
    void run() {
        constexpr int kBatch = 64;
        static thread_local std::vector<uint8_t> space(kBatch * 9000);
        mmsghdr msgs[kBatch];
        iovec iov[kBatch];
        while (!stop) {
            for (int i = 0; i < kBatch; i++) {
                iov[i] = {space.data() + size_t(i) * 9000, 9000};
                msgs[i] = {};
                msgs[i].msg_hdr.msg_iov = &iov[i];
                msgs[i].msg_hdr.msg_iovlen = 1;
            }
            int n = recvmmsg(fd, msgs, kBatch, 0, nullptr);
            if (n > 0) got += uint64_t(n);
        }
    }
    // Waits until the count has not grown for 300 ms (bounded: 3 s).
    uint64_t settle() {
        uint64_t last = got;
        for (int i = 0, still = 0; i < 30 && still < 3; i++) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            uint64_t now = got;
            still = now == last ? still + 1 : 0;
            last = now;
        }
        return got.exchange(0);
    }
};

int sender_socket(uint16_t port) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) die("connect");
    return fd;
}

struct Run {
    size_t blksize;
    size_t blocks;  // per method
    size_t window;
};

inline void header(uint8_t* h, uint32_t block) {
    h[0] = 0;
    h[1] = 3;
    h[2] = uint8_t(block >> 8);
    h[3] = uint8_t(block);
}

// Each method sends `blocks` consecutive blocks, wrapping around the file.
size_t pread_send(const File& f, int s, const Run& r) {
    std::vector<uint8_t> buf(4 + r.blksize);
    size_t nblk = f.size / r.blksize, sent = 0;
    for (size_t i = 0; i < r.blocks; i++) {
        header(buf.data(), uint32_t(i + 1));
        off_t off = off_t((i % nblk) * r.blksize);
        if (pread(f.fd, buf.data() + 4, r.blksize, off) != ssize_t(r.blksize)) die("pread");
        if (send(s, buf.data(), 4 + r.blksize, 0) > 0) sent++;
    }
    return sent;
}

size_t mmap_copy_send(const File& f, int s, const Run& r) {
    std::vector<uint8_t> buf(4 + r.blksize);
    size_t nblk = f.size / r.blksize, sent = 0;
    for (size_t i = 0; i < r.blocks; i++) {
        header(buf.data(), uint32_t(i + 1));
        std::memcpy(buf.data() + 4, f.map + (i % nblk) * r.blksize, r.blksize);
        if (send(s, buf.data(), 4 + r.blksize, 0) > 0) sent++;
    }
    return sent;
}

size_t mmap_sendmsg(const File& f, int s, const Run& r) {
    uint8_t h[4];
    size_t nblk = f.size / r.blksize, sent = 0;
    for (size_t i = 0; i < r.blocks; i++) {
        header(h, uint32_t(i + 1));
        iovec iov[2] = {{h, 4}, {const_cast<uint8_t*>(f.map + (i % nblk) * r.blksize), r.blksize}};
        msghdr m{};
        m.msg_iov = iov;
        m.msg_iovlen = 2;
        if (sendmsg(s, &m, 0) > 0) sent++;
    }
    return sent;
}

// A window of blocks starting at block i, each a header and its mapped
// block, ready for sendmmsg (or, one msghdr each, for io_uring).
struct Window {
    std::vector<uint8_t> h;
    std::vector<iovec> iov;
    std::vector<mmsghdr> msgs;
    explicit Window(size_t n) : h(4 * n), iov(2 * n), msgs(n) {}
    size_t fill(const File& f, const Run& r, size_t i) {
        size_t nblk = f.size / r.blksize, w = std::min(r.window, r.blocks - i);
        for (size_t k = 0; k < w; k++) {
            header(&h[4 * k], uint32_t(i + k + 1));
            iov[2 * k] = {&h[4 * k], 4};
            iov[2 * k + 1] = {const_cast<uint8_t*>(f.map + ((i + k) % nblk) * r.blksize), r.blksize};
            msgs[k] = {};
            msgs[k].msg_hdr.msg_iov = &iov[2 * k];
            msgs[k].msg_hdr.msg_iovlen = 2;
        }
        return w;
    }
};

size_t mmap_sendmmsg(const File& f, int s, const Run& r) {
    Window win(r.window);
    size_t sent = 0;
    for (size_t i = 0; i < r.blocks; i += r.window) {
        size_t w = win.fill(f, r, i);
        int n = sendmmsg(s, win.msgs.data(), unsigned(w), 0);
        if (n > 0) sent += size_t(n);
    }
    return sent;
}

size_t uring_send(const File& f, int s, const Run& r) {
    io_uring ring;
    if (int e = io_uring_queue_init(unsigned(2 * r.window), &ring, 0); e < 0) {
        errno = -e;
        die("io_uring_queue_init");
    }
    Window win(r.window);
    size_t sent = 0;
    for (size_t i = 0; i < r.blocks; i += r.window) {
        size_t w = win.fill(f, r, i);
        for (size_t k = 0; k < w; k++) io_uring_prep_sendmsg(io_uring_get_sqe(&ring), s, &win.msgs[k].msg_hdr, 0);
        io_uring_submit_and_wait(&ring, unsigned(w));
        io_uring_cqe* cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            if (cqe->res > 0) sent++;
            seen++;
        }
        io_uring_cq_advance(&ring, seen);
    }
    io_uring_queue_exit(&ring);
    return sent;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s FILE [BLOCKS] [WINDOW]\n", argv[0]);
        return 2;
    }
    File f = open_file(argv[1]);
    size_t blocks = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 200000;
    size_t window = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 16;
    Receiver rx;
    int s = sender_socket(rx.port);
    int sz = 16 << 20;
    setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz);

    struct Method {
        const char* name;
        size_t (*fn)(const File&, int, const Run&);
        bool batched;
    };
    const Method methods[] = {
        {"pread+send", pread_send, false},       {"mmap+copy+send", mmap_copy_send, false},
        {"mmap+sendmsg", mmap_sendmsg, false},   {"mmap+sendmmsg", mmap_sendmmsg, true},
        {"io_uring sendmsg", uring_send, true},
    };
    std::printf("%-18s %7s %6s %10s %10s %8s %9s\n", "method", "blksize", "batch", "ns/block", "MB/s", "speed-up", "received");
    for (size_t blksize : {size_t(512), size_t(1428), size_t(8192)}) {
        double base = 0;
        for (const Method& m : methods) {
            Run r{blksize, blocks, m.batched ? window : 1};
            m.fn(f, s, Run{blksize, blocks / 10, r.window});  // warm-up
            rx.settle();
            auto t0 = std::chrono::steady_clock::now();
            size_t sent = m.fn(f, s, r);
            double ns = double(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
            uint64_t got = rx.settle();
            double per = ns / double(blocks);
            if (base == 0) base = per;
            std::printf("%-18s %7zu %6zu %10.0f %10.1f %8.2f %8.1f%%\n", m.name, blksize, r.window, per,
                        double(blksize) * 1e3 / per, base / per, sent ? 100.0 * double(got) / double(sent) : 0.0);
            std::fflush(stdout);
        }
    }
    close(s);
    return 0;
}
