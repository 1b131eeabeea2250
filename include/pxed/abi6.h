/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pxed ABI, DHCPv6 part: the types of the kernel's DHCPv6 maps (bpf/maps6.h),
 * under the rules and the version (PXED_ABI_VERSION) of pxed/abi.h; their
 * layouts are pinned in userspace/bpf/abi_check.cpp with the others.
 */
#ifndef PXED_ABI6_H
#define PXED_ABI6_H

#include "pxed/abi.h"

/*
 * DHCPv6 (RFC 8415) in the kernel (bpf/dhcp6.h): a Solicit with rapid commit
 * or a Request, multicast to ff02::1:2 by a client on the interface's own
 * link (link-local source, no relay), from a client with a reservation, is
 * answered with the Reply the daemon's Engine6 gives
 * (userspace/dhcp6/engine6.h): header, Server Identifier, the request's
 * Client Identifier, one IA_NA with the reserved address, Rapid Commit for
 * a Solicit, then the tail (the options after the IAs), rendered by
 * userspace with render_tail() per request shape (enum pxed6_shape) and
 * architecture slot. Per interface, the link's [[subnet6]] (link_subnet()).
 */
#define PXED6_DUID_MAX 32          /* client DUIDs the program reads; longer ones are passed */
#define PXED6_SERVER_OPT_MAX 136   /* option 2 with a DUID of up to 130 bytes (RFC 8415 11.1), in whole words */
#define PXED6_TAIL_MAX 512         /* bytes of a rendered tail */
#define PXED6_MAX_RESERVATIONS 16384
#define PXED6_MAX_BLOBS 4096
/* Option 61 architectures the boot tables name: slot 1..PXED6_ARCHS, in
 * the order of archs[]; slot 0 is any other (and no option 61). */
#define PXED6_ARCHS 15
#define PXED6_ARCH_SLOTS 16
/* Tails per reservation's own boot file: set 0 is the subnet's files, sets
 * 1.. the distinct boot-file values of the link's reservations. */
#define PXED6_BOOT_SETS 64
#define PXED6_SHAPES 32
/* The tails map's index: boot set, shape, architecture slot. */
#define PXED6_TAILS (PXED6_BOOT_SETS * PXED6_SHAPES * PXED6_ARCH_SLOTS)
#define PXED6_TAIL_INDEX(set, shape, slot) ((__u32)(set) << 9 | (__u32)(shape) << 4 | (__u32)(slot))
#define PXED6_NO_BLOB 0xffffu

/* What of a request its tail depends on (engine6.h struct Shape). */
enum pxed6_shape {
	PXED6_SHAPE_DNS = 1 << 0,     /* option 23 in the ORO */
	PXED6_SHAPE_DOMAINS = 1 << 1, /* option 24 in the ORO */
	PXED6_SHAPE_BOOT = 1 << 2,    /* option 59 in the ORO, or option 61 present */
	PXED6_SHAPE_HTTP = 1 << 3,    /* a vendor class (16) entry starts with "HTTPClient" */
	PXED6_SHAPE_IPXE = 1 << 4,    /* a user class (15) entry is "iPXE" */
};

/* Key of dhcp6_reservations: a DUID (kind 1, len 1..PXED6_DUID_MAX) or a
 * MAC (kind 2, len 6), zero after len. */
enum pxed6_key_kind {
	PXED6_KEY_DUID = 1,
	PXED6_KEY_MAC = 2,
};

struct pxed6_client_key {
	__u8 kind;
	__u8 len;
	__u8 pad[2]; /* must be zero */
	__u8 id[PXED6_DUID_MAX];
};

enum pxed6_resv_flags {
	/* The daemon's lease table holds the address for the IA holder_iaid of
	 * the DUID holder: only that IA gets it here (Engine6 gives another a
	 * pool address while it is held). */
	PXED6_RESV_HELD = 1 << 0,
};

struct pxed6_reservation {
	__u8 addr[16];   /* the reserved address */
	__u16 boot_set;  /* the tails of its boot file (PXED6_BOOT_SETS) */
	__u16 flags;     /* enum pxed6_resv_flags */
	__u32 holder_iaid; /* host order */
	struct pxed6_client_key holder;
};

enum pxed6_link_flags {
	PXED6_LINK_RAPID_COMMIT = 1 << 0, /* the subnet answers a Solicit with rapid commit by a Reply */
	PXED6_LINK_ARCH_OVERFLOW = 1 << 1, /* the boot tables name more than PXED6_ARCHS architectures:
					    * a request with one not in archs[] is passed */
};

/* The link's subnet and this host on it (dhcp6_link, key 0). */
struct pxed6_link {
	__u32 enabled;          /* 0: every DHCPv6 frame is passed */
	__u16 flags;            /* enum pxed6_link_flags */
	__u8 hop_limit;         /* the interface's net.ipv6.conf.<if>.hop_limit */
	__u8 n_archs;
	__u8 src_addr[16];      /* our link-local address: the source of replies */
	__u32 t1, t2;           /* lifetimes() of the subnet, host order */
	__u32 preferred, valid;
	__u16 archs[PXED6_ARCHS]; /* option 61 values of slots 1.. */
	__u16 server_opt_csum;  /* ones' complement sum of server_opt at an even offset */
	__u16 server_opt_len;   /* 4 + the server DUID's length */
	__u8 pad[6];
	__u8 server_opt[PXED6_SERVER_OPT_MAX]; /* option 2 as sent: code, length, DUID; zero after */
};

/* A rendered tail; csum: its ones' complement sum at an even offset. */
struct pxed6_blob {
	__u16 len;
	__u16 csum;
	__u8 tail[PXED6_TAIL_MAX];
};

#endif /* PXED_ABI6_H */
