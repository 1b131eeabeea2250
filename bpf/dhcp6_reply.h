/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The DHCPv6 Reply the program sends (bpf/dhcp6.h), in the order of
 * userspace/dhcp6/engine6.h: type and transaction id, Server Identifier
 * (the link's server_opt), Client Identifier (the request's, copied), one
 * IA_NA with the reserved address and the subnet's lifetimes, Rapid Commit
 * for a Solicit, then the rendered tail. In the request's frame, resized:
 * Ethernet to the client's MAC from ours, IPv6 from our link-local address
 * to the client's, UDP 547 -> 546 with its checksum (mandatory in IPv6,
 * RFC 8200 8.1), the sum of the parts' sums.
 */
#ifndef PXED_BPF_DHCP6_REPLY_H
#define PXED_BPF_DHCP6_REPLY_H

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
#include "maps6.h"

/* Frame offsets of a request the program answers (and of its reply):
 * untagged Ethernet, IPv6 without extension headers, UDP. */
#define D6_L3 14
#define D6_L4 54
#define D6_MSG 62
#define D6_OPTS 66

#define DHCP6_SERVER_PORT 547
#define DHCP6_CLIENT_PORT 546
#define IA6_LEN 44     /* IA_NA: header, IAID, T1, T2, one IA Address */
#define RAPID6_LEN 4   /* Rapid Commit: header, no value */
#define CLIENT_OPT_MAX (4 + PXED6_DUID_MAX)

/* A 16-bit sum placed at an odd offset counts byte-swapped. */
static __always_inline __u32 at_parity(__u32 sum, __u32 odd)
{
	sum = csum_fold(sum);
	return odd ? ((sum >> 8) | (sum << 8)) & 0xffff : sum;
}

static __always_inline void put32(__u8 *p, __u32 v)
{
	p[0] = (__u8)(v >> 24);
	p[1] = (__u8)(v >> 16);
	p[2] = (__u8)(v >> 8);
	p[3] = (__u8)v;
}

/* The IA_NA (and Rapid Commit) of the reply into s->ia; s->ia[4..8] holds
 * the request's IAID already. */
static __always_inline void fill_ia6(struct dhcp6_scratch *s, const struct pxed6_link *link,
				     const struct pxed6_reservation *resv)
{
	__u8 *p = s->ia;
	p[0] = 0;
	p[1] = OPT6_IA_NA;
	p[2] = 0;
	p[3] = IA6_LEN - 4;
	put32(p + 8, link->t1);
	put32(p + 12, link->t2);
	p[16] = 0;
	p[17] = OPT6_IA_ADDR;
	p[18] = 0;
	p[19] = IA_ADDR_MIN;
	__builtin_memcpy(p + 20, resv->addr, 16);
	put32(p + 36, link->preferred);
	put32(p + 40, link->valid);
	p[44] = 0;
	p[45] = s->msg_type == DHCP6_SOLICIT ? OPT6_RAPID_COMMIT : 0;
	p[46] = 0;
	p[47] = 0;
}

/* The request's frame becomes the reply: PARSE_OK (0), or the pass reason. */
static __always_inline int build_reply6(struct xdp_md *ctx, const struct pxed_xdp_config *cfg,
					const struct pxed6_link *link, const struct pxed6_reservation *resv,
					const struct pxed6_blob *blob, struct dhcp6_scratch *s, __u32 client_len)
{
	__u32 server_len = link->server_opt_len;
	__u32 tail_len = blob->len;
	__u32 client_opt_len = 4 + client_len;
	__u32 ia_len = s->msg_type == DHCP6_SOLICIT ? IA6_LEN + RAPID6_LEN : IA6_LEN;
	if (server_len < 4 + DUID_MIN_LEN || server_len > PXED6_SERVER_OPT_MAX || tail_len > PXED6_TAIL_MAX ||
	    client_opt_len > CLIENT_OPT_MAX)
		return PXED_STAT_PASS_TX_FAILED;
	fill_ia6(s, link, resv);

	__u32 msg_len = 4 + server_len + client_opt_len + ia_len + tail_len;
	__u32 udp_len = sizeof(struct udphdr) + msg_len;
	int delta = (int)(D6_MSG + msg_len) - (int)((long)ctx->data_end - (long)ctx->data);
	if (delta && bpf_xdp_adjust_tail(ctx, delta))
		return PXED_STAT_PASS_TX_FAILED;

	/* The variable parts first: the helper copies lengths only known now. */
	__u32 off = D6_OPTS;
	if (bpf_xdp_store_bytes(ctx, off, (void *)link->server_opt, server_len))
		return PXED_STAT_PASS_TX_FAILED;
	off += server_len;
	if (bpf_xdp_store_bytes(ctx, off, s->client_opt, client_opt_len))
		return PXED_STAT_PASS_TX_FAILED;
	off += client_opt_len;
	if (bpf_xdp_store_bytes(ctx, off, s->ia, ia_len))
		return PXED_STAT_PASS_TX_FAILED;
	off += ia_len;
	if (tail_len && bpf_xdp_store_bytes(ctx, off, (void *)blob->tail, tail_len))
		return PXED_STAT_PASS_TX_FAILED;

	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if (data + D6_OPTS > data_end)
		return PXED_STAT_PASS_TX_FAILED;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = data + D6_L3;
	struct udphdr *udp = data + D6_L4;
	__u8 *msg = data + D6_MSG;

	__builtin_memcpy(eth->h_dest, s->peer_mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, cfg->if_mac, ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_IPV6);
	*(__u32 *)ip6 = bpf_htonl(6u << 28); /* version 6, traffic class 0, flow label 0 */
	ip6->payload_len = bpf_htons((__u16)udp_len);
	ip6->nexthdr = IPPROTO_UDP;
	ip6->hop_limit = link->hop_limit;
	__builtin_memcpy(&ip6->saddr, link->src_addr, 16);
	__builtin_memcpy(&ip6->daddr, s->peer_ip, 16);
	udp->source = bpf_htons(DHCP6_SERVER_PORT);
	udp->dest = bpf_htons(DHCP6_CLIENT_PORT);
	udp->len = bpf_htons((__u16)udp_len);
	udp->check = 0;
	msg[0] = DHCP6_REPLY;
	msg[1] = s->xid[1];
	msg[2] = s->xid[2];
	msg[3] = s->xid[3];

	/* Pseudo header (RFC 8200 8.1), UDP header, the message header, then
	 * each part's sum at its parity: the client id follows the server id
	 * (odd when the server's DUID is), the IA_NA and the tail follow both. */
	__u32 sum = csum_words((const __u16 *)link->src_addr, 8) + csum_words((const __u16 *)s->peer_ip, 8);
	sum += udp_len + IPPROTO_UDP;
	sum += DHCP6_SERVER_PORT + DHCP6_CLIENT_PORT + udp_len;
	sum += (__u32)DHCP6_REPLY << 8 | s->xid[1];
	sum += (__u32)s->xid[2] << 8 | s->xid[3];
	sum += link->server_opt_csum;
	sum += at_parity(csum_words((const __u16 *)s->client_opt, CLIENT_OPT_MAX / 2), server_len & 1);
	sum += at_parity(csum_words((const __u16 *)s->ia, sizeof(s->ia) / 2), (server_len + client_len) & 1);
	sum += at_parity(blob->csum, (server_len + client_len) & 1);
	udp->check = csum_finish_udp(sum);
	return PARSE_OK;
}

#endif
