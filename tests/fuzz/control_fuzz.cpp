// Fuzzes the control socket's request side, the part of userspace/control/
// that is pure: the byte stream is split into lines as the server does, each
// line parsed as a request (size and nesting limits included), and the
// response, success or error, encoded. Never a crash or an escaping exception.
#include <cstdio>
#include <cstdlib>

#include "control/control.h"

using namespace pxed::control;

namespace {
void check_response(const std::string& s) {
    if (s.empty() || s.back() != '\n') std::abort();
    auto j = nlohmann::json::parse(s, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("ok") || j["version"] != kProtocolVersion) {
        std::fprintf(stderr, "bad response: %s\n", s.c_str());
        std::abort();
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view all(reinterpret_cast<const char*>(data), size);
    // A line without its newline is parsed too (a client that never ends it
    // is cut off by the server's deadline; its bytes still must not crash).
    while (!all.empty()) {
        size_t nl = all.find('\n');
        std::string_view line = all.substr(0, nl);
        all = nl == std::string_view::npos ? std::string_view{} : all.substr(nl + 1);
        auto r = parse_request(line);
        if (!r.ok()) {
            if (r.error().empty()) std::abort();
            check_response(error_response(r.error()));
            continue;
        }
        if (!r->args.is_object()) std::abort();
        // What a handler might send back: the request itself, and an error
        // quoting the command (as "unknown command '...'" does).
        check_response(ok_response(nlohmann::json{{"command", r->command}, {"args", r->args}}));
        check_response(error_response("unknown command '" + r->command + "'"));
    }
    return 0;
}
