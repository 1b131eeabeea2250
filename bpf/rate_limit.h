/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The per-MAC token bucket in front of every kernel reply. */
#ifndef PXED_BPF_RATE_LIMIT_H
#define PXED_BPF_RATE_LIMIT_H

#include "maps.h"

#define NS_PER_S 1000000000ull
#define MILLI 1000 /* tokens are counted in thousandths */
#define RATE_IDLE_REFILL_NS (NS_PER_S * 3600) /* an hour idle: a full bucket */

/* Returns 1 when the frame may be answered and takes a token. */
static __always_inline int rate_ok(const struct pxed_xdp_config *cfg, const struct pxed_mac_key *key)
{
	if (cfg->rate_per_s == 0)
		return 1;
	__u64 now = bpf_ktime_get_ns();
	__u64 burst = (__u64)cfg->rate_burst * MILLI;
	struct pxed_rate_state *st = bpf_map_lookup_elem(&rate_limit, key);
	if (!st) {
		struct pxed_rate_state fresh = {.last_ns = now, .tokens_milli = burst >= MILLI ? burst - MILLI : 0};
		bpf_map_update_elem(&rate_limit, key, &fresh, BPF_ANY);
		return burst >= MILLI;
	}
	__u64 elapsed = now - st->last_ns;
	__u64 tokens = st->tokens_milli;
	if (elapsed > RATE_IDLE_REFILL_NS)
		tokens = burst;
	else
		tokens += elapsed * cfg->rate_per_s / (NS_PER_S / MILLI); /* milli-tokens */
	if (tokens > burst)
		tokens = burst;
	st->last_ns = now;
	if (tokens < MILLI) {
		st->tokens_milli = tokens;
		return 0;
	}
	st->tokens_milli = tokens - MILLI;
	return 1;
}

#endif
