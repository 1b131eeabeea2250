#include "daemon/metrics.h"

#include <ctime>
#include <sstream>

#include "dhcp/packet.h"
#include "dhcp6/engine6.h"
#include "http/http_server.h"
#include "tftp/server.h"

namespace pxed::daemon {

using nlohmann::json;

namespace {

constexpr size_t kOffer = size_t(dhcp::MessageType::Offer);
constexpr size_t kAck = size_t(dhcp::MessageType::Ack);
constexpr size_t kNak = size_t(dhcp::MessageType::Nak);

std::string type_name(size_t t) { return std::string(dhcp::to_string(dhcp::MessageType(t))); }

// Prometheus text exposition, one family at a time.
class Exposition {
public:
    void family(const char* name, const char* type, const char* help) {
        out_ << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
    }
    void sample(const std::string& name_and_labels, uint64_t v) { out_ << name_and_labels << " " << v << "\n"; }
    std::string str() const { return out_.str(); }

private:
    std::ostringstream out_;
};

// A label value: the server's strings are printable already (servers_map.cpp);
// the exposition format escapes backslash and quote.
std::string label(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        out += c;
    }
    return out;
}

std::string server_labels(const bpf::SeenServer& o) {
    // Appends: GCC 12 at -O3 warns -Wrestrict on `"." + ...` (a false positive).
    std::string s = "interface=\"";
    s += label(o.iface);
    s += "\",server=\"";
    s += o.server.str();
    s += "\",mac=\"";
    s += o.mac.str();
    s += "\",vlan=\"";
    s += o.vlan_ids();
    s += '"';
    return s;
}

void other_servers(Exposition& m, const MetricsSnapshot& s) {
    m.family("pxed_dhcp_other_servers", "gauge",
             "DHCP servers other than pxed whose replies the XDP program received on the interface in the last 10 "
             "minutes.");
    for (auto& x : s.xdp) {
        uint64_t n = 0;
        for (auto& o : s.other_servers) n += o.iface == x.iface && s.age_s(o) < 600;
        m.sample("pxed_dhcp_other_servers{interface=\"" + label(x.iface) + "\"}", n);
    }
    m.family("pxed_dhcp_other_server_replies_total", "counter",
             "Replies of another DHCP server the XDP program received, by server id, MAC, VLAN and type.");
    for (auto& o : s.other_servers) {
        auto l = server_labels(o);
        m.sample("pxed_dhcp_other_server_replies_total{" + l + ",type=\"OFFER\"}", o.offers);
        m.sample("pxed_dhcp_other_server_replies_total{" + l + ",type=\"ACK\"}", o.acks);
        m.sample("pxed_dhcp_other_server_replies_total{" + l + ",type=\"NAK\"}", o.naks);
    }
    m.family("pxed_dhcp_other_server_last_seen_seconds", "gauge", "Seconds since another DHCP server's last reply.");
    for (auto& o : s.other_servers)
        m.sample("pxed_dhcp_other_server_last_seen_seconds{" + server_labels(o) + "}", s.age_s(o));
    m.family("pxed_dhcp_other_server_info", "gauge",
             "What another DHCP server's last reply held: option 60, the boot file (option 67 or the file field), "
             "option 66; the value is 1.");
    for (auto& o : s.other_servers)
        m.sample("pxed_dhcp_other_server_info{" + server_labels(o) + ",vendor_class=\"" + label(o.vendor_class) +
                     "\",boot_file=\"" + label(o.boot_file) + "\",tftp_server=\"" + label(o.tftp_server) + "\"}",
                 1);
}

json other_servers_json(const MetricsSnapshot& s) {
    json a = json::array();
    for (auto& o : s.other_servers) {
        json j{{"interface", o.iface},
               {"server", o.server.str()},
               {"server_from", o.by_option54 ? "option 54" : "IP source"},
               {"mac", o.mac.str()},
               {"vlan", o.vlan_outer},
               {"inner_vlan", o.vlan_inner},
               {"offers", o.offers},
               {"acks", o.acks},
               {"naks", o.naks},
               {"last_type", o.last_type == 2 ? "OFFER" : o.last_type == 5 ? "ACK" : "NAK"},
               {"last_seen_s_ago", s.age_s(o)},
               {"first_seen_s_ago", s.mono_ns > o.first_ns ? (s.mono_ns - o.first_ns) / 1'000'000'000 : 0},
               {"yiaddr", o.yiaddr.str()},
               {"siaddr", o.siaddr.str()},
               {"relayed", o.relayed},
               {"vendor_class", o.has_vendor_class ? json(o.vendor_class) : json(nullptr)},
               {"option43_len", o.has_opt43 ? json(o.opt43_len) : json(nullptr)},
               {"option43_pxe", o.opt43_pxe},
               {"tftp_server", o.has_tftp_server ? json(o.tftp_server) : json(nullptr)},
               {"boot_file", o.boot_file_from.empty() ? json(nullptr) : json(o.boot_file)},
               {"boot_file_from", o.boot_file_from.empty() ? json(nullptr) : json(o.boot_file_from)}};
        a.push_back(j);
    }
    return a;
}

}  // namespace

uint64_t MetricsSnapshot::mono_now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
}

uint64_t XdpFigures::passed() const {
    return stats[PXED_STAT_RX_TOTAL] - stats[PXED_STAT_TX_OFFER] - stats[PXED_STAT_TX_ACK] -
           stats[PXED_STAT_TX_PROXY_OFFER] - stats[PXED_STAT_TX_PROXY_ACK] - stats[PXED_STAT_DROP_RATE_LIMIT] -
           stats[PXED_STAT_TX6_SOLICIT] - stats[PXED_STAT_TX6_REQUEST];
}

uint64_t MetricsSnapshot::kernel_offers() const {
    uint64_t n = 0;
    for (auto& x : xdp) n += x.stats[PXED_STAT_TX_OFFER] + x.stats[PXED_STAT_TX_PROXY_OFFER];
    return n;
}

uint64_t MetricsSnapshot::kernel_acks() const {
    uint64_t n = 0;
    for (auto& x : xdp) n += x.stats[PXED_STAT_TX_ACK] + x.stats[PXED_STAT_TX_PROXY_ACK];
    return n;
}

uint64_t MetricsSnapshot::kernel_stat(pxed_stat i) const {
    uint64_t n = 0;
    for (auto& x : xdp) n += x.stats[i];
    return n;
}

void read_into(MetricsSnapshot& s, const DhcpCounters& c) {
    for (size_t i = 0; i < s.received.size(); i++) {
        s.received[i] = c.received[i].load();
        s.sent[i] = c.sent[i].load();
    }
    s.parse_errors = c.parse_errors.load();
    s.not_ethernet = c.not_ethernet.load();
    s.pool_exhausted = c.pool_exhausted.load();
    s.ignored = c.ignored.load();
    s.rate_limited_client = c.rate_limited_client.load();
    s.rate_limited_relay = c.rate_limited_relay.load();
    s.proxy_offers = c.proxy_offers.load();
    s.proxy_acks = c.proxy_acks.load();
    s.proxy_not_pxe = c.proxy_not_pxe.load();
    s.proxy_nothing_to_boot = c.proxy_nothing_to_boot.load();
    s.store_unavailable = c.store_unavailable.load();
}

TftpFigures read_figures(const tftp::ServerStats& t) {
    return TftpFigures{t.requests.load(),    t.sessions_completed.load(), t.sessions_failed.load(),
                       t.active.load(),      t.bytes_sent.load(),         t.errors_sent.load(),
                       t.retransmissions.load(), t.ignored.load(),         t.busy.load()};
}

HttpFigures read_figures(const http::Stats& h) {
    return HttpFigures{h.requests.load(), h.files.load(), h.not_found.load(), h.refused.load(), h.bytes_sent.load()};
}

std::string to_prometheus(const MetricsSnapshot& s) {
    Exposition m;
    m.family("pxed_dhcp_received_total", "counter", "DHCP messages the daemon received, by message type.");
    for (size_t t = 1; t <= 8; t++)
        m.sample("pxed_dhcp_received_total{type=\"" + type_name(t) + "\"}", s.received[t]);
    m.family("pxed_dhcp_sent_total", "counter", "DHCP replies, by message type and path (daemon or kernel).");
    for (size_t t : {kOffer, kAck, kNak})
        m.sample("pxed_dhcp_sent_total{type=\"" + type_name(t) + "\",path=\"daemon\"}", s.sent[t]);
    m.sample("pxed_dhcp_sent_total{type=\"OFFER\",path=\"kernel\"}", s.kernel_offers());
    m.sample("pxed_dhcp_sent_total{type=\"ACK\",path=\"kernel\"}", s.kernel_acks());
    m.family("pxed_dhcp_parse_errors_total", "counter", "Datagrams on port 67 that are not DHCP messages.");
    m.sample("pxed_dhcp_parse_errors_total", s.parse_errors);
    m.family("pxed_dhcp_not_ethernet_total", "counter", "Requests dropped because htype/hlen is not Ethernet (1/6).");
    m.sample("pxed_dhcp_not_ethernet_total", s.not_ethernet);
    m.family("pxed_dhcp_pool_exhausted_total", "counter", "DISCOVERs left unanswered because the pool was full.");
    m.sample("pxed_dhcp_pool_exhausted_total", s.pool_exhausted);
    m.family("pxed_dhcp_store_unavailable_total", "counter",
             "Requests left unanswered because the lease database took no writes (no new lease).");
    m.sample("pxed_dhcp_store_unavailable_total", s.store_unavailable);
    m.family("pxed_lease_db_up", "gauge", "1 when the lease database takes writes (and, when shared, is reachable).");
    m.sample("pxed_lease_db_up", s.db.up ? 1 : 0);
    m.family("pxed_lease_db_failed_commits_total", "counter", "Lease commits the database refused (kept and retried).");
    m.sample("pxed_lease_db_failed_commits_total", s.db.failed_commits);
    m.family("pxed_lease_db_lost_total", "counter",
             "ACKs replaced by a NAK because another server sharing the database stored the address first.");
    m.sample("pxed_lease_db_lost_total", s.db.lost_to_others);
    m.family("pxed_dhcp_ignored_total", "counter",
             "Requests left unanswered by the boot policy: a host or class with ignore, or an unknown client on a "
             "known-clients-only subnet.");
    m.sample("pxed_dhcp_ignored_total", s.ignored);
    m.family("pxed_dhcp_rate_limited_total", "counter", "Requests dropped by the daemon's rate limits, by key.");
    m.sample("pxed_dhcp_rate_limited_total{by=\"client\"}", s.rate_limited_client);
    m.sample("pxed_dhcp_rate_limited_total{by=\"relay\"}", s.rate_limited_relay);
    m.family("pxed_dhcp_proxy_replies_total", "counter",
             "proxyDHCP replies (also counted in pxed_dhcp_sent_total): OFFERs on port 67, ACKs on port 4011, by path.");
    m.sample("pxed_dhcp_proxy_replies_total{type=\"OFFER\",path=\"daemon\"}", s.proxy_offers);
    m.sample("pxed_dhcp_proxy_replies_total{type=\"ACK\",path=\"daemon\"}", s.proxy_acks);
    m.sample("pxed_dhcp_proxy_replies_total{type=\"OFFER\",path=\"kernel\"}", s.kernel_stat(PXED_STAT_TX_PROXY_OFFER));
    m.sample("pxed_dhcp_proxy_replies_total{type=\"ACK\",path=\"kernel\"}", s.kernel_stat(PXED_STAT_TX_PROXY_ACK));
    m.family("pxed_dhcp_proxy_unanswered_total", "counter",
             "Requests a proxy subnet left to the address server, by reason: not a PXE client, nothing to boot.");
    m.sample("pxed_dhcp_proxy_unanswered_total{reason=\"not_pxe\"}", s.proxy_not_pxe);
    m.sample("pxed_dhcp_proxy_unanswered_total{reason=\"nothing_to_boot\"}", s.proxy_nothing_to_boot);
    m.family("pxed_xdp_packets_total", "counter", "Frames the XDP program handled, by interface and outcome.");
    for (auto& x : s.xdp)
        for (uint32_t i = 0; i < PXED_STAT_MAX; i++)
            m.sample("pxed_xdp_packets_total{iface=\"" + x.iface + "\",outcome=\"" +
                         std::string(bpf::stat_name(pxed_stat(i))) + "\"}",
                     x.stats[i]);
    other_servers(m, s);
    if (auto& t = s.tftp) {
        m.family("pxed_tftp_requests_total", "counter", "TFTP requests received.");
        m.sample("pxed_tftp_requests_total", t->requests);
        m.family("pxed_tftp_sessions_total", "counter", "TFTP transfers, by result.");
        m.sample("pxed_tftp_sessions_total{result=\"completed\"}", t->completed);
        m.sample("pxed_tftp_sessions_total{result=\"failed\"}", t->failed);
        m.family("pxed_tftp_sessions_active", "gauge", "TFTP transfers in progress.");
        m.sample("pxed_tftp_sessions_active", t->active);
        m.family("pxed_tftp_bytes_total", "counter", "File bytes sent over TFTP.");
        m.sample("pxed_tftp_bytes_total", t->bytes);
        m.family("pxed_tftp_errors_sent_total", "counter", "TFTP ERROR packets sent.");
        m.sample("pxed_tftp_errors_sent_total", t->errors_sent);
        m.family("pxed_tftp_retransmissions_total", "counter",
                 "TFTP DATA windows sent again after a timeout (finished transfers).");
        m.sample("pxed_tftp_retransmissions_total", t->retransmissions);
        m.family("pxed_tftp_ignored_total", "counter", "Datagrams on port 69 that are not requests (never answered).");
        m.sample("pxed_tftp_ignored_total", t->ignored);
        m.family("pxed_tftp_busy_total", "counter", "Requests over the session limits (per client, total, netascii memory).");
        m.sample("pxed_tftp_busy_total", t->busy);
    }
    if (auto& h = s.http) {
        m.family("pxed_http_requests_total", "counter", "HTTP requests, /metrics included.");
        m.sample("pxed_http_requests_total", h->requests);
        m.family("pxed_http_responses_total", "counter", "HTTP file responses, by result.");
        m.sample("pxed_http_responses_total{result=\"file\"}", h->files);
        m.sample("pxed_http_responses_total{result=\"not_found\"}", h->not_found);
        m.sample("pxed_http_responses_total{result=\"refused\"}", h->refused);
        m.family("pxed_http_bytes_total", "counter", "File bytes sent over HTTP.");
        m.sample("pxed_http_bytes_total", h->bytes);
    }
    if (auto& k = s.hooks) {
        m.family("pxed_dhcp_script_events_total", "counter",
                 "dhcp-script events: queued for the helper, run, dropped (queue full), failed (exit status not 0).");
        m.sample("pxed_dhcp_script_events_total{result=\"queued\"}", k->queued);
        m.sample("pxed_dhcp_script_events_total{result=\"run\"}", k->run);
        m.sample("pxed_dhcp_script_events_total{result=\"dropped\"}", k->dropped);
        m.sample("pxed_dhcp_script_events_total{result=\"failed\"}", k->failed);
        m.family("pxed_dhcp_script_events_waiting", "gauge", "dhcp-script events waiting in the daemon's queue.");
        m.sample("pxed_dhcp_script_events_waiting", k->waiting);
    }
    if (auto& d = s.dhcp6) {
        using dhcp6::MsgType;
        m.family("pxed_dhcp6_received_total", "counter", "DHCPv6 messages the daemon received (relayed ones by their inner type).");
        for (auto t : {MsgType::Solicit, MsgType::Request, MsgType::Confirm, MsgType::Renew, MsgType::Rebind,
                       MsgType::Release, MsgType::Decline, MsgType::InformationRequest})
            m.sample(std::string("pxed_dhcp6_received_total{type=\"") + dhcp6::to_string(t) + "\"}", d->received[size_t(t)]);
        m.family("pxed_dhcp6_sent_total", "counter", "DHCPv6 replies the daemon sent, by message type.");
        m.sample("pxed_dhcp6_sent_total{type=\"ADVERTISE\"}", d->advertise);
        m.sample("pxed_dhcp6_sent_total{type=\"REPLY\"}", d->reply);
        m.family("pxed_dhcp6_dropped_total", "counter", "DHCPv6 messages left unanswered, by reason (RFC 8415 16).");
        for (size_t i = 1; i < size_t(dhcp6::Drop::Count); i++)
            m.sample(std::string("pxed_dhcp6_dropped_total{reason=\"") + dhcp6::to_string(dhcp6::Drop(i)) + "\"}", d->dropped[i]);
        m.family("pxed_dhcp6_no_addrs_total", "counter", "IA_NAs answered NoAddrsAvail: the pool is full.");
        m.sample("pxed_dhcp6_no_addrs_total", d->no_addrs);
    }
    return m.str();
}

json to_json(const MetricsSnapshot& s) {
    json rx = json::object();
    for (size_t t = 1; t <= 8; t++) rx[type_name(t)] = s.received[t];
    json x = json::object();
    for (auto& xp : s.xdp) {
        json one = json::object();
        for (uint32_t i = 0; i < PXED_STAT_MAX; i++) one[std::string(bpf::stat_name(pxed_stat(i)))] = xp.stats[i];
        x[xp.iface] = one;
    }
    json j;
    j["dhcp"] = {{"received", rx},
                 {"sent", {{"daemon", {{"OFFER", s.sent[kOffer]}, {"ACK", s.sent[kAck]}, {"NAK", s.sent[kNak]}}},
                           {"kernel", {{"OFFER", s.kernel_offers()}, {"ACK", s.kernel_acks()}}}}},
                 {"parse_errors", s.parse_errors},
                 {"not_ethernet", s.not_ethernet},
                 {"pool_exhausted", s.pool_exhausted},
                 {"ignored", s.ignored},
                 {"store_unavailable", s.store_unavailable},
                 {"rate_limited_client", s.rate_limited_client},
                 {"rate_limited_relay", s.rate_limited_relay},
                 {"proxy", json{{"daemon", json{{"OFFER", s.proxy_offers}, {"ACK", s.proxy_acks}}},
                                {"kernel", json{{"OFFER", s.kernel_stat(PXED_STAT_TX_PROXY_OFFER)},
                                                {"ACK", s.kernel_stat(PXED_STAT_TX_PROXY_ACK)}}},
                                {"not_pxe", s.proxy_not_pxe},
                                {"nothing_to_boot", s.proxy_nothing_to_boot}}}};
    j["xdp"] = x;
    j["other_dhcp_servers"] = other_servers_json(s);
    j["lease_db"] = {{"up", s.db.up}, {"shared", s.db.shared}, {"failed_commits", s.db.failed_commits},
                     {"lost_to_other_servers", s.db.lost_to_others}};
    if (auto& t = s.tftp)
        j["tftp"] = {{"requests", t->requests},   {"completed", t->completed},
                     {"failed", t->failed},       {"active", t->active},
                     {"bytes", t->bytes},         {"errors_sent", t->errors_sent},
                     {"retransmissions", t->retransmissions}, {"ignored", t->ignored},
                     {"busy", t->busy}};
    if (auto& k = s.hooks)
        j["dhcp_script"] = {{"queued", k->queued}, {"run", k->run}, {"dropped", k->dropped},
                            {"failed", k->failed}, {"waiting", k->waiting}};
    if (auto& d = s.dhcp6) {
        json rx6 = json::object(), drops = json::object();
        for (size_t t = 1; t < d->received.size(); t++)
            if (d->received[t]) rx6[dhcp6::to_string(dhcp6::MsgType(t))] = d->received[t];
        for (size_t i = 1; i < size_t(dhcp6::Drop::Count); i++) drops[dhcp6::to_string(dhcp6::Drop(i))] = d->dropped[i];
        j["dhcp6"] = {{"received", rx6}, {"sent", {{"ADVERTISE", d->advertise}, {"REPLY", d->reply}}},
                      {"dropped", drops}, {"no_addrs", d->no_addrs}};
    }
    if (auto& h = s.http)
        j["http"] = {{"requests", h->requests}, {"files", h->files}, {"bytes", h->bytes},
                     {"not_found", h->not_found}, {"refused", h->refused}};
    return j;
}

std::string shutdown_line(const XdpFigures& x) {
    return "xdp iface=" + x.iface + " tx_offer=" + std::to_string(x.stats[PXED_STAT_TX_OFFER]) +
           " tx_ack=" + std::to_string(x.stats[PXED_STAT_TX_ACK]) +
           " tx6_reply=" + std::to_string(x.stats[PXED_STAT_TX6_SOLICIT] + x.stats[PXED_STAT_TX6_REQUEST]) +
           " passed=" + std::to_string(x.passed()) +
           " rate_limited=" + std::to_string(x.stats[PXED_STAT_DROP_RATE_LIMIT]);
}

}  // namespace pxed::daemon
