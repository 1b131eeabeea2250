#pragma once
// When dnsmasq would call its dhcp-script for a lease, decided from the
// changes pxed's lease store has taken. Pure: the changes, the table and
// the time in, script events out.
//
// dnsmasq 2.90's rules (src/lease.c do_script_run, src/rfc2131.c), as
// observed against the real dnsmasq (tests/netns/dhcp_script_test.cpp):
//   add  a lease that did not exist: a new client, or one back after its
//        lease was released or had expired;
//   old  an existing lease whose MAC, hostname or interface changed, or
//        that a REQUEST with option 50 (SELECTING, INIT-REBOOT) confirmed;
//        a renewal (RENEWING, REBINDING) only with script-on-renewal; every
//        lease at start-up and at a reload (SIGHUP), without request data;
//        a replaced name first gives an "old" without a name argument and
//        DNSMASQ_OLD_HOSTNAME;
//   del  a lease released, declined, deleted (pxectl lease del), taken by
//        another client, or expired.
// Only durable changes count: the daemon calls on_stored() once a commit
// has stored them, so an OFFER never reaches the script and an ACK's "add"
// comes once its lease is on disk. A name stays as the client last gave
// it: a request without option 12 clears the name in pxed's table, not in
// the script's view (dnsmasq never clears a name that way either).
//
// Memory: per bound lease, its last announced state (about 200 bytes with
// the hash-map node, plus a long name) and up to a few expiry entries (16
// bytes each); kept only with a dhcp-script.
#include <cstdint>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hooks/script_event.h"
#include "lease/lease_table.h"

namespace pxed::hooks {

// A network the daemon serves or knows: the interface an address is on
// (for leases no request brought: start-up, pxectl) and the subnet's domain.
struct Network {
    Ipv4Net net;
    std::string iface;   // empty: not on a served interface (a relayed subnet)
    std::string domain;  // empty: none
};

class LeaseEvents {
public:
    struct Options {
        bool on_renewal = false;  // dnsmasq's script-on-renewal: "old" when the expiry changes
        EventOptions event;
    };
    explicit LeaseEvents(Options o) : opt_(std::move(o)) {}

    void set_networks(std::vector<Network> n) { nets_ = std::move(n); }
    void set_log_dhcp(bool on) { opt_.event.log_dhcp = on; }

    // The request an ACK answered, kept until its lease is stored.
    void note_request(Ipv4 ip, RequestFacts f) { facts_[ip.v] = std::move(f); }

    // Start-up: the leases the store held. Every bound, unexpired lease is
    // known at once (a client's next ACK is an "old", not an "add"); its
    // "old" call is made by replay(). Expired leases get no "del" here (pxed
    // keeps them as address memory, and would repeat it at every start).
    void load(const lease::LeaseTable& t, int64_t now);
    // A reload: "old" again for every lease known, paced by replay().
    void replay_all() { replay_from_ = 0; }

    using Change = std::pair<Ipv4, const lease::Lease*>;  // null: the row was deleted
    // Changes a commit stored. Deletions come before additions, as dnsmasq
    // runs its old_leases list first.
    void on_stored(const std::vector<Change>& batch, int64_t now, std::vector<ScriptEvent>& out);
    // "del" for up to `budget` leases that expired by `now`. A lease the
    // table shows renewed (its commit still on the way) is left to it.
    void expire(const lease::LeaseTable& t, int64_t now, size_t budget, std::vector<ScriptEvent>& out);
    // Up to `budget` of the "old" calls of load() or replay_all().
    void replay(const lease::LeaseTable& t, int64_t now, size_t budget, std::vector<ScriptEvent>& out);
    bool replaying() const { return replay_from_.has_value(); }

    size_t known() const { return known_.size(); }

private:
    struct Known {
        Mac mac;
        uint64_t client = 0;  // hash of the client key
        std::string hostname;
        std::string client_id;
        int64_t expires = 0;
        std::string iface;
        Ipv4 giaddr;
    };
    LeaseView view(Ipv4 ip, const Known& k) const;
    const Network* network_of(Ipv4 ip) const;
    Known known_of(const lease::Lease& l) const;
    void remember(Ipv4 ip, Known k);
    void upsert(const lease::Lease& l, const RequestFacts* facts, int64_t now, std::vector<ScriptEvent>& out);

    Options opt_;
    std::vector<Network> nets_;
    std::unordered_map<uint32_t, Known> known_;
    std::unordered_map<uint32_t, RequestFacts> facts_;
    using Due = std::pair<int64_t, uint32_t>;  // expiry, address
    std::priority_queue<Due, std::vector<Due>, std::greater<Due>> expiry_;
    std::optional<uint64_t> replay_from_;  // the next address replay() looks at
};

}  // namespace pxed::hooks
