/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * DHCPv6 in the kernel (include/pxed/abi6.h, struct pxed6_link): a client on
 * the interface's own link (untagged, IPv6 without extension headers, UDP
 * 546 -> 547 from a link-local address to ff02::1:2)
 * whose Solicit carries Rapid Commit, or whose Request names our server
 * id, and which has a reservation (by DUID, else by the MAC of its
 * link-local EUI-64 address or of a DUID-LL/LLT, as Engine6::handle() looks
 * it up) gets the daemon's Reply from here (bpf/dhcp6_reply.h). Anything
 * else is passed, counted by the reason (pass6_*): the program answers only
 * what it is sure the daemon would answer the same way.
 *
 * dhcp6_reply() is a global function: the verifier checks it once, apart
 * from the DHCPv4 program's paths.
 */
#ifndef PXED_BPF_DHCP6_H
#define PXED_BPF_DHCP6_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "pxed/abi6.h"
#include "checksum.h"
#include "dhcp6_options.h"
#include "dhcp6_reply.h"
#include "maps.h"
#include "maps6.h"
#include "parsing_helpers.h"
#include "rate_limit.h"

static __always_inline int is_ipv6(struct xdp_md *ctx)
{
	struct ethhdr *eth = (void *)(long)ctx->data;
	return (void *)(eth + 1) <= (void *)(long)ctx->data_end && eth->h_proto == bpf_htons(ETH_P_IPV6);
}

static __always_inline int is_all_dhcp_servers(const __u8 *a)
{
	/* ff02::1:2, All_DHCP_Relay_Agents_and_Servers (RFC 8415 7.1) */
	const __u32 *w = (const __u32 *)a;
	return w[0] == bpf_htonl(0xff020000) && w[1] == 0 && w[2] == 0 && w[3] == bpf_htonl(0x00010002);
}

/* The headers of a message to port 547: PARSE_OK with the message's end
 * in *end and the client's addresses in the scratch, or the pass reason. */
static __always_inline int headers6(struct xdp_md *ctx, const struct pxed_xdp_config *cfg, struct dhcp6_scratch *s,
				    __u32 *end)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = data + D6_L3;
	struct udphdr *udp = data + D6_L4;

	if ((void *)(udp + 1) > data_end || ip6->version != 6 || ip6->nexthdr != IPPROTO_UDP ||
	    udp->dest != bpf_htons(DHCP6_SERVER_PORT))
		return PXED_STAT_PASS_NOT_IPV4; /* not DHCPv6, or behind an extension header */
	count(PXED_STAT_RX_DHCP6);
	struct pxed6_link *link = link6_get();
	if (!link || !link->enabled)
		return PXED_STAT_PASS6_OFF;
	__u32 frame_len = (__u32)(data_end - data);
	__u32 ip_len = bpf_ntohs(ip6->payload_len);
	__u32 udp_len = bpf_ntohs(udp->len);
	if (D6_L4 + ip_len > frame_len || udp_len < sizeof(*udp) + 4 || udp_len > ip_len)
		return PXED_STAT_PASS6_MALFORMED;
	if (D6_L4 + udp_len > OFF6_MASK)
		return PXED_STAT_PASS6_UNSURE;
	if (udp->source != bpf_htons(DHCP6_CLIENT_PORT) || !is_all_dhcp_servers((const __u8 *)&ip6->daddr) ||
	    ip6->saddr.in6_u.u6_addr8[0] != 0xfe || (ip6->saddr.in6_u.u6_addr8[1] & 0xc0) != 0x80)
		return PXED_STAT_PASS6_NOT_LINK;
	/* 33:33:00:01:00:02 (RFC 2464 7), or ours: what our stack takes in */
	const __u8 *d = eth->h_dest;
	if (!(d[0] == 0x33 && d[1] == 0x33 && d[2] == 0 && d[3] == 1 && d[4] == 0 && d[5] == 2) &&
	    !mac_eq(d, cfg->if_mac))
		return PXED_STAT_PASS_NOT_FOR_US;
	/* Zero is no checksum, which IPv6 does not allow: the kernel's UDP
	 * drops it. Any other value is not verified: on a veth, or from a
	 * virtio guest, the sender leaves the sum to offload (CHECKSUM_PARTIAL)
	 * and the field holds the pseudo header's alone, which the kernel's UDP
	 * accepts; on the wire, Ethernet's FCS covers the frame. */
	if (!udp->check)
		return PXED_STAT_PASS6_CHECKSUM;
	__builtin_memcpy(s->peer_mac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(s->peer_ip, &ip6->saddr, 16);
	*end = D6_L4 + udp_len;
	return PARSE_OK;
}

/* The client's MAC as Engine6::handle() finds it: the EUI-64 of its
 * link-local source, else the address in a DUID-LLT or DUID-LL of
 * hardware type 1 (userspace/dhcp6/message.cpp mac_of). */
static __always_inline int client_mac6(struct dhcp6_scratch *s, __u32 duid_len)
{
	const __u8 *a = s->peer_ip;
	const __u8 *d = s->duid.id;
	__u8 *m = s->mac.id;
	__builtin_memset(&s->mac, 0, sizeof(s->mac));
	s->mac.kind = PXED6_KEY_MAC;
	s->mac.len = ETH_ALEN;
	if (a[11] == 0xff && a[12] == 0xfe) {
		m[0] = a[8] ^ 0x02;
		m[1] = a[9];
		m[2] = a[10];
		m[3] = a[13];
		m[4] = a[14];
		m[5] = a[15];
		return 1;
	}
	if (duid_len == 14 && d[0] == 0 && d[1] == 1 && d[2] == 0 && d[3] == 1) {
		__builtin_memcpy(m, d + 8, ETH_ALEN);
		return 1;
	}
	if (duid_len == 10 && d[0] == 0 && d[1] == 3 && d[2] == 0 && d[3] == 1) {
		__builtin_memcpy(m, d + 4, ETH_ALEN);
		return 1;
	}
	return 0;
}

/* The request's shape (enum pxed6_shape) and option 61's first entry. */
static __always_inline int shape6(struct xdp_md *ctx, struct walk6 *w, const struct opts6 *o, __u32 *shape,
				  __u16 *arch)
{
	__u8 c[2];
	*shape = 0;
	if (o->oro) {
		walk6_items(w, o->oro, o->oro + o->oro_len, o->oro_len / 2, 0, oro6_step);
		*shape |= w->found;
	}
	if (o->arch) {
		if (bpf_xdp_load_bytes(ctx, o->arch & OFF6_MASK, c, sizeof(c)))
			return PXED_STAT_PASS6_MALFORMED;
		*arch = (__u16)(c[0] << 8 | c[1]);
		*shape |= PXED6_SHAPE_BOOT;
	}
	if (o->vendor) {
		__u32 from = o->vendor + ENTERPRISE_LEN, to = o->vendor + o->vendor_len;
		if (!walk6_items(w, from, to, (to - from) / 2 + 1, PXED6_SHAPE_HTTP, class6_step))
			return PXED_STAT_PASS6_MALFORMED;
		*shape |= w->found ? PXED6_SHAPE_HTTP : 0;
	}
	if (o->user) {
		__u32 from = o->user, to = o->user + o->user_len;
		if (!walk6_items(w, from, to, (to - from) / 2 + 1, PXED6_SHAPE_IPXE, class6_step))
			return PXED_STAT_PASS6_MALFORMED;
		*shape |= w->found ? PXED6_SHAPE_IPXE : 0;
	}
	return PARSE_OK;
}

/* The architecture's slot among the link's (0: any other, or none); -1
 * when the boot tables name more than the link holds and it is not among
 * those it does. */
static __always_inline int arch_slot6(const struct pxed6_link *link, __u16 arch, int has_arch)
{
	if (!has_arch)
		return 0;
#pragma unroll
	for (int i = 0; i < PXED6_ARCHS; i++)
		if (i < link->n_archs && link->archs[i] == arch)
			return i + 1;
	return link->flags & PXED6_LINK_ARCH_OVERFLOW ? -1 : 0;
}

static __always_inline int key6_eq(const struct pxed6_client_key *a, const struct pxed6_client_key *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;
	__u32 diff = 0;
#pragma unroll
	for (int i = 0; i < (int)(sizeof(*a) / 4); i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}

/* A Request's server id is ours: its option 2, as received, is the link's. */
static __always_inline int our_server6(struct xdp_md *ctx, const struct pxed6_link *link, struct dhcp6_scratch *s,
				       const struct opts6 *o)
{
	__u32 len = o->server_len;
	if (len + 4 != link->server_opt_len || len < DUID_MIN_LEN || len > DUID_MAX_LEN)
		return 0;
	__builtin_memset(s->server, 0, sizeof(s->server));
	s->server[1] = OPT6_SERVER_ID;
	s->server[3] = (__u8)len;
	if (bpf_xdp_load_bytes(ctx, o->server & OFF6_MASK, s->server + 4, len))
		return 0;
	const __u64 *x = (const __u64 *)s->server, *y = (const __u64 *)link->server_opt;
	__u64 diff = 0;
#pragma unroll
	for (int i = 0; i < PXED6_SERVER_OPT_MAX / 8; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}

/* The checks of the message and its options (Engine6::handle()'s drops,
 * and what the program does not follow): PARSE_OK with the reservation
 * and the tail, or the pass reason. */
static __always_inline int decide6(struct xdp_md *ctx, const struct pxed6_link *link, struct dhcp6_scratch *s,
				   struct walk6 *w, __u32 end, struct pxed6_reservation **resv_out,
				   struct pxed6_blob **blob_out)
{
	if (bpf_xdp_load_bytes(ctx, D6_MSG, s->xid, sizeof(s->xid)))
		return PXED_STAT_PASS6_MALFORMED;
	s->msg_type = s->xid[0];
	if (s->msg_type != DHCP6_SOLICIT && s->msg_type != DHCP6_REQUEST)
		return PXED_STAT_PASS6_MSG_TYPE; /* Relay-forw included */
	struct opts6 *o = &s->o;
	__builtin_memset(o, 0, sizeof(*o));
	if (!walk6_items(w, D6_OPTS, end, (end - D6_OPTS) / 4 + 1, 0, option6_step) || o->malformed)
		return PXED_STAT_PASS6_MALFORMED;
	int solicit = s->msg_type == DHCP6_SOLICIT;
	if (!o->client || (solicit ? o->server != 0 : o->server == 0))
		return PXED_STAT_PASS6_SERVER_ID;
	if (o->unsure || o->n_ia != 1 || o->client_len > PXED6_DUID_MAX)
		return PXED_STAT_PASS6_UNSURE;
	if (solicit && !(o->rapid && (link->flags & PXED6_LINK_RAPID_COMMIT)))
		return PXED_STAT_PASS6_NO_RAPID_COMMIT;
	__u32 ia_len = o->ia_len;
	if (ia_len < IA_NA_FIXED ||
	    !walk6_items(w, o->ia + IA_NA_FIXED, o->ia + ia_len, (ia_len - IA_NA_FIXED) / 4 + 1, 0, ia6_step))
		return PXED_STAT_PASS6_MALFORMED;
	if (bpf_xdp_load_bytes(ctx, o->ia & OFF6_MASK, s->ia + 4, 4)) /* the IAID */
		return PXED_STAT_PASS6_MALFORMED;
	__u32 shape = 0;
	__u16 arch = 0;
	int r = shape6(ctx, w, o, &shape, &arch);
	if (r)
		return r;
	if (!solicit && !our_server6(ctx, link, s, o))
		return PXED_STAT_PASS6_SERVER_ID;

	__u32 len = o->client_len;
	if (len < DUID_MIN_LEN || len > PXED6_DUID_MAX)
		return PXED_STAT_PASS6_UNSURE;
	__builtin_memset(s->client_opt, 0, sizeof(s->client_opt));
	s->client_opt[1] = OPT6_CLIENT_ID;
	s->client_opt[3] = (__u8)len;
	if (bpf_xdp_load_bytes(ctx, o->client & OFF6_MASK, s->client_opt + 4, len))
		return PXED_STAT_PASS6_MALFORMED;
	__builtin_memset(&s->duid, 0, sizeof(s->duid));
	s->duid.kind = PXED6_KEY_DUID;
	s->duid.len = (__u8)len;
	__builtin_memcpy(s->duid.id, s->client_opt + 4, PXED6_DUID_MAX);

	/* Engine6::reservation_for(): by DUID, then by MAC. */
	struct pxed6_reservation *resv = bpf_map_lookup_elem(&dhcp6_reservations, &s->duid);
	if (!resv && client_mac6(s, len))
		resv = bpf_map_lookup_elem(&dhcp6_reservations, &s->mac);
	if (!resv)
		return PXED_STAT_PASS6_NOT_RESERVED;
	if (resv->flags & PXED6_RESV_HELD) {
		__u32 iaid = (__u32)s->ia[4] << 24 | (__u32)s->ia[5] << 16 | (__u32)s->ia[6] << 8 | s->ia[7];
		if (iaid != resv->holder_iaid || !key6_eq(&resv->holder, &s->duid))
			return PXED_STAT_PASS6_HELD;
	}
	int slot = arch_slot6(link, arch, o->arch != 0);
	if (slot < 0)
		return PXED_STAT_PASS6_UNSURE;
	__u32 idx = PXED6_TAIL_INDEX(resv->boot_set & (PXED6_BOOT_SETS - 1), shape & (PXED6_SHAPES - 1),
				     slot & (PXED6_ARCH_SLOTS - 1));
	__u16 *id = bpf_map_lookup_elem(&dhcp6_tails, &idx);
	if (!id || *id == PXED6_NO_BLOB)
		return PXED_STAT_PASS6_NO_BLOB;
	__u32 blob_id = *id;
	struct pxed6_blob *blob = bpf_map_lookup_elem(&dhcp6_blobs, &blob_id);
	if (!blob)
		return PXED_STAT_PASS6_NO_BLOB;
	*resv_out = resv;
	*blob_out = blob;
	return PARSE_OK;
}

/* Every untagged IPv6 frame: XDP_TX with the Reply, XDP_PASS counted by
 * the reason, XDP_DROP when the client's MAC is over its rate. */
__attribute__((noinline)) int dhcp6_reply(struct xdp_md *ctx)
{
	if (!ctx)
		return XDP_PASS;
	struct pxed_xdp_config *cfg = config_get();
	struct pxed6_link *link = link6_get();
	struct dhcp6_scratch *s = scratch6_get();
	struct pxed6_reservation *resv = 0;
	struct pxed6_blob *blob = 0;
	struct walk6 w = {.xdp = ctx};
	__u32 end = 0;
	if (!cfg || !link || !s)
		return pass(PXED_STAT_PASS_NOT_IPV4);
	int r = headers6(ctx, cfg, s, &end);
	if (r)
		return pass(r);
	if ((r = decide6(ctx, link, s, &w, end, &resv, &blob)))
		return pass(r);
	if (!resv || !blob)
		return pass(PXED_STAT_PASS6_NO_BLOB);
	/* The rate limit's key (struct pxed_mac_key) is the client's MAC and two zeros. */
	s->peer_mac_pad[0] = s->peer_mac_pad[1] = 0;
	if (!rate_ok(cfg, (const struct pxed_mac_key *)s->peer_mac)) {
		count(PXED_STAT_DROP_RATE_LIMIT);
		return XDP_DROP;
	}
	if ((r = build_reply6(ctx, cfg, link, resv, blob, s, s->duid.len)))
		return pass(r);
	count(s->msg_type == DHCP6_SOLICIT ? PXED_STAT_TX6_SOLICIT : PXED_STAT_TX6_REQUEST);
	return XDP_TX;
}

#endif
