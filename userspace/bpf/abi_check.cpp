// Pins the layout of every type in include/pxed/abi.h: the BPF program and
// pinned maps that outlive a pxed binary depend on it.
#include <cstddef>

#include "pxed/abi.h"
#include "pxed/abi6.h"

static_assert(sizeof(pxed_proxy) == 16 + 4 * PXED_PROFILES);
static_assert(offsetof(pxed_proxy, server_id_be) == 4);
static_assert(offsetof(pxed_proxy, net_be) == 8);
static_assert(offsetof(pxed_proxy, mask_be) == 12);
static_assert(offsetof(pxed_proxy, offer_blob) == 16);
static_assert(offsetof(pxed_proxy, ack_blob) == 16 + 2 * PXED_PROFILES);
static_assert(sizeof(pxed_mac_key) == 8);
static_assert(offsetof(pxed_mac_key, mac) == 0);
static_assert(offsetof(pxed_mac_key, pad) == 6);

// relay_reservations: sub-option, length, id (bpf/relay.h builds it byte by byte).
static_assert(sizeof(pxed_relay_key) == 4 + PXED_AGENT_ID_MAX);
static_assert(offsetof(pxed_relay_key, kind) == 0);
static_assert(offsetof(pxed_relay_key, len) == 1);
static_assert(offsetof(pxed_relay_key, id) == 4);
static_assert(PXED_AGENT_ID_MAX == 32, "bpf/relay.h bounds the id's length with a mask of 31");
static_assert(PXED_AGENT_CIRCUIT_ID == 1 && PXED_AGENT_REMOTE_ID == 2, "RFC 3046 sub-option codes");
static_assert(PXED_RELAY_OPT_MAX + 2 <= 0x7f, "build_reply masks option 82's length with 0x7f");
static_assert(PXED_RESV_O82_PASS == 2);

static_assert(sizeof(pxed_reservation) == 28 + 2 * PXED_PROFILES + PXED_HOST_OPT_MAX);
static_assert(offsetof(pxed_reservation, host_csum) == 24 + 2 * PXED_PROFILES);
static_assert(offsetof(pxed_reservation, host_len) == 26 + 2 * PXED_PROFILES);
static_assert(offsetof(pxed_reservation, host_opt) == 28 + 2 * PXED_PROFILES);
static_assert(offsetof(pxed_reservation, ip_be) == 0);
static_assert(offsetof(pxed_reservation, server_id_be) == 4);
static_assert(offsetof(pxed_reservation, net_be) == 8);
static_assert(offsetof(pxed_reservation, mask_be) == 12);
static_assert(offsetof(pxed_reservation, lease_time_s) == 16);
static_assert(offsetof(pxed_reservation, flags) == 20);
static_assert(offsetof(pxed_reservation, blob_id) == 24);

static_assert(sizeof(pxed_reply_blob) == 24 + PXED_SNAME_FILE_LEN + PXED_TAIL_MAX);
static_assert(offsetof(pxed_reply_blob, opts_len) == 0);
static_assert(offsetof(pxed_reply_blob, csum) == 2);
static_assert(offsetof(pxed_reply_blob, siaddr_be) == 4);
static_assert(offsetof(pxed_reply_blob, n_cond) == 8);
static_assert(offsetof(pxed_reply_blob, cond) == 9);
static_assert(offsetof(pxed_reply_blob, sname_file) == 24);
static_assert(offsetof(pxed_reply_blob, tail) == 24 + PXED_SNAME_FILE_LEN);

static_assert(sizeof(pxed_xdp_config) == 32);
static_assert(offsetof(pxed_xdp_config, abi_version) == 0);
static_assert(offsetof(pxed_xdp_config, enabled) == 4);
static_assert(offsetof(pxed_xdp_config, ifindex) == 8);
static_assert(offsetof(pxed_xdp_config, if_addr_be) == 12);
static_assert(offsetof(pxed_xdp_config, if_mac) == 16);
static_assert(offsetof(pxed_xdp_config, rate_per_s) == 24);
static_assert(offsetof(pxed_xdp_config, rate_burst) == 28);

static_assert(offsetof(pxed_xdp_config, flags) == 22);

static_assert(sizeof(pxed_rate_state) == 16);

static_assert(sizeof(pxed_trace_event) == 24);
static_assert(offsetof(pxed_trace_event, xid) == 8);
static_assert(offsetof(pxed_trace_event, addr_be) == 12);
static_assert(offsetof(pxed_trace_event, arch) == 16);
static_assert(offsetof(pxed_trace_event, msg_type) == 18);
static_assert(offsetof(pxed_trace_event, reason) == 20);
static_assert(offsetof(pxed_trace_event, flags) == 22);
static_assert(sizeof(pxed_trace_ring) == 8 + 24 * PXED_TRACE_EVENTS);
static_assert((PXED_TRACE_EVENTS & (PXED_TRACE_EVENTS - 1)) == 0, "the program masks the slot");
static_assert(PXED_STAT_MAX < 256, "a trace event holds the counter's index in one byte");

static_assert(PXED_MAX_BLOBS <= PXED_BLOB_UNDECIDED && PXED_BLOB_UNDECIDED < PXED_NO_BLOB);
static_assert((PXED_PROFILES & (PXED_PROFILES - 1)) == 0, "the program masks a profile with PXED_PROFILES - 1");
static_assert(sizeof(pxed_vlan_key) == 4);
static_assert(offsetof(pxed_vlan_key, inner) == 2);
static_assert(sizeof(pxed_vlan) == 12);
static_assert(offsetof(pxed_vlan, mac) == 4);
static_assert(offsetof(pxed_vlan, proxy_slot) == 10);

static_assert(PXED_STAT_MAX == 48, "stats indices are append-only: update the readers too");
static_assert(PXED_STAT_DROP_VLAN_RESTORE == 33 && PXED_STAT_RX_DHCP6 == 34, "DHCPv6's counters appended");

static_assert(sizeof(pxed_server_key) == 16);
static_assert(offsetof(pxed_server_key, mac) == 4);
static_assert(offsetof(pxed_server_key, vlan_outer) == 10);
static_assert(offsetof(pxed_server_key, vlan_inner) == 12);
static_assert(offsetof(pxed_server_key, pad) == 14);
static_assert(sizeof(pxed_server_seen) == 176);
static_assert(offsetof(pxed_server_seen, last_ns) == 8);
static_assert(offsetof(pxed_server_seen, offers) == 16);
static_assert(offsetof(pxed_server_seen, acks) == 20);
static_assert(offsetof(pxed_server_seen, naks) == 24);
static_assert(offsetof(pxed_server_seen, yiaddr_be) == 28);
static_assert(offsetof(pxed_server_seen, siaddr_be) == 32);
static_assert(offsetof(pxed_server_seen, last_type) == 36);
static_assert(offsetof(pxed_server_seen, flags) == 37);
static_assert(offsetof(pxed_server_seen, len60) == 38);
static_assert(offsetof(pxed_server_seen, len67) == 41);
static_assert(offsetof(pxed_server_seen, opt60) == 44);
static_assert(offsetof(pxed_server_seen, opt66) == 44 + PXED_SRV_OPT60_LEN);
static_assert(offsetof(pxed_server_seen, boot_file) == 44 + PXED_SRV_OPT60_LEN + PXED_SRV_OPT66_LEN);
static_assert(PXED_STAT_RX_SERVER_REPLY == 31, "appended: the earlier indices stay");

// DHCPv6 (bpf/dhcp6.h): built and compared by the program word by word.
static_assert(sizeof(pxed6_client_key) == 4 + PXED6_DUID_MAX);
static_assert(sizeof(pxed6_client_key) % 4 == 0, "key6_eq compares 32-bit words");
static_assert(offsetof(pxed6_client_key, kind) == 0);
static_assert(offsetof(pxed6_client_key, len) == 1);
static_assert(offsetof(pxed6_client_key, id) == 4);
static_assert(sizeof(pxed6_reservation) == 60);
static_assert(offsetof(pxed6_reservation, boot_set) == 16);
static_assert(offsetof(pxed6_reservation, flags) == 18);
static_assert(offsetof(pxed6_reservation, holder_iaid) == 20);
static_assert(offsetof(pxed6_reservation, holder) == 24);
static_assert(sizeof(pxed6_link) == 80 + PXED6_SERVER_OPT_MAX);
static_assert(offsetof(pxed6_link, flags) == 4);
static_assert(offsetof(pxed6_link, hop_limit) == 6);
static_assert(offsetof(pxed6_link, n_archs) == 7);
static_assert(offsetof(pxed6_link, src_addr) == 8);
static_assert(offsetof(pxed6_link, t1) == 24);
static_assert(offsetof(pxed6_link, valid) == 36);
static_assert(offsetof(pxed6_link, archs) == 40);
static_assert(offsetof(pxed6_link, server_opt_csum) == 70);
static_assert(offsetof(pxed6_link, server_opt_len) == 72);
static_assert(offsetof(pxed6_link, server_opt) == 80, "8-byte aligned: compared as 64-bit words");
static_assert(PXED6_SERVER_OPT_MAX % 8 == 0 && PXED6_SERVER_OPT_MAX >= 4 + 130, "option 2 with a 130-byte DUID");
static_assert(sizeof(pxed6_blob) == 4 + PXED6_TAIL_MAX);
static_assert(offsetof(pxed6_blob, tail) == 4);
static_assert(PXED6_ARCH_SLOTS == PXED6_ARCHS + 1 && (PXED6_ARCH_SLOTS & (PXED6_ARCH_SLOTS - 1)) == 0);
static_assert(PXED6_TAIL_INDEX(PXED6_BOOT_SETS - 1, PXED6_SHAPES - 1, PXED6_ARCH_SLOTS - 1) == PXED6_TAILS - 1,
              "the tails index is dense");
static_assert(PXED6_MAX_BLOBS < PXED6_NO_BLOB);
