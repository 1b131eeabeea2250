/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The maps of pxed_xdp.bpf.c, pinned by userspace under
 * /sys/fs/bpf/pxed/<ifname>/ by these names (userspace/bpf/xdp_program.cpp
 * kMapNames), and the counters every verdict goes through. The value types
 * are defined once, in include/pxed/abi.h.
 */
#ifndef PXED_BPF_MAPS_H
#define PXED_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "pxed/abi.h"

/* Reserved MAC -> what the kernel answers it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PXED_MAX_RESERVATIONS);
	__type(key, struct pxed_mac_key);
	__type(value, struct pxed_reservation);
} reservations SEC(".maps");

/* Rendered replies, shared by the reservations whose bytes are identical. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PXED_MAX_BLOBS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct pxed_reply_blob);
} reply_blobs SEC(".maps");

/* Request signature (include/pxed/profile.h) -> profile, or PXED_NO_PROFILE. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PXED_SIGNATURES);
	__type(key, __u32);
	__type(value, __u32);
} profiles SEC(".maps");

/* proxyDHCP on the interface's subnet (key 0) and on VLAN subnets (the
 * key in struct pxed_vlan): see struct pxed_proxy. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PXED_MAX_VLAN_SUBNETS + 1);
	__type(key, __u32);
	__type(value, struct pxed_proxy);
} proxy SEC(".maps");

/* VLAN ids of a trunk's tagged requests -> our side of that VLAN. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PXED_MAX_VLAN_SUBNETS);
	__type(key, struct pxed_vlan_key);
	__type(value, struct pxed_vlan);
} vlans SEC(".maps");

/* The interface: its addresses, the rate limit, on/off (key 0). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pxed_xdp_config);
} config SEC(".maps");

/* Per-CPU counters indexed by enum pxed_stat. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PXED_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Per-MAC token buckets. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PXED_RATE_LRU_SIZE);
	__type(key, struct pxed_mac_key);
	__type(value, struct pxed_rate_state);
} rate_limit SEC(".maps");

/* The boot trace: the last verdicts per client MAC (include/pxed/abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PXED_TRACE_MACS);
	__type(key, struct pxed_mac_key);
	__type(value, struct pxed_trace_ring);
} trace SEC(".maps");

/* An all-zero ring to insert a new client's from (never written: a ring is
 * too large for the program's stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pxed_trace_ring);
} trace_zero SEC(".maps");

/* Other DHCP servers' replies seen on the wire (bpf/servers.h). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PXED_SERVERS_MAX);
	__type(key, struct pxed_server_key);
	__type(value, struct pxed_server_seen);
} servers SEC(".maps");

/* An all-zero entry to insert a new server's from (the program's stack
 * has no room for one beside the request's reply plan). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pxed_server_seen);
} servers_zero SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);
	if (v)
		*v += 1;
}

/* Every XDP_PASS goes through here, with the reason it is counted under. */
static __always_inline int pass(__u32 reason)
{
	count(reason);
	return XDP_PASS;
}

static __always_inline struct pxed_proxy *proxy_get(__u32 slot)
{
	return bpf_map_lookup_elem(&proxy, &slot);
}

static __always_inline struct pxed_xdp_config *config_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&config, &zero);
}

#endif
