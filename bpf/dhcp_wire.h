/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* DHCP wire format as the XDP program sees it (RFC 2131 section 2). */
#ifndef PXED_BPF_DHCP_WIRE_H
#define PXED_BPF_DHCP_WIRE_H

#include <linux/types.h>

#define DHCP_MAGIC_COOKIE 0x63825363u

#define DHCP_OPT_PAD 0
#define DHCP_OPT_REQUESTED_IP 50
#define DHCP_OPT_OVERLOAD 52
#define DHCP_OPT_MSG_TYPE 53
#define DHCP_OPT_SERVER_ID 54
#define DHCP_OPT_VENDOR_CLASS 60
#define DHCP_OPT_USER_CLASS 77
#define DHCP_OPT_RELAY_AGENT 82
#define DHCP_OPT_CLIENT_ARCH 93
#define DHCP_OPT_END 255

#define DHCP_DISCOVER 1
#define DHCP_OFFER 2
#define DHCP_REQUEST 3
#define DHCP_ACK 5

#define DHCP_FLAG_BROADCAST 0x8000

#define PXED_MAX_OPTIONS 96
#define PXED_OPT_OFF_MASK 0x7ff

struct dhcp_wire_hdr {
	__u8 op;
	__u8 htype;
	__u8 hlen;
	__u8 hops;
	__be32 xid;
	__be16 secs;
	__be16 flags;
	__be32 ciaddr;
	__be32 yiaddr;
	__be32 siaddr;
	__be32 giaddr;
	__u8 chaddr[16];
	__u8 sname[64];
	__u8 file[128];
	__be32 magic;
} __attribute__((packed));

#define DHCP_FIXED_LEN 240 /* through the magic cookie */
#define DHCP_SNAME_OFF 44

#endif
