#include "bpf/servers_map.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace pxed::bpf {

namespace {

// The bytes as text a log line and a label can hold: trailing zeros
// dropped (some servers end their strings with one), anything but
// printable ASCII as '?'.
std::string text_of(const uint8_t* p, size_t cap, size_t len) {
    size_t n = std::min(cap, len);
    while (n && p[n - 1] == 0) n--;
    std::string s(reinterpret_cast<const char*>(p), n);
    for (auto& c : s)
        if (c < 0x20 || c > 0x7e) c = '?';
    return s;
}

}  // namespace

std::string SeenServer::vlan_text() const {
    if (!vlan_outer && !vlan_inner) return "untagged";
    std::string s = "vlan ";
    s += vlan_ids();
    return s;
}

std::string SeenServer::vlan_ids() const {
    // Appends: GCC 12 at -O3 warns -Wrestrict on `"." + ...` (a false positive).
    std::string s = std::to_string(vlan_outer);
    if (vlan_inner) {
        s += '.';
        s += std::to_string(vlan_inner);
    }
    return s;
}

std::string SeenServer::id() const {
    return iface + "|" + server.str() + "|" + mac.str() + "|" + std::to_string(vlan_outer) + "." +
           std::to_string(vlan_inner);
}

SeenServer to_seen(const std::string& iface, const pxed_server_key& k, const pxed_server_seen& v) {
    SeenServer s;
    s.iface = iface;
    s.server = Ipv4(ntohl(k.server_id_be));
    s.by_option54 = v.flags & PXED_SRV_F_HAS_54;
    std::memcpy(s.mac.b.data(), k.mac, 6);
    s.vlan_outer = k.vlan_outer;
    s.vlan_inner = k.vlan_inner;
    s.first_ns = v.first_ns;
    s.last_ns = v.last_ns;
    s.offers = v.offers;
    s.acks = v.acks;
    s.naks = v.naks;
    s.last_type = v.last_type;
    s.yiaddr = Ipv4(ntohl(v.yiaddr_be));
    s.siaddr = Ipv4(ntohl(v.siaddr_be));
    s.relayed = v.flags & PXED_SRV_F_RELAYED;
    s.has_vendor_class = v.flags & PXED_SRV_F_HAS_60;
    if (s.has_vendor_class) {
        s.vendor_class = text_of(v.opt60, PXED_SRV_OPT60_LEN, v.len60);
        s.vendor_class_len = v.len60;
    }
    s.has_opt43 = v.flags & PXED_SRV_F_HAS_43;
    s.opt43_pxe = v.flags & PXED_SRV_F_43_PXE;
    s.opt43_len = s.has_opt43 ? v.len43 : 0;
    s.has_tftp_server = v.flags & PXED_SRV_F_HAS_66;
    if (s.has_tftp_server) s.tftp_server = text_of(v.opt66, PXED_SRV_OPT66_LEN, v.len66);
    if (v.flags & PXED_SRV_F_HAS_67) {
        s.boot_file = text_of(v.boot_file, PXED_SRV_FILE_LEN, v.len67);
        s.boot_file_len = v.len67;
        s.boot_file_from = "option 67";
    } else if (v.flags & PXED_SRV_F_FILE_FIELD) {
        // The file field's text ends at its first zero.
        size_t n = strnlen(reinterpret_cast<const char*>(v.boot_file), PXED_SRV_FILE_LEN);
        s.boot_file = text_of(v.boot_file, PXED_SRV_FILE_LEN, n);
        s.boot_file_len = n;
        s.boot_file_from = "file field";
    }
    return s;
}

Result<void> read_servers(int fd, const std::string& iface, const std::function<void(SeenServer)>& each) {
    std::vector<pxed_server_key> keys(PXED_SERVERS_MAX);
    std::vector<pxed_server_seen> vals(PXED_SERVERS_MAX);
    size_t n = 0;
    uint32_t token = 0;
    bool first = true;
    // The hash map's batches end at bucket boundaries: a few calls read it
    // all; bounded in case entries come and go meanwhile.
    for (int calls = 0; calls < 16 && n < keys.size(); calls++) {
        uint32_t count = uint32_t(keys.size() - n);
        int rc = bpf_map_lookup_batch(fd, first ? nullptr : &token, &token, &keys[n], &vals[n], &count, nullptr);
        int err = errno;
        first = false;
        n += std::min<size_t>(count, keys.size() - n);
        if (rc == 0) continue;
        if (err == ENOENT) break;
        return Err(std::string("reading the servers map: ") + std::strerror(err));
    }
    for (size_t i = 0; i < n; i++) each(to_seen(iface, keys[i], vals[i]));
    return {};
}

}  // namespace pxed::bpf
