/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Internet checksums (RFC 1071) in host order: 32-bit accumulators of
 * 16-bit words, folded and inverted at the end. The reply blob carries the
 * (not inverted) sum of its own bytes, so the program only adds the fields
 * it writes per packet.
 */
#ifndef PXED_BPF_CHECKSUM_H
#define PXED_BPF_CHECKSUM_H

#include <linux/in.h>
#include <linux/types.h>
#include <bpf/bpf_endian.h>

static __always_inline __u32 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* Sum of n 16-bit words in network order, in host order; n is a constant. */
static __always_inline __u32 csum_words(const __u16 *w, int n)
{
	__u32 s = 0;
#pragma unroll
	for (int i = 0; i < n; i++)
		s += bpf_ntohs(w[i]);
	return s;
}

/* Sum of an IPv4 address (network order). */
static __always_inline __u32 csum_addr(__u32 addr_be)
{
	__u32 h = bpf_ntohl(addr_be);
	return (h >> 16) + (h & 0xffff);
}

/* The UDP pseudo header (RFC 768): addresses, protocol, UDP length. */
static __always_inline __u32 csum_udp_pseudo(__u32 saddr_be, __u32 daddr_be, __u16 udp_len)
{
	return csum_addr(saddr_be) + csum_addr(daddr_be) + IPPROTO_UDP + udp_len;
}

/* The value for a checksum field, network order. */
static __always_inline __u16 csum_finish(__u32 sum)
{
	return bpf_htons((__u16)~csum_fold(sum));
}

/* UDP sends a computed zero as all ones (RFC 768). */
static __always_inline __u16 csum_finish_udp(__u32 sum)
{
	__u16 c = (__u16)~csum_fold(sum);
	return bpf_htons(c ? c : 0xffff);
}

#endif
