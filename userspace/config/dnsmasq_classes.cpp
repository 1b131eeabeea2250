// dnsmasq's tags as pxed classes. Every tag a line sets becomes a class
// (named as the tag) that matches when anything sets it: dhcp-match and
// friends (request tests), dhcp-range set: (the subnet), dhcp-host set:
// (the hosts list the class), tag-if (a condition on earlier tags: a
// member/not-member tree). Lines that read tags (dhcp-boot, dhcp-option,
// dhcp-ignore) become classes matching their condition, ordered so that
// pxed's "first class wins" gives dnsmasq's "last line wins".
#include <algorithm>

#include "config/dnsmasq_import.h"
#include "config/option_value.h"

namespace pxed::config::dnsmasq {

using K = Match::Kind;

namespace {

struct Builder {
    State& st;
    Config& cfg;
    std::map<std::string, std::vector<Ipv4Net>> range_nets;  // range tag -> its subnets
    std::map<std::string, int> done;                          // 1 building, 2 emitted

    Match member(const std::string& tag, const std::string& where) {
        if (tag == "known") return node(K::Known);
        ensure(tag, where);
        Match m = node(K::Member);
        m.name = tag;
        return m;
    }
    Match cond(const Cond& c, const std::string& where) {
        Match all = node(K::All);
        for (auto& p : c.pos) all.sub.push_back(member(p, where));
        for (auto& n : c.neg) {
            Match no = node(K::Not);
            no.sub.push_back(member(n, where));
            all.sub.push_back(no);
        }
        return all.sub.size() == 1 ? all.sub[0] : all;
    }

    void ensure(const std::string& tag, const std::string& where) {
        if (done[tag] == 2) return;
        if (done[tag] == 1) fail(where + ": tag " + tag + " depends on itself through tag-if");
        done[tag] = 1;
        Match any = node(K::Any);
        if (auto it = st.leaves.find(tag); it != st.leaves.end()) any.sub = it->second;
        auto rn = range_nets.find(tag);
        for (auto& n : rn == range_nets.end() ? std::vector<Ipv4Net>{} : rn->second) {
            Match s = node(K::Subnet);
            s.net = n;
            any.sub.push_back(s);
        }
        for (auto& t : st.tagifs) {
            if (std::find(t.set.begin(), t.set.end(), tag) == t.set.end()) continue;
            // dnsmasq runs tag-if once, in file order: a tag set by a later
            // tag-if is not there yet when this one is read.
            for (auto* list : {&t.cond.pos, &t.cond.neg})
                for (auto& r : *list)
                    for (auto& u : st.tagifs)
                        if (u.line >= t.line && std::find(u.set.begin(), u.set.end(), r) != u.set.end())
                            fail(t.where + ": tag-if reads tag " + r + " that a later tag-if (" + u.where +
                                 ") sets: dnsmasq would not see it; move that tag-if up");
            any.sub.push_back(cond(t.cond, t.where));
        }
        Class c;
        c.name = tag;
        c.where = st.tag_where.count(tag) ? st.tag_where[tag] : where;
        bool iface = std::find(cfg.interfaces.begin(), cfg.interfaces.end(), tag) != cfg.interfaces.end();
        if (iface && cfg.interfaces.size() == 1) {
            c.match = node(K::All);  // dnsmasq tags each request with its interface's name
        } else if (iface) {
            fail(where + ": tag " + tag + " is an interface name: interface tags with several interfaces are not supported");
        } else if (!any.sub.empty()) {
            c.match = any.sub.size() == 1 ? any.sub[0] : any;
        } else if (!st.host_tags.count(tag)) {
            st.warn(where + ": tag " + tag + " is set by no line: it never matches");
            c.match = any;
        }
        cfg.classes.push_back(std::move(c));
        done[tag] = 2;
    }

    bool range_only(const Cond& c) {
        return !c.pos.empty() && c.neg.empty() &&
               std::all_of(c.pos.begin(), c.pos.end(), [&](auto& p) { return range_nets.count(p) > 0; });
    }
    bool touches_range(const Cond& c) {
        for (auto* l : {&c.pos, &c.neg})
            for (auto& p : *l)
                if (range_nets.count(p)) return true;
        return false;
    }
    // The subnets a range-tag condition selects.
    std::vector<Subnet*> subnets_of(const Cond& c) {
        std::vector<Subnet*> out;
        for (size_t i = 0; i < cfg.subnets.size(); i++) {
            auto& set = st.ranges[i].set;
            if (std::all_of(c.pos.begin(), c.pos.end(), [&](auto& p) { return std::count(set.begin(), set.end(), p); }))
                out.push_back(&cfg.subnets[i]);
        }
        return out;
    }
};

void put(std::vector<OptionValue>& v, const OptionValue& o) {
    for (auto& x : v)
        if (x.code == o.code) return;  // an earlier (= later in the file) one already won
    v.push_back(o);
}

}  // namespace

void build_options(State& st, Builder& b);

void build_classes(State& st) {
    Config& cfg = st.cfg;
    Builder b{st, cfg, {}, {}};
    for (size_t i = 0; i < st.ranges.size(); i++)
        for (auto& t : st.ranges[i].set) b.range_nets[t].push_back(cfg.subnets[i].net);
    // Every tag something sets, so that hosts can list theirs.
    for (auto& [tag, where] : st.tag_where) b.ensure(tag, where);

    for (auto& [where, c] : st.ignores) {
        // A proxy subnet has no known-clients-only (a proxy answers every
        // PXE client): there, the class below does the same.
        if (c.pos.empty() && c.neg == std::vector<std::string>{"known"} && !cfg.has_proxy()) {
            for (auto& s : cfg.subnets) s.known_clients_only = true;
            continue;
        }
        Class k;
        k.name = "dhcp-ignore@" + where;
        k.where = where;
        k.match = b.cond(c, where);
        k.ignore = true;
        cfg.classes.push_back(std::move(k));
    }

    // dhcp-boot: the last matching tagged line wins, else the last untagged
    // one. Each tagged line names its server (dnsmasq: itself by default).
    const BootLine* plain = nullptr;
    bool any_server = false;
    for (auto& l : st.boots) {
        if (l.cond.empty()) plain = &l;
        any_server |= l.server.has_value();
    }
    if (plain)
        for (auto& s : cfg.subnets) {
            s.boot.any = plain->file;
            s.boot.next_server = plain->server;
            s.boot.server_name = plain->sname;
        }
    for (auto it = st.boots.rbegin(); it != st.boots.rend(); ++it) {
        if (it->cond.empty()) continue;
        Class k;
        k.name = "dhcp-boot@" + it->where;
        k.where = it->where;
        k.match = b.cond(it->cond, it->where);
        k.set.boot_file = it->file;
        if (!it->sname.empty()) k.set.server_name = it->sname;
        k.set.next_server = it->server;
        if (!it->server && any_server) {
            if (!st.self)
                fail(it->where + ": dhcp-boot without a server address beside one with: pxed needs this server's "
                                 "address from the served interface, which has none");
            k.set.next_server = st.self;
        }
        cfg.classes.push_back(std::move(k));
    }
    build_options(st, b);
}

// dhcp-option lines: untagged ones at the global level (the subnet's
// router/dns/domain fields for 3, 6, 15), range-tagged ones in the tagged
// subnets (below every class, as dnsmasq ranks them), others in a class
// each, the last line first. Sub-options of one outer option are merged
// per condition, as dnsmasq merges every matching encap/vendor line.
void build_options(State& st, Builder& b) {
    Config& cfg = st.cfg;
    struct Group {
        std::string where;
        int line = 0;
        Cond cond;
        std::string vendor;
        bool has_vendor = false, always = false;
        uint8_t code = 0;
        std::vector<std::pair<uint8_t, std::vector<uint8_t>>> subs;
    };
    std::vector<Group> groups;
    std::vector<const OptLine*> plain;
    for (auto& o : st.opts) {
        if (b.touches_range(o.cond) && !b.range_only(o.cond))
            fail(o.where + ": " + o.cond.str() + " mixes dhcp-range tags with other tags: dnsmasq ranks such options "
                 "between host and range options, which pxed cannot express");
        if (!o.encap && !o.vendor) {
            plain.push_back(&o);
            continue;
        }
        uint8_t outer = o.encap ? *o.encap : 43;
        std::string vendor = o.vendor.value_or("");
        auto g = std::find_if(groups.begin(), groups.end(), [&](auto& g) {
            return g.code == outer && g.cond.str() == o.cond.str() && g.vendor == vendor && g.has_vendor == o.vendor.has_value();
        });
        if (g == groups.end()) {
            groups.push_back(Group{o.where, o.line, o.cond, vendor, o.vendor.has_value(), false, outer, {}});
            g = groups.end() - 1;
        }
        g->line = o.line;
        g->always |= o.ov.always;
        std::erase_if(g->subs, [&](auto& s) { return s.first == o.ov.code; });  // the later line wins
        g->subs.emplace_back(o.ov.code, o.ov.data);
    }
    // Groups of one outer option: dnsmasq merges every matching one into
    // one option; pxed sends one value per client, so an unconditional
    // group is folded into the conditional one, and two conditional ones
    // (which one client could match both of) are refused.
    for (auto& g : groups) {
        for (auto& o : plain)
            if (o->ov.code == g.code) fail(o->where + ": option " + std::to_string(g.code) + " is set both whole and as sub-options (" + g.where + ")");
        bool cond = !g.cond.empty() || (g.has_vendor && !g.vendor.empty());
        if (!cond) continue;
        for (auto& h : groups) {
            if (&h == &g || h.code != g.code) continue;
            bool hcond = !h.cond.empty() || (h.has_vendor && !h.vendor.empty());
            if (hcond && &h < &g)
                fail(g.where + ": sub-options of option " + std::to_string(g.code) + " under two different conditions (" +
                     h.where + "): dnsmasq merges both for a client matching both, pxed cannot");
            if (!hcond)
                for (auto& s : h.subs)
                    if (std::none_of(g.subs.begin(), g.subs.end(), [&](auto& x) { return x.first == s.first; })) g.subs.push_back(s);
        }
    }
    // Later lines first: pxed keeps the first value of each code.
    std::stable_sort(plain.begin(), plain.end(), [](auto* a, auto* c) { return a->line < c->line; });
    std::vector<std::pair<int, Class>> classes;
    for (auto it = plain.rbegin(); it != plain.rend(); ++it) {
        const OptLine& o = **it;
        if (o.cond.empty()) {
            for (auto& s : cfg.subnets) {
                bool field = !o.ov.always && ((o.ov.code == 3 && o.ov.data.size() == 4) || o.ov.code == 6 || o.ov.code == 15);
                if (!field) continue;
                if (o.ov.code == 3 && !s.router) s.router = Ipv4(uint32_t(o.ov.data[0] << 24 | o.ov.data[1] << 16 | o.ov.data[2] << 8 | o.ov.data[3]));
                if (o.ov.code == 6 && s.dns.empty())
                    for (size_t i = 0; i + 4 <= o.ov.data.size(); i += 4)
                        s.dns.push_back(Ipv4(uint32_t(o.ov.data[i] << 24 | o.ov.data[i + 1] << 16 | o.ov.data[i + 2] << 8 | o.ov.data[i + 3])));
                if (o.ov.code == 15 && s.domain.empty()) s.domain.assign(o.ov.data.begin(), o.ov.data.end());
            }
            bool field = !o.ov.always && ((o.ov.code == 3 && o.ov.data.size() == 4) || o.ov.code == 6 || o.ov.code == 15);
            if (!field) put(cfg.options, o.ov);
        } else if (b.range_only(o.cond)) {
            for (auto* s : b.subnets_of(o.cond)) put(s->options, o.ov);
        } else {
            Class k;
            k.name = "option-" + std::to_string(o.ov.code) + "@" + o.where;
            k.where = o.where;
            k.match = b.cond(o.cond, o.where);
            k.set.options.push_back(o.ov);
            classes.emplace_back(o.line, std::move(k));
        }
    }
    for (auto& g : groups) {
        OptionValue ov{g.code, encode_suboptions(g.subs), g.always};
        if (ov.data.size() > 255) fail(g.where + ": the sub-options of option " + std::to_string(g.code) + " exceed 255 bytes");
        bool vend = g.has_vendor && !g.vendor.empty();
        if (g.cond.empty() && !vend) {
            put(cfg.options, ov);
        } else if (!vend && b.range_only(g.cond)) {
            for (auto* s : b.subnets_of(g.cond)) put(s->options, ov);
        } else {
            Class k;
            k.name = "option-" + std::to_string(g.code) + "@" + g.where;
            k.where = g.where;
            Match m = b.cond(g.cond, g.where);
            if (vend) {
                // vendor:CLASS: for clients whose option 60 contains CLASS.
                Match v = node(K::VendorClassContains);
                v.text = g.vendor;
                m = g.cond.empty() ? v : node(K::All, {m, v});
            }
            k.match = m;
            k.set.options.push_back(ov);
            classes.emplace_back(g.line, std::move(k));
        }
    }
    std::stable_sort(classes.begin(), classes.end(), [](auto& a, auto& c) { return a.first > c.first; });
    for (auto& [line, k] : classes) cfg.classes.push_back(std::move(k));
}

}  // namespace pxed::config::dnsmasq
