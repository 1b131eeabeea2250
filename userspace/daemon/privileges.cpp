#include "daemon/privileges.h"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <cerrno>
#include <cstring>

namespace pxed::daemon {

std::string drop_capabilities(Keep keep, bool sys_admin) {
    // No new privileges through execve for this thread (pxed never execs).
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    cap_t now = cap_get_proc();
    if (!now) return std::string("capabilities unchanged: cap_get_proc: ") + std::strerror(errno);
    std::vector<cap_value_t> kept;
    if (keep == Keep::ControlPlane) {
        std::vector<cap_value_t> wanted{CAP_BPF, CAP_NET_ADMIN};
        if (sys_admin) wanted.push_back(CAP_SYS_ADMIN);
        for (cap_value_t c : wanted) {
            cap_flag_value_t v = CAP_CLEAR;
            if (cap_get_flag(now, c, CAP_PERMITTED, &v) == 0 && v == CAP_SET) kept.push_back(c);
        }
    }
    cap_free(now);
    cap_t next = cap_init();  // everything clear
    if (!kept.empty()) {
        cap_set_flag(next, CAP_PERMITTED, int(kept.size()), kept.data(), CAP_SET);
        cap_set_flag(next, CAP_EFFECTIVE, int(kept.size()), kept.data(), CAP_SET);
    }
    int rc = cap_set_proc(next);
    int err = errno;
    cap_free(next);
    if (rc != 0) return std::string("capabilities unchanged: cap_set_proc: ") + std::strerror(err);
    std::string names;
    for (auto c : kept) {
        char* n = cap_to_name(c);
        // Appended piece by piece: `"," + std::string(...)` made GCC 12 at -O3
        // warn (-Wrestrict, a false positive in its inlined string insert).
        if (!names.empty()) names += ',';
        names += n ? n : "?";
        cap_free(n);
    }
    return "capabilities kept=" + (names.empty() ? std::string("none") : names);
}

}  // namespace pxed::daemon
