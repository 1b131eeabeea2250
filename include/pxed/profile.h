/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A request's signature: what the XDP program reads of a request to choose
 * its reply, written once for the program (bpf/, C for clang -target bpf)
 * and userspace (C++20, userspace/bpf/profiles.cpp), which maps every
 * signature to a profile (the `profiles` map, include/pxed/abi.h).
 *
 * signature = arch_slot * 16 + vendor * 4 + ipxe * 2 + opt175
 *   arch_slot: option 93's first entry when below 64; 64 when option 93
 *              is absent or shorter than 2 bytes; 65 for any value >= 64
 *   vendor:    enum pxed_vendor_kind, from option 60
 *   ipxe:      option 77 is "iPXE" (raw, or one RFC 3004 entry)
 *   opt175:    option 175 (iPXE's encapsulated options) is present
 */
#ifndef PXED_PROFILE_H
#define PXED_PROFILE_H

#include <linux/types.h>

#include "pxed/abi.h"

#define PXED_ARCH_SLOTS 64
#define PXED_ARCH_SLOT_ABSENT 64
#define PXED_ARCH_SLOT_HIGH 65

enum pxed_vendor_kind {
	PXED_VENDOR_ABSENT = 0,
	PXED_VENDOR_PXECLIENT = 1,  /* option 60 starts with "PXEClient" */
	PXED_VENDOR_HTTPCLIENT = 2, /* option 60 starts with "HTTPClient" */
	PXED_VENDOR_OTHER = 3,
};

#define PXED_PROFILE_INLINE static inline __attribute__((always_inline))

PXED_PROFILE_INLINE __u32 pxed_signature(int has_arch, __u16 arch, __u32 vendor, int ipxe, int opt175)
{
	__u32 slot = !has_arch ? PXED_ARCH_SLOT_ABSENT : arch < PXED_ARCH_SLOTS ? arch : PXED_ARCH_SLOT_HIGH;
	return slot * 16 + (vendor & 3) * 4 + (ipxe ? 2 : 0) + (opt175 ? 1 : 0);
}

#endif /* PXED_PROFILE_H */
