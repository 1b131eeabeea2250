// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Load generator for the kernel-path benchmark (scripts/bench-xdp-live),
 * never loaded by pxed.
 *
 * gen:   run by BPF_PROG_TEST_RUN in live-frame mode on the generator's end
 *        of a veth. It writes a DISCOVER or a REQUEST from one of the
 *        reserved MACs into the frame and returns XDP_TX, so the frame
 *        leaves for the peer, where pxed's XDP program answers it.
 *        Live-frame pages are recycled with whatever the last user wrote
 *        (pxed's reply), so every run restores the whole template.
 * count: attached to the same veth end; counts the replies coming back
 *        that are well-formed OFFERs or ACKs for the MAC they are sent to,
 *        and drops them. Anything else is passed to the stack.
 *        With proxy set, a valid reply is a proxy OFFER instead: no address
 *        (yiaddr 0), option 60 "PXEClient", to the client's MAC or broadcast;
 *        the options are walked, so any server's replies (pxed's kernel or
 *        daemon path, dnsmasq) are counted alike.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "dhcp_wire.h"

#define GEN_FRAME_LEN 352 /* both templates are padded to this length */
#define DHCP_CLIENT_PORT_BENCH 68
#define GEN_ETH_SRC_LOW 9 /* low three bytes of the Ethernet source */
#define GEN_CHADDR_LOW (ETH_HLEN + 20 + 8 + 28 + 3)
#define GEN_OPTS_OFF (ETH_HLEN + 20 + 8 + DHCP_FIXED_LEN)

enum { GEN_DISCOVER, GEN_REQUEST };
enum { COUNT_OFFER, COUNT_ACK, COUNT_OTHER_DHCP, COUNT_MAX };

/* Set by the driver before load. */
volatile const __u8 tmpl[2][GEN_FRAME_LEN];
volatile const __u32 nmacs = 1;
volatile const __u32 req_ip_off;  /* offset of option 50's value in tmpl[1] */
volatile const __u32 ip_base;     /* reserved address of MAC index 0, host order */
volatile const __u32 mix;         /* 0 DISCOVERs, 1 REQUESTs, 2 alternate */
volatile const __u32 proxy;       /* count proxy OFFERs, not OFFERs and ACKs */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} replies SEC(".maps");

SEC("xdp")
int gen(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *s = bpf_map_lookup_elem(&seq, &k);
	if (!s || nmacs == 0)
		return XDP_ABORTED;
	__u64 n = (*s)++;
	__u32 which = mix == 2 ? (__u32)(n & 1) : (mix ? 1 : 0);
	__u32 idx = (__u32)((mix == 2 ? n >> 1 : n) % nmacs);

	int len = (int)(ctx->data_end - ctx->data);
	if (len != GEN_FRAME_LEN && bpf_xdp_adjust_tail(ctx, GEN_FRAME_LEN - len))
		return XDP_ABORTED;
	if (bpf_xdp_store_bytes(ctx, 0, (void *)tmpl[which & 1], GEN_FRAME_LEN))
		return XDP_ABORTED;
	__u8 low[3] = {(__u8)(idx >> 16), (__u8)(idx >> 8), (__u8)idx};
	bpf_xdp_store_bytes(ctx, GEN_ETH_SRC_LOW, low, 3);
	bpf_xdp_store_bytes(ctx, GEN_CHADDR_LOW, low, 3);
	if (which) {
		__be32 ip = bpf_htonl(ip_base + idx);
		bpf_xdp_store_bytes(ctx, req_ip_off & 0x1ff, &ip, 4);
	}
	return XDP_TX;
}

static __always_inline void bump(__u32 what)
{
	__u64 *c = bpf_map_lookup_elem(&replies, &what);
	if (c)
		(*c)++;
}

static __always_inline int same_mac(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4] && a[5] == b[5];
}

static __always_inline int is_broadcast(const __u8 *a)
{
	return (a[0] & a[1] & a[2] & a[3] & a[4] & a[5]) == 0xff;
}

/* A proxy OFFER: message type OFFER and option 60 "PXEClient" somewhere in
 * the options (servers order them differently). */
static __always_inline int proxy_offer(struct xdp_md *ctx, __u32 off)
{
	int offer = 0, pxe = 0;

	for (int i = 0; i < 40; i++) {
		__u8 h[2];
		if (bpf_xdp_load_bytes(ctx, off & 0x7ff, h, 1))
			return 0;
		if (h[0] == DHCP_OPT_END)
			break;
		if (h[0] == 0) {
			off++;
			continue;
		}
		if (bpf_xdp_load_bytes(ctx, off & 0x7ff, h, 2))
			return 0;
		if (h[0] == DHCP_OPT_MSG_TYPE && h[1] == 1) {
			__u8 t;
			if (bpf_xdp_load_bytes(ctx, (off + 2) & 0x7ff, &t, 1))
				return 0;
			offer = t == DHCP_OFFER;
		} else if (h[0] == 60 && h[1] >= 9) {
			__u8 v[9];
			if (bpf_xdp_load_bytes(ctx, (off + 2) & 0x7ff, v, 9))
				return 0;
			pxe = v[0] == 'P' && v[1] == 'X' && v[2] == 'E' && v[3] == 'C' && v[4] == 'l' &&
			      v[5] == 'i' && v[6] == 'e' && v[7] == 'n' && v[8] == 't';
		}
		off += 2 + h[1];
	}
	return offer && pxe;
}

SEC("xdp")
int count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + ETH_HLEN;
	struct udphdr *udp = data + ETH_HLEN + sizeof(*ip);
	struct dhcp_wire_hdr *dh = (void *)(udp + 1);
	__u8 *opt = (__u8 *)(dh + 1);

	if ((void *)(opt + 3) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (ip->ihl != 5 || ip->protocol != IPPROTO_UDP || udp->dest != bpf_htons(DHCP_CLIENT_PORT_BENCH))
		return XDP_PASS;
	if (proxy) {
		if (dh->op == 2 && dh->magic == bpf_htonl(DHCP_MAGIC_COOKIE) && dh->yiaddr == 0 &&
		    (same_mac(eth->h_dest, dh->chaddr) || is_broadcast(eth->h_dest)) &&
		    proxy_offer(ctx, GEN_OPTS_OFF))
			bump(COUNT_OFFER);
		else
			bump(COUNT_OTHER_DHCP);
		return XDP_DROP;
	}
	/* A reply for the client it is sent to, with an address, from pxed. */
	if (dh->op != 2 || dh->magic != bpf_htonl(DHCP_MAGIC_COOKIE) || dh->yiaddr == 0 ||
	    !same_mac(eth->h_dest, dh->chaddr)) {
		bump(COUNT_OTHER_DHCP);
		return XDP_DROP;
	}
	/* pxed writes the message type as the first option. */
	if (opt[0] == DHCP_OPT_MSG_TYPE && opt[1] == 1 && opt[2] == DHCP_OFFER)
		bump(COUNT_OFFER);
	else if (opt[0] == DHCP_OPT_MSG_TYPE && opt[1] == 1 && opt[2] == DHCP_ACK)
		bump(COUNT_ACK);
	else
		bump(COUNT_OTHER_DHCP);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
