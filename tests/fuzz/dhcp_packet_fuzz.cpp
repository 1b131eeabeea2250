// Fuzzes the DHCP codec: parse must never crash, and what it accepts must
// survive a serialize/parse round trip unchanged.
#include <cstdlib>

#include "dhcp/frame.h"
#include "dhcp/packet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const uint8_t> in(data, size);
    auto p = pxed::dhcp::parse(in);
    if (p.ok()) {
        auto bytes = pxed::dhcp::serialize(*p);
        auto q = pxed::dhcp::parse(bytes);
        if (!q.ok()) std::abort();
        // The encoder may reorder options (message type first); compare by code.
        if (q->options.all().size() != p->options.all().size()) std::abort();
        for (const auto& o : p->options.all()) {
            auto* r = q->options.find(o.code);
            if (!r || r->data != o.data) std::abort();
        }
        (void)q->message_type();
    }
    (void)pxed::dhcp::parse_udp_frame(in);
    return 0;
}
