// Pins the layout of every type in include/pxed/abi.h: the BPF program and
// pinned maps that outlive a pxed binary depend on it.
#include <cstddef>

#include "pxed/abi.h"

static_assert(sizeof(pxed_mac_key) == 8);
static_assert(offsetof(pxed_mac_key, mac) == 0);
static_assert(offsetof(pxed_mac_key, pad) == 6);

static_assert(sizeof(pxed_reservation) == 24);
static_assert(offsetof(pxed_reservation, ip_be) == 0);
static_assert(offsetof(pxed_reservation, server_ip_be) == 4);
static_assert(offsetof(pxed_reservation, lease_time_s) == 8);
static_assert(offsetof(pxed_reservation, blob_id) == 12);
static_assert(offsetof(pxed_reservation, flags) == 16);
static_assert(offsetof(pxed_reservation, pad1) == 20);

static_assert(sizeof(pxed_reply_blob) == 8 + PXED_BLOB_MAX);
static_assert(offsetof(pxed_reply_blob, len) == 0);
static_assert(offsetof(pxed_reply_blob, data) == 8);

static_assert(sizeof(pxed_xdp_config) == 16);
static_assert(offsetof(pxed_xdp_config, abi_version) == 0);
static_assert(offsetof(pxed_xdp_config, enabled) == 4);
static_assert(offsetof(pxed_xdp_config, ifindex) == 8);

static_assert(PXED_STAT_MAX == 20, "stats indices are append-only: update the readers too");
