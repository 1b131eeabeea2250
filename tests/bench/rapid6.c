// DHCPv6 two-message (rapid commit, RFC 8415 18.2.1) load generator for
// scripts/bench-dhcp6. perfdhcp 2.2 cannot do it: with -c it must run with
// -i (Solicit exchanges only), and the first Reply a server sends to a
// rapid-commit Solicit makes it abort ("Packets exchange not specified":
// TestControl::processReceivedPacket6 files every Reply under the
// Request-Reply exchange, which -i does not create).
//
// Sends Solicits (Client Identifier DUID-LL from a counter modulo CLIENTS,
// Rapid Commit, Elapsed Time, one IA_NA) from the interface's link-local
// address, port 546, to ff02::1:2 port 547 at RATE per second for SECONDS,
// paced on the clock (a late send goes out at once, not dropped, as
// perfdhcp does); then waits for stragglers for DROP_MS. A Solicit is
// completed by a Reply with its transaction id, a Rapid Commit option and an
// IA_NA holding an address, received within DROP_MS (1 s, perfdhcp's
// drop time); anything else counts as lost, a Reply without an address as
// rejected. Prints perfdhcp-like lines for the script to parse.
//
// Usage: rapid6 IFACE RATE SECONDS CLIENTS
// Build: cc -O2 -o rapid6 rapid6.c
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DROP_MS 1000.0
#define MAX_SOLICITS (1 << 24)  // transaction ids are 24 bits

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int put_opt(uint8_t* p, uint16_t code, const void* data, uint16_t len) {
    p[0] = code >> 8, p[1] = code & 0xff, p[2] = len >> 8, p[3] = len & 0xff;
    if (len) memcpy(p + 4, data, len);
    return 4 + len;
}

// 1 when the Reply carries Rapid Commit and an IA_NA with an IA Address.
static int reply_ok(const uint8_t* b, ssize_t n) {
    int rc = 0, addr = 0;
    for (ssize_t i = 4; i + 4 <= n;) {
        uint16_t code = b[i] << 8 | b[i + 1], len = b[i + 2] << 8 | b[i + 3];
        if (i + 4 + len > n) return 0;
        if (code == 14) rc = 1;
        if (code == 3 && len >= 12) {
            for (ssize_t j = i + 16; j + 4 <= i + 4 + len;) {
                uint16_t c = b[j] << 8 | b[j + 1], l = b[j + 2] << 8 | b[j + 3];
                if (c == 5 && l >= 24) addr = 1;
                j += 4 + l;
            }
        }
        i += 4 + len;
    }
    return rc && addr;
}

int main(int argc, char** argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: rapid6 IFACE RATE SECONDS CLIENTS\n");
        return 2;
    }
    const char* ifname = argv[1];
    double rate = atof(argv[2]), secs = atof(argv[3]);
    long clients = atol(argv[4]);
    long total = (long)(rate * secs);
    if (rate <= 0 || secs <= 0 || clients <= 0 || total <= 0 || total >= MAX_SOLICITS) {
        fprintf(stderr, "rapid6: bad RATE/SECONDS/CLIENTS (at most %d Solicits)\n", MAX_SOLICITS - 1);
        return 2;
    }
    unsigned ifindex = if_nametoindex(ifname);
    struct sockaddr_in6 local = {.sin6_family = AF_INET6, .sin6_port = htons(546), .sin6_scope_id = ifindex};
    struct ifaddrs *ifa, *i;
    int found = 0;
    if (ifindex == 0 || getifaddrs(&ifa) != 0) return perror("rapid6: interface"), 1;
    for (i = ifa; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6 || strcmp(i->ifa_name, ifname) != 0) continue;
        struct in6_addr* a = &((struct sockaddr_in6*)i->ifa_addr)->sin6_addr;
        if (IN6_IS_ADDR_LINKLOCAL(a)) local.sin6_addr = *a, found = 1;
    }
    freeifaddrs(ifa);
    if (!found) return fprintf(stderr, "rapid6: %s has no link-local address\n", ifname), 1;
    int s = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int buf = 8 << 20;
    setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf);
    if (s < 0 || bind(s, (struct sockaddr*)&local, sizeof local) != 0) return perror("rapid6: bind"), 1;
    struct sockaddr_in6 dst = {.sin6_family = AF_INET6, .sin6_port = htons(547), .sin6_scope_id = ifindex};
    inet_pton(AF_INET6, "ff02::1:2", &dst.sin6_addr);

    double* sent_at = calloc(total + 1, sizeof(double));  // by xid; 0 = answered or never sent
    long sent = 0, done = 0, rejected = 0, late = 0, send_errors = 0;
    double sum = 0, min = 1e9, max = 0, start = now_ms(), end = start + secs * 1e3;
    uint8_t pkt[128], in[1500];
    for (;;) {
        double t = now_ms();
        if (sent >= total && t > end + DROP_MS) break;
        // Sends every Solicit due by now (at most 64 at a time, to read replies between).
        for (int k = 0; k < 64 && sent < total && start + sent * 1e3 / rate <= t; k++) {
            long xid = sent + 1, c = sent % clients;
            uint8_t duid[10] = {0, 3, 0, 1, 0x52, 0x6b, c >> 24, c >> 16, c >> 8, c};
            uint8_t ia[12] = {c >> 24, c >> 16, c >> 8, c, 0, 0, 0, 0, 0, 0, 0, 0}, elapsed[2] = {0, 0};
            int n = 0;
            pkt[n++] = 1;  // Solicit
            pkt[n++] = xid >> 16, pkt[n++] = xid >> 8, pkt[n++] = xid;
            n += put_opt(pkt + n, 1, duid, sizeof duid);
            n += put_opt(pkt + n, 8, elapsed, sizeof elapsed);
            n += put_opt(pkt + n, 14, NULL, 0);
            n += put_opt(pkt + n, 3, ia, sizeof ia);
            sent_at[xid] = now_ms();
            if (sendto(s, pkt, n, 0, (struct sockaddr*)&dst, sizeof dst) != n) send_errors++;
            sent++;
        }
        struct pollfd p = {.fd = s, .events = POLLIN};
        double next = sent < total ? start + sent * 1e3 / rate : end + DROP_MS;
        int wait = next > t ? (int)(next - t) : 0;
        if (poll(&p, 1, wait > 10 ? 10 : wait) <= 0) continue;
        for (ssize_t n; (n = recv(s, in, sizeof in, 0)) > 0;) {
            if (n < 4 || in[0] != 7) continue;
            long xid = (long)in[1] << 16 | in[2] << 8 | in[3];
            if (xid < 1 || xid > sent || sent_at[xid] == 0) continue;
            double d = now_ms() - sent_at[xid];
            sent_at[xid] = 0;
            if (d > DROP_MS) {
                late++;
                continue;
            }
            if (!reply_ok(in, n)) {
                rejected++;
                continue;
            }
            done++, sum += d;
            if (d < min) min = d;
            if (d > max) max = d;
        }
    }
    printf("***Statistics for: SOLICIT-REPLY (rapid commit)***\n");
    printf("sent packets: %ld\nreceived packets: %ld\n", sent, done);
    printf("late packets: %ld\nrejected leases: %ld\nsend errors: %ld\n", late, rejected, send_errors);
    printf("min delay: %.3f ms\navg delay: %.3f ms\nmax delay: %.3f ms\n", done ? min : 0, done ? sum / done : 0, max);
    printf("elapsed: %.3f s\n", (now_ms() - start) / 1e3);
    free(sent_at);
    return 0;
}
