/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Option 55, the parameter request list: a blob carries some options only
 * because the client asked for them (or sent no list); the daemon leaves
 * out those a list does not name. The program answers with the blob only
 * when the request's list names every one of them (blob->cond), else it
 * passes to the daemon, which renders the smaller reply.
 */
#ifndef PXED_BPF_PRL_H
#define PXED_BPF_PRL_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "pxed/abi.h"
#include "dhcp_wire.h"

struct prl_walk {
	struct xdp_md *xdp;
	__u32 off;      /* frame offset of option 55's first value byte */
	__u64 bits[4];  /* the codes the list names */
};

static long prl_one(__u32 i, void *arg)
{
	struct prl_walk *w = arg;
	void *data = (void *)(long)w->xdp->data;
	void *data_end = (void *)(long)w->xdp->data_end;
	__u8 *b = data + ((w->off + i) & PXED_OPT_OFF_MASK);
	if ((void *)(b + 1) > data_end)
		return 1;
	__u8 c = *b;
	w->bits[(c >> 6) & 3] |= 1ULL << (c & 63);
	return 0;
}

/* 1 when the blob's conditional options are all named by the request's
 * option 55 at frame offset o55 (0: no list, which asks for everything). */
static __always_inline int prl_allows(struct xdp_md *ctx, __u32 o55, const struct pxed_reply_blob *blob)
{
	__u32 n = blob->n_cond;
	if (!o55 || n == 0)
		return 1;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data + (o55 & PXED_OPT_OFF_MASK);
	if ((void *)(p + 2) > data_end)
		return 0;
	struct prl_walk w = {.xdp = ctx, .off = (o55 & PXED_OPT_OFF_MASK) + 2};
	bpf_loop(p[1], prl_one, &w, 0);
	for (__u32 i = 0; i < PXED_COND_MAX; i++) {
		if (i >= n)
			break;
		__u8 c = blob->cond[i];
		if (!(w.bits[(c >> 6) & 3] & (1ULL << (c & 63))))
			return 0;
	}
	return 1;
}

#endif
