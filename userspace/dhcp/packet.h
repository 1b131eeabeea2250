#pragma once
// DHCPv4 message codec (RFC 2131 section 2, RFC 2132, RFC 3396). Pure: bytes
// in, a Packet or a ParseError out; a Packet in, bytes out.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pxed/net.h"
#include "pxed/result.h"

namespace pxed::dhcp {

inline constexpr uint32_t kMagicCookie = 0x63825363;
inline constexpr size_t kFixedHeaderLen = 236;          // op .. file
inline constexpr size_t kMinMessageLen = kFixedHeaderLen + 4;  // + magic cookie
inline constexpr size_t kBootpMinLen = 300;             // RFC 1542: pad replies to 300 bytes
inline constexpr uint16_t kFlagBroadcast = 0x8000;

enum class MessageType : uint8_t {
    Discover = 1, Offer = 2, Request = 3, Decline = 4,
    Ack = 5, Nak = 6, Release = 7, Inform = 8,
};
std::string_view to_string(MessageType t);

namespace opt {
inline constexpr uint8_t Pad = 0, SubnetMask = 1, Router = 3, DnsServers = 6, Hostname = 12,
    DomainName = 15, BroadcastAddr = 28, VendorSpecific = 43, RequestedIp = 50, LeaseTime = 51, Overload = 52,
    MessageType = 53, ServerId = 54, ParamRequestList = 55, Message = 56, MaxMessageSize = 57,
    RenewalT1 = 58, RebindingT2 = 59, VendorClass = 60, ClientId = 61, TftpServerName = 66,
    BootfileName = 67, UserClass = 77, RelayAgentInfo = 82, ClientArch = 93, ClientNdi = 94,
    ClientGuid = 97, End = 255;
}

struct Option {
    uint8_t code = 0;
    std::vector<uint8_t> data;
    bool operator==(const Option&) const = default;
};

// Options in the order they appear (or will be written). A code appears at
// most once: RFC 3396 concatenation is done by the parser.
class Options {
public:
    const Option* find(uint8_t code) const;
    bool has(uint8_t code) const { return find(code) != nullptr; }
    void set(uint8_t code, std::span<const uint8_t> data);
    void set_u8(uint8_t code, uint8_t v);
    void set_u16(uint8_t code, uint16_t v);
    void set_u32(uint8_t code, uint32_t v);
    void set_ip(uint8_t code, Ipv4 ip);
    void set_ips(uint8_t code, std::span<const Ipv4> ips);
    void set_str(uint8_t code, std::string_view s);
    void erase(uint8_t code);
    void append_raw(uint8_t code, std::span<const uint8_t> data);  // concatenate (RFC 3396)

    std::optional<uint8_t> get_u8(uint8_t code) const;
    std::optional<uint16_t> get_u16(uint8_t code) const;
    std::optional<uint32_t> get_u32(uint8_t code) const;
    std::optional<Ipv4> get_ip(uint8_t code) const;
    std::optional<std::string> get_str(uint8_t code) const;

    const std::vector<Option>& all() const { return list_; }
    bool operator==(const Options&) const = default;

private:
    std::vector<Option> list_;
};

struct Packet {
    uint8_t op = 1;  // 1 BOOTREQUEST, 2 BOOTREPLY
    uint8_t htype = 1;
    uint8_t hlen = 6;
    uint8_t hops = 0;
    uint32_t xid = 0;
    uint16_t secs = 0;
    uint16_t flags = 0;
    Ipv4 ciaddr, yiaddr, siaddr, giaddr;
    std::array<uint8_t, 16> chaddr{};
    std::array<uint8_t, 64> sname{};
    std::array<uint8_t, 128> file{};
    Options options;

    std::optional<MessageType> message_type() const;
    Mac mac() const;  // first 6 bytes of chaddr
    void set_mac(const Mac& m);
    bool broadcast() const { return flags & kFlagBroadcast; }
    void set_sname(std::string_view s);
    void set_file(std::string_view s);
    std::string file_str() const;
    std::string sname_str() const;
    bool operator==(const Packet&) const = default;
};

enum class ParseError {
    TooShort,        // shorter than the fixed header and magic cookie
    BadMagic,        // not a DHCP message (BOOTP without the cookie)
    BadHardware,     // hlen larger than chaddr
    OptionOverrun,   // an option's length runs past the end of its field
    NoEndOption,     // (no longer raised: an options area may run to the end of the packet)
    BadOverload,     // option 52 with a value other than 1, 2 or 3
};
std::string_view to_string(ParseError e);

Result<Packet, ParseError> parse(std::span<const uint8_t> bytes);

// Encodes a packet; options that do not fit a single byte length are split
// (RFC 3396). The result is padded to kBootpMinLen.
std::vector<uint8_t> serialize(const Packet& p);

// Encodes a packet in at most `max_len` bytes. When the options do not fit
// the options field, they overflow into the file and/or sname fields that
// the packet leaves empty, named by option 52 (RFC 2131 section 4.1, RFC
// 2132 9.3); the message type and option 82 stay in the options field.
// nullopt when they do not fit even so: the caller drops options.
std::optional<std::vector<uint8_t>> serialize_within(const Packet& p, size_t max_len);

}  // namespace pxed::dhcp
