// The DHCPv6 kernel path's tails (userspace/bpf/tails6.h), without a kernel:
// every index entry is render_tail()'s bytes for the shape it stands for,
// the set is bounded and deduplicated, and what the program never asks for
// or cannot hold has no blob.
#include <gtest/gtest.h>

#include "bpf/tails6.h"
#include "config/config.h"

using namespace pxed;

namespace {

config::Config make_cfg(const std::string& extra = "") {
    auto c = config::parse_toml(R"(
[server]
interfaces = ["eth0"]
[boot]
riscv64-uefi = "riscv64.efi"
[[subnet6]]
prefix = "fd00:6::/64"
range = ["fd00:6::100", "fd00:6::1ff"]
dns = ["fd00:6::53"]
domain-search = ["lab.test"]
boot-params = ["console=ttyS0"]
[subnet6.boot]
bios = "pxelinux.0"
uefi-x64 = "grubx64.efi"
x64-uefi-http = "/boot/grubx64.efi"
ipxe = "http://[fd00:6::1]/boot.ipxe"
[[reservation6]]
mac = "52:54:00:00:66:0a"
ip = "fd00:6::10"
[[reservation6]]
mac = "52:54:00:00:66:0b"
ip = "fd00:6::11"
boot-file = "special.efi"
[[reservation6]]
mac = "52:54:00:00:66:0c"
ip = "fd00:6::12"
boot-file = "special.efi"
)" + extra,
                                "t.toml");
    EXPECT_TRUE(c.ok()) << (c ? "" : c.error());
    return *c;
}

std::vector<const config::Reservation6*> all(const config::Config& c) {
    std::vector<const config::Reservation6*> v;
    for (auto& r : c.reservations6) v.push_back(&r);
    return v;
}

const Ipv6 kServer = *Ipv6::parse("fd00:6::1");

}  // namespace

TEST(Tails6, EveryEntryIsRenderTailsBytesForItsShape) {
    auto cfg = make_cfg();
    auto t = bpf::render_tails6(cfg, 8080, cfg.subnets6[0], kServer, all(cfg));
    // bios 0, uefi-x64 7 and 9, x64-uefi-http 16, and [boot]'s riscv64-uefi 27: sorted.
    EXPECT_EQ(t.archs, (std::vector<uint16_t>{0, 7, 9, 16, 27}));
    EXPECT_FALSE(t.arch_overflow);
    ASSERT_EQ(t.boot_sets.size(), 2u);  // none of its own, and "special.efi" (two reservations)
    EXPECT_EQ(t.boot_sets.at(std::nullopt), 0);
    EXPECT_EQ(t.boot_sets.at(std::string("special.efi")), 1);
    size_t checked = 0;
    for (uint32_t set = 0; set < PXED6_BOOT_SETS; set++)
        for (uint32_t bits = 0; bits < PXED6_SHAPES; bits++)
            for (uint32_t slot = 0; slot < PXED6_ARCH_SLOTS; slot++) {
                uint16_t id = t.index[PXED6_TAIL_INDEX(set, bits, slot)];
                bool asked = set < 2 && slot <= t.archs.size() && (slot == 0 || (bits & PXED6_SHAPE_BOOT));
                if (!asked) {
                    EXPECT_EQ(id, PXED6_NO_BLOB) << set << " " << bits << " " << slot;
                    continue;
                }
                ASSERT_LT(id, t.blobs.size());
                auto* resv = set ? &cfg.reservations6[1] : &cfg.reservations6[0];
                EXPECT_EQ(t.blobs[id], dhcp6::render_tail(cfg, 8080, cfg.subnets6[0], resv, kServer,
                                                          bpf::shape_of(bits, slot, t.archs)));
                checked++;
            }
    EXPECT_EQ(checked, 2u * (32 + 16 * 5));
    // Deduplicated: far fewer distinct tails than shapes (printed for docs/XDP.md).
    EXPECT_LT(t.blobs.size(), checked / 2);
    std::printf("tails6: %zu shapes, %zu distinct tails\n", checked, t.blobs.size());
    // Distinct: no two blobs alike.
    for (size_t i = 0; i < t.blobs.size(); i++)
        for (size_t j = i + 1; j < t.blobs.size(); j++) EXPECT_NE(t.blobs[i], t.blobs[j]);
}

TEST(Tails6, AnArchitectureNoTableNamesRendersAsNone) {
    auto cfg = make_cfg();
    auto t = bpf::render_tails6(cfg, 80, cfg.subnets6[0], kServer, all(cfg));
    auto s = bpf::shape_of(PXED6_SHAPE_BOOT, 0, t.archs);
    auto other = s;
    other.arch = 300;
    EXPECT_EQ(dhcp6::render_tail(cfg, 80, cfg.subnets6[0], nullptr, kServer, s),
              dhcp6::render_tail(cfg, 80, cfg.subnets6[0], nullptr, kServer, other));
}

TEST(Tails6, LimitsLeaveTheRestToTheDaemon) {
    auto cfg = make_cfg();
    for (uint16_t a = 100; a < 120; a++) cfg.boot.by_arch[a] = "a.efi";
    // 70 reservations with a boot file each: 63 sets of their own.
    for (int i = 0; i < 70; i++) {
        config::Reservation6 r;
        r.mac = Mac{{0x52, 0x54, 0, 1, 0, uint8_t(i)}};
        r.ip = *Ipv6::parse("fd00:6::1:" + std::to_string(i));
        r.boot_file = "file" + std::to_string(i) + ".efi";
        cfg.reservations6.push_back(r);
    }
    // A boot parameter too long for a blob when option 59 is sent.
    cfg.subnets6[0].boot_params = {std::string(600, 'x')};
    auto t = bpf::render_tails6(cfg, 80, cfg.subnets6[0], kServer, all(cfg));
    EXPECT_EQ(t.archs.size(), size_t(PXED6_ARCHS));
    EXPECT_TRUE(t.arch_overflow);
    EXPECT_EQ(t.boot_sets.size(), size_t(PXED6_BOOT_SETS));
    EXPECT_GT(t.too_long, 0u);
    EXPECT_EQ(t.index[PXED6_TAIL_INDEX(0, PXED6_SHAPE_BOOT, 1)], PXED6_NO_BLOB);  // arch 0: pxelinux.0 and the parameter
    EXPECT_NE(t.index[PXED6_TAIL_INDEX(0, PXED6_SHAPE_DNS, 0)], PXED6_NO_BLOB);
    for (auto& b : t.blobs) EXPECT_LE(b.size(), size_t(PXED6_TAIL_MAX));
}
