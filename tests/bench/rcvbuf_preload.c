// LD_PRELOAD shim for load generators (perfdhcp): every IPv4 or IPv6 UDP or
// packet socket the program opens gets an 8 MiB receive buffer (SO_RCVBUFFORCE,
// root; SO_RCVBUF as a fallback), so that at high rates the generator itself
// does not drop the server's replies in its socket buffer. The benchmarks
// apply it to the generator alike for every server they compare.
// Build: cc -shared -fPIC -O2 -o rcvbuf_preload.so rcvbuf_preload.c -ldl
// Environment: RCVBUF_BYTES overrides the size.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/socket.h>

int socket(int domain, int type, int protocol) {
    static int (*real_socket)(int, int, int);
    if (!real_socket) real_socket = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
    int fd = real_socket(domain, type, protocol);
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0 && (domain == AF_INET || domain == AF_INET6 || domain == AF_PACKET) && (base == SOCK_DGRAM || base == SOCK_RAW)) {
        const char* env = getenv("RCVBUF_BYTES");
        int bytes = env ? atoi(env) : 8 << 20;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    }
    return fd;
}
