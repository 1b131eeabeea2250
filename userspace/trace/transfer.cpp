#include "trace/transfer.h"

#include <ctime>

namespace pxed::trace {

const char* to_string(Protocol p) { return p == Protocol::Tftp ? "tftp" : "http"; }

const char* to_string(Outcome o) {
    switch (o) {
        case Outcome::Running: return "running";
        case Outcome::Done: return "done";
        case Outcome::Failed: return "failed";
        case Outcome::Probed: return "size probe";
        case Outcome::Refused: return "refused";
    }
    return "?";
}

int64_t wall_us() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

}  // namespace pxed::trace
