#include <gtest/gtest.h>

#include <algorithm>

#include "dhcp/packet.h"

using namespace pxed;
using namespace pxed::dhcp;

namespace {

Packet discover() {
    Packet p;
    p.xid = 0xdeadbeef;
    p.flags = kFlagBroadcast;
    p.set_mac(*Mac::parse("52:54:00:12:34:56"));
    p.options.set_u8(opt::MessageType, uint8_t(MessageType::Discover));
    const uint8_t prl[] = {1, 3, 6, 12, 15, 66, 67};
    p.options.set(opt::ParamRequestList, prl);
    p.options.set_u16(opt::ClientArch, 7);
    p.options.set_str(opt::VendorClass, "PXEClient:Arch:00007:UNDI:003016");
    return p;
}

}  // namespace

TEST(DhcpPacket, RoundTrip) {
    Packet p = discover();
    auto bytes = serialize(p);
    EXPECT_GE(bytes.size(), kBootpMinLen);
    auto q = parse(bytes);
    ASSERT_TRUE(q.ok()) << to_string(q.error());
    EXPECT_EQ(*q, p);
    EXPECT_EQ(q->message_type(), MessageType::Discover);
    EXPECT_EQ(q->mac().str(), "52:54:00:12:34:56");
    EXPECT_EQ(q->options.get_u16(opt::ClientArch), 7);
    EXPECT_TRUE(q->broadcast());
}

TEST(DhcpPacket, HeaderFieldsAtRfc2131Offsets) {
    Packet p = discover();
    p.op = 2;
    p.hops = 3;
    p.secs = 0x0102;
    p.ciaddr = Ipv4(10, 0, 0, 1);
    p.yiaddr = Ipv4(10, 0, 0, 2);
    p.siaddr = Ipv4(10, 0, 0, 3);
    p.giaddr = Ipv4(10, 0, 0, 4);
    p.set_file("pxelinux.0");
    auto b = serialize(p);
    EXPECT_EQ(b[0], 2);
    EXPECT_EQ(b[1], 1);
    EXPECT_EQ(b[2], 6);
    EXPECT_EQ(b[3], 3);
    EXPECT_EQ((std::vector<uint8_t>{b[4], b[5], b[6], b[7]}), (std::vector<uint8_t>{0xde, 0xad, 0xbe, 0xef}));
    EXPECT_EQ(b[8], 1);
    EXPECT_EQ(b[9], 2);
    EXPECT_EQ(b[10], 0x80);
    EXPECT_EQ(b[15], 1);   // ciaddr
    EXPECT_EQ(b[19], 2);   // yiaddr
    EXPECT_EQ(b[23], 3);   // siaddr
    EXPECT_EQ(b[27], 4);   // giaddr
    EXPECT_EQ(b[28], 0x52);  // chaddr
    EXPECT_EQ(b[108], 'p');  // file
    EXPECT_EQ((std::vector<uint8_t>{b[236], b[237], b[238], b[239]}), (std::vector<uint8_t>{99, 130, 83, 99}));
    EXPECT_EQ(b[240], opt::MessageType);  // message type comes first
}

TEST(DhcpPacket, TruncatedAtEveryOffsetNeverParsesWrongly) {
    auto b = serialize(discover());
    // Find the end option; any cut before it must fail, never crash.
    size_t end = kMinMessageLen;
    while (b[end] != opt::End) end += (b[end] == 0) ? 1 : 2 + b[end + 1];
    // A cut at an option boundary is a shorter, well-formed options field
    // (END is not required, as in Kea and dnsmasq): it parses to exactly the
    // options before the cut. Any other cut fails.
    std::vector<size_t> boundaries;
    for (size_t i = kMinMessageLen; i <= end; i += (b[i] == 0) ? 1 : 2 + b[i + 1]) boundaries.push_back(i);
    for (size_t n = 0; n <= end; n++) {
        auto r = parse(std::span<const uint8_t>(b.data(), n));
        bool boundary = std::find(boundaries.begin(), boundaries.end(), n) != boundaries.end();
        EXPECT_EQ(r.ok(), boundary) << "cut at " << n;
        if (r.ok()) {
            size_t k = size_t(std::find(boundaries.begin(), boundaries.end(), n) - boundaries.begin());
            EXPECT_EQ(r->options.all().size(), k) << "cut at " << n;
        }
    }
    EXPECT_TRUE(parse(std::span<const uint8_t>(b.data(), end + 1)).ok());
}

TEST(DhcpPacket, RejectsBadMagicOverrunAndMissingEnd) {
    auto b = serialize(discover());
    auto bad = b;
    bad[236] = 0;
    EXPECT_EQ(parse(bad).error(), ParseError::BadMagic);

    std::vector<uint8_t> overrun(b.begin(), b.begin() + kMinMessageLen);
    overrun.insert(overrun.end(), {opt::Hostname, 200, 'a', 'b'});
    EXPECT_EQ(parse(overrun).error(), ParseError::OptionOverrun);

    // Issue 14.9: options that run cleanly to the end of the packet without
    // END are accepted (Kea and dnsmasq accept them); trailing pad too.
    std::vector<uint8_t> noend(b.begin(), b.begin() + kMinMessageLen);
    noend.insert(noend.end(), {opt::MessageType, 1, 1, 0, 0});
    auto ne = parse(noend);
    ASSERT_TRUE(ne.ok()) << to_string(ne.error());
    EXPECT_EQ(ne->message_type(), MessageType::Discover);
    noend.resize(noend.size() - 2);
    noend.insert(noend.end(), {opt::Hostname, 3, 'a', 'b'});  // but never one that runs past it
    EXPECT_EQ(parse(noend).error(), ParseError::OptionOverrun);

    auto hlen = b;
    hlen[2] = 17;
    EXPECT_EQ(parse(hlen).error(), ParseError::BadHardware);
}

TEST(DhcpPacket, ZeroLengthAndMaximalOptions) {
    Packet p = discover();
    p.options.set(opt::Hostname, {});
    std::vector<uint8_t> big(255, 'x');
    p.options.set(opt::DomainName, big);
    auto q = parse(serialize(p));
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q->options.find(opt::Hostname)->data.size(), 0u);
    EXPECT_EQ(q->options.find(opt::DomainName)->data, big);
}

TEST(DhcpPacket, LongOptionsAreSplitAndConcatenatedRfc3396) {
    Packet p = discover();
    std::vector<uint8_t> v(600);
    for (size_t i = 0; i < v.size(); i++) v[i] = uint8_t(i);
    p.options.set(opt::RelayAgentInfo, v);
    auto b = serialize(p);
    auto q = parse(b);
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q->options.find(opt::RelayAgentInfo)->data, v);
}

TEST(DhcpPacket, OptionOverloadReadsFileAndSname) {
    Packet p = discover();
    p.options.set_u8(opt::Overload, 3);
    auto b = serialize(p);
    // file field (offset 108): hostname option; sname (offset 44): domain name.
    const uint8_t in_file[] = {opt::Hostname, 3, 'p', 'x', 'e', opt::End};
    const uint8_t in_sname[] = {opt::DomainName, 2, 'l', 'n', opt::End};
    std::copy(std::begin(in_file), std::end(in_file), b.begin() + 108);
    std::copy(std::begin(in_sname), std::end(in_sname), b.begin() + 44);
    auto q = parse(b);
    ASSERT_TRUE(q.ok()) << to_string(q.error());
    EXPECT_EQ(q->options.get_str(opt::Hostname), "pxe");
    EXPECT_EQ(q->options.get_str(opt::DomainName), "ln");
    EXPECT_FALSE(q->options.has(opt::Overload));  // resolved by the codec
    EXPECT_EQ(q->file_str(), "");

    // Found by fuzzing: an option 52 inside the file field is not concatenated
    // with the real one (which would make a 2-byte overload value).
    auto nested = b;
    const uint8_t nested_ov[] = {opt::Overload, 1, 1, opt::End};
    std::copy(std::begin(nested_ov), std::end(nested_ov), nested.begin() + 108);
    auto n = parse(nested);
    ASSERT_TRUE(n.ok()) << to_string(n.error());
    auto again = parse(serialize(*n));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->options, n->options);

    auto bad = b;
    const uint8_t overrun[] = {opt::Hostname, 200, 'p'};
    std::copy(std::begin(overrun), std::end(overrun), bad.begin() + 108);
    EXPECT_EQ(parse(bad).error(), ParseError::OptionOverrun);
}

TEST(DhcpPacket, MessageTypeOutOfRangeIsNone) {
    Packet p = discover();
    p.options.set_u8(opt::MessageType, 42);
    EXPECT_FALSE(p.message_type().has_value());
    p.options.set(opt::MessageType, {});
    EXPECT_FALSE(p.message_type().has_value());
}

TEST(NetTypes, ParseAndFormat) {
    EXPECT_EQ(Ipv4::parse("192.0.2.10")->str(), "192.0.2.10");
    EXPECT_FALSE(Ipv4::parse("192.0.2"));
    EXPECT_FALSE(Ipv4::parse("192.0.2.256"));
    auto n = Ipv4Net::parse("192.0.2.77/24");
    ASSERT_TRUE(n);
    EXPECT_EQ(n->str(), "192.0.2.0/24");
    EXPECT_TRUE(n->contains(Ipv4(192, 0, 2, 1)));
    EXPECT_FALSE(n->contains(Ipv4(192, 0, 3, 1)));
    EXPECT_EQ(n->broadcast(), Ipv4(192, 0, 2, 255));
    EXPECT_FALSE(Ipv4Net::parse("192.0.2.0/33"));
    EXPECT_FALSE(Ipv4Net::parse("192.0.2.0"));
    EXPECT_EQ(Mac::parse("52-54-00-AA-bb-01")->str(), "52:54:00:aa:bb:01");
    EXPECT_FALSE(Mac::parse("52:54:00:aa:bb"));
    EXPECT_FALSE(Mac::parse("52:54:00:aa:bb:zz"));
}

// Issue 14.7: a reply larger than the client accepts overflows into the
// file and sname fields (option 52), never past max_len.
TEST(DhcpPacket, SerializeWithinOverloadsIntoFileAndSname) {
    Packet p;
    p.op = 2;
    p.options.set_u8(opt::MessageType, uint8_t(MessageType::Offer));
    p.options.set_ip(opt::ServerId, Ipv4(192, 0, 2, 1));
    std::vector<Ipv4> dns;
    for (uint32_t i = 0; i < 50; i++) dns.push_back(Ipv4(0x0a000000 + i));
    p.options.set_ips(opt::DnsServers, dns);                  // 202 bytes encoded
    p.options.set_str(opt::DomainName, std::string(100, 'd'));  // 102
    p.options.set_str(opt::Hostname, std::string(50, 'h'));     // 52
    const uint8_t agent[] = {1, 4, 'p', 'o', 'r', 't'};
    p.options.set(opt::RelayAgentInfo, agent);
    ASSERT_GT(serialize(p).size(), 548u);

    auto b = serialize_within(p, 548);
    ASSERT_TRUE(b);
    EXPECT_LE(b->size(), 548u);
    EXPECT_EQ((*b)[240], opt::MessageType);
    EXPECT_EQ((*b)[243], opt::Overload);
    auto back = parse(*b);
    ASSERT_TRUE(back.ok()) << to_string(back.error());
    for (auto& o : p.options.all()) {
        auto* got = back->options.find(o.code);
        ASSERT_NE(got, nullptr) << "option " << int(o.code) << " lost";
        EXPECT_EQ(got->data, o.data) << "option " << int(o.code);
    }
    EXPECT_FALSE(back->options.has(opt::Overload)) << "option 52 is a wire detail";
    // Option 82 is the last option of the options field (RFC 3046), where relays look for it.
    size_t i = kMinMessageLen, last = 0;
    while ((*b)[i] != opt::End) { last = i; i += (*b)[i] == 0 ? 1 : 2 + (*b)[i + 1]; }
    EXPECT_EQ((*b)[last], opt::RelayAgentInfo);

    // The file field holds a boot file name: only sname (63 bytes) is left,
    // not enough here.
    p.set_file("pxelinux.0");
    EXPECT_FALSE(serialize_within(p, 548));
    // A packet that fits is encoded as serialize() would.
    EXPECT_EQ(serialize_within(p, 1472), serialize(p));
}
