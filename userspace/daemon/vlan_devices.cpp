#include "daemon/vlan_devices.h"

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/unique_fd.h"

namespace pxed::daemon {

namespace {

// The attributes in [p, p + len): calls f(type, payload, payload length)
// for each whole one; stops at the first that runs past the end.
template <class F>
void for_each_attr(const uint8_t* p, size_t len, F&& f) {
    while (len >= sizeof(rtattr)) {
        rtattr a;
        std::memcpy(&a, p, sizeof a);
        if (a.rta_len < sizeof(rtattr) || a.rta_len > len) return;
        f(uint16_t(a.rta_type & NLA_TYPE_MASK), p + RTA_LENGTH(0), size_t(a.rta_len) - RTA_LENGTH(0));
        size_t step = RTA_ALIGN(a.rta_len);
        if (step >= len) return;
        p += step;
        len -= step;
    }
}

template <class T>
std::optional<T> scalar(const uint8_t* p, size_t n) {
    if (n < sizeof(T)) return std::nullopt;
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

}  // namespace

std::optional<VlanDevice> parse_vlan_link(const uint8_t* msg, size_t len) {
    if (len < NLMSG_LENGTH(sizeof(ifinfomsg))) return std::nullopt;
    nlmsghdr h;
    std::memcpy(&h, msg, sizeof h);
    if (h.nlmsg_type != RTM_NEWLINK || h.nlmsg_len > len || h.nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg)))
        return std::nullopt;
    ifinfomsg ifi;
    std::memcpy(&ifi, msg + NLMSG_LENGTH(0), sizeof ifi);
    VlanDevice d;
    d.ifindex = ifi.ifi_index;
    bool is_vlan = false, has_id = false;
    size_t off = NLMSG_LENGTH(sizeof(ifinfomsg));
    size_t attrs = h.nlmsg_len - off;
    for_each_attr(msg + NLMSG_ALIGN(off), attrs, [&](uint16_t type, const uint8_t* p, size_t n) {
        if (type == IFLA_IFNAME) {
            d.name.assign(reinterpret_cast<const char*>(p), strnlen(reinterpret_cast<const char*>(p), n));
        } else if (type == IFLA_LINK) {
            d.lower = scalar<int32_t>(p, n).value_or(0);
        } else if (type == IFLA_LINKINFO) {
            for_each_attr(p, n, [&](uint16_t t2, const uint8_t* p2, size_t n2) {
                if (t2 == IFLA_INFO_KIND) is_vlan = std::string_view(reinterpret_cast<const char*>(p2), strnlen(reinterpret_cast<const char*>(p2), n2)) == "vlan";
                if (t2 != IFLA_INFO_DATA) return;
                for_each_attr(p2, n2, [&](uint16_t t3, const uint8_t* p3, size_t n3) {
                    if (t3 == IFLA_VLAN_ID) {
                        if (auto v = scalar<uint16_t>(p3, n3)) {
                            d.vid = *v;
                            has_id = true;
                        }
                    } else if (t3 == IFLA_VLAN_PROTOCOL) {
                        if (auto v = scalar<uint16_t>(p3, n3)) d.proto = uint16_t(ntohs(*v));
                    }
                });
            });
        }
    });
    if (!is_vlan || !has_id || d.name.empty() || d.lower == 0) return std::nullopt;
    if (d.proto == 0) d.proto = 0x8100;
    return d;
}

Result<std::vector<VlanDevice>> list_vlan_devices() {
    UniqueFd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (fd.get() < 0) return Err(std::string("rtnetlink socket: ") + std::strerror(errno));
    struct {
        nlmsghdr h;
        ifinfomsg i;
    } req{};
    req.h.nlmsg_len = sizeof req;
    req.h.nlmsg_type = RTM_GETLINK;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.h.nlmsg_seq = 1;
    req.i.ifi_family = AF_UNSPEC;
    if (send(fd.get(), &req, sizeof req, 0) < 0) return Err(std::string("rtnetlink dump: ") + std::strerror(errno));
    std::vector<VlanDevice> out;
    std::vector<uint8_t> buf(64 * 1024);
    // A dump ends with NLMSG_DONE; the bound only guards against a kernel
    // that never says so (each part holds at least one link).
    for (int parts = 0; parts < 65536; parts++) {
        ssize_t n = recv(fd.get(), buf.data(), buf.size(), 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Err(std::string("rtnetlink dump: ") + std::strerror(errno));
        }
        size_t left = size_t(n);
        const uint8_t* p = buf.data();
        while (left >= sizeof(nlmsghdr)) {
            nlmsghdr h;
            std::memcpy(&h, p, sizeof h);
            if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > left) break;
            if (h.nlmsg_type == NLMSG_DONE) return out;
            if (h.nlmsg_type == NLMSG_ERROR) return Err(std::string("rtnetlink dump refused"));
            if (auto d = parse_vlan_link(p, h.nlmsg_len)) out.push_back(std::move(*d));
            size_t step = NLMSG_ALIGN(h.nlmsg_len);
            if (step >= left) break;
            p += step;
            left -= step;
        }
    }
    return Err(std::string("rtnetlink dump did not end"));
}

std::optional<VlanDevice> find_vlan_device(const std::vector<VlanDevice>& all, int trunk, uint16_t outer,
                                           uint16_t inner) {
    for (auto& o : all) {
        if (o.lower != trunk || o.vid != outer) continue;
        if (!inner) return o;
        for (auto& i : all)
            if (i.lower == o.ifindex && i.vid == inner) return i;
    }
    return std::nullopt;
}

}  // namespace pxed::daemon
