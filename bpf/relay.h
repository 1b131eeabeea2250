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
	/* The key looked up in relay_reservations: off the stack too (the
	 * program, classify() and relay_key() share the 512 bytes). */
	struct pxed_relay_key key;
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

/* Reservations by option 82: struct pxed_relay_key -> a reservation, as
 * the MAC's in `reservations` (userspace/bpf/map_sync.cpp fills both). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PXED_MAX_RELAY_RESERVATIONS);
	__type(key, struct pxed_relay_key);
	__type(value, struct pxed_reservation);
} relay_reservations SEC(".maps");

/* The walk over option 82's sub-options, one per bpf_loop step: where the
 * first circuit id and remote id are. The daemon's rule
 * (dhcp/agent_reservation.cpp agent_sub_option): stop at a sub-option
 * that runs past the option. */
struct sub_walk {
	struct xdp_md *xdp;
	/* 16 bits (offsets stay below PXED_OPT_OFF_MASK): relay_key()'s frame
	 * must fit the 512 bytes with the program's and classify()'s. */
	__u16 off; /* frame offset of the next sub-option */
	__u16 end; /* frame offset where option 82 ends */
	__u16 circuit, circuit_len, remote, remote_len; /* frame offsets of the values, 0: absent */
};

static long sub_one(__u32 idx __attribute__((unused)), void *arg)
{
	struct sub_walk *w = arg;
	__u32 off = w->off & PXED_OPT_OFF_MASK;
	__u8 hdr[2];
	if (off + 2 > w->end || bpf_xdp_load_bytes(w->xdp, off, hdr, sizeof(hdr)))
		return 1;
	__u32 n = hdr[1];
	if (off + 2 + n > w->end)
		return 1;
	if (hdr[0] == PXED_AGENT_CIRCUIT_ID && !w->circuit) {
		w->circuit = (__u16)(off + 2);
		w->circuit_len = (__u16)n;
	} else if (hdr[0] == PXED_AGENT_REMOTE_ID && !w->remote) {
		w->remote = (__u16)(off + 2);
		w->remote_len = (__u16)n;
	}
	w->off = (__u16)(off + 2 + n);
	return 0;
}

/* Whether the id of `len` bytes at frame offset `at` has a reservation;
 * its key in *out. */
static __always_inline int relay_find(struct xdp_md *ctx, __u8 kind, __u32 at, __u32 len, struct pxed_relay_key *key)
{
	__u32 n = len & (2 * PXED_AGENT_ID_MAX - 1);
	if (!at || n != len || n == 0 || n > PXED_AGENT_ID_MAX)
		return 0;
	/* 1..32 by arithmetic, as the verifier sees it: the checks above
	 * bound another register than the one the helper is given. */
	n = ((n - 1) & (PXED_AGENT_ID_MAX - 1)) + 1;
	__builtin_memset(key, 0, sizeof(*key));
	key->kind = kind;
	key->len = (__u8)n;
	if (bpf_xdp_load_bytes(ctx, at & PXED_OPT_OFF_MASK, key->id, n))
		return 0;
	return bpf_map_lookup_elem(&relay_reservations, key) != 0;
}

/* The key of the request's reservation by option 82 into *key: 1 when
 * there is one (circuit id first, then remote id), else 0. A global
 * function: the verifier checks it once, apart from classify()'s paths
 * (inlined, it added 76k instructions to the program's 182k). */
__attribute__((noinline)) int relay_key(struct xdp_md *ctx, __u32 o82, struct pxed_relay_key *key)
{
	__u32 off = o82 & PXED_OPT_OFF_MASK;
	__u8 hdr[2];
	if (!ctx || !key || !off || bpf_xdp_load_bytes(ctx, off, hdr, sizeof(hdr)))
		return 0;
	struct sub_walk w = {.xdp = ctx, .off = (__u16)(off + 2), .end = (__u16)(off + 2 + hdr[1])};
	/* A sub-option takes 2 bytes at least: 128 of them fill 255 bytes. */
	bpf_loop(128, sub_one, &w, 0);
	if (relay_find(ctx, PXED_AGENT_CIRCUIT_ID, w.circuit, w.circuit_len, key))
		return 1;
	return relay_find(ctx, PXED_AGENT_REMOTE_ID, w.remote, w.remote_len, key);
}

/* The reservation by option 82 of a request whose chaddr has none. */
static __always_inline struct pxed_reservation *relay_reservation(struct xdp_md *ctx,
								  const struct dhcp_req_info *info)
{
	struct relay_echo_buf *buf = relay_buf();
	if (!buf || !info->o82 || !relay_key(ctx, info->o82, &buf->key))
		return 0;
	return bpf_map_lookup_elem(&relay_reservations, &buf->key);
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
