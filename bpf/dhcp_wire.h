/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * DHCP wire format as the XDP programs see it (RFC 2131 section 2, RFC 951
 * for the BOOTP header), and the few IPv4 numbers they need. Names for every
 * number the programs compare with or write.
 */
#ifndef PXED_BPF_DHCP_WIRE_H
#define PXED_BPF_DHCP_WIRE_H

#include <linux/types.h>

/* BOOTP header (RFC 951, RFC 2131 section 2). */
#define BOOTP_OP_REQUEST 1
#define BOOTP_OP_REPLY 2
#define BOOTP_HTYPE_ETHERNET 1 /* ARP hardware type, RFC 1700 */
#define BOOTP_HLEN_ETHERNET 6

/* The magic cookie 99.130.83.99 that opens the options (RFC 2131 section 3),
 * and its two 16-bit halves as they enter a ones' complement sum. */
#define DHCP_MAGIC_COOKIE 0x63825363u
#define DHCP_MAGIC_COOKIE_HI (DHCP_MAGIC_COOKIE >> 16)
#define DHCP_MAGIC_COOKIE_LO (DHCP_MAGIC_COOKIE & 0xffff)

#define DHCP_OPT_PAD 0
#define DHCP_OPT_VENDOR_SPECIFIC 43
#define DHCP_OPT_REQUESTED_IP 50
#define DHCP_OPT_OVERLOAD 52
#define DHCP_OPT_MSG_TYPE 53
#define DHCP_OPT_SERVER_ID 54
#define DHCP_OPT_PARAM_REQUEST 55
#define DHCP_OPT_VENDOR_CLASS 60
#define DHCP_OPT_USER_CLASS 77
#define DHCP_OPT_RELAY_AGENT 82
#define DHCP_OPT_CLIENT_ARCH 93
#define DHCP_OPT_CLIENT_UUID 97
#define DHCP_UUID_LEN 17 /* option 97: type 0 and a 16-byte GUID */
#define DHCP_OPT_IPXE_ENCAP 175
#define DHCP_OPT_END 255

#define DHCP_DISCOVER 1
#define DHCP_OFFER 2
#define DHCP_REQUEST 3
#define DHCP_ACK 5
#define DHCP_INFORM 8

#define DHCP_FLAG_BROADCAST 0x8000

/* The options walk: at most this many options (pads included) per request,
 * and option offsets (from the start of the frame) bounded by a mask the
 * verifier can see. A frame whose options reach past the mask is malformed
 * for the program (passed), never wrapped around into the headers. */
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
/* A BOOTP message is at least 300 bytes (RFC 951, RFC 1542 section 2.1):
 * the options of a reply, end and padding included, are at least this long. */
#define DHCP_MIN_OPTIONS_LEN 60

/* IPv4 (RFC 791). */
#define IPV4_FRAG_MASK 0x3fff /* MF flag and fragment offset */
#define IPV4_IHL_NO_OPTIONS 5
#define IPV4_REPLY_TTL 64
#define IPV4_BROADCAST 0xffffffffu

#endif
