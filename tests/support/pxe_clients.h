#pragma once
// The DISCOVERs of the firmware a netboot configuration has to tell apart,
// as their requests carry them: BIOS PXE, x64 UEFI PXE, ARM64 UEFI PXE,
// UEFI HTTP boot, iPXE (user class "iPXE" and option 175, or option 175
// alone), a Raspberry Pi 3 boot ROM and a plain DHCP client. Header-only;
// the unit tests resolve them, the netns tests send them.
#include <string>
#include <vector>

#include "dhcp/packet.h"

namespace pxed::test {

struct PxeClient {
    std::string name;
    dhcp::Packet discover;
};

inline dhcp::Packet pxe_discover(const std::string& mac, uint32_t xid, int arch, const std::string& vendor,
                                 const std::vector<uint8_t>& prl) {
    dhcp::Packet p;
    p.xid = xid;
    p.flags = 0x8000;  // broadcast: the client has no address yet
    p.set_mac(*Mac::parse(mac));
    p.options.set_u8(dhcp::opt::MessageType, uint8_t(dhcp::MessageType::Discover));
    p.options.set(dhcp::opt::ParamRequestList, prl);
    if (arch >= 0) {
        p.options.set_u16(dhcp::opt::ClientArch, uint16_t(arch));
        p.options.set(dhcp::opt::ClientNdi, std::vector<uint8_t>{1, 3, 16});
    }
    if (!vendor.empty()) p.options.set_str(dhcp::opt::VendorClass, vendor);
    return p;
}

// Option 55 of a PXE ROM (EDK2's, which BIOS ROMs resemble): 66 and 67
// included, so dnsmasq moves sname/file into options 66/67.
inline const std::vector<uint8_t> kPxePrl = {1, 2, 3, 4, 5, 6, 12, 13, 15, 17, 18, 22, 23, 28, 40, 41, 42, 43, 50, 51,
                                             54, 58, 59, 60, 66, 67, 97, 128, 129, 130, 131, 132, 133, 134, 135};
// iPXE's (src/net/udp/dhcp.c dhcp_request_options_data).
inline const std::vector<uint8_t> kIpxePrl = {1, 3, 6, 7, 12, 15, 17, 26, 28, 42, 43, 60, 66, 67, 119, 128, 129, 130,
                                              131, 132, 133, 134, 135, 175, 203};

inline std::vector<PxeClient> pxe_clients() {
    using namespace dhcp;
    std::vector<PxeClient> c;
    c.push_back({"bios", pxe_discover("52:54:00:00:50:01", 0x5001, 0, "PXEClient:Arch:00000:UNDI:002001", kPxePrl)});
    c.push_back({"uefi-x64", pxe_discover("52:54:00:00:50:02", 0x5002, 7, "PXEClient:Arch:00007:UNDI:003016", kPxePrl)});
    c.push_back({"arm64", pxe_discover("52:54:00:00:50:03", 0x5003, 11, "PXEClient:Arch:00011:UNDI:003000", kPxePrl)});
    c.push_back({"http", pxe_discover("52:54:00:00:50:04", 0x5004, 16, "HTTPClient:Arch:00016:UNDI:003001", kPxePrl)});
    // iPXE sends 77 as the bare string "iPXE" (not RFC 3004 entries) and
    // its feature list in 175 (HTTP, TFTP, version 1.21.1).
    const std::vector<uint8_t> features = {0x13, 1, 1, 0x15, 1, 1, 0xeb, 3, 1, 21, 1};
    auto ipxe = pxe_discover("52:54:00:00:50:05", 0x5005, 0, "PXEClient:Arch:00000:UNDI:002001", kIpxePrl);
    ipxe.options.set_str(opt::UserClass, "iPXE");
    ipxe.options.set(175, features);
    c.push_back({"ipxe", ipxe});
    auto only175 = pxe_discover("52:54:00:00:50:06", 0x5006, 7, "PXEClient:Arch:00007:UNDI:003010", kIpxePrl);
    only175.options.set(175, features);
    c.push_back({"ipxe-175", only175});
    c.push_back({"rpi3", pxe_discover("b8:27:eb:00:50:07", 0x5007, 0, "PXEClient:Arch:00000:UNDI:002001", kPxePrl)});
    c.push_back({"plain", pxe_discover("52:54:00:00:50:08", 0x5008, -1, "", {1, 3, 6, 12, 15, 28, 42})});
    return c;
}

}  // namespace pxed::test
