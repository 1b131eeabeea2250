// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * pxed XDP program: the DHCP fast path.
 *
 * A well-formed DISCOVER or REQUEST from a MAC with a reservation is answered
 * here with XDP_TX: the program copies the reply blob that userspace rendered
 * for the client's profile (the daemon's own bytes), fills in the per-packet
 * fields and computes the checksums. Everything else is XDP_PASS to the
 * daemon, counted by the reason; only rate-limited frames are dropped.
 * The program never invents policy: whenever it is not sure it would give
 * the daemon's answer, it passes.
 *
 * Two steps: classify() reads the request and decides (a pass reason, or a
 * reply_plan); build_reply() turns the frame into the reply. The headers
 * hold one concern each: maps.h, parsing_helpers.h, option_walk.h,
 * dhcp_options.h, addressing.h, checksum.h, rate_limit.h;
 * prl.h; servers.h (other DHCP servers' replies, noted); include/pxed/profile.h holds the request signature that the
 * profiles map turns into the profile userspace rendered the blobs by.
 * DHCPv6 (a reserved client's Solicit with rapid commit or Request) has a
 * path of its own: dhcp6.h, dhcp6_options.h, dhcp6_reply.h, maps6.h.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "pxed/abi.h"
#include "pxed/profile.h"
#include "addressing.h"
#include "checksum.h"
#include "dhcp_options.h"
#include "dhcp_wire.h"
#include "dhcp6.h"
#include "maps.h"
#include "parsing_helpers.h"
#include "prl.h"
#include "proxy_rules.h"
#include "rate_limit.h"
#include "relay.h"
#include "reply_plan.h"
#include "servers.h"
#include "trace.h"
#include "vlan.h"

/* Headers and options of a request to port 67 (counted in rx_dhcp). */
static __always_inline int parse_request(struct xdp_md *ctx, struct dhcp_req_info *info)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor nh = {.pos = data};
	struct ethhdr *eth;
	struct iphdr *ip;
	struct udphdr *udp;
	struct dhcp_wire_hdr *dh;
	int r;

	if ((r = parse_ethhdr(&nh, data_end, &eth)))
		return r;
	if ((r = parse_iphdr(&nh, data_end, &ip)))
		return r;
	if ((r = parse_udphdr(&nh, data_end, &udp)))
		return r;
	/* Lengths must agree: IP total length within the frame, UDP length
	 * within the IP payload and long enough for the BOOTP header; trailing
	 * Ethernet padding is allowed. Written out here, not in a helper that
	 * returns a reason: the verifier must see these comparisons as branches
	 * to bound udp_end for the options walk (through a helper, clang turns
	 * them into a select and verification takes nine times the work). */
	__u32 frame_len = (__u32)(data_end - data);
	__u32 ip_len = bpf_ntohs(ip->tot_len);
	__u32 udp_len = bpf_ntohs(udp->len);
	if (ip_len < sizeof(*ip) + sizeof(*udp) || L2_LEN + ip_len > frame_len)
		return PXED_STAT_PASS_MALFORMED;
	if (udp_len < sizeof(*udp) + sizeof(*dh) || udp_len > ip_len - sizeof(*ip))
		return PXED_STAT_PASS_MALFORMED;
	__u32 udp_end = L2L3_LEN + udp_len;
	info->udp_end = udp_end;
	if ((r = parse_dhcphdr(&nh, data_end, &dh)))
		return r;
	if ((r = parse_options(ctx, DHCP_OPTIONS_OFF, udp_end, info)))
		return r;
	count(PXED_STAT_RX_DHCP);
	return PARSE_OK;
}

/*
 * The daemon's rules for a reserved client (userspace/dhcp/engine.cpp):
 * which requests it answers, from where, and with OFFER or ACK.
 */
static __always_inline int reservation_rules(__u32 our_addr, const struct ethhdr *eth,
					     const struct dhcp_wire_hdr *dh, const struct dhcp_req_info *info,
					     const struct pxed_reservation *resv, __u8 *reply_type)
{
	if (info->overload)
		return PXED_STAT_PASS_OVERLOAD;
	if (info->unsure)
		return PXED_STAT_PASS_UNSURE;
	if (info->msg_type != DHCP_DISCOVER && info->msg_type != DHCP_REQUEST)
		return PXED_STAT_PASS_MSG_TYPE;

	__u32 giaddr = dh->giaddr;
	__u32 ciaddr = dh->ciaddr;
	if (giaddr) {
		if ((giaddr & resv->mask_be) != resv->net_be)
			return PXED_STAT_PASS_WRONG_SUBNET;
	} else {
		if (!mac_eq(eth->h_source, dh->chaddr))
			return PXED_STAT_PASS_SRC_MISMATCH;
		if ((our_addr & resv->mask_be) != resv->net_be)
			return PXED_STAT_PASS_WRONG_SUBNET;
	}

	*reply_type = DHCP_OFFER;
	if (info->msg_type != DHCP_REQUEST)
		return PARSE_OK;
	__u32 want;
	if (info->has_server_id) {
		if (info->server_id != resv->server_id_be)
			return PXED_STAT_PASS_OTHER_SERVER;
		if (!info->has_requested)
			return PXED_STAT_PASS_REQUESTED_IP;
		want = info->requested_ip; /* SELECTING */
	} else if (info->has_requested && ciaddr == 0) {
		want = info->requested_ip; /* INIT-REBOOT */
	} else if (ciaddr != 0) {
		want = ciaddr; /* RENEWING, REBINDING */
	} else {
		return PXED_STAT_PASS_REQUESTED_IP;
	}
	if (want != resv->ip_be)
		return PXED_STAT_PASS_REQUESTED_IP;
	*reply_type = DHCP_ACK;
	return PARSE_OK;
}

/* A request passed before its options were read: filed under its chaddr
 * when the BOOTP header is there (a malformed option list, say). */
static __always_inline int note_unparsed(struct xdp_md *ctx, struct reply_plan *plan, int r)
{
	struct dhcp_wire_hdr *dh = dhcphdr_at(ctx);
	if (dh && dh->op == BOOTP_OP_REQUEST && dh->htype == BOOTP_HTYPE_ETHERNET && dh->hlen == BOOTP_HLEN_ETHERNET) {
		__builtin_memcpy(plan->key.mac, dh->chaddr, ETH_ALEN);
		plan->xid = dh->xid;
		plan->req_addr = dh->ciaddr;
		plan->traced = 1;
	}
	return r;
}

/* Step one: the pass reason, or PARSE_OK and the reply in *plan. A global
 * function, verified once: the caller's paths (tagged or not) do not
 * multiply its states. plan->our_* say which side of a trunk we are. */
__attribute__((noinline)) int classify(struct xdp_md *ctx, struct reply_plan *plan)
{
	if (!plan)
		return PXED_STAT_PASS_MALFORMED;
	struct dhcp_req_info info = {};
	int r;

	if ((r = parse_request(ctx, &info)))
		return note_unparsed(ctx, plan, r);
	struct dhcp_wire_hdr *dh = dhcphdr_at(ctx);
	if (!dh)
		return PXED_STAT_PASS_MALFORMED;
	struct ethhdr *eth = (void *)(long)ctx->data;
	struct udphdr *udp = (void *)(long)ctx->data + L2L3_LEN;
	if ((void *)(udp + 1) > (void *)(long)ctx->data_end)
		return PXED_STAT_PASS_MALFORMED;
	int boot_server = udp->dest == bpf_htons(PXED_PXE_BOOT_SERVER_PORT);

	/* What the boot trace records (bpf/trace.h). The flags by arithmetic,
	 * not branches: a branch here doubles the verifier's states for the
	 * rest of the program (measured: 278k instructions with branches,
	 * 182k without). */
	__builtin_memcpy(plan->key.mac, dh->chaddr, ETH_ALEN);
	plan->xid = dh->xid;
	plan->req_addr = info.has_requested ? info.requested_ip : dh->ciaddr;
	plan->msg_type = info.msg_type;
	plan->vendor = info.vendor;
	plan->arch = info.arch;
	plan->trace_flags = (__u8)((info.has_arch & 1) | (info.ipxe & 1) << 1 | (info.opt175 & 1) << 2 |
				   (boot_server & 1) << 3 | (__u8)(dh->giaddr != 0) << 4);
	plan->traced = 1;

	struct pxed_reservation *resv = bpf_map_lookup_elem(&reservations, &plan->key);
	if (!resv)
		resv = relay_reservation(ctx, &info); /* by option 82: bpf/relay.h */
	if (!resv)
		return classify_proxy(ctx, &info, boot_server, plan);
	/* A reservation, or a host entry of a proxy subnet (disabled): its
	 * own settings are the daemon's to apply on port 4011. */
	if (resv->flags & PXED_RESV_DISABLED || boot_server)
		return PXED_STAT_PASS_DISABLED;
	if ((r = addressed_to_us(plan->our_addr, plan->our_mac, eth, (struct iphdr *)(eth + 1), resv->server_id_be)))
		return r;
	if ((r = reservation_rules(plan->our_addr, eth, dh, &info, resv, &plan->reply_type)))
		return r;
	if ((r = pick_blob(ctx, &info, resv->blob_id, plan)))
		return r;
	plan->extra_len = resv->host_len;
	if (plan->extra_len > PXED_HOST_OPT_MAX)
		return PXED_STAT_PASS_NO_BLOB;
	__builtin_memcpy(plan->extra, resv->host_opt, PXED_HOST_OPT_MAX);
	plan->extra_csum = resv->host_csum;
	if ((r = relay_echo(ctx, &info, resv->flags, plan)))
		return r;
	plan->tx_stat = plan->reply_type == DHCP_ACK ? PXED_STAT_TX_ACK : PXED_STAT_TX_OFFER;
	plan->frame_len = (__u32)((long)ctx->data_end - (long)ctx->data);
	plan->yiaddr = resv->ip_be;
	plan->ciaddr = plan->reply_type == DHCP_ACK ? dh->ciaddr : 0;
	plan->src_port = PXED_DHCP_SERVER_PORT;
	choose_destination(eth, dh, plan->yiaddr, &plan->dst);
	return PARSE_OK;
}

/* The reply's headers in the resized frame, with the options' first
 * DHCP_MIN_OPTIONS_LEN bytes writable. */
struct reply_hdrs {
	struct ethhdr *eth;
	struct iphdr *ip;
	struct udphdr *udp;
	struct dhcp_wire_hdr *dh;
	__u8 *opts;
};

static __always_inline int reply_hdrs_at(struct xdp_md *ctx, struct reply_hdrs *h)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if (data + DHCP_OPTIONS_OFF + DHCP_MIN_OPTIONS_LEN > data_end)
		return PXED_STAT_PASS_TX_FAILED;
	h->eth = data;
	h->ip = data + L2_LEN;
	h->udp = data + L2L3_LEN;
	h->dh = data + L2L3L4;
	h->opts = data + DHCP_OPTIONS_OFF;
	return PARSE_OK;
}


/* Step two: the frame becomes the reply. xid, flags, giaddr, chaddr and
 * the magic cookie stay as received. A global function: the verifier
 * checks it once, whichever path (reservation, proxy offer, proxy ACK) led
 * here; all it needs is in the plan, so the blob is looked up again by its
 * id. */
__attribute__((noinline)) int build_reply(struct xdp_md *ctx, struct reply_plan *plan)
{
	if (!plan)
		return PXED_STAT_PASS_TX_FAILED;
	__u32 blob_id = plan->blob_id;
	struct pxed_reply_blob *blob = bpf_map_lookup_elem(&reply_blobs, &blob_id);
	if (!blob)
		return PXED_STAT_PASS_TX_FAILED;
	struct reply_hdrs h;
	__u32 opts_len = plan->opts_len;
	__u32 host_len = plan->extra_len;
	__u32 o82_len = plan->o82_len;
	/* options, the host's option, option 82, the end option, padding to 300 bytes */
	__u32 used = opts_len + host_len + o82_len + 1;
	__u32 pad = used < DHCP_MIN_OPTIONS_LEN ? DHCP_MIN_OPTIONS_LEN - used : 0;
	__u32 dhcp_len = DHCP_FIXED_LEN + used + pad;
	int delta = (int)(L2L3L4 + dhcp_len) - (int)plan->frame_len;
	int r;

	if (delta && bpf_xdp_adjust_tail(ctx, delta))
		return PXED_STAT_PASS_TX_FAILED;
	if ((r = reply_hdrs_at(ctx, &h)))
		return r;

	/* Options first: the helper copies variable lengths from the maps. The
	 * blob's tail holds the end option and zeros after its options, so
	 * without a host option one copy writes options, end and padding. */
	opts_len &= OPTS_LEN_MASK;
	if (opts_len < DHCP_OPT53_LEN || opts_len > OPTS_LEN_MAX)
		return PXED_STAT_PASS_TX_FAILED;
	pad &= PAD_MASK;
	if (pad >= DHCP_MIN_OPTIONS_LEN)
		return PXED_STAT_PASS_TX_FAILED;
	host_len &= HOST_LEN_MASK;
	if (host_len > PXED_HOST_OPT_MAX)
		return PXED_STAT_PASS_TX_FAILED;
	o82_len &= RELAY_LEN_MASK;
	if (!host_len && !o82_len) {
		if (bpf_xdp_store_bytes(ctx, DHCP_OPTIONS_OFF, blob->tail, opts_len + 1 + pad))
			return PXED_STAT_PASS_TX_FAILED;
	} else {
		if (bpf_xdp_store_bytes(ctx, DHCP_OPTIONS_OFF, blob->tail, opts_len))
			return PXED_STAT_PASS_TX_FAILED;
		if (host_len && bpf_xdp_store_bytes(ctx, DHCP_OPTIONS_OFF + opts_len, (void *)plan->extra, host_len))
			return PXED_STAT_PASS_TX_FAILED;
		if ((r = relay_store(ctx, DHCP_OPTIONS_OFF + opts_len + host_len, o82_len)))
			return r;
		if (bpf_xdp_store_bytes(ctx, DHCP_OPTIONS_OFF + opts_len + host_len + o82_len, blob->tail + opts_len,
					pad + 1))
			return PXED_STAT_PASS_TX_FAILED;
	}
	if ((r = reply_hdrs_at(ctx, &h)))
		return r;
	h.opts[2] = plan->reply_type; /* option 53's value; the blob holds 53, 1, 0 */

	__builtin_memcpy(h.eth->h_dest, plan->dst.mac, ETH_ALEN);
	__builtin_memcpy(h.eth->h_source, plan->our_mac, ETH_ALEN);
	h.eth->h_proto = bpf_htons(ETH_P_IP);

	struct dhcp_wire_hdr *dh = h.dh;
	dh->op = BOOTP_OP_REPLY;
	dh->htype = BOOTP_HTYPE_ETHERNET;
	dh->hlen = BOOTP_HLEN_ETHERNET;
	dh->hops = 0;
	dh->secs = 0;
	dh->flags |= plan->flags_or;
	dh->ciaddr = plan->ciaddr;
	dh->yiaddr = plan->yiaddr;
	dh->siaddr = plan->siaddr;
	__builtin_memcpy(dh->sname, blob->sname_file, PXED_SNAME_FILE_LEN);

	struct udphdr *udp = h.udp;
	__u16 ulen = (__u16)(sizeof(*udp) + dhcp_len);
	udp->source = bpf_htons(plan->src_port);
	udp->dest = bpf_htons(plan->dst.port);
	udp->len = bpf_htons(ulen);
	udp->check = 0;

	struct iphdr *ip = h.ip;
	ip->version = 4;
	ip->ihl = IPV4_IHL_NO_OPTIONS;
	ip->tos = 0;
	ip->tot_len = bpf_htons((__u16)(sizeof(*ip) + ulen));
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = IPV4_REPLY_TTL;
	ip->protocol = IPPROTO_UDP;
	ip->check = 0;
	ip->saddr = plan->our_addr;
	ip->daddr = plan->dst.ip;
	ip->check = csum_finish(csum_words((const __u16 *)ip, sizeof(*ip) / 2));

	/* UDP checksum: pseudo header, UDP header, the fixed DHCP fields up to
	 * chaddr, the cookie and option 53's value, plus the blob's own sum. */
	__u32 sum = csum_udp_pseudo(plan->our_addr, plan->dst.ip, ulen);
	sum += plan->src_port + plan->dst.port + ulen;
	sum += csum_words((const __u16 *)dh, DHCP_SNAME_OFF / 2);
	sum += DHCP_MAGIC_COOKIE_HI + DHCP_MAGIC_COOKIE_LO;
	sum += (__u32)plan->reply_type << 8;
	sum += blob->csum;
	if (host_len) {
		__u32 hs = plan->extra_csum;
		if (opts_len & 1) /* its bytes sit at odd offsets */
			hs = ((hs >> 8) | (hs << 8)) & 0xffff;
		sum += hs;
	}
	sum += relay_sum(plan, o82_len, opts_len + host_len);
	sum += ((opts_len + host_len + o82_len) & 1) ? DHCP_OPT_END : DHCP_OPT_END << 8;
	udp->check = csum_finish_udp(sum);
	return PARSE_OK;
}

static __always_inline int pxed_xdp_main(struct xdp_md *ctx, int meta)
{
	count(PXED_STAT_RX_TOTAL);
	struct pxed_xdp_config *cfg = config_get();
	if (!cfg)
		return pass(PXED_STAT_PASS_DISABLED);

	/* Our side of the request's segment: the interface, or a served VLAN
	 * (bpf/vlan.h), whose tags come out of the frame until the verdict. */
	struct vlan_tags tags = {};
	struct reply_plan plan = {};
	int r = vlan_read(ctx, meta, &tags);
	/* DHCPv6 of the interface's own link: a function of its own (bpf/dhcp6.h),
	 * with its own switch; enabled is DHCPv4's. */
	if (!r && !tags.n && is_ipv6(ctx)) {
		r = dhcp6_reply(ctx);
		return r == XDP_TX ? XDP_TX : r == XDP_DROP ? XDP_DROP : XDP_PASS;
	}
	if (!cfg->enabled)
		return pass(PXED_STAT_PASS_DISABLED);
	if (r)
		return pass(r);
	if (tags.n) {
		struct pxed_vlan *v = vlan_lookup(&tags);
		if (!v)
			return pass(PXED_STAT_PASS_VLAN);
		plan.our_addr = v->addr_be;
		__builtin_memcpy(plan.our_mac, v->mac, ETH_ALEN);
		plan.proxy_slot = v->proxy_slot;
		if ((r = vlan_take(ctx, &tags)))
			return pass(r);
		count(PXED_STAT_RX_TAGGED);
	} else {
		plan.our_addr = cfg->if_addr_be;
		__builtin_memcpy(plan.our_mac, cfg->if_mac, ETH_ALEN);
	}

	r = classify(ctx, &plan);
	if (r) {
		/* Perhaps another DHCP server's reply (to port 68: not_dhcp; to a
		 * relay's 67: malformed), noted (bpf/servers.h). One test of a bit
		 * mask, not two branches: 13k fewer instructions to verify. */
		if ((1u << (r & 31)) & (1u << PXED_STAT_PASS_NOT_DHCP | 1u << PXED_STAT_PASS_MALFORMED))
			note_server_reply(ctx, (__u32)tags.key.outer << 16 | tags.key.inner);
		trace_verdict(cfg, &plan, PXED_TRACE_PASS, r);
		return vlan_pass(ctx, &tags, r);
	}
	if (!rate_ok(cfg, &plan.key)) {
		count(PXED_STAT_DROP_RATE_LIMIT);
		trace_verdict(cfg, &plan, PXED_TRACE_DROP, PXED_STAT_DROP_RATE_LIMIT);
		return XDP_DROP;
	}
	if ((r = build_reply(ctx, &plan))) {
		trace_verdict(cfg, &plan, PXED_TRACE_PASS, r);
		return vlan_pass(ctx, &tags, r);
	}
	if (vlan_push(ctx, &tags, 0)) {
		/* The reply without its tags would go to the untagged segment. */
		count(PXED_STAT_DROP_VLAN_RESTORE);
		trace_verdict(cfg, &plan, PXED_TRACE_DROP, PXED_STAT_DROP_VLAN_RESTORE);
		return XDP_DROP;
	}
	count(plan.tx_stat);
	trace_verdict(cfg, &plan, PXED_TRACE_TX, plan.tx_stat);
	return XDP_TX;
}

SEC("xdp")
int pxed_xdp(struct xdp_md *ctx)
{
	return pxed_xdp_main(ctx, 0);
}

/* The same, bound to one device whose driver reports a VLAN tag it took out
 * of the frame (bpf/vlan.h); loaded instead of pxed_xdp where it can be. */
SEC("?xdp")
int pxed_xdp_meta(struct xdp_md *ctx)
{
	return pxed_xdp_main(ctx, 1);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
