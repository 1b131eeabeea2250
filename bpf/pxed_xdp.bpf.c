// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * pxed XDP program: the DHCP fast path.
 *
 * Parses every frame on the serving interface. A well-formed BOOTREQUEST to
 * UDP port 67 from a MAC that has a reservation is a candidate for an
 * in-kernel reply; everything else is XDP_PASS to the daemon, counted by the
 * reason it was passed. The program never invents policy: replies are built
 * from option blobs that userspace renders (see include/pxed/abi.h).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "pxed/abi.h"
#include "dhcp_wire.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PXED_MAX_RESERVATIONS);
	__type(key, struct pxed_mac_key);
	__type(value, struct pxed_reservation);
} reservations SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PXED_MAX_BLOBS);
	__type(key, __u32);
	__type(value, struct pxed_reply_blob);
} reply_blobs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pxed_xdp_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PXED_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);
	if (v)
		*v += 1;
}

static __always_inline int pass(__u32 reason)
{
	count(reason);
	return XDP_PASS;
}

struct dhcp_req_info {
	__u8 msg_type;       /* option 53, 0 when absent */
	__u8 overload;       /* option 52 present */
	__u32 requested_ip;  /* option 50, network order, 0 when absent */
	__u32 server_id;     /* option 54, network order, 0 when absent */
};

/*
 * Walk the options after the magic cookie. Returns 0 when an end option was
 * found within bounds, -1 when the options are malformed (an option running
 * past the frame, no end option within PXED_MAX_OPTIONS).
 * The offset is masked on every iteration so the verifier sees one bounded
 * range, and equivalent states are pruned rather than unrolled.
 */
static __always_inline int parse_options(struct xdp_md *ctx, __u32 off,
					 __u32 udp_end, struct dhcp_req_info *info)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	for (int i = 0; i < PXED_MAX_OPTIONS; i++) {
		off &= PXED_OPT_OFF_MASK;
		__u8 *p = data + off;
		if ((void *)(p + 1) > data_end || off + 1 > udp_end)
			return -1;
		__u8 code = p[0];
		if (code == DHCP_OPT_PAD) {
			off += 1;
			continue;
		}
		if (code == DHCP_OPT_END)
			return 0;
		if ((void *)(p + 2) > data_end || off + 2 > udp_end)
			return -1;
		__u8 len = p[1];
		if (off + 2 + len > udp_end)
			return -1;
		if (code == DHCP_OPT_MSG_TYPE && len == 1) {
			if ((void *)(p + 3) > data_end)
				return -1;
			info->msg_type = p[2];
		} else if (code == DHCP_OPT_OVERLOAD) {
			info->overload = 1;
		} else if ((code == DHCP_OPT_REQUESTED_IP || code == DHCP_OPT_SERVER_ID) &&
			   len == 4) {
			if ((void *)(p + 6) > data_end)
				return -1;
			__u32 v;
			__builtin_memcpy(&v, p + 2, 4);
			if (code == DHCP_OPT_REQUESTED_IP)
				info->requested_ip = v;
			else
				info->server_id = v;
		}
		off += 2 + len;
	}
	return -1;
}

SEC("xdp")
int pxed_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	count(PXED_STAT_RX_TOTAL);

	__u32 zero = 0;
	struct pxed_xdp_config *cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg || !cfg->enabled)
		return pass(PXED_STAT_PASS_DISABLED);

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return pass(PXED_STAT_PASS_MALFORMED);
	if (eth->h_proto == bpf_htons(ETH_P_8021Q) || eth->h_proto == bpf_htons(ETH_P_8021AD))
		return pass(PXED_STAT_PASS_VLAN);
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return pass(PXED_STAT_PASS_NOT_IPV4);

	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return pass(PXED_STAT_PASS_MALFORMED);
	if (ip->version != 4 || ip->ihl < 5)
		return pass(PXED_STAT_PASS_MALFORMED);
	if (ip->protocol != IPPROTO_UDP)
		return pass(PXED_STAT_PASS_NOT_UDP);
	if (ip->ihl != 5)
		return pass(PXED_STAT_PASS_IP_OPTIONS);
	if (ip->frag_off & bpf_htons(0x3fff)) /* MF or fragment offset */
		return pass(PXED_STAT_PASS_FRAGMENT);

	struct udphdr *udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > data_end)
		return pass(PXED_STAT_PASS_MALFORMED);
	if (udp->dest != bpf_htons(PXED_DHCP_SERVER_PORT))
		return pass(PXED_STAT_PASS_NOT_DHCP);

	/* Lengths must agree: IP total length within the frame, UDP length
	 * within the IP payload. Trailing Ethernet padding is allowed. */
	__u32 frame_len = (__u32)(data_end - data);
	__u32 ip_len = bpf_ntohs(ip->tot_len);
	__u32 udp_len = bpf_ntohs(udp->len);
	if (ip_len < sizeof(*ip) + sizeof(*udp) || sizeof(*eth) + ip_len > frame_len)
		return pass(PXED_STAT_PASS_MALFORMED);
	if (udp_len < sizeof(*udp) + sizeof(struct dhcp_wire_hdr) ||
	    udp_len > ip_len - sizeof(*ip))
		return pass(PXED_STAT_PASS_MALFORMED);

	struct dhcp_wire_hdr *dh = (void *)(udp + 1);
	if ((void *)(dh + 1) > data_end)
		return pass(PXED_STAT_PASS_MALFORMED);
	if (dh->op != 1 || dh->htype != 1 || dh->hlen != 6 ||
	    dh->magic != bpf_htonl(DHCP_MAGIC_COOKIE))
		return pass(PXED_STAT_PASS_MALFORMED);

	struct dhcp_req_info info = {};
	__u32 opt_off = sizeof(*eth) + sizeof(*ip) + sizeof(*udp) + sizeof(*dh);
	__u32 udp_end = sizeof(*eth) + sizeof(*ip) + udp_len;
	if (parse_options(ctx, opt_off, udp_end, &info) < 0)
		return pass(PXED_STAT_PASS_MALFORMED);
	count(PXED_STAT_RX_DHCP);
	if (info.overload)
		return pass(PXED_STAT_PASS_OVERLOAD);

	struct pxed_mac_key key = {};
	__builtin_memcpy(key.mac, dh->chaddr, 6);
	struct pxed_reservation *resv = bpf_map_lookup_elem(&reservations, &key);
	if (!resv)
		return pass(PXED_STAT_PASS_NOT_RESERVED);
	if (resv->flags & PXED_RESV_DISABLED)
		return pass(PXED_STAT_PASS_DISABLED);
	if (info.msg_type != DHCP_DISCOVER && info.msg_type != DHCP_REQUEST)
		return pass(PXED_STAT_PASS_MSG_TYPE);

	__u32 blob_id = resv->blob_id;
	struct pxed_reply_blob *blob = bpf_map_lookup_elem(&reply_blobs, &blob_id);
	if (!blob || blob->len == 0)
		return pass(PXED_STAT_PASS_NO_BLOB);

	/* The in-kernel reply (XDP_TX) is built here by the fast-path issue;
	 * until then the daemon answers every client. */
	return pass(PXED_STAT_PASS_NO_BLOB);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
