/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The walk over a request's options: one bpf_loop step per option, so the
 * verifier checks the body once however many options a request carries. It
 * records only where the options of interest are (struct opt_pos); the
 * values are read by dhcp_options.h. Return contract of parsing_helpers.h.
 */
#ifndef PXED_BPF_OPTION_WALK_H
#define PXED_BPF_OPTION_WALK_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "pxed/abi.h"
#include "dhcp_wire.h"
#include "parsing_helpers.h"

/* Where the options of interest start (frame offset of the code byte, 0 = absent). */
struct opt_pos {
	__u32 o50, o53, o54, o55, o60, o77, o93, o175;
	__u32 dup, o52, o82;
};

struct walk_ctx {
	struct xdp_md *xdp;
	__u32 off;
	__u32 udp_end;
	int result; /* 1 while walking, 0 end found, -1 malformed */
	struct opt_pos pos;
};

static __always_inline void record(__u32 *slot, __u32 *dup, __u32 off)
{
	if (*slot)
		*dup = 1;
	*slot = off;
}

/* What lies at frame offset `off` of the options. */
enum option_step { STEP_MALFORMED = -1, STEP_END = 0, STEP_PAD = 1, STEP_OPTION = 2 };

/* The option at `off`: STEP_OPTION with its code and length, when it ends
 * within the UDP payload; else the end option, a pad byte or malformed. */
static __always_inline int option_at(struct xdp_md *ctx, __u32 off, __u32 udp_end, __u8 *code, __u32 *len)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data + off;

	if ((void *)(p + 1) > data_end || off + 1 > udp_end)
		return STEP_MALFORMED;
	*code = p[0];
	if (*code == DHCP_OPT_END)
		return STEP_END;
	if (*code == DHCP_OPT_PAD)
		return STEP_PAD;
	if ((void *)(p + 2) > data_end)
		return STEP_MALFORMED;
	*len = p[1];
	if (off + 2 + *len > udp_end)
		return STEP_MALFORMED;
	return STEP_OPTION;
}

/* One option per call of bpf_loop; records only where the options of
 * interest are. */
static long walk_one(__u32 idx __attribute__((unused)), void *arg)
{
	struct walk_ctx *w = arg;
	__u32 off = w->off & PXED_OPT_OFF_MASK;
	__u8 code = 0;
	__u32 len = 0;
	int step = option_at(w->xdp, off, w->udp_end, &code, &len);
	if (step == STEP_MALFORMED || step == STEP_END) {
		w->result = step == STEP_END ? 0 : -1;
		return 1;
	}
	if (step == STEP_PAD) {
		w->off = off + 1;
		return 0;
	}
	struct opt_pos *pos = &w->pos;
	switch (code) {
	case DHCP_OPT_MSG_TYPE: record(&pos->o53, &pos->dup, off); break;
	case DHCP_OPT_REQUESTED_IP: record(&pos->o50, &pos->dup, off); break;
	case DHCP_OPT_SERVER_ID: record(&pos->o54, &pos->dup, off); break;
	case DHCP_OPT_VENDOR_CLASS: record(&pos->o60, &pos->dup, off); break;
	case DHCP_OPT_USER_CLASS: record(&pos->o77, &pos->dup, off); break;
	case DHCP_OPT_CLIENT_ARCH: record(&pos->o93, &pos->dup, off); break;
	case DHCP_OPT_PARAM_REQUEST: record(&pos->o55, &pos->dup, off); break;
	case DHCP_OPT_IPXE_ENCAP: record(&pos->o175, &pos->dup, off); break;
	case DHCP_OPT_OVERLOAD: record(&pos->o52, &pos->dup, off); break;
	case DHCP_OPT_RELAY_AGENT: record(&pos->o82, &pos->dup, off); break;
	default: break;
	}
	w->off = off + 2 + len;
	return 0;
}

/*
 * Walks the options from frame offset `off` to the end option. Malformed:
 * an option running past the UDP payload or past frame offset
 * PXED_OPT_OFF_MASK, no end option within PXED_MAX_OPTIONS options.
 */
static __always_inline int walk_options(struct xdp_md *ctx, __u32 off, __u32 udp_end, struct opt_pos *pos)
{
	/* Offsets are masked with PXED_OPT_OFF_MASK for the verifier. Ending
	 * the walk there makes an option that reaches past it malformed (as
	 * one past the UDP payload is), so an offset never wraps around into
	 * the headers. */
	if (udp_end > PXED_OPT_OFF_MASK)
		udp_end = PXED_OPT_OFF_MASK;
	struct walk_ctx w = {.xdp = ctx, .off = off, .udp_end = udp_end, .result = 1};
	bpf_loop(PXED_MAX_OPTIONS, walk_one, &w, 0);
	if (w.result != 0)
		return PXED_STAT_PASS_MALFORMED;
	*pos = w.pos;
	return PARSE_OK;
}

/*
 * The proxy path's options: 43 (a boot item in a 4011 request) and 97 (the
 * client's UUID, echoed). A walk of its own, run only for proxy clients: in
 * the main walk two more slots would double the states the verifier tells
 * apart twice over.
 */
struct pxe_opt_pos {
	__u32 o43, o97, dup;
};

struct pxe_walk_ctx {
	struct xdp_md *xdp;
	__u32 off;
	__u32 udp_end;
	int result;
	struct pxe_opt_pos pos;
};

static long walk_pxe_one(__u32 idx __attribute__((unused)), void *arg)
{
	struct pxe_walk_ctx *w = arg;
	__u32 off = w->off & PXED_OPT_OFF_MASK;
	__u8 code = 0;
	__u32 len = 0;
	int step = option_at(w->xdp, off, w->udp_end, &code, &len);
	if (step == STEP_MALFORMED || step == STEP_END) {
		w->result = step == STEP_END ? 0 : -1;
		return 1;
	}
	if (step == STEP_PAD) {
		w->off = off + 1;
		return 0;
	}
	if (code == DHCP_OPT_VENDOR_SPECIFIC)
		record(&w->pos.o43, &w->pos.dup, off);
	else if (code == DHCP_OPT_CLIENT_UUID)
		record(&w->pos.o97, &w->pos.dup, off);
	w->off = off + 2 + len;
	return 0;
}

/* The proxy options of a request the main walk found well-formed. */
static __always_inline int walk_pxe_options(struct xdp_md *ctx, __u32 off, __u32 udp_end, struct pxe_opt_pos *pos)
{
	if (udp_end > PXED_OPT_OFF_MASK)
		udp_end = PXED_OPT_OFF_MASK;
	struct pxe_walk_ctx w = {.xdp = ctx, .off = off, .udp_end = udp_end, .result = 1};
	bpf_loop(PXED_MAX_OPTIONS, walk_pxe_one, &w, 0);
	if (w.result != 0)
		return PXED_STAT_PASS_MALFORMED;
	*pos = w.pos;
	return PARSE_OK;
}

#endif
