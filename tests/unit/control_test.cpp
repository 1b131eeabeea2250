#include <gtest/gtest.h>

#include "control/control.h"

using namespace pxed::control;

namespace {
std::string nested(int depth) {
    return R"({"version":1,"command":"lease-list","args":{"a":)" + std::string(size_t(depth), '[') +
           std::string(size_t(depth), ']') + "}}";
}
}  // namespace

TEST(ControlRequest, ParsesWhatPxectlSends) {
    auto r = parse_request(R"({"args":{"key":"192.0.2.50"},"command":"lease-del","version":1})");
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->command, "lease-del");
    EXPECT_EQ(r->args["key"], "192.0.2.50");
}

// Found by fuzz.control: 30,000 nested arrays (60 KB, under the 64 KiB line
// limit) overflowed the stack when the parsed value was copied.
TEST(ControlRequest, DeepNestingIsRefusedNotACrash) {
    auto deep = parse_request(nested(30000));
    ASSERT_FALSE(deep.ok());
    EXPECT_NE(deep.error().find("30002 deep"), std::string::npos) << deep.error();
    EXPECT_NE(deep.error().find("at most 16"), std::string::npos) << deep.error();
    auto over = parse_request(nested(15));  // 17 deep: two objects around 15 arrays
    EXPECT_FALSE(over.ok());
    auto ok = parse_request(nested(14));
    EXPECT_TRUE(ok.ok()) << ok.error();
}

TEST(ControlRequest, BracketsInsideStringsDoNotCount) {
    std::string s = R"({"version":1,"command":"x","args":{"a":")" + std::string(100, '[') + R"(\"]]"}})";
    auto r = parse_request(s);
    EXPECT_TRUE(r.ok()) << r.error();
}

TEST(ControlRequest, ErrorsSayWhatIsWrong) {
    EXPECT_EQ(parse_request("not json").error(), "request is not JSON");
    EXPECT_EQ(parse_request("[1]").error(), "request must be a JSON object");
    EXPECT_EQ(parse_request(R"({"command":"x"})").error(), "request has no \"version\"");
    EXPECT_EQ(parse_request(R"({"version":1,"command":"x","args":[]})").error(), "\"args\" must be an object");
    auto big = parse_request(std::string(kMaxRequestBytes + 1, ' '));
    ASSERT_FALSE(big.ok());
    EXPECT_NE(big.error().find("65537 bytes"), std::string::npos) << big.error();
}
