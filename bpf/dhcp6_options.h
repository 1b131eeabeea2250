/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The options of a DHCPv6 client message (RFC 8415 21), as far as the
 * kernel path reads them, and every check the daemon's codec makes of them
 * (userspace/dhcp6/message.cpp parse_client_message): an option that runs
 * past the end, a client or server id repeated or of 0-1 or more than 130
 * bytes, an IA_NA shorter than 12 bytes or whose sub-options do not add up
 * (an IA Address shorter than 24), an ORO or option 61 of an odd length (or
 * an empty option 61), a vendor class shorter than 4 bytes, a vendor or
 * user class whose entries do not add up: the daemon drops such a message
 * as malformed, so the program passes it (pass6_malformed). What it does not
 * follow (a second ORO, vendor class, user class or option 61, IA_TA, IA_PD,
 * more than one IA_NA) it passes as unsure.
 *
 * Each walk is a bpf_loop over one option or entry per step, reading with
 * bpf_xdp_load_bytes, so the verifier checks its body once.
 */
#ifndef PXED_BPF_DHCP6_OPTIONS_H
#define PXED_BPF_DHCP6_OPTIONS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "pxed/abi6.h"
#include "maps6.h"

#define DHCP6_SOLICIT 1
#define DHCP6_REQUEST 3
#define DHCP6_REPLY 7

#define OPT6_CLIENT_ID 1
#define OPT6_SERVER_ID 2
#define OPT6_IA_NA 3
#define OPT6_IA_TA 4
#define OPT6_IA_ADDR 5
#define OPT6_ORO 6
#define OPT6_RAPID_COMMIT 14
#define OPT6_USER_CLASS 15
#define OPT6_VENDOR_CLASS 16
#define OPT6_DNS_SERVERS 23
#define OPT6_DOMAIN_LIST 24
#define OPT6_IA_PD 25
#define OPT6_BOOTFILE_URL 59
#define OPT6_CLIENT_ARCH 61

#define DUID_MIN_LEN 2   /* the daemon's codec: 2 to 130 bytes */
#define DUID_MAX_LEN 130
#define IA_NA_FIXED 12   /* IAID, T1, T2 */
#define IA_ADDR_MIN 24   /* address, preferred and valid lifetime */
#define ENTERPRISE_LEN 4 /* a vendor class's enterprise number */
#define OFF6_MASK 0x7ff  /* frame offsets the program reads stay below this */

/* The state of a walk (bpf_loop's context), one for all of a request's
 * walks: the program and dhcp6_reply() share the verifier's 512 bytes. */
struct walk6 {
	struct xdp_md *xdp;
	__u16 off, end; /* frame offsets: the next item, the end of what is walked */
	__u8 done;      /* the walk reached end exactly */
	__u8 bad;       /* an item ran past end, or broke a rule */
	__u8 found;     /* the oro walk: shape bits; the class walks: a match */
	__u8 mode;      /* the class walks: PXED6_SHAPE_HTTP or PXED6_SHAPE_IPXE */
};

static __always_inline void note_once(__u16 *at, __u16 *at_len, __u8 *unsure, __u16 val, __u16 len)
{
	if (*at) {
		*unsure = 1;
		return;
	}
	*at = val;
	*at_len = len;
}

static __always_inline void note_option(struct opts6 *o, __u32 code, __u16 val, __u16 len)
{
	switch (code) {
	case OPT6_CLIENT_ID:
		if (o->client || len < DUID_MIN_LEN || len > DUID_MAX_LEN)
			o->malformed = 1;
		o->client = val;
		o->client_len = len;
		break;
	case OPT6_SERVER_ID:
		if (o->server || len < DUID_MIN_LEN || len > DUID_MAX_LEN)
			o->malformed = 1;
		o->server = val;
		o->server_len = len;
		break;
	case OPT6_IA_NA: /* counted up to 2: more than one is passed */
		if (o->n_ia < 2)
			o->n_ia++;
		if (!o->ia) {
			o->ia = val;
			o->ia_len = len;
		}
		break;
	case OPT6_IA_TA:
	case OPT6_IA_PD: o->unsure = 1; break;
	case OPT6_ORO:
		if (len & 1)
			o->malformed = 1;
		note_once(&o->oro, &o->oro_len, &o->unsure, val, len);
		break;
	case OPT6_RAPID_COMMIT: o->rapid = 1; break;
	case OPT6_CLIENT_ARCH:
		if ((len & 1) || !len)
			o->malformed = 1;
		note_once(&o->arch, &o->arch_len, &o->unsure, val, len);
		break;
	case OPT6_VENDOR_CLASS:
		if (len < ENTERPRISE_LEN)
			o->malformed = 1;
		note_once(&o->vendor, &o->vendor_len, &o->unsure, val, len);
		break;
	case OPT6_USER_CLASS: note_once(&o->user, &o->user_len, &o->unsure, val, len); break;
	default: break;
	}
}

/* One option (code, length, value) per step, noted in the scratch's opts6:
 * in a map value, what the walk saw so far is no part of the verifier's
 * state (on the stack, each combination of options seen was a state of
 * its own: 200k instructions more to verify). */
static long option6_step(__u32 idx __attribute__((unused)), void *arg)
{
	struct walk6 *w = arg;
	struct dhcp6_scratch *s = scratch6_get();
	__u32 off = w->off & OFF6_MASK;
	__u32 end = w->end;
	__u8 h[4];

	if (off >= end) {
		w->done = off == end;
		return 1;
	}
	if (!s || off + 4 > end || bpf_xdp_load_bytes(w->xdp, off, h, sizeof(h))) {
		w->bad = 1;
		return 1;
	}
	__u32 code = (__u32)h[0] << 8 | h[1];
	__u32 len = (__u32)h[2] << 8 | h[3];
	if (off + 4 + len > end) {
		w->bad = 1;
		return 1;
	}
	note_option(&s->o, code, (__u16)(off + 4), (__u16)len);
	w->off = (__u16)(off + 4 + len);
	return 0;
}

/* An IA_NA's sub-options: an IA Address of fewer than 24 bytes is malformed. */
static long ia6_step(__u32 idx __attribute__((unused)), void *arg)
{
	struct walk6 *w = arg;
	__u32 off = w->off & OFF6_MASK;
	__u32 end = w->end;
	__u8 h[4];

	if (off >= end) {
		w->done = off == end;
		return 1;
	}
	if (off + 4 > end || bpf_xdp_load_bytes(w->xdp, off, h, sizeof(h))) {
		w->bad = 1;
		return 1;
	}
	__u32 code = (__u32)h[0] << 8 | h[1];
	__u32 len = (__u32)h[2] << 8 | h[3];
	if (off + 4 + len > end || (code == OPT6_IA_ADDR && len < IA_ADDR_MIN)) {
		w->bad = 1;
		return 1;
	}
	w->off = (__u16)(off + 4 + len);
	return 0;
}

/* The ORO's codes: the shape bits of 23, 24 and 59. */
static long oro6_step(__u32 idx __attribute__((unused)), void *arg)
{
	struct walk6 *w = arg;
	__u32 off = w->off & OFF6_MASK;
	__u8 c[2];

	if (off + 2 > w->end || bpf_xdp_load_bytes(w->xdp, off, c, sizeof(c))) {
		w->done = 1;
		return 1;
	}
	__u32 code = (__u32)c[0] << 8 | c[1];
	if (code == OPT6_DNS_SERVERS)
		w->found |= PXED6_SHAPE_DNS;
	else if (code == OPT6_DOMAIN_LIST)
		w->found |= PXED6_SHAPE_DOMAINS;
	else if (code == OPT6_BOOTFILE_URL)
		w->found |= PXED6_SHAPE_BOOT;
	w->off = (__u16)(off + 2);
	return 0;
}

static __always_inline int is_httpclient6(const __u8 *v)
{
	return v[0] == 'H' && v[1] == 'T' && v[2] == 'T' && v[3] == 'P' && v[4] == 'C' && v[5] == 'l' &&
	       v[6] == 'i' && v[7] == 'e' && v[8] == 'n' && v[9] == 't';
}

/* A vendor or user class's entries (RFC 8415 21.15, 21.16: a 16-bit length
 * each): one that starts with "HTTPClient" (vendor), or is "iPXE" (user). */
static long class6_step(__u32 idx __attribute__((unused)), void *arg)
{
	struct walk6 *w = arg;
	__u32 off = w->off & OFF6_MASK;
	__u32 end = w->end;
	__u8 v[10];

	if (off >= end) {
		w->done = off == end;
		return 1;
	}
	if (off + 2 > end || bpf_xdp_load_bytes(w->xdp, off, v, 2)) {
		w->bad = 1;
		return 1;
	}
	__u32 n = (__u32)v[0] << 8 | v[1];
	if (off + 2 + n > end) {
		w->bad = 1;
		return 1;
	}
	if (w->mode == PXED6_SHAPE_HTTP && n >= 10 && !bpf_xdp_load_bytes(w->xdp, off + 2, v, 10) && is_httpclient6(v))
		w->found = 1;
	if (w->mode == PXED6_SHAPE_IPXE && n == 4 && !bpf_xdp_load_bytes(w->xdp, off + 2, v, 4) && v[0] == 'i' &&
	    v[1] == 'P' && v[2] == 'X' && v[3] == 'E')
		w->found = 1;
	w->off = (__u16)(off + 2 + n);
	return 0;
}

/* Walks the items from frame offset `from` to `to` with `step`, at most
 * `max` of them: 1 when they end exactly at `to`, 0 when one is malformed;
 * w->found: what the walk found. */
static __always_inline int walk6_items(struct walk6 *w, __u32 from, __u32 to, __u32 max, __u8 mode,
				       long (*step)(__u32, void *))
{
	w->off = (__u16)from;
	w->end = (__u16)to;
	w->done = 0;
	w->bad = 0;
	w->found = 0;
	w->mode = mode;
	bpf_loop(max, step, w, 0);
	return w->done && !w->bad;
}

#endif
