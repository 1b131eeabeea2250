#pragma once
// An IPv6 address a file server listens on. A link-local address names a
// link only together with its interface (its scope): the index for the
// sockets, the name for text and for getaddrinfo ("fe80::1%eth0", as URLs
// and `ip` write it).
#include <cstdint>
#include <string>

#include "pxed/net.h"

namespace pxed {

struct Listen6 {
    Ipv6 addr;
    uint32_t scope = 0;  // link-local: the interface's index; else 0
    std::string zone;    // link-local: the interface's name; else empty
    std::string str() const {
        std::string s = addr.str();
        if (!zone.empty()) {
            s += '%';
            s += zone;
        }
        return s;
    }
};

}  // namespace pxed
