/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The reply a request gets, as classify() decides it for build_reply(), and
 * the choice of its blob: the profile of the request's signature, the blob
 * of that profile among a reservation's or a proxy subnet's, and option 55.
 */
#ifndef PXED_BPF_REPLY_PLAN_H
#define PXED_BPF_REPLY_PLAN_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "pxed/abi.h"
#include "pxed/profile.h"
#include "addressing.h"
#include "dhcp_options.h"
#include "dhcp_wire.h"
#include "maps.h"
#include "prl.h"

/* The blob's options end at most this far into its tail, so that the end
 * option and up to DHCP_MIN_OPTIONS_LEN - 1 bytes of padding follow them
 * inside it; masks the verifier can bound the copies with. */
#define OPTS_LEN_MAX (PXED_TAIL_MAX - DHCP_MIN_OPTIONS_LEN)
#define OPTS_LEN_MASK 0x1ff
#define HOST_LEN_MASK 0x7f
#define PAD_MASK 0x3f
#define DHCP_OPT53_LEN 3

#define UUID_OPT_LEN (2 + DHCP_UUID_LEN)
/* Option 82 as echoed: code, length and up to PXED_RELAY_OPT_MAX bytes,
 * in a buffer of whole 16-bit words. */
#define RELAY_OPT_LEN_MAX (2 + PXED_RELAY_OPT_MAX)
#define RELAY_OPT_BUF RELAY_OPT_LEN_MAX
#define RELAY_LEN_MASK 0x7f

/* The reply classify() decided on: everything build_reply() takes from the
 * request and the maps, copied out before the frame is resized, so that
 * build_reply() is one path for every kind of reply. */
struct reply_plan {
	__u32 blob_id;
	struct pxed_mac_key key; /* chaddr */
	/* 16-bit lengths and sums: the plan, classify() and relay_key()
	 * share the verifier's 512 bytes of stack. */
	__u16 frame_len;
	__u16 opts_len;
	__u16 extra_len;  /* the bytes after the blob's options: the host's option, or a proxy's UUID */
	__u16 extra_csum; /* their ones' complement sum placed at an even offset, host order */
	__u32 yiaddr;
	__u32 siaddr;
	__u32 ciaddr;
	struct reply_dest dst;
	__u16 src_port;
	__u16 flags_or;  /* OR-ed into the request's flags (network order): a proxy's broadcast bit */
	__u8 reply_type;
	/* What the boot trace records of the request (bpf/trace.h); traced:
	 * the BOOTP header was read, key holds the chaddr. */
	__u8 traced;
	__u8 msg_type;
	__u8 vendor;
	__u32 xid;
	__u32 req_addr; /* option 50, else ciaddr */
	__u16 arch;
	__u8 trace_flags; /* enum pxed_trace_flags */
	__u8 tx_stat;     /* the counter of the reply sent */
	/* This host on the request's segment: the interface, or the VLAN
	 * device of a served VLAN (struct pxed_vlan). */
	__u32 our_addr;
	__u8 our_mac[ETH_ALEN];
	__u16 proxy_slot;
	__u8 extra[PXED_HOST_OPT_MAX]; /* zero after extra_len: words are summed in pairs */
	/* The request's option 82, echoed after extra: its length and sum
	 * (as extra_csum); the bytes wait in the relay_echo map (bpf/relay.h). */
	__u16 o82_len;
	__u16 o82_csum;
};

/* The blob of `sig`'s profile among ids[]: PARSE_OK and plan->blob_id and
 * opts_len, or the pass reason. */
static __always_inline int pick_blob(struct xdp_md *ctx, const struct dhcp_req_info *info, const __u16 *ids,
				     struct reply_plan *plan)
{
	__u32 sig = pxed_signature(info->has_arch, info->arch, info->vendor, info->ipxe, info->opt175);
	__u32 *profile = bpf_map_lookup_elem(&profiles, &sig);
	if (!profile || *profile >= PXED_PROFILES)
		return PXED_STAT_PASS_UNDECIDED;
	__u32 blob_id = ids[*profile & (PXED_PROFILES - 1)];
	if (blob_id == PXED_BLOB_UNDECIDED)
		return PXED_STAT_PASS_UNDECIDED;
	if (blob_id == PXED_NO_BLOB)
		return PXED_STAT_PASS_NO_BLOB;
	struct pxed_reply_blob *blob = bpf_map_lookup_elem(&reply_blobs, &blob_id);
	if (!blob)
		return PXED_STAT_PASS_NO_BLOB;
	if (!prl_allows(ctx, info->o55, blob))
		return PXED_STAT_PASS_PRL;
	plan->blob_id = blob_id;
	plan->opts_len = blob->opts_len;
	plan->siaddr = blob->siaddr_be;
	if (plan->opts_len < DHCP_OPT53_LEN || plan->opts_len > OPTS_LEN_MAX)
		return PXED_STAT_PASS_NO_BLOB;
	return PARSE_OK;
}

#endif
