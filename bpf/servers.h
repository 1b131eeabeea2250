/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Other DHCP servers on the wire (include/pxed/abi.h, struct
 * pxed_server_seen): a frame the program passes because it is not a
 * request it reads (classify(): pass_not_dhcp, or pass_malformed for a
 * reply to port 67 through a relay) is checked for a DHCP server's reply,
 * and a reply is noted in the `servers` LRU map under its server id, MAC
 * and VLAN: counts by type, the last yiaddr and siaddr, and what it sent
 * of options 60, 43, 66 and 67 (else the BOOTP file field). The frame is
 * passed as before. One global function, verified once; its option walk
 * is one bpf_loop step per option, as the requests' (option_walk.h).
 *
 * Offsets are the fixed ones of parsing_helpers.h: the caller hands over a
 * frame whose VLAN tags, if any, are no longer in front of the IP header,
 * and the VLAN ids in `vlan` (outer << 16 | inner).
 */
#ifndef PXED_BPF_SERVERS_H
#define PXED_BPF_SERVERS_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "pxed/abi.h"
#include "dhcp_wire.h"
#include "maps.h"
#include "option_walk.h"
#include "parsing_helpers.h"

#define DHCP_OPT_TFTP_SERVER 66
#define DHCP_OPT_BOOTFILE 67
#define DHCP_NAK 6
#define DHCP_YIADDR_OFF 16
#define DHCP_FILE_OFF 108 /* the BOOTP file field, from the start of the BOOTP header */
#define VLAN_ID_MASK 0x0fff

/* Where a reply's options of interest are (frame offset of the code byte,
 * 0 = absent; the last of duplicates). 16-bit offsets, and the same
 * context for option 43's sub-options after the walk: the caller's stack
 * (the request's reply plan) leaves this function little room. */
struct srv_walk {
	struct xdp_md *xdp;
	__u32 off;
	__u16 end;    /* the options (then option 43's value) end here */
	__s16 result; /* options: 1 while walking, 0 end found, -1 malformed; 43: PXE sub-options seen */
	__u16 o43, o52, o53, o54, o60, o66, o67, pad;
};

static long srv_walk_one(__u32 idx __attribute__((unused)), void *arg)
{
	struct srv_walk *w = arg;
	__u32 off = w->off & PXED_OPT_OFF_MASK;
	__u8 code = 0;
	__u32 len = 0;
	int step = option_at(w->xdp, off, w->end, &code, &len);
	if (step == STEP_MALFORMED || step == STEP_END) {
		w->result = step == STEP_END ? 0 : -1;
		return 1;
	}
	if (step == STEP_PAD) {
		w->off = off + 1;
		return 0;
	}
	switch (code) {
	case DHCP_OPT_VENDOR_SPECIFIC: w->o43 = (__u16)off; break;
	case DHCP_OPT_OVERLOAD: w->o52 = (__u16)off; break;
	case DHCP_OPT_MSG_TYPE: w->o53 = (__u16)off; break;
	case DHCP_OPT_SERVER_ID: w->o54 = (__u16)off; break;
	case DHCP_OPT_VENDOR_CLASS: w->o60 = (__u16)off; break;
	case DHCP_OPT_TFTP_SERVER: w->o66 = (__u16)off; break;
	case DHCP_OPT_BOOTFILE: w->o67 = (__u16)off; break;
	default: break;
	}
	w->off = off + 2 + len;
	return 0;
}

/* Option 43's sub-options (the walk checked that they end within the
 * payload): whether PXE's 6 (discovery control), 8 (boot servers), 9 (boot
 * menu) or 10 (menu prompt) is among them, in w->result. */
static long srv_sub_one(__u32 idx __attribute__((unused)), void *arg)
{
	struct srv_walk *w = arg;
	__u32 off = w->off & PXED_OPT_OFF_MASK;
	__u8 h[2] = {};
	if (off + 2 > w->end || bpf_xdp_load_bytes(w->xdp, off, h, 2))
		return 1; /* the end, or a lone end/pad byte last: done */
	if (h[0] == DHCP_OPT_END)
		return 1;
	w->result |= (h[0] == 6) | (h[0] == 8) | (h[0] == 9) | (h[0] == 10);
	w->off = h[0] == DHCP_OPT_PAD ? off + 1 : off + 2 + h[1];
	return 0;
}

#define SRV_MAX_SUBOPTS 32

/* Whether the reply went to port 67 (a relay), read again where needed
 * rather than kept in a register across the calls. */
static __always_inline int relayed(struct xdp_md *ctx)
{
	__u16 port = 0;
	bpf_xdp_load_bytes(ctx, L2L3_LEN + 2, &port, 2);
	return port == bpf_htons(PXED_DHCP_SERVER_PORT);
}

/* The option at frame offset `off` (0 = absent) into dst: its first `cap`
 * bytes (the rest zeroed); returns its length as sent. */
static __always_inline __u32 srv_copy_opt(struct xdp_md *ctx, __u32 off, __u8 *dst, __u32 cap)
{
	__builtin_memset(dst, 0, cap);
	if (!off)
		return 0;
	__u8 h[2] = {};
	off &= PXED_OPT_OFF_MASK;
	if (bpf_xdp_load_bytes(ctx, off, h, 2))
		return 0;
	__u32 len = h[1];
	__u32 n = len;
	if (n > cap)
		n = cap;
	if (n)
		bpf_xdp_load_bytes(ctx, off + 2, dst, n);
	return len;
}

/* Notes the frame in the servers map when it is a DHCP server's reply;
 * 1 when it was, else 0. `vlan`: outer VLAN id << 16 | inner. */
__attribute__((noinline)) int note_server_reply(struct xdp_md *ctx, __u32 vlan)
{
	if (!ctx)
		return 0;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if (data + DHCP_OPTIONS_OFF > data_end)
		return 0;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + L2_LEN;
	struct udphdr *udp = data + L2L3_LEN;
	struct dhcp_wire_hdr *dh = data + L2L3L4;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->version != 4 || ip->ihl != IPV4_IHL_NO_OPTIONS ||
	    ip->protocol != IPPROTO_UDP || (ip->frag_off & bpf_htons(IPV4_FRAG_MASK)))
		return 0;
	if (udp->source != bpf_htons(PXED_DHCP_SERVER_PORT) ||
	    (udp->dest != bpf_htons(PXED_DHCP_CLIENT_PORT) && udp->dest != bpf_htons(PXED_DHCP_SERVER_PORT)))
		return 0;
	if (dh->op != BOOTP_OP_REPLY || dh->magic != bpf_htonl(DHCP_MAGIC_COOKIE))
		return 0;
	/* The lengths as parse_request() checks them: the options end within
	 * the UDP payload, which ends within the frame. */
	__u32 frame_len = (__u32)(data_end - data);
	__u32 ip_len = bpf_ntohs(ip->tot_len);
	__u32 udp_len = bpf_ntohs(udp->len);
	if (ip_len < sizeof(*ip) + sizeof(*udp) || L2_LEN + ip_len > frame_len)
		return 0;
	if (udp_len < sizeof(*udp) + sizeof(*dh) || udp_len > ip_len - sizeof(*ip))
		return 0;
	__u32 udp_end = L2L3_LEN + udp_len;
	if (udp_end > PXED_OPT_OFF_MASK)
		udp_end = PXED_OPT_OFF_MASK;

	struct pxed_server_key key = {};
	key.server_id_be = ip->saddr;
	__builtin_memcpy(key.mac, eth->h_source, ETH_ALEN);
	key.vlan_outer = (__u16)((vlan >> 16) & VLAN_ID_MASK);
	key.vlan_inner = (__u16)(vlan & VLAN_ID_MASK);

	/* Few values live across the helper calls below, and the fields are
	 * loaded straight into the map's value: this function's stack comes on
	 * top of the request path's (the verifier allows 512 bytes in all). */
	struct srv_walk w = {.xdp = ctx, .off = DHCP_OPTIONS_OFF, .end = (__u16)udp_end, .result = 1};
	bpf_loop(PXED_MAX_OPTIONS, srv_walk_one, &w, 0);
	if (w.result != 0 || !w.o53)
		return 0;
	__u8 b[8] = {};
	if (bpf_xdp_load_bytes(ctx, w.o53 & PXED_OPT_OFF_MASK, b, 3) || b[1] != 1)
		return 0;
	__u8 type = b[2];
	if (type != DHCP_OFFER && type != DHCP_ACK && type != DHCP_NAK)
		return 0;
	if (w.o54 && !bpf_xdp_load_bytes(ctx, w.o54 & PXED_OPT_OFF_MASK, b, 6) && b[1] == 4)
		__builtin_memcpy(&key.server_id_be, b + 2, 4);

	struct pxed_server_seen *v = bpf_map_lookup_elem(&servers, &key);
	if (!v) {
		__u32 zero = 0;
		struct pxed_server_seen *fresh = bpf_map_lookup_elem(&servers_zero, &zero);
		if (!fresh)
			return 0;
		bpf_map_update_elem(&servers, &key, fresh, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&servers, &key);
		if (!v)
			return 0;
	}
	/* The counts are atomic (two CPUs may see one server's replies); the
	 * rest is the last reply's, and two at once may mix their fields.
	 * What is kept is written to the value as soon as it is known, so no
	 * register carries it through the branches that follow: each such
	 * value would multiply the states the verifier tells apart. */
	v->last_type = type;
	if (type == DHCP_OFFER)
		__sync_fetch_and_add(&v->offers, 1);
	else if (type == DHCP_ACK)
		__sync_fetch_and_add(&v->acks, 1);
	else
		__sync_fetch_and_add(&v->naks, 1);
	v->flags = 0;
	if (w.o54 && !bpf_xdp_load_bytes(ctx, w.o54 & PXED_OPT_OFF_MASK, b, 2) && b[1] == 4)
		v->flags |= PXED_SRV_F_HAS_54;
	/* yiaddr and siaddr: adjacent in the BOOTP header and in the value. */
	if (bpf_xdp_load_bytes(ctx, L2L3L4 + DHCP_YIADDR_OFF, &v->yiaddr_be, 8))
		v->yiaddr_be = v->siaddr_be = 0;
	v->len60 = (__u8)srv_copy_opt(ctx, w.o60, v->opt60, PXED_SRV_OPT60_LEN);
	v->len66 = (__u8)srv_copy_opt(ctx, w.o66, v->opt66, PXED_SRV_OPT66_LEN);
	v->len67 = (__u8)srv_copy_opt(ctx, w.o67, v->boot_file, PXED_SRV_FILE_LEN);
	v->flags |= (w.o60 ? PXED_SRV_F_HAS_60 : 0) | (w.o66 ? PXED_SRV_F_HAS_66 : 0) | (w.o67 ? PXED_SRV_F_HAS_67 : 0);
	/* No option 67: the file field, unless option 52 says it holds options. */
	if (!w.o67 && !w.o52 &&
	    !bpf_xdp_load_bytes(ctx, L2L3L4 + DHCP_FILE_OFF, v->boot_file, PXED_SRV_FILE_LEN) && v->boot_file[0])
		v->flags |= PXED_SRV_F_FILE_FIELD;
	v->len43 = 0;
	if (w.o43 && !bpf_xdp_load_bytes(ctx, w.o43 & PXED_OPT_OFF_MASK, b, 2)) {
		w.off = (w.o43 & PXED_OPT_OFF_MASK) + 2;
		w.end = (__u16)(w.off + b[1]);
		w.result = 0;
		bpf_loop(SRV_MAX_SUBOPTS, srv_sub_one, &w, 0);
		v->len43 = b[1];
		v->flags |= PXED_SRV_F_HAS_43 | (w.result ? PXED_SRV_F_43_PXE : 0);
	}
	if (relayed(ctx))
		v->flags |= PXED_SRV_F_RELAYED;
	__u64 now = bpf_ktime_get_ns();
	if (!v->first_ns)
		v->first_ns = now;
	v->last_ns = now;
	count(PXED_STAT_RX_SERVER_REPLY);
	return 1;
}

#endif
