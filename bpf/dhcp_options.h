/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The DHCP options of a request, as far as the fast path needs them: after
 * the walk (option_walk.h) has recorded where the options of interest are,
 * a read of each one's value. Same return contract as parsing_helpers.h:
 * PARSE_OK or the pass reason (here always PXED_STAT_PASS_MALFORMED).
 */
#ifndef PXED_BPF_DHCP_OPTIONS_H
#define PXED_BPF_DHCP_OPTIONS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "pxed/abi.h"
#include "pxed/profile.h"
#include "dhcp_wire.h"
#include "option_walk.h"
#include "parsing_helpers.h"

/* What the program takes from a request's options. */
struct dhcp_req_info {
	__u32 requested_ip; /* option 50, network order, valid if has_requested */
	__u32 server_id;    /* option 54, network order, valid if has_server_id */
	__u32 o55;          /* frame offset of option 55, 0 when absent */
	__u32 udp_end;      /* frame offset where the UDP payload ends */
	__u32 o82;          /* frame offset of option 82, 0 when absent */
	__u16 arch;         /* option 93 first entry, valid if has_arch */
	__u8 has_arch;
	__u8 msg_type;      /* option 53 when exactly 1 byte, else 0 */
	__u8 has_requested;
	__u8 has_server_id;
	__u8 vendor;        /* enum pxed_vendor_kind, from option 60 */
	__u8 ipxe;          /* option 77 is "iPXE" */
	__u8 opt175;        /* option 175 present */
	__u8 unsure;        /* a duplicate or a user class the program does not classify */
	__u8 overload;      /* option 52 present */
	__u8 relay_agent;   /* option 82 present */
};

/*
 * The value of the option recorded at `off` when its length is within
 * [min_len, max_len]: *val points at it with min_len bytes readable and
 * *len is its length. *val is 0 when the option is absent or of another
 * length (not an error: the program then ignores it).
 */
static __always_inline int opt_value(struct xdp_md *ctx, __u32 off, __u32 min_len, __u32 max_len, const __u8 **val,
				     __u32 *len)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data + (off & PXED_OPT_OFF_MASK);
	*val = 0;
	*len = 0;
	if (!off)
		return PARSE_OK;
	if ((void *)(p + 2) > data_end)
		return PXED_STAT_PASS_MALFORMED;
	if (p[1] < min_len || p[1] > max_len)
		return PARSE_OK;
	if ((void *)(p + 2 + min_len) > data_end)
		return PXED_STAT_PASS_MALFORMED;
	*len = p[1];
	*val = p + 2;
	return PARSE_OK;
}

static __always_inline int is_ipxe(const __u8 *v)
{
	return v[0] == 'i' && v[1] == 'P' && v[2] == 'X' && v[3] == 'E';
}

static __always_inline int is_pxeclient(const __u8 *v)
{
	return v[0] == 'P' && v[1] == 'X' && v[2] == 'E' && v[3] == 'C' && v[4] == 'l' && v[5] == 'i' &&
	       v[6] == 'e' && v[7] == 'n' && v[8] == 't';
}

static __always_inline int is_httpclient(const __u8 *v)
{
	return v[0] == 'H' && v[1] == 'T' && v[2] == 'T' && v[3] == 'P' && v[4] == 'C' && v[5] == 'l' &&
	       v[6] == 'i' && v[7] == 'e' && v[8] == 'n' && v[9] == 't';
}

#define IPXE_LEN 4        /* "iPXE" */
#define PXECLIENT_LEN 9   /* "PXEClient" */
#define HTTPCLIENT_LEN 10 /* "HTTPClient" */

/* Option 60: which of the words the program knows it starts with. */
static __always_inline int parse_vendor_class(struct xdp_md *ctx, __u32 off, struct dhcp_req_info *info)
{
	const __u8 *v;
	__u32 len;
	int r;

	info->vendor = off ? PXED_VENDOR_OTHER : PXED_VENDOR_ABSENT;
	if ((r = opt_value(ctx, off, PXECLIENT_LEN, 255, &v, &len)) || !v)
		return r;
	if (is_pxeclient(v)) {
		info->vendor = PXED_VENDOR_PXECLIENT;
		return PARSE_OK;
	}
	if ((r = opt_value(ctx, off, HTTPCLIENT_LEN, 255, &v, &len)) || !v)
		return r;
	if (is_httpclient(v))
		info->vendor = PXED_VENDOR_HTTPCLIENT;
	return PARSE_OK;
}

/* Option 77: "iPXE" raw or as one RFC 3004 entry classifies; any other
 * user class of 4 bytes or more is for the daemon, which searches it. */
static __always_inline int parse_user_class(struct xdp_md *ctx, __u32 off, struct dhcp_req_info *info)
{
	const __u8 *v;
	__u32 len;
	int r = opt_value(ctx, off, IPXE_LEN, 255, &v, &len);
	if (r || !v)
		return r; /* shorter than 4 bytes: cannot contain "iPXE" */
	if (len == IPXE_LEN) {
		if (is_ipxe(v))
			info->ipxe = 1;
		else
			info->unsure = 1;
	} else if (len == IPXE_LEN + 1) {
		if ((r = opt_value(ctx, off, IPXE_LEN + 1, IPXE_LEN + 1, &v, &len)) || !v)
			return r;
		if (v[0] == IPXE_LEN && is_ipxe(v + 1))
			info->ipxe = 1;
		else
			info->unsure = 1;
	} else {
		info->unsure = 1;
	}
	return PARSE_OK;
}

/* Walks the options from frame offset `off` and fills *info. */
static __always_inline int parse_options(struct xdp_md *ctx, __u32 off, __u32 udp_end, struct dhcp_req_info *info)
{
	struct opt_pos pos = {};
	const __u8 *v;
	__u32 len;
	int r;

	if ((r = walk_options(ctx, off, udp_end, &pos)))
		return r;
	info->unsure = pos.dup;
	info->overload = pos.o52 != 0;
	info->relay_agent = pos.o82 != 0;
	info->o82 = pos.o82;

	if ((r = opt_value(ctx, pos.o53, 1, 1, &v, &len)))
		return r;
	if (v)
		info->msg_type = v[0];
	if ((r = opt_value(ctx, pos.o50, 4, 4, &v, &len)))
		return r;
	if (v) {
		__builtin_memcpy(&info->requested_ip, v, 4);
		info->has_requested = 1;
	}
	if ((r = opt_value(ctx, pos.o54, 4, 4, &v, &len)))
		return r;
	if (v) {
		__builtin_memcpy(&info->server_id, v, 4);
		info->has_server_id = 1;
	}
	if ((r = parse_vendor_class(ctx, pos.o60, info)))
		return r;
	if ((r = parse_user_class(ctx, pos.o77, info)))
		return r;
	if ((r = opt_value(ctx, pos.o93, 2, 255, &v, &len)))
		return r;
	if (v) {
		info->arch = (__u16)(v[0] << 8 | v[1]);
		info->has_arch = 1;
	}
	info->opt175 = pos.o175 != 0;
	info->o55 = pos.o55;
	return PARSE_OK;
}

#endif
