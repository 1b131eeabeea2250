#include "tftp/safe_open.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pxed::tftp {

namespace {
int openat2_(int dirfd, const char* path, uint64_t flags, uint64_t resolve) {
    open_how how{};
    how.flags = flags;
    how.resolve = resolve;
    return int(syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}
constexpr uint64_t kResolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
}  // namespace

Result<std::string, OpenError> normalize_path(std::string_view p) {
    if (p.find('\0') != std::string_view::npos) return Err(OpenError{OpenErrorKind::AccessDenied, "NUL in path"});
    std::string s(p);
    for (auto& c : s)
        if (c == '\\') c = '/';  // DOS separators, as Windows PXE sends them
    size_t start = s.find_first_not_of('/');
    if (start == std::string::npos) return Err(OpenError{OpenErrorKind::NotFound, "empty path"});
    s = s.substr(start);
    // '..' anywhere is refused outright; the kernel also enforces the root.
    size_t i = 0;
    while (i <= s.size()) {
        size_t j = s.find('/', i);
        if (j == std::string::npos) j = s.size();
        if (s.compare(i, j - i, "..") == 0) return Err(OpenError{OpenErrorKind::AccessDenied, "'..' in path"});
        i = j + 1;
    }
    return s;
}

Result<OpenedFile, OpenError> open_beneath(int root_fd, std::string_view client_path) {
    auto rel = normalize_path(client_path);
    if (!rel) return Err(rel.error());
    int pfd = openat2_(root_fd, rel->c_str(), O_PATH | O_CLOEXEC, kResolve);
    if (pfd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR) return Err(OpenError{OpenErrorKind::NotFound, "file not found"});
        if (e == EXDEV || e == ELOOP) return Err(OpenError{OpenErrorKind::AccessDenied, "path leaves the root"});
        return Err(OpenError{OpenErrorKind::AccessDenied, std::strerror(e)});
    }
    struct stat st{};
    int rc = fstat(pfd, &st);
    close(pfd);
    if (rc != 0) return Err(OpenError{OpenErrorKind::AccessDenied, std::strerror(errno)});
    if (!S_ISREG(st.st_mode)) return Err(OpenError{OpenErrorKind::AccessDenied, "not a regular file"});
    if (!(st.st_mode & S_IROTH)) return Err(OpenError{OpenErrorKind::AccessDenied, "file is not world-readable"});
    // Open for reading; O_NONBLOCK so a file swapped for a FIFO cannot block us.
    int fd = openat2_(root_fd, rel->c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, kResolve);
    if (fd < 0) return Err(OpenError{OpenErrorKind::AccessDenied, std::strerror(errno)});
    struct stat st2{};
    if (fstat(fd, &st2) != 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino || !S_ISREG(st2.st_mode)) {
        close(fd);
        return Err(OpenError{OpenErrorKind::AccessDenied, "file changed while opening"});
    }
    return OpenedFile{fd, uint64_t(st2.st_size)};
}

}  // namespace pxed::tftp
