/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * proxyDHCP in the kernel: which requests of a proxy subnet the program
 * answers, as userspace/dhcp/proxy.cpp and engine.cpp decide them. A proxy
 * reply holds no address, so every PXE client is answered from its
 * profile's blob; what the program cannot vouch for goes to the daemon.
 */
#ifndef PXED_BPF_PROXY_RULES_H
#define PXED_BPF_PROXY_RULES_H

#include <linux/if_ether.h>
#include <linux/ip.h>

#include "pxed/abi.h"
#include "pxed/profile.h"
#include "addressing.h"
#include "dhcp_options.h"
#include "dhcp_wire.h"
#include "parsing_helpers.h"

/*
 * PARSE_OK and *reply_type (OFFER on port 67, ACK on port 4011), or the
 * pass reason. boot_server: the request came to port 4011.
 */
static __always_inline int proxy_rules(const struct pxed_xdp_config *cfg, const struct pxed_proxy *px,
				       const struct ethhdr *eth, const struct iphdr *ip,
				       const struct dhcp_wire_hdr *dh, const struct dhcp_req_info *info, int boot_server,
				       __u8 *reply_type)
{
	int r;

	if (info->overload)
		return PXED_STAT_PASS_OVERLOAD;
	if (info->unsure)
		return PXED_STAT_PASS_UNSURE;
	if (info->relay_agent)
		return PXED_STAT_PASS_RELAY_AGENT;
	/* Only PXE clients; the daemon counts the others and leaves them to
	 * the address server. */
	if (info->vendor != PXED_VENDOR_PXECLIENT && info->vendor != PXED_VENDOR_HTTPCLIENT)
		return PXED_STAT_PASS_NOT_PXE;
	/* Relayed requests pick their subnet by giaddr: the daemon's. */
	if (dh->giaddr)
		return PXED_STAT_PASS_WRONG_SUBNET;
	if (!mac_eq(eth->h_source, dh->chaddr))
		return PXED_STAT_PASS_SRC_MISMATCH;
	if ((r = addressed_to_us(cfg, eth, ip, px->server_id_be)))
		return r;
	if (!boot_server) {
		if (info->msg_type != DHCP_DISCOVER)
			return PXED_STAT_PASS_MSG_TYPE; /* the address server's */
		*reply_type = DHCP_OFFER;
		return PARSE_OK;
	}
	if (info->msg_type != DHCP_REQUEST && info->msg_type != DHCP_INFORM)
		return PXED_STAT_PASS_MSG_TYPE;
	/* The daemon picks the subnet by a ciaddr it serves. */
	if (dh->ciaddr && (dh->ciaddr & px->mask_be) != px->net_be)
		return PXED_STAT_PASS_WRONG_SUBNET;
	*reply_type = DHCP_ACK;
	return PARSE_OK;
}

#endif
