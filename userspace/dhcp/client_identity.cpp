// Which client a request is: the key its lease is filed under (dnsmasq's
// and Kea's rule for option 61 against the hardware address).
#include <algorithm>

#include "dhcp/engine.h"

namespace pxed::dhcp {

using lease::Lease;

namespace {
lease::ClientKey hw_key(const Packet& p) {
    std::string k = "hw:";
    k.push_back(char(p.htype));
    k.append(reinterpret_cast<const char*>(p.chaddr.data()), std::min<size_t>(p.hlen, 16));
    return k;
}
}  // namespace

lease::ClientKey client_key(const Packet& p) {
    if (auto* id = p.options.find(opt::ClientId); id && !id->data.empty())
        return "id:" + std::string(id->data.begin(), id->data.end());
    return hw_key(p);
}

// The client's key, after dnsmasq's rule (lease.c, lease_find_by_client):
// client ids are compared when both the request and the lease have one;
// when either lacks it, the hardware address decides. A PXE ROM sends no
// option 61 and the iPXE or installer after it does: one machine, one
// lease. A lease taken without client id takes the id of the first request
// that has one; a request without id uses the lease's id and never clears
// it (dnsmasq's lease_set_hwaddr: "stops packets without a clid removing
// the record"). Two different client ids on one MAC stay two clients.
lease::ClientKey Engine::identify(const Packet& req) {
    lease::ClientKey key = client_key(req);
    if (leases_.by_client(key)) return key;
    if (key.starts_with("id:")) {
        if (const Lease* hw = leases_.by_client(hw_key(req))) {  // a lease taken without client id
            Lease l = *hw;
            l.client = key;
            leases_.put(l);
        }
        return key;
    }
    if (const Lease* l = leases_.with_client_id_of(req.mac())) return l->client;
    return key;
}

}  // namespace pxed::dhcp
