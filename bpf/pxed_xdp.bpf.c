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
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PXED_MAX_BLOBS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
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

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PXED_RATE_LRU_SIZE);
	__type(key, struct pxed_mac_key);
	__type(value, struct pxed_rate_state);
} rate_limit SEC(".maps");

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
	__u32 requested_ip; /* option 50, network order, valid if has_requested */
	__u32 server_id;    /* option 54, network order, valid if has_server_id */
	__u16 arch;         /* option 93 first entry, 0 when absent or short */
	__u8 msg_type;      /* option 53 when exactly 1 byte, else 0 */
	__u8 has_requested;
	__u8 has_server_id;
	__u8 pxe;           /* option 60 starts with "PXEClient" */
	__u8 ipxe;          /* option 77 is "iPXE" */
	__u8 unsure;        /* a duplicate or a user class the program does not classify */
	__u8 overload;      /* option 52 present */
	__u8 relay_agent;   /* option 82 present */
};

/* Where the options of interest start (offset of the code byte, 0 = absent). */
struct opt_pos {
	__u32 o50, o53, o54, o60, o77, o93;
	__u32 dup, o52, o82;
};

struct walk_ctx {
	struct xdp_md *xdp;
	__u32 off;
	__u32 udp_end;
	int result; /* 1 while walking, 0 end found, -1 malformed */
	struct opt_pos pos;
};

static __always_inline void record(__u32 *slot, __u32 *dup, __u32 off)
{
	if (*slot)
		*dup = 1;
	*slot = off;
}

/*
 * One option per call of bpf_loop: the verifier checks this body once,
 * however many options a request carries. Records only where the options of
 * interest are.
 */
static long walk_one(__u32 idx __attribute__((unused)), void *arg)
{
	struct walk_ctx *w = arg;
	struct xdp_md *ctx = w->xdp;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 off = w->off & PXED_OPT_OFF_MASK;
	__u8 *p = data + off;

	if ((void *)(p + 1) > data_end || off + 1 > w->udp_end) {
		w->result = -1;
		return 1;
	}
	__u8 code = p[0];
	if (code == DHCP_OPT_END) {
		w->result = 0;
		return 1;
	}
	if (code == DHCP_OPT_PAD) {
		w->off = off + 1;
		return 0;
	}
	if ((void *)(p + 2) > data_end) {
		w->result = -1;
		return 1;
	}
	__u32 len = p[1];
	if (off + 2 + len > w->udp_end) {
		w->result = -1;
		return 1;
	}
	struct opt_pos *pos = &w->pos;
	switch (code) {
	case DHCP_OPT_MSG_TYPE: record(&pos->o53, &pos->dup, off); break;
	case DHCP_OPT_REQUESTED_IP: record(&pos->o50, &pos->dup, off); break;
	case DHCP_OPT_SERVER_ID: record(&pos->o54, &pos->dup, off); break;
	case DHCP_OPT_VENDOR_CLASS: record(&pos->o60, &pos->dup, off); break;
	case DHCP_OPT_USER_CLASS: record(&pos->o77, &pos->dup, off); break;
	case DHCP_OPT_CLIENT_ARCH: record(&pos->o93, &pos->dup, off); break;
	case DHCP_OPT_OVERLOAD: record(&pos->o52, &pos->dup, off); break;
	case DHCP_OPT_RELAY_AGENT: record(&pos->o82, &pos->dup, off); break;
	default: break;
	}
	w->off = off + 2 + len;
	return 0;
}

/*
 * Walk the options after the magic cookie. Returns 0 when an end option was
 * found within bounds, -1 when the options are malformed (an option running
 * past the UDP payload, no end option within PXED_MAX_OPTIONS).
 */
static __always_inline int walk_options(struct xdp_md *ctx, __u32 off, __u32 udp_end, struct opt_pos *pos)
{
	struct walk_ctx w = {.xdp = ctx, .off = off, .udp_end = udp_end, .result = 1};
	bpf_loop(PXED_MAX_OPTIONS, walk_one, &w, 0);
	if (w.result != 0)
		return -1;
	*pos = w.pos;
	return 0;
}

/* A recorded option: pointer to its code byte with `need` bytes readable. */
static __always_inline __u8 *opt_at(struct xdp_md *ctx, __u32 off, __u32 need)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data + (off & PXED_OPT_OFF_MASK);
	if ((void *)(p + need) > data_end)
		return 0;
	return p;
}

static __always_inline int parse_options(struct xdp_md *ctx, __u32 off, __u32 udp_end,
					 struct dhcp_req_info *info)
{
	struct opt_pos pos = {};
	if (walk_options(ctx, off, udp_end, &pos) < 0)
		return -1;
	info->unsure = pos.dup;
	info->overload = pos.o52 != 0;
	info->relay_agent = pos.o82 != 0;
	__u8 *p;
	if (pos.o53) {
		if (!(p = opt_at(ctx, pos.o53, 2)))
			return -1;
		if (p[1] == 1) {
			if (!(p = opt_at(ctx, pos.o53, 3)))
				return -1;
			info->msg_type = p[2];
		}
	}
	if (pos.o50) {
		if (!(p = opt_at(ctx, pos.o50, 2)))
			return -1;
		if (p[1] == 4) {
			if (!(p = opt_at(ctx, pos.o50, 6)))
				return -1;
			__builtin_memcpy(&info->requested_ip, p + 2, 4);
			info->has_requested = 1;
		}
	}
	if (pos.o54) {
		if (!(p = opt_at(ctx, pos.o54, 2)))
			return -1;
		if (p[1] == 4) {
			if (!(p = opt_at(ctx, pos.o54, 6)))
				return -1;
			__builtin_memcpy(&info->server_id, p + 2, 4);
			info->has_server_id = 1;
		}
	}
	if (pos.o60) {
		if (!(p = opt_at(ctx, pos.o60, 2)))
			return -1;
		if (p[1] >= 9) {
			if (!(p = opt_at(ctx, pos.o60, 11)))
				return -1;
			info->pxe = p[2] == 'P' && p[3] == 'X' && p[4] == 'E' && p[5] == 'C' && p[6] == 'l' &&
				    p[7] == 'i' && p[8] == 'e' && p[9] == 'n' && p[10] == 't';
		}
	}
	if (pos.o77) {
		if (!(p = opt_at(ctx, pos.o77, 2)))
			return -1;
		__u8 len = p[1];
		if (len == 4) {
			if (!(p = opt_at(ctx, pos.o77, 6)))
				return -1;
			if (p[2] == 'i' && p[3] == 'P' && p[4] == 'X' && p[5] == 'E')
				info->ipxe = 1;
			else
				info->unsure = 1;
		} else if (len == 5) {
			if (!(p = opt_at(ctx, pos.o77, 7)))
				return -1;
			if (p[2] == 4 && p[3] == 'i' && p[4] == 'P' && p[5] == 'X' && p[6] == 'E')
				info->ipxe = 1;
			else
				info->unsure = 1;
		} else if (len > 5) {
			info->unsure = 1; /* the daemon searches it for "iPXE" */
		}
		/* shorter than 4 bytes: cannot contain "iPXE" */
	}
	if (pos.o93) {
		if (!(p = opt_at(ctx, pos.o93, 2)))
			return -1;
		if (p[1] >= 2) {
			if (!(p = opt_at(ctx, pos.o93, 4)))
				return -1;
			info->arch = (__u16)(p[2] << 8 | p[3]);
		}
	}
	return 0;
}

static __always_inline __u32 profile_of(const struct dhcp_req_info *info)
{
	__u32 arch_class;
	if (info->arch == 0)
		arch_class = 0;
	else if (info->arch == 7 || info->arch == 9)
		arch_class = 1;
	else if (info->arch == 16)
		arch_class = 2;
	else
		arch_class = 3;
	return arch_class * 4 + (info->pxe ? 2 : 0) + (info->ipxe ? 1 : 0);
}

/* Per-MAC token bucket; returns 1 when the frame may be answered. */
static __always_inline int rate_ok(const struct pxed_xdp_config *cfg, const struct pxed_mac_key *key)
{
	if (cfg->rate_per_s == 0)
		return 1;
	__u64 now = bpf_ktime_get_ns();
	__u64 burst = (__u64)cfg->rate_burst * 1000;
	struct pxed_rate_state *st = bpf_map_lookup_elem(&rate_limit, key);
	if (!st) {
		struct pxed_rate_state fresh = {.last_ns = now, .tokens_milli = burst >= 1000 ? burst - 1000 : 0};
		bpf_map_update_elem(&rate_limit, key, &fresh, BPF_ANY);
		return burst >= 1000;
	}
	__u64 elapsed = now - st->last_ns;
	__u64 tokens = st->tokens_milli;
	if (elapsed > 1000000000ull * 3600)
		tokens = burst;
	else
		tokens += elapsed * cfg->rate_per_s / 1000000; /* milli-tokens */
	if (tokens > burst)
		tokens = burst;
	st->last_ns = now;
	if (tokens < 1000) {
		st->tokens_milli = tokens;
		return 0;
	}
	st->tokens_milli = tokens - 1000;
	return 1;
}

static __always_inline int mac_eq(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4] &&
	       a[5] == b[5];
}

static __always_inline __u32 fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static __always_inline __u32 sum_words(const __u16 *w, int n)
{
	__u32 s = 0;
#pragma unroll
	for (int i = 0; i < n; i++)
		s += bpf_ntohs(w[i]);
	return s;
}

#define L2L3L4 (sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct udphdr))

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
	if (udp_len < sizeof(*udp) + sizeof(struct dhcp_wire_hdr) || udp_len > ip_len - sizeof(*ip))
		return pass(PXED_STAT_PASS_MALFORMED);

	struct dhcp_wire_hdr *dh = (void *)(udp + 1);
	if ((void *)(dh + 1) > data_end)
		return pass(PXED_STAT_PASS_MALFORMED);
	if (dh->op != 1 || dh->htype != 1 || dh->hlen != 6 || dh->magic != bpf_htonl(DHCP_MAGIC_COOKIE))
		return pass(PXED_STAT_PASS_MALFORMED);

	struct dhcp_req_info info = {};
	if (parse_options(ctx, L2L3L4 + sizeof(*dh), sizeof(*eth) + sizeof(*ip) + udp_len, &info) < 0)
		return pass(PXED_STAT_PASS_MALFORMED);
	count(PXED_STAT_RX_DHCP);

	/* Pointers are re-derived after the helper-free walk for the verifier. */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	dh = data + L2L3L4;
	if ((void *)(dh + 1) > data_end)
		return pass(PXED_STAT_PASS_MALFORMED);

	struct pxed_mac_key key = {};
	__builtin_memcpy(key.mac, dh->chaddr, 6);
	struct pxed_reservation *resv = bpf_map_lookup_elem(&reservations, &key);
	if (!resv)
		return pass(PXED_STAT_PASS_NOT_RESERVED);
	if (resv->flags & PXED_RESV_DISABLED)
		return pass(PXED_STAT_PASS_DISABLED);
	if (info.overload)
		return pass(PXED_STAT_PASS_OVERLOAD);
	if (info.unsure)
		return pass(PXED_STAT_PASS_UNSURE);
	if (info.msg_type != DHCP_DISCOVER && info.msg_type != DHCP_REQUEST)
		return pass(PXED_STAT_PASS_MSG_TYPE);

	__u32 giaddr = dh->giaddr;
	__u32 ciaddr = dh->ciaddr;
	if (giaddr) {
		if (info.relay_agent)
			return pass(PXED_STAT_PASS_RELAY_AGENT);
		if ((giaddr & resv->mask_be) != resv->net_be)
			return pass(PXED_STAT_PASS_WRONG_SUBNET);
	} else {
		if (!mac_eq(eth->h_source, dh->chaddr))
			return pass(PXED_STAT_PASS_SRC_MISMATCH);
		if ((cfg->if_addr_be & resv->mask_be) != resv->net_be)
			return pass(PXED_STAT_PASS_WRONG_SUBNET);
	}

	/* The daemon's REQUEST rules for a reserved client (engine.cpp). */
	__u8 reply_type = DHCP_OFFER;
	if (info.msg_type == DHCP_REQUEST) {
		__u32 want;
		if (info.has_server_id) {
			if (info.server_id != resv->server_id_be)
				return pass(PXED_STAT_PASS_OTHER_SERVER);
			if (!info.has_requested)
				return pass(PXED_STAT_PASS_REQUESTED_IP);
			want = info.requested_ip;
		} else if (info.has_requested && ciaddr == 0) {
			want = info.requested_ip; /* INIT-REBOOT */
		} else if (ciaddr != 0) {
			want = ciaddr; /* RENEWING, REBINDING */
		} else {
			return pass(PXED_STAT_PASS_REQUESTED_IP);
		}
		if (want != resv->ip_be)
			return pass(PXED_STAT_PASS_REQUESTED_IP);
		reply_type = DHCP_ACK;
	}

	__u32 profile = profile_of(&info);
	if (profile >= PXED_PROFILES)
		return pass(PXED_STAT_PASS_NO_BLOB);
	__u32 blob_id = resv->blob_id[profile];
	struct pxed_reply_blob *blob = bpf_map_lookup_elem(&reply_blobs, &blob_id);
	if (!blob)
		return pass(PXED_STAT_PASS_NO_BLOB);
	__u32 tail_len = blob->tail_len;
	if (tail_len < 60 || tail_len > PXED_TAIL_MAX)
		return pass(PXED_STAT_PASS_NO_BLOB);

	if (!rate_ok(cfg, &key)) {
		count(PXED_STAT_DROP_RATE_LIMIT);
		return XDP_DROP;
	}

	/* Everything taken from the request before the frame is resized. */
	__u8 req_src[6];
	__builtin_memcpy(req_src, eth->h_source, 6);
	__u16 flags = bpf_ntohs(dh->flags);
	__u32 yiaddr = resv->ip_be;
	__u32 siaddr = blob->siaddr_be;
	__u32 reply_ciaddr = reply_type == DHCP_ACK ? ciaddr : 0;

	/* Destination, RFC 2131 section 4.1, as the daemon chooses it. */
	__u8 dst_mac[6];
	__u32 dst_ip;
	__u16 dst_port = PXED_DHCP_CLIENT_PORT;
	if (giaddr) {
		__builtin_memcpy(dst_mac, req_src, 6);
		dst_ip = giaddr;
		dst_port = PXED_DHCP_SERVER_PORT;
	} else if (ciaddr) {
		__builtin_memcpy(dst_mac, req_src, 6);
		dst_ip = ciaddr;
	} else if (flags & DHCP_FLAG_BROADCAST) {
		__builtin_memset(dst_mac, 0xff, 6);
		dst_ip = 0xffffffff;
	} else {
		__builtin_memcpy(dst_mac, key.mac, 6);
		dst_ip = yiaddr;
	}

	__u32 dhcp_len = DHCP_FIXED_LEN + tail_len;
	__u32 new_len = L2L3L4 + dhcp_len;
	int delta = (int)new_len - (int)frame_len;
	if (delta && bpf_xdp_adjust_tail(ctx, delta))
		return pass(PXED_STAT_PASS_TX_FAILED);

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + L2L3L4 + DHCP_FIXED_LEN + 60 > data_end)
		return pass(PXED_STAT_PASS_TX_FAILED);
	eth = data;
	ip = data + sizeof(*eth);
	udp = data + sizeof(*eth) + sizeof(*ip);
	dh = data + L2L3L4;

	/* Options first: the helper copies a variable length from the map. */
	tail_len &= 0x3ff;
	if (tail_len < 60 || tail_len > PXED_TAIL_MAX)
		return pass(PXED_STAT_PASS_TX_FAILED);
	if (bpf_xdp_store_bytes(ctx, L2L3L4 + DHCP_FIXED_LEN, blob->tail, tail_len))
		return pass(PXED_STAT_PASS_TX_FAILED);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + L2L3L4 + DHCP_FIXED_LEN + 60 > data_end)
		return pass(PXED_STAT_PASS_TX_FAILED);
	eth = data;
	ip = data + sizeof(*eth);
	udp = data + sizeof(*eth) + sizeof(*ip);
	dh = data + L2L3L4;
	__u8 *opts = data + L2L3L4 + DHCP_FIXED_LEN;
	opts[2] = reply_type; /* option 53's value; the blob holds 53, 1, 0 */

	__builtin_memcpy(eth->h_dest, dst_mac, 6);
	__builtin_memcpy(eth->h_source, cfg->if_mac, 6);
	eth->h_proto = bpf_htons(ETH_P_IP);

	dh->op = 2;
	dh->htype = 1;
	dh->hlen = 6;
	dh->hops = 0;
	dh->secs = 0;
	dh->ciaddr = reply_ciaddr;
	dh->yiaddr = yiaddr;
	dh->siaddr = siaddr;
	/* xid, flags, giaddr, chaddr and the magic cookie stay as received. */
	__builtin_memcpy(dh->sname, blob->sname_file, PXED_SNAME_FILE_LEN);

	udp->source = bpf_htons(PXED_DHCP_SERVER_PORT);
	udp->dest = bpf_htons(dst_port);
	__u16 ulen = (__u16)(sizeof(*udp) + dhcp_len);
	udp->len = bpf_htons(ulen);
	udp->check = 0;

	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = bpf_htons((__u16)(sizeof(*ip) + ulen));
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->check = 0;
	ip->saddr = cfg->if_addr_be;
	ip->daddr = dst_ip;
	ip->check = bpf_htons((__u16)~fold(sum_words((const __u16 *)ip, 10)));

	/* UDP checksum: pseudo header, UDP header, the fixed DHCP fields up to
	 * chaddr, the cookie and option 53's value, plus the blob's own sum. */
	__u32 saddr_h = bpf_ntohl(cfg->if_addr_be), daddr_h = bpf_ntohl(dst_ip);
	__u32 sum = (saddr_h >> 16) + (saddr_h & 0xffff) + (daddr_h >> 16) + (daddr_h & 0xffff) +
		    IPPROTO_UDP + ulen;
	sum += PXED_DHCP_SERVER_PORT + dst_port + ulen;
	sum += sum_words((const __u16 *)dh, DHCP_SNAME_OFF / 2);
	sum += 0x6382 + 0x5363;
	sum += (__u32)reply_type << 8;
	sum += blob->csum;
	__u16 csum = (__u16)~fold(sum);
	udp->check = bpf_htons(csum ? csum : 0xffff);

	count(reply_type == DHCP_ACK ? PXED_STAT_TX_ACK : PXED_STAT_TX_OFFER);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
