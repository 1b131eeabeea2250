/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pxed ABI: the single definition of every type shared by the XDP program
 * (bpf/, compiled as C with clang -target bpf) and userspace (C++20).
 *
 * Rules: fixed-width types only (linux/types.h), explicit padding, no
 * bitfields, no pointers. Addresses are stored in network byte order and the
 * field names say so (_be). Every layout is pinned by static_asserts in
 * userspace/bpf/abi_check.cpp, so a change here that moves a field fails the
 * C++ build instead of silently corrupting a pinned map.
 */
#ifndef PXED_ABI_H
#define PXED_ABI_H

#include <linux/types.h>

#define PXED_ABI_VERSION 1

/* Map names, as pinned under /sys/fs/bpf/pxed/<ifname>/. */
#define PXED_PIN_ROOT "/sys/fs/bpf/pxed"

/* Limits. */
#define PXED_MAX_RESERVATIONS 65536
#define PXED_MAX_BLOBS 4096
#define PXED_BLOB_MAX 512 /* bytes of rendered DHCP options per reply blob */

/* Ports. */
#define PXED_DHCP_SERVER_PORT 67
#define PXED_DHCP_CLIENT_PORT 68

/* Key of the reservations map: a client's hardware address. */
struct pxed_mac_key {
	__u8 mac[6];
	__u8 pad[2]; /* must be zero */
};

/* Reservation flags. */
enum pxed_resv_flags {
	PXED_RESV_INFINITE = 1 << 0, /* lease time is infinite (0xffffffff) */
	PXED_RESV_DISABLED = 1 << 1, /* present but the kernel must pass */
};

/* Value of the reservations map: what the kernel answers a reserved MAC. */
struct pxed_reservation {
	__u32 ip_be;         /* reserved address, network byte order */
	__u32 server_ip_be;  /* our server identifier (option 54) on that subnet */
	__u32 lease_time_s;  /* host order; 0xffffffff means infinite */
	__u32 blob_id;       /* index of the rendered option blob (per subnet/arch/reservation) */
	__u16 flags;         /* enum pxed_resv_flags */
	__u16 pad0;
	__u32 pad1;
};

/* A rendered reply: the option bytes (after the magic cookie, without
 * option 53 and without the end option) that the daemon would send. */
struct pxed_reply_blob {
	__u16 len;
	__u16 pad0;
	__u32 pad1;
	__u8 data[PXED_BLOB_MAX];
};

/* Single-entry config map (key 0). */
struct pxed_xdp_config {
	__u32 abi_version;   /* PXED_ABI_VERSION, written by the daemon */
	__u32 enabled;       /* 0: the program passes everything */
	__u32 ifindex;
	__u32 pad0;
};

/* Indices of the per-CPU stats array. Append only: pinned maps outlive pxed. */
enum pxed_stat {
	PXED_STAT_RX_TOTAL = 0,      /* every frame the program saw */
	PXED_STAT_RX_DHCP,           /* well-formed BOOTREQUEST to port 67 */
	PXED_STAT_TX_OFFER,          /* OFFER sent from the kernel */
	PXED_STAT_TX_ACK,            /* ACK sent from the kernel */
	PXED_STAT_PASS_NOT_IPV4,     /* not IPv4 (ARP, IPv6, ...) */
	PXED_STAT_PASS_VLAN,         /* 802.1Q / 802.1ad tag */
	PXED_STAT_PASS_NOT_UDP,      /* IPv4 but not UDP */
	PXED_STAT_PASS_NOT_DHCP,     /* UDP, not to port 67 */
	PXED_STAT_PASS_IP_OPTIONS,   /* IHL > 5 */
	PXED_STAT_PASS_FRAGMENT,     /* MF set or non-zero fragment offset */
	PXED_STAT_PASS_MALFORMED,    /* lengths or fields that do not add up */
	PXED_STAT_PASS_NOT_RESERVED, /* chaddr has no reservation */
	PXED_STAT_PASS_MSG_TYPE,     /* a message type the kernel does not answer */
	PXED_STAT_PASS_OVERLOAD,     /* option 52 present */
	PXED_STAT_PASS_SRC_MISMATCH, /* Ethernet source != chaddr, not relayed */
	PXED_STAT_PASS_REQUESTED_IP, /* REQUEST for an address other than the reservation */
	PXED_STAT_PASS_DISABLED,     /* program disabled or reservation disabled */
	PXED_STAT_PASS_OTHER_SERVER, /* REQUEST with another server identifier */
	PXED_STAT_PASS_NO_BLOB,      /* reservation points at a missing blob */
	PXED_STAT_DROP_RATE_LIMIT,   /* dropped by the per-MAC token bucket */
	PXED_STAT_MAX
};

#endif /* PXED_ABI_H */
