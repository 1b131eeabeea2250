/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The DHCPv6 maps of pxed_xdp.bpf.c (bpf/dhcp6.h), pinned with the others
 * (userspace/bpf/xdp_program.cpp kMapNames) and filled by
 * userspace/bpf/map_sync6.cpp; the value types are in include/pxed/abi6.h.
 */
#ifndef PXED_BPF_MAPS6_H
#define PXED_BPF_MAPS6_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "pxed/abi6.h"

/* The link's subnet and this host on it (key 0). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pxed6_link);
} dhcp6_link SEC(".maps");

/* Reserved DUIDs and MACs -> the address and its boot set. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PXED6_MAX_RESERVATIONS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pxed6_client_key);
	__type(value, struct pxed6_reservation);
} dhcp6_reservations SEC(".maps");

/* PXED6_TAIL_INDEX(boot set, shape, arch slot) -> blob id, or PXED6_NO_BLOB. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PXED6_TAILS);
	__type(key, __u32);
	__type(value, __u16);
} dhcp6_tails SEC(".maps");

/* Rendered tails, one per distinct content. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PXED6_MAX_BLOBS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct pxed6_blob);
} dhcp6_blobs SEC(".maps");

/* Where the options of interest of a DHCPv6 message are (bpf/dhcp6_options.h):
 * frame offsets of their values (0: absent) and their lengths. */
struct opts6 {
	__u16 client, client_len;
	__u16 server, server_len;
	__u16 ia, ia_len;
	__u16 oro, oro_len;
	__u16 arch, arch_len;
	__u16 vendor, vendor_len;
	__u16 user, user_len;
	__u8 n_ia;
	__u8 rapid;
	__u8 unsure;
	__u8 malformed;
};

/*
 * One request's working state, off the stack (the program and dhcp6_reply()
 * share the verifier's 512 bytes): the keys looked up, the identifiers and
 * the middle of the reply. Per CPU, not pinned: an XDP run stays on its CPU.
 */
struct dhcp6_scratch {
	__u8 server[PXED6_SERVER_OPT_MAX];   /* a Request's option 2, as received; zero after */
	__u8 client_opt[4 + PXED6_DUID_MAX]; /* option 1 as sent back: code, length, DUID; zero after */
	__u8 pad0[4];
	struct pxed6_client_key duid;     /* the client id as a key */
	struct pxed6_client_key mac;      /* the MAC, when it has one */
	__u8 ia[48];                      /* IA_NA with its IA Address (44), Rapid Commit (4) */
	__u8 peer_ip[16];                 /* the client's link-local address */
	__u8 peer_mac[6];                 /* its Ethernet source ... */
	__u8 peer_mac_pad[2];             /* ... and zeros: a struct pxed_mac_key */
	__u8 msg_type;
	__u8 pad1[3];
	__u8 xid[4];                      /* bytes 1..3: the transaction id */
	struct opts6 o;                   /* the options walk's findings */
} __attribute__((aligned(8)));

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dhcp6_scratch);
} dhcp6_scratch SEC(".maps");

static __always_inline struct dhcp6_scratch *scratch6_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&dhcp6_scratch, &zero);
}

static __always_inline struct pxed6_link *link6_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&dhcp6_link, &zero);
}

#endif
