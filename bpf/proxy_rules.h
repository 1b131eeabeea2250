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

#include <linux/udp.h>

#include "pxed/abi.h"
#include "pxed/profile.h"
#include "addressing.h"
#include "checksum.h"
#include "dhcp_options.h"
#include "dhcp_wire.h"
#include "maps.h"
#include "option_walk.h"
#include "parsing_helpers.h"
#include "reply_plan.h"

/*
 * PARSE_OK and *reply_type (OFFER on port 67, ACK on port 4011), or the
 * pass reason. boot_server: the request came to port 4011.
 */
static __always_inline int proxy_rules(const struct reply_plan *plan, const struct pxed_proxy *px,
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
	if ((r = addressed_to_us(plan->our_addr, plan->our_mac, eth, ip, px->server_id_be)))
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

/* A proxy subnet's client (any PXE client, reserved nowhere): the plan
 * of its proxy reply, or the pass reason. */
static __always_inline int classify_proxy(struct xdp_md *ctx, const struct dhcp_req_info *info, int boot_server,
					  struct reply_plan *plan)
{
	struct pxed_proxy *px = proxy_get(plan->proxy_slot);
	if (!px || !px->enabled)
		return boot_server ? PXED_STAT_PASS_NOT_DHCP : PXED_STAT_PASS_NOT_RESERVED;
	struct dhcp_wire_hdr *dh = dhcphdr_at(ctx);
	if (!dh)
		return PXED_STAT_PASS_MALFORMED;
	struct ethhdr *eth = (void *)(long)ctx->data;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	int r;
	if ((r = proxy_rules(plan, px, eth, ip, dh, info, boot_server, &plan->reply_type)))
		return r;
	if ((r = pick_blob(ctx, info, boot_server ? px->ack_blob : px->offer_blob, plan)))
		return r;
	int ack = plan->reply_type == DHCP_ACK;
	plan->tx_stat = ack ? PXED_STAT_TX_PROXY_ACK : PXED_STAT_TX_PROXY_OFFER;
	plan->yiaddr = 0;
	plan->ciaddr = ack ? dh->ciaddr : 0;
	plan->flags_or = ack && dh->ciaddr ? 0 : bpf_htons(DHCP_FLAG_BROADCAST);
	plan->src_port = boot_server ? PXED_PXE_BOOT_SERVER_PORT : PXED_DHCP_SERVER_PORT;
	proxy_destination(eth, ip, udp, dh, ack, &plan->dst);
	/* A boot item (43.71) names a menu's service: the daemon's. The
	 * client's UUID follows the blob's options (dnsmasq's pxe_misc). */
	struct pxe_opt_pos pp = {};
	if ((r = walk_pxe_options(ctx, DHCP_OPTIONS_OFF, info->udp_end, &pp)))
		return r;
	if (pp.dup)
		return PXED_STAT_PASS_UNSURE;
	if (boot_server && pp.o43)
		return PXED_STAT_PASS_BOOT_ITEM;
	const __u8 *v;
	__u32 len;
	if ((r = opt_value(ctx, pp.o97, DHCP_UUID_LEN, DHCP_UUID_LEN, &v, &len)))
		return r;
	if (v) {
		if (bpf_xdp_load_bytes(ctx, pp.o97 & PXED_OPT_OFF_MASK, plan->extra, UUID_OPT_LEN))
			return PXED_STAT_PASS_MALFORMED;
		plan->extra_len = UUID_OPT_LEN;
		plan->extra_csum = csum_fold(csum_words((const __u16 *)plan->extra, (UUID_OPT_LEN + 1) / 2));
	}
	plan->frame_len = (__u32)((long)ctx->data_end - (long)ctx->data);
	return PARSE_OK;
}

#endif
