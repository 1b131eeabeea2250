/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The boot trace (include/pxed/abi.h, struct pxed_trace_ring): each verdict
 * on a request whose BOOTP header was read is written into its client's
 * ring in the `trace` LRU map, when the configuration turns the trace on.
 * One global function, verified once for every call site: the cost per
 * request is one LRU lookup and 24 bytes written (an insert from the
 * all-zero ring for a client not seen yet).
 */
#ifndef PXED_BPF_TRACE_H
#define PXED_BPF_TRACE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "pxed/abi.h"
#include "maps.h"
#include "reply_plan.h"

__attribute__((noinline)) int trace_record(struct reply_plan *plan, __u32 verdict, __u32 reason)
{
	if (!plan || !plan->traced)
		return 0;
	struct pxed_trace_ring *ring = bpf_map_lookup_elem(&trace, &plan->key);
	if (!ring) {
		__u32 zero = 0;
		struct pxed_trace_ring *fresh = bpf_map_lookup_elem(&trace_zero, &zero);
		if (!fresh)
			return 0;
		bpf_map_update_elem(&trace, &plan->key, fresh, BPF_NOEXIST);
		ring = bpf_map_lookup_elem(&trace, &plan->key);
		if (!ring)
			return 0;
	}
	/* Not atomic (the fetching add needs -mcpu=v3): two CPUs recording for
	 * one client in the same instant may write one slot, and one of the
	 * two events is lost. A client's frames arrive on one queue (RSS hashes
	 * its addresses), so that takes a client sending from two. */
	__u32 n = ring->next;
	ring->next = n + 1;
	__u32 slot = n & (PXED_TRACE_EVENTS - 1);
	struct pxed_trace_event *ev = &ring->ev[slot];
	ev->ts_ns = bpf_ktime_get_ns();
	ev->xid = plan->xid;
	ev->addr_be = verdict == PXED_TRACE_TX ? plan->yiaddr : plan->req_addr;
	ev->arch = plan->arch;
	ev->msg_type = plan->msg_type;
	ev->verdict = (__u8)verdict;
	ev->reason = (__u8)reason;
	ev->vendor = plan->vendor;
	ev->flags = plan->trace_flags;
	ev->pad = 0;
	return 0;
}

/* Records the verdict when the configuration asks for the trace. */
static __always_inline void trace_verdict(const struct pxed_xdp_config *cfg, struct reply_plan *plan, __u32 verdict,
					  __u32 reason)
{
	if (cfg->flags & PXED_CFG_TRACE)
		trace_record(plan, verdict, reason);
}

#endif
