/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every addressing rule of the fast path in one place, as systemd's
 * sd-dhcp-server.c dhcp_server_send_packet has them: which requests are
 * this host's to answer, and where the reply goes.
 */
#ifndef PXED_BPF_ADDRESSING_H
#define PXED_BPF_ADDRESSING_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>

#include "pxed/abi.h"
#include "dhcp_wire.h"
#include "parsing_helpers.h"

/* Where a reply goes. */
struct reply_dest {
	__u32 ip; /* network order */
	__u16 port;
	__u8 mac[ETH_ALEN];
};

/*
 * Only what this host would receive on its own socket: the Ethernet
 * destination is the interface's MAC (the VLAN device's on a trunk) or
 * broadcast, the IP destination the interface's (VLAN device's) address, the server address of the subnet (`server-ip`, the
 * address a relay, a renewing client or a 4011 request sends to) or the
 * limited broadcast. Anything else is another host's frame, seen because
 * the interface is promiscuous (a bridge port, a capture running) or the
 * switch floods: answering it would answer for another server.
 */
static __always_inline int addressed_to_us(__u32 our_addr, const __u8 *our_mac, const struct ethhdr *eth,
					   const struct iphdr *ip, __u32 server_id_be)
{
	if (!mac_is_broadcast(eth->h_dest) && !mac_eq(eth->h_dest, our_mac))
		return PXED_STAT_PASS_NOT_FOR_US;
	if (ip->daddr != IPV4_BROADCAST && ip->daddr != our_addr && ip->daddr != server_id_be)
		return PXED_STAT_PASS_NOT_FOR_US;
	return PARSE_OK;
}

/*
 * Where the reply goes, RFC 2131 section 4.1, as the daemon chooses it:
 * - giaddr set: to the relay, port 67, at the Ethernet source it came from;
 * - ciaddr set: unicast to ciaddr (RENEWING, REBINDING);
 * - broadcast bit set: to 255.255.255.255 and ff:ff:ff:ff:ff:ff;
 * - otherwise unicast to yiaddr at chaddr.
 */
static __always_inline void choose_destination(const struct ethhdr *eth, const struct dhcp_wire_hdr *dh,
					       __u32 yiaddr, struct reply_dest *d)
{
	d->port = PXED_DHCP_CLIENT_PORT;
	if (dh->giaddr) {
		__builtin_memcpy(d->mac, eth->h_source, ETH_ALEN);
		d->ip = dh->giaddr;
		d->port = PXED_DHCP_SERVER_PORT;
	} else if (dh->ciaddr) {
		__builtin_memcpy(d->mac, eth->h_source, ETH_ALEN);
		d->ip = dh->ciaddr;
	} else if (bpf_ntohs(dh->flags) & DHCP_FLAG_BROADCAST) {
		__builtin_memset(d->mac, 0xff, ETH_ALEN);
		d->ip = IPV4_BROADCAST;
	} else {
		__builtin_memcpy(d->mac, dh->chaddr, ETH_ALEN);
		d->ip = yiaddr;
	}
}

/*
 * A proxy's reply (userspace/dhcp/reply.cpp, address_reply): an OFFER (no
 * yiaddr) to ciaddr when the DISCOVER has one, else broadcast; a port
 * 4011 ACK back to the request's source address and port, or broadcast to
 * that port when the client has no ciaddr yet.
 */
static __always_inline void proxy_destination(const struct ethhdr *eth, const struct iphdr *ip,
					      const struct udphdr *udp, const struct dhcp_wire_hdr *dh, int ack,
					      struct reply_dest *d)
{
	if (!ack) {
		/* yiaddr is 0: the daemon broadcasts unless the DISCOVER has a ciaddr */
		d->port = PXED_DHCP_CLIENT_PORT;
		if (dh->ciaddr) {
			__builtin_memcpy(d->mac, eth->h_source, ETH_ALEN);
			d->ip = dh->ciaddr;
		} else {
			__builtin_memset(d->mac, 0xff, ETH_ALEN);
			d->ip = IPV4_BROADCAST;
		}
		return;
	}
	d->port = bpf_ntohs(udp->source);
	if (ip->saddr && dh->ciaddr) {
		__builtin_memcpy(d->mac, eth->h_source, ETH_ALEN);
		d->ip = ip->saddr;
	} else {
		__builtin_memset(d->mac, 0xff, ETH_ALEN);
		d->ip = IPV4_BROADCAST;
	}
}

#endif
