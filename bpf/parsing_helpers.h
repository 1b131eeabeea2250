/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Header parsing for the DHCP fast path, one helper per header, in the
 * shape of xdp-tools' headers/xdp/parsing_helpers.h: a cursor moves over
 * the frame and each helper checks its header against data_end before
 * anyone reads it.
 *
 * One return contract for every helper here and in dhcp_options.h:
 * 0 (PARSE_OK) when the program may go on, otherwise the enum pxed_stat
 * reason the frame is passed to the daemon for. No reason is 0
 * (PXED_STAT_RX_TOTAL is never a pass reason), so `if (r) return pass(r)`.
 */
#ifndef PXED_BPF_PARSING_HELPERS_H
#define PXED_BPF_PARSING_HELPERS_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>

#include "pxed/abi.h"
#include "dhcp_wire.h"

#define PARSE_OK 0

/* Offsets of a request the program may answer: no IP options; a served
 * VLAN's tags are out of the frame by then (bpf/vlan.h). */
#define L2_LEN sizeof(struct ethhdr)
#define L2L3_LEN (L2_LEN + sizeof(struct iphdr))
#define L2L3L4 (L2L3_LEN + sizeof(struct udphdr))
#define DHCP_OPTIONS_OFF (L2L3L4 + DHCP_FIXED_LEN)

struct hdr_cursor {
	void *pos;
};

static __always_inline int parse_ethhdr(struct hdr_cursor *nh, void *data_end, struct ethhdr **ethhdr)
{
	struct ethhdr *eth = nh->pos;
	if ((void *)(eth + 1) > data_end)
		return PXED_STAT_PASS_MALFORMED;
	if (eth->h_proto == bpf_htons(ETH_P_8021Q) || eth->h_proto == bpf_htons(ETH_P_8021AD))
		return PXED_STAT_PASS_VLAN;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return PXED_STAT_PASS_NOT_IPV4;
	nh->pos = eth + 1;
	*ethhdr = eth;
	return PARSE_OK;
}

/* An unfragmented IPv4 header without options, carrying UDP. */
static __always_inline int parse_iphdr(struct hdr_cursor *nh, void *data_end, struct iphdr **iphdr)
{
	struct iphdr *ip = nh->pos;
	if ((void *)(ip + 1) > data_end)
		return PXED_STAT_PASS_MALFORMED;
	if (ip->version != 4 || ip->ihl < IPV4_IHL_NO_OPTIONS)
		return PXED_STAT_PASS_MALFORMED;
	if (ip->protocol != IPPROTO_UDP)
		return PXED_STAT_PASS_NOT_UDP;
	if (ip->ihl != IPV4_IHL_NO_OPTIONS)
		return PXED_STAT_PASS_IP_OPTIONS;
	if (ip->frag_off & bpf_htons(IPV4_FRAG_MASK))
		return PXED_STAT_PASS_FRAGMENT;
	nh->pos = ip + 1;
	*iphdr = ip;
	return PARSE_OK;
}

/* A UDP header to the DHCP server port or the PXE boot server port. */
static __always_inline int parse_udphdr(struct hdr_cursor *nh, void *data_end, struct udphdr **udphdr)
{
	struct udphdr *udp = nh->pos;
	if ((void *)(udp + 1) > data_end)
		return PXED_STAT_PASS_MALFORMED;
	if (udp->dest != bpf_htons(PXED_DHCP_SERVER_PORT) && udp->dest != bpf_htons(PXED_PXE_BOOT_SERVER_PORT))
		return PXED_STAT_PASS_NOT_DHCP;
	nh->pos = udp + 1;
	*udphdr = udp;
	return PARSE_OK;
}

/* A BOOTREQUEST from an Ethernet client, with the DHCP magic cookie. */
static __always_inline int parse_dhcphdr(struct hdr_cursor *nh, void *data_end, struct dhcp_wire_hdr **dhcphdr)
{
	struct dhcp_wire_hdr *dh = nh->pos;
	if ((void *)(dh + 1) > data_end)
		return PXED_STAT_PASS_MALFORMED;
	if (dh->op != BOOTP_OP_REQUEST || dh->htype != BOOTP_HTYPE_ETHERNET || dh->hlen != BOOTP_HLEN_ETHERNET ||
	    dh->magic != bpf_htonl(DHCP_MAGIC_COOKIE))
		return PXED_STAT_PASS_MALFORMED;
	nh->pos = dh + 1;
	*dhcphdr = dh;
	return PARSE_OK;
}

/* The BOOTP header at its fixed offset, derived again from ctx: after a
 * helper call or a resize the verifier has forgotten earlier pointers. */
static __always_inline struct dhcp_wire_hdr *dhcphdr_at(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct dhcp_wire_hdr *dh = data + L2L3L4;
	if ((void *)(dh + 1) > data_end)
		return 0;
	return dh;
}

static __always_inline int mac_eq(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4] &&
	       a[5] == b[5];
}

static __always_inline int mac_is_broadcast(const __u8 *a)
{
	return (a[0] & a[1] & a[2] & a[3] & a[4] & a[5]) == 0xff;
}

#endif
