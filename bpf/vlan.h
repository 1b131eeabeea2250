/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * VLAN trunks: 802.1Q and 802.1ad (QinQ) tags in front of a request.
 *
 * The program takes a served VLAN's tags out of the frame before it reads
 * the request (bpf_xdp_adjust_head after moving the MAC addresses over
 * them), so every other header keeps the fixed offsets the rest of the
 * program and its verifier budget are built on, and puts them back on the
 * way out: all of them in front of a reply (XDP_TX sends the frame's bytes
 * as they are), the ones that were in the frame in front of a passed
 * request, so the kernel's VLAN devices deliver it to the daemon as it
 * came. A tagged frame whose tags cannot be put back is dropped, never
 * passed untagged (it would reach the wrong subnet's socket).
 *
 * A NIC may take the outer tag out of the frame itself (VLAN offload) and
 * hand it over in its descriptor (veth does the same with a tag the
 * sender's stack kept out of the frame): where the driver offers the RX
 * metadata kfunc, userspace loads the program pxed_xdp_meta, bound to the
 * device (the kernel allows the kfunc only there), which reads that tag
 * from the driver as the outermost.
 */
#ifndef PXED_BPF_VLAN_H
#define PXED_BPF_VLAN_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "pxed/abi.h"
#include "maps.h"
#include "parsing_helpers.h"

#define VLAN_TAG_LEN 4
#define VLAN_VID_MASK 0x0fff
#define VLAN_TAGS_MAX 2

/* Since Linux 6.8; only in a device-bound program (-EOPNOTSUPP where the
 * driver does not implement it, -ENODATA for a frame without one). */
extern int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto, __u16 *vlan_tci) __ksym __weak;

struct vlan_tag_hdr {
	__be16 tci;
	__be16 next_proto;
};

/* A request's tags, outermost first. hw: the first came from the driver. */
struct vlan_tags {
	__be16 tpid0, tci0; /* network order */
	__be16 tpid1, tci1;
	__u8 n;     /* tags in all */
	__u8 hw;    /* 1: tag 0 is the driver's, not in the frame */
	__u8 taken; /* tags taken out of the frame */
	struct pxed_vlan_key key;
};

static __always_inline int is_vlan_tpid(__be16 p)
{
	return p == bpf_htons(ETH_P_8021Q) || p == bpf_htons(ETH_P_8021AD);
}

/*
 * Reads the tags (nothing is changed): PARSE_OK with t->n = 0 for an
 * untagged frame, PARSE_OK with the tags, or PXED_STAT_PASS_VLAN for more
 * than two, PXED_STAT_PASS_MALFORMED for a tag cut short.
 */
static __always_inline int vlan_read(struct xdp_md *ctx, int meta, struct vlan_tags *t)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return PARSE_OK; /* classify() passes it as malformed */
	__u32 n = 0;
	if (meta) {
		__be16 proto = 0;
		__u16 tci = 0;
		if (!bpf_xdp_metadata_rx_vlan_tag(ctx, &proto, &tci)) {
			t->tpid0 = proto;
			t->tci0 = bpf_htons(tci);
			t->hw = 1;
			n = 1;
		}
	}
	if (!is_vlan_tpid(eth->h_proto)) {
		t->n = n;
		return PARSE_OK;
	}
	struct vlan_tag_hdr *v = (void *)(eth + 1);
	if ((void *)(v + 1) > data_end)
		return PXED_STAT_PASS_MALFORMED;
	if (n) {
		t->tpid1 = eth->h_proto;
		t->tci1 = v->tci;
	} else {
		t->tpid0 = eth->h_proto;
		t->tci0 = v->tci;
	}
	n++;
	if (is_vlan_tpid(v->next_proto)) {
		if (n == VLAN_TAGS_MAX)
			return PXED_STAT_PASS_VLAN;
		struct vlan_tag_hdr *v2 = v + 1;
		if ((void *)(v2 + 1) > data_end)
			return PXED_STAT_PASS_MALFORMED;
		if (is_vlan_tpid(v2->next_proto))
			return PXED_STAT_PASS_VLAN;
		t->tpid1 = v->next_proto;
		t->tci1 = v2->tci;
		n++;
	}
	t->n = n;
	return PARSE_OK;
}

/* The VLAN entry of the tags, or NULL. An inner tag with VLAN id 0 (a
 * priority tag) is not taken for the single tag it would look like. */
static __always_inline struct pxed_vlan *vlan_lookup(struct vlan_tags *t)
{
	t->key.outer = bpf_ntohs(t->tci0) & VLAN_VID_MASK;
	t->key.inner = t->n > 1 ? bpf_ntohs(t->tci1) & VLAN_VID_MASK : 0;
	if (t->n > 1 && !t->key.inner)
		return 0;
	return bpf_map_lookup_elem(&vlans, &t->key);
}

/* Takes the tags that are in the frame out of it. */
static __always_inline int vlan_take(struct xdp_md *ctx, struct vlan_tags *t)
{
	__u32 inband = t->n - t->hw;
	if (inband == 0)
		return PARSE_OK;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if (data + 2 * ETH_ALEN > data_end)
		return PXED_STAT_PASS_MALFORMED;
	__u8 macs[2 * ETH_ALEN];
	__builtin_memcpy(macs, data, sizeof(macs));
	int len = inband > 1 ? 2 * VLAN_TAG_LEN : VLAN_TAG_LEN;
	if (bpf_xdp_adjust_head(ctx, len))
		return PXED_STAT_PASS_MALFORMED; /* nothing changed */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(struct ethhdr) > data_end)
		return PXED_STAT_PASS_MALFORMED; /* cannot be: the tags were followed by a type */
	__builtin_memcpy(data, macs, sizeof(macs));
	t->taken = inband;
	return PARSE_OK;
}

/* Puts tags first..n-1 of t in front of the frame's EtherType: -1 when the
 * frame could not grow. */
static __always_inline int vlan_push(struct xdp_md *ctx, const struct vlan_tags *t, __u32 first)
{
	__u32 count = t->n - first;
	if (count == 0)
		return 0;
	int len = count > 1 ? 2 * VLAN_TAG_LEN : VLAN_TAG_LEN;
	if (bpf_xdp_adjust_head(ctx, -len))
		return -1;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if (data + 2 * ETH_ALEN + 2 * VLAN_TAG_LEN > data_end)
		return -1;
	__u8 macs[2 * ETH_ALEN];
	__builtin_memcpy(macs, data + len, sizeof(macs));
	__builtin_memcpy(data, macs, sizeof(macs));
	__be16 *w = data + 2 * ETH_ALEN;
	if (first) {
		w[0] = t->tpid1;
		w[1] = t->tci1;
	} else {
		w[0] = t->tpid0;
		w[1] = t->tci0;
		if (count > 1) {
			w[2] = t->tpid1;
			w[3] = t->tci1;
		}
	}
	return 0;
}

/* A passed frame gets back the tags taken out of it: XDP_PASS, or XDP_DROP
 * when that fails. */
static __always_inline int vlan_pass(struct xdp_md *ctx, const struct vlan_tags *t, __u32 reason)
{
	if (t->taken && vlan_push(ctx, t, t->hw)) {
		count(PXED_STAT_DROP_VLAN_RESTORE);
		return XDP_DROP;
	}
	return pass(reason);
}

#endif
