/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Option 82 (relay agent information, RFC 3046) in the kernel.
 *
 * RFC 3046 section 2.2: the server copies option 82 from the request into
 * every reply, as the last option. The daemon does (dhcp/render.cpp: the
 * blob's options, the host's option 12, then option 82, then the end
 * option), so the program copies the request's option 82 (relay_echo(),
 * into the relay_echo_buf map) and build_reply() writes it after the
 * host's option (relay_store(), relay_sum()). A relay or a snooping switch (giaddr 0) puts it
 * there; the program echoes its bytes as they came, whatever their
 * sub-options, as the daemon does.
 *
 * Passed, counted pass_relay_agent: option 82 longer than
 * PXED_RELAY_OPT_MAX, a reservation whose boot policy reads option 82
 * (PXED_RESV_O82_PASS: its blobs were rendered for a request without it),
 * a reply that would grow past the 548 bytes every client accepts (the
 * daemon would drop options to fit it: reply.cpp fit_reply).
 */
#ifndef PXED_BPF_RELAY_H
#define PXED_BPF_RELAY_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "pxed/abi.h"
#include "checksum.h"
#include "dhcp_options.h"
#include "dhcp_wire.h"
#include "parsing_helpers.h"
#include "reply_plan.h"

/* RFC 2131's 576-byte datagram less the IP and UDP headers (map_sync.cpp
 * kMaxKernelReply): the largest DHCP message the program sends. */
#define DHCP_MAX_KERNEL_REPLY 548

/* The bytes of the option 82 being echoed, from relay_echo() to
 * build_reply() within one run of the program (an XDP run stays on its
 * CPU): the plan on the stack has no room for them (the verifier's 512
 * bytes for the program and build_reply() together). Not pinned. */
struct relay_echo_buf {
	__u8 opt[RELAY_OPT_BUF]; /* zero after the option: words are summed in pairs */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct relay_echo_buf);
} relay_echo_buf SEC(".maps");

static __always_inline struct relay_echo_buf *relay_buf(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&relay_echo_buf, &zero);
}

/* The request's option 82 into relay_echo_buf, its length and sum into
 * the plan, once the blob and the host's option are in it: PARSE_OK (also
 * without option 82) or the pass reason. */
static __always_inline int relay_echo(struct xdp_md *ctx, const struct dhcp_req_info *info, __u16 resv_flags,
				      struct reply_plan *plan)
{
	__u32 off = info->o82 & PXED_OPT_OFF_MASK;
	__u8 hdr[2];

	if (!off)
		return PARSE_OK;
	if (resv_flags & PXED_RESV_O82_PASS)
		return PXED_STAT_PASS_RELAY_AGENT;
	/* The walk saw the whole option inside the UDP payload. */
	if (bpf_xdp_load_bytes(ctx, off, hdr, sizeof(hdr)))
		return PXED_STAT_PASS_MALFORMED;
	__u32 len = 2 + (__u32)hdr[1];
	if (len > RELAY_OPT_LEN_MAX)
		return PXED_STAT_PASS_RELAY_AGENT;
	if (DHCP_FIXED_LEN + plan->opts_len + plan->extra_len + len + 1 > DHCP_MAX_KERNEL_REPLY)
		return PXED_STAT_PASS_RELAY_AGENT;
	struct relay_echo_buf *buf = relay_buf();
	if (!buf)
		return PXED_STAT_PASS_RELAY_AGENT;
	__builtin_memset(buf->opt, 0, sizeof(buf->opt));
	if (bpf_xdp_load_bytes(ctx, off, buf->opt, len))
		return PXED_STAT_PASS_MALFORMED;
	plan->o82_len = len;
	plan->o82_csum = csum_fold(csum_words((const __u16 *)buf->opt, RELAY_OPT_BUF / 2));
	return PARSE_OK;
}

/* build_reply(): option 82 at frame offset `off`; `len` already bounded. */
static __always_inline int relay_store(struct xdp_md *ctx, __u32 off, __u32 len)
{
	if (!len)
		return PARSE_OK;
	struct relay_echo_buf *buf = relay_buf();
	if (!buf || len > RELAY_OPT_LEN_MAX)
		return PXED_STAT_PASS_TX_FAILED;
	if (bpf_xdp_store_bytes(ctx, off, buf->opt, len))
		return PXED_STAT_PASS_TX_FAILED;
	return PARSE_OK;
}

/* Option 82's share of the UDP checksum, its first byte `at` bytes after
 * the options' start (swapped at an odd offset). */
static __always_inline __u32 relay_sum(const struct reply_plan *plan, __u32 len, __u32 at)
{
	__u32 s = plan->o82_csum;
	if (!len)
		return 0;
	if (at & 1)
		s = ((s >> 8) | (s << 8)) & 0xffff;
	return s;
}

#endif
