/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The rule that maps a request to a client profile, written once for the
 * XDP program (bpf/, C for clang -target bpf) and userspace (C++20,
 * userspace/bpf/blob.cpp). The program classifies each request with it and
 * looks up the reservation's blob for that profile; userspace renders one
 * blob per profile from a synthetic request that the daemon classifies the
 * same way (pxed_arch_of_class gives it its option 93).
 *
 * profile = arch_class * 4 + pxe * 2 + ipxe
 *   arch_class: the boot-file choice of userspace/dhcp/render.cpp
 *               choose_boot for the RFC 4578 architecture in option 93
 *   pxe:  option 60 starts with "PXEClient"
 *   ipxe: option 77 is "iPXE" (raw, or one RFC 3004 entry)
 */
#ifndef PXED_PROFILE_H
#define PXED_PROFILE_H

#include <linux/types.h>

#include "pxed/abi.h"

/* RFC 4578 client system architecture types (option 93) with a boot file. */
#define PXED_ARCH_BIOS_X86 0
#define PXED_ARCH_EFI_IA32 6
#define PXED_ARCH_EFI_BC 7
#define PXED_ARCH_EFI_X64 9
#define PXED_ARCH_EFI_X64_HTTP 16

enum pxed_arch_class {
	PXED_ARCH_CLASS_BIOS = 0,      /* option 93 absent, short, or 0 */
	PXED_ARCH_CLASS_UEFI_X64 = 1,  /* 7, 9 */
	PXED_ARCH_CLASS_UEFI_HTTP = 2, /* 16 */
	PXED_ARCH_CLASS_OTHER = 3,     /* any other architecture */
};

#define PXED_PROFILE_INLINE static inline __attribute__((always_inline))

PXED_PROFILE_INLINE __u32 pxed_arch_class(__u16 arch)
{
	if (arch == PXED_ARCH_BIOS_X86)
		return PXED_ARCH_CLASS_BIOS;
	if (arch == PXED_ARCH_EFI_BC || arch == PXED_ARCH_EFI_X64)
		return PXED_ARCH_CLASS_UEFI_X64;
	if (arch == PXED_ARCH_EFI_X64_HTTP)
		return PXED_ARCH_CLASS_UEFI_HTTP;
	return PXED_ARCH_CLASS_OTHER;
}

/* arch: option 93's first entry, 0 when absent or short. */
PXED_PROFILE_INLINE __u32 pxed_profile(__u16 arch, int pxe, int ipxe)
{
	return pxed_arch_class(arch) * 4 + (pxe ? 2 : 0) + (ipxe ? 1 : 0);
}

/* One architecture of each class, for the synthetic request of a profile. */
PXED_PROFILE_INLINE __u16 pxed_arch_of_class(__u32 arch_class)
{
	switch (arch_class) {
	case PXED_ARCH_CLASS_UEFI_X64: return PXED_ARCH_EFI_BC;
	case PXED_ARCH_CLASS_UEFI_HTTP: return PXED_ARCH_EFI_X64_HTTP;
	case PXED_ARCH_CLASS_OTHER: return PXED_ARCH_EFI_IA32;
	default: return PXED_ARCH_BIOS_X86;
	}
}

#endif /* PXED_PROFILE_H */
