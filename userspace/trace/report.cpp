#include "trace/report.h"

#include <cstdio>

namespace pxed::trace {

using nlohmann::json;

namespace {

const char* msg_name(uint8_t t) {
    static const char* names[] = {"none",    "DISCOVER", "OFFER",   "REQUEST", "DECLINE",
                                  "ACK",     "NAK",      "RELEASE", "INFORM"};
    return t < std::size(names) ? names[t] : "type?";
}

std::string size_text(uint64_t b) {
    char buf[32];
    if (b < 10 * 1024) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
    else if (b < 10ull * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", double(b) / 1024);
    else std::snprintf(buf, sizeof buf, "%.1f MiB", double(b) / (1024 * 1024));
    return buf;
}

bool failed(const Event& e) {
    if (e.kind == Event::Kind::Dhcp)
        return e.dhcp.verdict == Verdict::Dropped || e.dhcp.reply == 6;  // NAK
    auto o = e.file->outcome.load(std::memory_order_acquire);
    return o == Outcome::Failed || o == Outcome::Refused;
}

}  // namespace

std::string event_text(const Event& e) {
    if (e.kind == Event::Kind::File) {
        const Transfer& t = *e.file;
        auto o = t.outcome.load(std::memory_order_acquire);
        std::string s = std::string(to_string(t.protocol)) + " " + t.path + ": ";
        uint64_t bytes = t.bytes.load(std::memory_order_relaxed);
        char dur[32];
        std::snprintf(dur, sizeof dur, "%.2f s", double(t.ended_us.load(std::memory_order_relaxed) - t.started_us) / 1e6);
        switch (o) {
            case Outcome::Running: return s + size_text(bytes) + " of " + size_text(t.size);
            case Outcome::Done: return s + "done, " + size_text(t.size) + " in " + dur;
            case Outcome::Probed: return s + "size asked (" + size_text(t.size) + ")";
            case Outcome::Failed: return s + "failed after " + size_text(bytes) + " of " + size_text(t.size) + ": " + t.error;
            case Outcome::Refused: return s + "refused: " + t.error;
        }
        return s;
    }
    const DhcpEvent& d = e.dhcp;
    std::string s = msg_name(d.request);
    if (d.boot_server_port) s += " (port 4011)";
    switch (d.verdict) {
        case Verdict::Answered:
            if (!d.reply) return s + " taken, nothing to answer";
            s += std::string(" -> ") + msg_name(d.reply);
            if (!d.address.is_zero() && d.reply != 6) s += " " + d.address.str();
            return s + " (" + to_string(d.path) + ")";
        case Verdict::Passed: return s + " passed to the daemon: " + d.reason;
        case Verdict::Dropped: return s + " dropped (" + std::string(to_string(d.path)) + "): " + d.reason;
    }
    return s;
}

json event_json(const Event& e) {
    json j{{"at_us", e.at_us}, {"text", event_text(e)}};
    if (e.kind == Event::Kind::File) {
        const Transfer& t = *e.file;
        auto o = t.outcome.load(std::memory_order_acquire);
        j["kind"] = "file";
        j["source"] = to_string(t.protocol);
        j["path"] = t.path;
        j["client"] = t.client_str();
        j["size"] = t.size;
        j["bytes"] = t.bytes.load(std::memory_order_relaxed);
        j["outcome"] = to_string(o);
        if (o != Outcome::Running) {
            j["ended_us"] = t.ended_us.load(std::memory_order_relaxed);
            if (!t.error.empty()) j["error"] = t.error;
        }
        return j;
    }
    const DhcpEvent& d = e.dhcp;
    char xid[16];
    std::snprintf(xid, sizeof xid, "0x%08x", d.xid);
    j["kind"] = "dhcp";
    j["source"] = to_string(d.path);
    j["verdict"] = to_string(d.verdict);
    j["request"] = msg_name(d.request);
    j["reply"] = d.reply ? json(msg_name(d.reply)) : json(nullptr);
    j["xid"] = xid;
    j["address"] = d.address.is_zero() ? json(nullptr) : json(d.address.str());
    j["reason"] = d.reason;
    j["arch"] = d.arch ? json(*d.arch) : json(nullptr);
    j["vendor_class"] = d.vendor_class;
    j["user_class"] = d.user_class;
    j["interface"] = d.interface;
    j["port"] = d.boot_server_port ? 4011 : 67;
    j["relayed"] = d.relayed;
    return j;
}

json machine_json(const Machine& m) {
    json ev = json::array();
    for (auto& e : m.events) ev.push_back(event_json(e));
    return json{{"mac", m.mac ? json(m.mac->str()) : json(nullptr)},
                {"address", m.address.is_zero() ? json(nullptr) : json(m.address.str())},
                {"events", ev}};
}

BootSummary summarize(const Machine& m, int64_t now_us) {
    BootSummary s;
    if (m.events.empty()) return s;
    size_t from = 0;
    for (size_t i = 1; i < m.events.size(); i++)
        if (m.events[i].at_us - m.events[i - 1].at_us >= kBootGapUs) from = i;
    s.first_us = m.events[from].at_us;
    for (size_t i = from; i < m.events.size(); i++) {
        const Event& e = m.events[i];
        s.last_us = std::max(s.last_us, e.at_us);
        if (e.kind == Event::Kind::Dhcp) {
            if (e.dhcp.verdict == Verdict::Answered && e.dhcp.reply) s.dhcp = &e;
            continue;
        }
        auto o = e.file->outcome.load(std::memory_order_acquire);
        if (o == Outcome::Running) s.transfer = &e;
        if (o == Outcome::Done) {
            s.files_done++;
            s.bytes_done += e.file->size;
        }
        if (o != Outcome::Running) s.last_us = std::max(s.last_us, e.file->ended_us.load(std::memory_order_relaxed));
    }
    const Event& last = m.events.back();
    s.stage = last.kind == Event::Kind::Dhcp ? "dhcp" : to_string(last.file->protocol);
    s.last = event_text(last);
    if (failed(last)) s.problem = s.last;
    s.active = s.transfer != nullptr || now_us - s.last_us < kActiveUs;
    return s;
}

json boot_json(const Machine& m, int64_t now_us) {
    BootSummary s = summarize(m, now_us);
    json ev = json::array();
    for (auto& e : m.events)
        if (e.at_us >= s.first_us) ev.push_back(event_json(e));
    json j{{"mac", m.mac ? json(m.mac->str()) : json(nullptr)},
           {"address", m.address.is_zero() ? json(nullptr) : json(m.address.str())},
           {"first_us", s.first_us},
           {"last_us", s.last_us},
           {"state", s.active ? "in progress" : "idle"},
           {"stage", s.stage},
           {"last", s.last},
           {"problem", s.problem ? json(*s.problem) : json(nullptr)},
           {"files_done", s.files_done},
           {"bytes_done", s.bytes_done},
           {"dhcp", s.dhcp ? event_json(*s.dhcp) : json(nullptr)},
           {"transfer", s.transfer ? event_json(*s.transfer) : json(nullptr)},
           {"events", ev}};
    return j;
}

}  // namespace pxed::trace
