/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pxed ABI: the single definition of every type shared by the XDP program
 * (bpf/, compiled as C with clang -target bpf) and userspace (C++20).
 *
 * Rules: fixed-width types only (linux/types.h), explicit padding, no
 * bitfields, no pointers. Addresses are stored in network byte order and the
 * field names say so (_be). Every layout is pinned by static_asserts in
 * userspace/bpf/abi_check.cpp, so a change here that moves a field fails the
 * C++ build instead of silently corrupting a pinned map.
 */
#ifndef PXED_ABI_H
#define PXED_ABI_H

#include <linux/types.h>

#define PXED_ABI_VERSION 6

/* Map names, as pinned under /sys/fs/bpf/pxed/<ifname>/. */
#define PXED_PIN_ROOT "/sys/fs/bpf/pxed"

/* Limits. */
#define PXED_MAX_RESERVATIONS 65536
#define PXED_MAX_BLOBS 65534  /* blob ids are 16 bits; 0xfffe and 0xffff say why there is none */
#define PXED_TAIL_MAX 512      /* bytes of a reply after the magic cookie */
#define PXED_SNAME_FILE_LEN 192 /* sname (64) + file (128) of the BOOTP header */
#define PXED_RATE_LRU_SIZE 65536

/* Ports. */
#define PXED_DHCP_SERVER_PORT 67
#define PXED_DHCP_CLIENT_PORT 68
#define PXED_PXE_BOOT_SERVER_PORT 4011 /* PXE 2.1 boot server: proxyDHCP's second dialogue */

/* Key of the reservations map: a client's hardware address. */
struct pxed_mac_key {
	__u8 mac[6];
	__u8 pad[2]; /* must be zero */
};

/*
 * Client profiles: what in a request selects the boot policy (classes,
 * boot file, options) as far as the program reads it. The program computes
 * a request's signature (include/pxed/profile.h: option 93's value, what
 * option 60 starts with, iPXE's user class, option 175) and looks up its
 * profile in the `profiles` map; userspace groups the signatures that every
 * class and boot table of the configuration treats alike into one profile
 * and renders one blob per profile and reservation. PXED_NO_PROFILE: the
 * configuration tests something about such requests that the program does
 * not read (a vendor class other than PXEClient/HTTPClient, say): pass.
 */
#define PXED_PROFILES 64
#define PXED_SIGNATURES (66 * 16)
#define PXED_NO_PROFILE 0xffffffffu
#define PXED_NO_BLOB 0xffffu        /* pass: the reply does not fit a blob */
#define PXED_BLOB_UNDECIDED 0xfffeu /* pass: the policy tests what the program does not read */
/* Options a blob carries only because the client asked for them (option
 * 55) or sent no option 55; the program checks a request's option 55 for
 * each before it answers. */
#define PXED_COND_MAX 15
/* Option 12 with a host name of up to 63 bytes, and room to spare. */
#define PXED_HOST_OPT_MAX 68

/* Reservation flags. */
enum pxed_resv_flags {
	PXED_RESV_DISABLED = 1 << 0, /* present but the kernel must pass */
	/* The boot policy reads option 82 (a class tests circuit-id, remote-id
	 * or option 82 itself): the blobs hold the answer to a request without
	 * it, so a request carrying option 82 is passed (pass_relay_agent). */
	PXED_RESV_O82_PASS = 1 << 1,
};

/*
 * Key of the relay_reservations map: a reservation by option 82 (TOML
 * circuit-id / remote-id instead of mac). kind: the sub-option (1 circuit
 * id, 2 remote id), len: its length (1..PXED_AGENT_ID_MAX), id: its bytes,
 * zero after len. The value is a struct pxed_reservation, as a MAC's. The
 * program looks a request up here when its chaddr has no reservation:
 * circuit id first, then remote id.
 */
#define PXED_AGENT_ID_MAX 32
#define PXED_MAX_RELAY_RESERVATIONS 16384
#define PXED_AGENT_CIRCUIT_ID 1
#define PXED_AGENT_REMOTE_ID 2

struct pxed_relay_key {
	__u8 kind;
	__u8 len;
	__u8 pad[2]; /* must be zero */
	__u8 id[PXED_AGENT_ID_MAX];
};

/* Option 82 (relay agent information, RFC 3046) of a request: the program
 * echoes up to this many bytes of value at the end of its reply, as the
 * daemon does; a longer one is passed (pass_relay_agent). */
#define PXED_RELAY_OPT_MAX 64

/* Value of the reservations map: what the kernel answers a reserved MAC. */
struct pxed_reservation {
	__u32 ip_be;        /* reserved address, network byte order */
	__u32 server_id_be; /* option 54 the daemon uses on this subnet */
	__u32 net_be;       /* the reservation's subnet ... */
	__u32 mask_be;      /* ... and netmask: relayed requests must come from it */
	__u32 lease_time_s; /* host order; 0xffffffff means infinite (informational) */
	__u16 flags;        /* enum pxed_resv_flags */
	__u16 pad0;
	__u16 blob_id[PXED_PROFILES]; /* reply blob per profile, or PXED_NO_BLOB / PXED_BLOB_UNDECIDED */
	/* The host's own option (12, its host name), which follows the blob's
	 * options in the reply; so reservations that differ only by it share
	 * their blobs. host_csum: ones' complement sum of host_opt placed at
	 * an even offset (the program swaps its bytes for an odd one). */
	__u16 host_csum;
	__u8 host_len;
	__u8 pad1;
	__u8 host_opt[PXED_HOST_OPT_MAX];
};

/*
 * A rendered reply, exactly the bytes the daemon would send for a profile,
 * less the host's own option (struct pxed_reservation host_opt): sname+file
 * of the BOOTP header and the options after the magic cookie (option 53
 * with a zero placeholder value first), opts_len bytes, then in tail the
 * end option and zeros: the program writes the options, the host's option,
 * the end option and the padding to 300 bytes. csum is the 16-bit ones'
 * complement sum (not inverted, host order) of sname_file and the opts_len
 * bytes of options as they sit in the message, so the program only adds the
 * per-packet fields to it.
 */
struct pxed_reply_blob {
	__u16 opts_len;
	__u16 csum;
	__u32 siaddr_be;
	__u8 n_cond;                /* entries of cond in use */
	__u8 cond[PXED_COND_MAX];   /* option codes: see PXED_COND_MAX */
	__u8 sname_file[PXED_SNAME_FILE_LEN];
	__u8 tail[PXED_TAIL_MAX];
};

/*
 * proxyDHCP: the interface's subnet (key 0), or a VLAN subnet of a trunk (the
 * key in its struct pxed_vlan), is served in proxy mode. Another server hands out the addresses; the program answers every
 * PXE client (option 60 PXEClient/HTTPClient), reserved or not: a DISCOVER
 * on port 67 with the OFFER blob of its profile, a REQUEST or INFORM on
 * port 4011 with the ACK blob. A proxy reply holds no address, so no
 * per-client state is needed; the client's UUID (option 97) is copied from
 * the request after the blob's options.
 */
struct pxed_proxy {
	__u32 enabled;
	__u32 server_id_be;  /* option 54: the server address on the subnet */
	__u32 net_be;        /* the proxy subnet: a 4011 REQUEST's ciaddr must be on it */
	__u32 mask_be;
	__u16 offer_blob[PXED_PROFILES]; /* port 67 DISCOVER -> OFFER, per profile */
	__u16 ack_blob[PXED_PROFILES];   /* port 4011 REQUEST/INFORM -> ACK */
};

/*
 * VLAN trunks: the `vlans` hash map takes the VLAN ids a request arrived
 * with (outer first; inner 0 for a single tag) to this host's side of that
 * VLAN's subnet, the VLAN device (trunk0.100) the daemon serves it on. The
 * program answers a tagged request only when its VLAN ids are in the map,
 * with the tags kept; untagged requests are the interface's own (the
 * config map). The tags' TPIDs (802.1Q 0x8100, 802.1ad 0x88a8) are not part
 * of the key: a switch may use either for the outer tag.
 */
#define PXED_MAX_VLAN_SUBNETS 256

struct pxed_vlan_key {
	__u16 outer; /* VLAN id (12 bits) of the outer tag */
	__u16 inner; /* VLAN id of the inner tag, 0: a single tag */
};

struct pxed_vlan {
	__u32 addr_be;    /* our address on the VLAN: IP source of replies, a destination answered */
	__u8 mac[6];      /* the VLAN device's MAC: Ethernet source of replies, a destination answered */
	__u16 proxy_slot; /* key of the VLAN subnet's entry in the proxy map (1 and up) */
};

/* Single-entry config map (key 0), one per interface. */
struct pxed_xdp_config {
	__u32 abi_version;    /* PXED_ABI_VERSION, written by the daemon */
	__u32 enabled;        /* 0: the program passes every DHCPv4 frame (DHCPv6 has
			       * its own switch: struct pxed6_link) */
	__u32 ifindex;
	__u32 if_addr_be;     /* the interface's address: IP source of replies, and an
			       * IP destination the program answers */
	__u8 if_mac[6];       /* Ethernet source of replies; with ff:ff:ff:ff:ff:ff the
			       * only Ethernet destination the program answers */
	__u16 flags;          /* enum pxed_config_flags */
	__u32 rate_per_s;     /* per-MAC token bucket: refill rate, 0 = unlimited */
	__u32 rate_burst;     /* bucket size */
};

enum pxed_config_flags {
	PXED_CFG_TRACE = 1 << 0, /* the boot trace: record each verdict in the trace map */
};

/* Value of the rate-limit LRU map, keyed by struct pxed_mac_key. */
struct pxed_rate_state {
	__u64 last_ns;
	__u64 tokens_milli; /* tokens * 1000 */
};

/* Indices of the per-CPU stats array. Append only: pinned maps outlive pxed. */
enum pxed_stat {
	PXED_STAT_RX_TOTAL = 0,      /* every frame the program saw */
	PXED_STAT_RX_DHCP,           /* well-formed BOOTREQUEST to port 67 */
	PXED_STAT_TX_OFFER,          /* OFFER sent from the kernel */
	PXED_STAT_TX_ACK,            /* ACK sent from the kernel */
	PXED_STAT_PASS_NOT_IPV4,     /* not IPv4 (ARP, IPv6, ...) */
	PXED_STAT_PASS_VLAN,         /* 802.1Q / 802.1ad tags of a VLAN the interface does not serve, or 3+ tags */
	PXED_STAT_PASS_NOT_UDP,      /* IPv4 but not UDP */
	PXED_STAT_PASS_NOT_DHCP,     /* UDP, not to port 67 */
	PXED_STAT_PASS_IP_OPTIONS,   /* IHL > 5 */
	PXED_STAT_PASS_FRAGMENT,     /* MF set or non-zero fragment offset */
	PXED_STAT_PASS_MALFORMED,    /* lengths or fields that do not add up */
	PXED_STAT_PASS_NOT_RESERVED, /* chaddr has no reservation */
	PXED_STAT_PASS_MSG_TYPE,     /* a message type the kernel does not answer */
	PXED_STAT_PASS_OVERLOAD,     /* option 52 present */
	PXED_STAT_PASS_SRC_MISMATCH, /* Ethernet source != chaddr, not relayed */
	PXED_STAT_PASS_REQUESTED_IP, /* REQUEST for an address other than the reservation */
	PXED_STAT_PASS_DISABLED,     /* program disabled or reservation disabled */
	PXED_STAT_PASS_OTHER_SERVER, /* REQUEST with another server identifier */
	PXED_STAT_PASS_NO_BLOB,      /* reservation points at a missing blob */
	PXED_STAT_DROP_RATE_LIMIT,   /* dropped by the per-MAC token bucket */
	PXED_STAT_PASS_RELAY_AGENT,  /* option 82 present (relayed or not): the daemon echoes it */
	PXED_STAT_PASS_UNSURE,       /* duplicate or unusual options the kernel does not classify */
	PXED_STAT_PASS_WRONG_SUBNET, /* relayed from a subnet other than the reservation's */
	PXED_STAT_PASS_TX_FAILED,    /* the frame could not be resized for the reply */
	PXED_STAT_PASS_NOT_FOR_US,   /* Ethernet or IP destination is another host's */
	PXED_STAT_PASS_UNDECIDED,    /* the boot policy tests what the program does not read */
	PXED_STAT_PASS_PRL,          /* option 55 leaves out an option the reply would carry */
	PXED_STAT_TX_PROXY_OFFER,    /* proxyDHCP OFFER sent from the kernel (port 67) */
	PXED_STAT_TX_PROXY_ACK,      /* proxyDHCP ACK sent from the kernel (port 4011) */
	PXED_STAT_PASS_NOT_PXE,      /* proxy subnet: not a PXE client; the daemon counts and ignores it */
	PXED_STAT_PASS_BOOT_ITEM,    /* port 4011 request with option 43 (a menu's boot item): the daemon */
	PXED_STAT_RX_SERVER_REPLY,   /* another DHCP server's OFFER/ACK/NAK, noted in the servers map (and passed) */
	PXED_STAT_RX_TAGGED,         /* requests of a served VLAN (tags taken out, answered or put back) */
	PXED_STAT_DROP_VLAN_RESTORE, /* a tagged frame whose tags could not be put back: dropped, never passed untagged */
	/* DHCPv6 (bpf/dhcp6.h): untagged IPv6/UDP to port 547; other IPv6 is pass_not_ipv4. */
	PXED_STAT_RX_DHCP6,          /* IPv6/UDP to port 547 with no extension header */
	PXED_STAT_TX6_SOLICIT,       /* Reply to a Solicit with rapid commit sent from the kernel */
	PXED_STAT_TX6_REQUEST,       /* Reply to a Request sent from the kernel */
	PXED_STAT_PASS6_OFF,         /* no [[subnet6]] on the interface, or the kernel path off (struct pxed6_link) */
	PXED_STAT_PASS6_NOT_LINK,    /* not a client on this link: source not link-local, destination not ff02::1:2, port not 546 */
	PXED_STAT_PASS6_CHECKSUM,    /* UDP checksum zero (none, not allowed in IPv6): the kernel's UDP drops it */
	PXED_STAT_PASS6_MALFORMED,   /* lengths or options that do not add up: the daemon drops it */
	PXED_STAT_PASS6_MSG_TYPE,    /* relayed, or a type other than Solicit and Request */
	PXED_STAT_PASS6_NO_RAPID_COMMIT, /* Solicit without rapid commit, or the subnet's rapid-commit off: an Advertise */
	PXED_STAT_PASS6_SERVER_ID,   /* no client id, a Solicit with a server id, a Request for another server */
	PXED_STAT_PASS6_UNSURE,      /* what the program does not answer: not one IA_NA, IA_TA/IA_PD, a DUID longer
				      * than PXED6_DUID_MAX, repeated options, lists longer than it walks */
	PXED_STAT_PASS6_NOT_RESERVED, /* neither the DUID nor the MAC is reserved on this link */
	PXED_STAT_PASS6_HELD,        /* the daemon holds a lease of the reserved address for another IA */
	PXED_STAT_PASS6_NO_BLOB,     /* no rendered tail for the request's shape */
	PXED_STAT_MAX
};

/*
 * The boot trace (flight recorder), keyed by struct pxed_mac_key (the
 * request's chaddr): the program's last PXED_TRACE_EVENTS verdicts on a
 * client's DHCP requests, in an LRU map of PXED_TRACE_MACS clients
 * (PXED_TRACE_MACS * sizeof(struct pxed_trace_ring) = 3.1 MiB, preallocated).
 * Written only when the config map's flags hold PXED_CFG_TRACE, for frames
 * that reach the BOOTP header (a frame that is not IPv4/UDP to port 67 or
 * 4011 has no client to file it under). The daemon merges these events with
 * its own (pxectl trace, pxectl watch, /status).
 */
#define PXED_TRACE_EVENTS 16 /* a power of two */
#define PXED_TRACE_MACS 8192

enum pxed_trace_verdict {
	PXED_TRACE_TX = 1,   /* answered with XDP_TX: reason is the tx_* counter */
	PXED_TRACE_PASS = 2, /* passed to the daemon: reason is the pass_* counter */
	PXED_TRACE_DROP = 3, /* dropped: reason is drop_rate_limit or drop_vlan_restore */
};

enum pxed_trace_flags {
	PXED_TRACE_F_HAS_ARCH = 1 << 0, /* option 93 present: arch is valid */
	PXED_TRACE_F_IPXE = 1 << 1,     /* option 77 is "iPXE" */
	PXED_TRACE_F_OPT175 = 1 << 2,   /* option 175 (iPXE) present */
	PXED_TRACE_F_4011 = 1 << 3,     /* to the PXE boot server port */
	PXED_TRACE_F_RELAYED = 1 << 4,  /* giaddr set */
};

struct pxed_trace_event {
	__u64 ts_ns;    /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 xid;      /* as on the wire (network order) */
	__u32 addr_be;  /* TX: yiaddr; otherwise option 50, else ciaddr */
	__u16 arch;     /* option 93's first entry (PXED_TRACE_F_HAS_ARCH) */
	__u8 msg_type;  /* option 53; 0: absent or not parsed */
	__u8 verdict;   /* enum pxed_trace_verdict */
	__u8 reason;    /* enum pxed_stat */
	__u8 vendor;    /* enum pxed_vendor_kind (include/pxed/profile.h) */
	__u8 flags;     /* enum pxed_trace_flags */
	__u8 pad;
};

struct pxed_trace_ring {
	__u32 next; /* events written so far: the next goes to ev[next % PXED_TRACE_EVENTS] */
	__u32 pad;
	struct pxed_trace_event ev[PXED_TRACE_EVENTS];
};

/*
 * Other DHCP servers on the wire (the `servers` LRU map): every DHCP reply
 * the program receives (IPv4/UDP from port 67 to port 68, or to 67 through
 * a relay; BOOTREPLY with the magic cookie and a well-formed option list;
 * option 53 OFFER, ACK or NAK) is noted under its server, with what it
 * sent last. The program notes them all; the daemon leaves out its own
 * addresses, warns once per server and exports them (pxectl stats,
 * /metrics). Seen only when the interface receives the reply: broadcast
 * replies (the client set the broadcast flag, or the server broadcasts),
 * or unicast ones on a bridge port or a promiscuous interface.
 */
#define PXED_SERVERS_MAX 256
#define PXED_SRV_OPT60_LEN 32 /* bytes of option 60 kept */
#define PXED_SRV_OPT66_LEN 32 /* bytes of option 66 kept */
#define PXED_SRV_FILE_LEN 64  /* bytes of option 67, or of the BOOTP file field, kept */

struct pxed_server_key {
	__u32 server_id_be; /* option 54, else the IP source */
	__u8 mac[6];        /* Ethernet source */
	__u16 vlan_outer;   /* VLAN id, 0 = untagged */
	__u16 vlan_inner;   /* QinQ inner VLAN id, 0 = none */
	__u16 pad;          /* must be zero */
};

enum pxed_server_flags {
	PXED_SRV_F_HAS_54 = 1 << 0,     /* keyed by option 54 (else by the IP source) */
	PXED_SRV_F_HAS_60 = 1 << 1,     /* the last reply held option 60 */
	PXED_SRV_F_HAS_43 = 1 << 2,     /* ... option 43 */
	PXED_SRV_F_43_PXE = 1 << 3,     /* ... whose sub-options include PXE's 6, 8, 9 or 10 */
	PXED_SRV_F_HAS_66 = 1 << 4,     /* ... option 66 */
	PXED_SRV_F_HAS_67 = 1 << 5,     /* ... option 67 (boot_file holds it) */
	PXED_SRV_F_FILE_FIELD = 1 << 6, /* no option 67: boot_file holds the BOOTP file field */
	PXED_SRV_F_RELAYED = 1 << 7,    /* ... sent to port 67 (through a relay) */
};

struct pxed_server_seen {
	__u64 first_ns;  /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) of the first reply */
	__u64 last_ns;   /* ... of the last */
	__u32 offers;    /* replies by option 53 */
	__u32 acks;
	__u32 naks;
	__u32 yiaddr_be; /* of the last reply */
	__u32 siaddr_be;
	__u8 last_type;  /* option 53 of the last reply */
	__u8 flags;      /* enum pxed_server_flags, of the last reply */
	__u8 len60;      /* option lengths as sent (the values are cut to the arrays' sizes) */
	__u8 len43;
	__u8 len66;
	__u8 len67;      /* 0 when boot_file holds the file field (its text ends at a zero) */
	__u8 pad[2];
	__u8 opt60[PXED_SRV_OPT60_LEN];
	__u8 opt66[PXED_SRV_OPT66_LEN];
	__u8 boot_file[PXED_SRV_FILE_LEN];
	__u8 pad2[4];
};

/* The DHCPv6 maps' types are in pxed/abi6.h (the same ABI version). */

#endif /* PXED_ABI_H */
