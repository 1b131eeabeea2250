#pragma once
// Opening a client-named file under a boot root, with the kernel doing the
// resolution: openat2(RESOLVE_BENEATH) refuses '..' and symlinks that lead
// outside the root, and only world-readable regular files are served.
// Shared by TFTP and HTTP.
#include <cstdint>
#include <string>
#include <string_view>

#include "pxed/result.h"

namespace pxed::tftp {

enum class OpenErrorKind { NotFound, AccessDenied };

struct OpenError {
    OpenErrorKind kind;
    std::string message;
};

// Client path -> path relative to the root: '\' becomes '/', leading '/'
// are dropped, empty, NUL-containing and '..' paths are refused.
Result<std::string, OpenError> normalize_path(std::string_view client_path);

struct OpenedFile {
    int fd = -1;  // O_RDONLY, the caller closes it
    uint64_t size = 0;
};

Result<OpenedFile, OpenError> open_beneath(int root_fd, std::string_view client_path);

}  // namespace pxed::tftp
