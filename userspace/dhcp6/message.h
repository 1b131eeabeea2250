#pragma once
// DHCPv6 messages (RFC 8415): the codec. Pure: bytes in, a parsed message
// out; a Writer builds replies option by option. Relayed messages come
// wrapped in Relay-forw layers (RFC 8415 9); parse() unwraps them, keeping
// each layer's addresses and interface-id for the Relay-repl.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pxed/net.h"
#include "pxed/result.h"

namespace pxed::dhcp6 {

inline constexpr uint16_t kClientPort = 546, kServerPort = 547;
inline constexpr int kHopCountLimit = 8;  // RFC 8415 7.6 HOP_COUNT_LIMIT
inline constexpr size_t kMaxMessage = 1500;
inline constexpr uint32_t kEnterpriseIana = 343;  // the "PXEClient"/"HTTPClient" vendor class (RFC 5970 3.4)

enum class MsgType : uint8_t {
    Solicit = 1, Advertise = 2, Request = 3, Confirm = 4, Renew = 5, Rebind = 6, Reply = 7, Release = 8,
    Decline = 9, Reconfigure = 10, InformationRequest = 11, RelayForw = 12, RelayRepl = 13,
};
const char* to_string(MsgType t);

namespace opt {
inline constexpr uint16_t ClientId = 1, ServerId = 2, IaNa = 3, IaTa = 4, IaAddr = 5, Oro = 6, Preference = 7,
                          ElapsedTime = 8, RelayMsg = 9, Auth = 11, Unicast = 12, StatusCode = 13, RapidCommit = 14,
                          UserClass = 15, VendorClass = 16, VendorOpts = 17, InterfaceId = 18, ReconfAccept = 20,
                          DnsServers = 23, DomainList = 24, IaPd = 25, InfoRefreshTime = 32, BootfileUrl = 59,
                          BootfileParam = 60, ClientArch = 61, Nii = 62, ClientLinkLayer = 79, SolMaxRt = 82;
}

enum class Status : uint16_t { Success = 0, UnspecFail = 1, NoAddrsAvail = 2, NoBinding = 3, NotOnLink = 4, UseMulticast = 5 };

struct IaAddr {
    Ipv6 addr;
    uint32_t preferred = 0, valid = 0;
};

struct IaNa {
    uint32_t iaid = 0, t1 = 0, t2 = 0;
    std::vector<IaAddr> addrs;
};

// One Relay-forw layer, outermost first in Parsed::relays.
struct RelayHop {
    uint8_t hop_count = 0;
    Ipv6 link, peer;
    std::optional<std::vector<uint8_t>> interface_id;  // option 18, echoed in the Relay-repl
    std::optional<Mac> client_mac;                      // option 79 (RFC 6939), htype 1
};

struct Message {
    MsgType type = MsgType::Solicit;
    uint32_t xid = 0;  // 24 bits
    std::vector<uint8_t> client_id, server_id;  // DUIDs; empty when absent
    bool has_server_id = false;
    std::vector<IaNa> ia_na;
    bool has_ia_ta = false, has_ia_pd = false;  // not served: answered with no address of that kind
    std::vector<uint16_t> oro;
    bool rapid_commit = false;
    std::vector<uint16_t> archs;               // option 61, in the client's order
    std::optional<uint32_t> vendor_enterprise;  // option 16
    std::vector<std::string> vendor_class;      // option 16's entries
    std::vector<std::string> user_class;        // option 15's entries
    bool reconf_accept = false;

    bool requested(uint16_t code) const;
    // "PXEClient..." / "HTTPClient..." in option 16 (RFC 5970 3.4).
    bool vendor_class_starts(std::string_view prefix) const;
};

struct Parsed {
    std::vector<RelayHop> relays;  // outermost first; empty for a message straight from the client
    Message msg;
};

// Parses a datagram as a server receives it. Fails (with the reason) on a
// cut or malformed message, an option that does not fit, more than
// kHopCountLimit relay layers, or a type a server does not take.
Result<Parsed> parse(std::span<const uint8_t> bytes);

// The MAC a message carries for its client: option 79 of the innermost
// relay, else the one in a DUID-LLT or DUID-LL of Ethernet type.
std::optional<Mac> mac_of(const Parsed& p);
// The MAC in an EUI-64 link-local address (RFC 4291 2.5.1), if it is one.
std::optional<Mac> mac_from_link_local(const Ipv6& a);

// Builds a message: a header, then options; nest() opens an option that
// holds options (IA_NA, Relay-repl's relay-msg) and close() ends it.
class Writer {
public:
    Writer(MsgType type, uint32_t xid);
    // A Relay-repl header (RFC 8415 9.2).
    static Writer relay_repl(const RelayHop& hop);
    void option(uint16_t code, std::span<const uint8_t> data);
    void option(uint16_t code, std::string_view data);
    void u16_option(uint16_t code, uint16_t v);
    void status(Status s, std::string_view text);
    void ia_addr(const IaAddr& a);
    size_t nest(uint16_t code);  // returns the option's offset for close()
    void close(size_t at);
    void u32(uint32_t v);
    void raw(std::span<const uint8_t> b);
    const std::vector<uint8_t>& bytes() const { return out_; }
    std::vector<uint8_t> take() { return std::move(out_); }

private:
    Writer() = default;
    std::vector<uint8_t> out_;
};

}  // namespace pxed::dhcp6
