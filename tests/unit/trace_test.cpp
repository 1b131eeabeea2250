// The boot trace's recorder and report, without root: bounds, order,
// matching transfers to machines, the boot summary.
#include <gtest/gtest.h>

#include "trace/recorder.h"
#include "trace/report.h"

using namespace pxed;
using namespace pxed::trace;

namespace {

const Mac kA = *Mac::parse("52:54:00:00:00:0a");
const Mac kB = *Mac::parse("52:54:00:00:00:0b");

DhcpEvent answered(uint8_t req, uint8_t reply, Ipv4 addr, Path p = Path::Daemon) {
    DhcpEvent d;
    d.path = p;
    d.request = req;
    d.reply = reply;
    d.address = addr;
    return d;
}

std::shared_ptr<Transfer> transfer(Ipv4 client, const std::string& path, uint64_t size, int64_t at) {
    auto t = std::make_shared<Transfer>();
    t->client = client;
    t->path = path;
    t->size = size;
    t->started_us = at;
    return t;
}

}  // namespace

TEST(TraceRecorder, MachinesAndEventsAreBounded) {
    Recorder r(Limits{2, 3});
    for (int i = 0; i < 5; i++) r.record(kA, 100 + i, answered(1, 2, Ipv4(192, 0, 2, 10)));
    auto a = r.machine(kA);
    ASSERT_TRUE(a);
    ASSERT_EQ(a->events.size(), 3u);
    EXPECT_EQ(a->events.front().at_us, 102);
    r.record(kB, 200, answered(1, 2, Ipv4(192, 0, 2, 11)));
    r.record(kA, 201, answered(3, 5, Ipv4(192, 0, 2, 10)));  // A is the most recent again
    r.record(*Mac::parse("52:54:00:00:00:0c"), 202, answered(1, 0, Ipv4()));
    EXPECT_EQ(r.size(), 2u);
    EXPECT_FALSE(r.machine(kB)) << "the least recently active machine is forgotten first";
    EXPECT_TRUE(r.machine(kA));
}

TEST(TraceRecorder, LateKernelEventsKeepTimeOrder) {
    Recorder r;
    r.record(kA, 300, answered(1, 2, Ipv4(192, 0, 2, 10)));
    r.record(kA, 100, answered(1, 2, Ipv4(192, 0, 2, 10), Path::Kernel));  // pulled a second later
    r.record(kA, 200, answered(3, 5, Ipv4(192, 0, 2, 10), Path::Kernel));
    auto a = r.machine(kA);
    ASSERT_EQ(a->events.size(), 3u);
    EXPECT_EQ(a->events[0].at_us, 100);
    EXPECT_EQ(a->events[1].at_us, 200);
    EXPECT_EQ(a->events[2].at_us, 300);
}

TEST(TraceRecorder, TransfersFindTheirMachineByLeaseNeighbourOrAddress) {
    int asked = 0;
    Recorder r(Limits{}, [&](Ipv4 ip) -> std::optional<Mac> {
        asked++;
        if (ip == Ipv4(192, 0, 2, 20)) return kB;
        return std::nullopt;
    });
    r.record(kA, 10, answered(3, 5, Ipv4(192, 0, 2, 10)));  // an ACK: 192.0.2.10 is A's
    r.started(transfer(Ipv4(192, 0, 2, 10), "pxelinux.0", 100, 20));
    EXPECT_EQ(asked, 0) << "a leased address needs no neighbour lookup";
    auto a = r.machine(kA);
    ASSERT_EQ(a->events.size(), 2u);
    EXPECT_EQ(a->events[1].kind, Event::Kind::File);

    r.started(transfer(Ipv4(192, 0, 2, 20), "linux", 5, 30));  // the neighbour table knows it
    auto b = r.machine(kB);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->address, Ipv4(192, 0, 2, 20));

    auto refused = transfer(Ipv4(192, 0, 2, 30), "nope", 0, 40);  // nobody knows it
    refused->end(Outcome::Refused, "file not found", 40);
    r.ended(refused);
    auto c = r.machine_at(Ipv4(192, 0, 2, 30));
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->mac);
    ASSERT_EQ(c->events.size(), 1u);
    EXPECT_EQ(event_text(c->events[0]), "tftp nope: refused: file not found");
    // A flood from an unknown address asks the neighbour table once.
    EXPECT_EQ(asked, 2);
    for (int i = 0; i < 100; i++) r.ended(refused);
    EXPECT_EQ(asked, 2);
    EXPECT_EQ(r.machine_at(Ipv4(192, 0, 2, 30))->events.size(), 64u) << "bounded by the events limit";
}

TEST(TraceReport, SummaryFollowsTheBoot) {
    Recorder r;
    const int64_t s = 1'000'000'000;
    r.record(kA, s, answered(1, 2, Ipv4(192, 0, 2, 10), Path::Kernel));
    r.record(kA, s + 10, answered(3, 5, Ipv4(192, 0, 2, 10), Path::Kernel));
    auto done = transfer(Ipv4(192, 0, 2, 10), "pxelinux.0", 1000, s + 20);
    r.started(done);
    done->bytes = 1000;
    done->end(Outcome::Done, "", s + 30);
    auto running = transfer(Ipv4(192, 0, 2, 10), "linux", 4000, s + 40);
    r.started(running);
    running->bytes = 1000;

    auto m = *r.machine(kA);
    auto sum = summarize(m, s + 50);
    EXPECT_TRUE(sum.active);
    EXPECT_EQ(sum.stage, "tftp");
    EXPECT_EQ(sum.files_done, 1u);
    ASSERT_NE(sum.transfer, nullptr);
    EXPECT_EQ(sum.transfer->file->path, "linux");
    ASSERT_NE(sum.dhcp, nullptr);
    EXPECT_EQ(sum.dhcp->dhcp.reply, 5);
    EXPECT_FALSE(sum.problem);
    EXPECT_EQ(event_text(m.events.back()), "tftp linux: 1000 B of 4000 B");

    running->end(Outcome::Failed, "out of retries", s + 60);
    sum = summarize(*r.machine(kA), s + 60 + kActiveUs + 1);
    EXPECT_FALSE(sum.active);
    ASSERT_TRUE(sum.problem);
    EXPECT_EQ(*sum.problem, "tftp linux: failed after 1000 B of 4000 B: out of retries");

    // Five minutes of silence, then a new boot: the summary starts there.
    r.record(kA, s + 60 + kBootGapUs, answered(1, 2, Ipv4(192, 0, 2, 10), Path::Kernel));
    auto j = boot_json(*r.machine(kA), s + 61 + kBootGapUs);
    EXPECT_EQ(j["events"].size(), 1u);
    EXPECT_EQ(j["state"], "in progress");
    EXPECT_EQ(j["files_done"], 0);
    EXPECT_TRUE(j["problem"].is_null());
}

TEST(TraceReport, EventTextSaysWhoAnsweredAndWhyNot) {
    Event e;
    e.dhcp = answered(1, 2, Ipv4(192, 0, 2, 10), Path::Kernel);
    EXPECT_EQ(event_text(e), "DISCOVER -> OFFER 192.0.2.10 (kernel)");
    e.dhcp.verdict = Verdict::Passed;
    e.dhcp.reason = "pass_not_reserved";
    EXPECT_EQ(event_text(e), "DISCOVER passed to the daemon: pass_not_reserved");
    e.dhcp.verdict = Verdict::Dropped;
    e.dhcp.reason = "drop_rate_limit";
    EXPECT_EQ(event_text(e), "DISCOVER dropped (kernel): drop_rate_limit");
    e.dhcp = answered(3, 6, Ipv4(192, 0, 2, 10));
    EXPECT_EQ(event_text(e), "REQUEST -> NAK (daemon)");
    auto j = event_json(e);
    EXPECT_EQ(j["source"], "daemon");
    EXPECT_EQ(j["reply"], "NAK");
}

TEST(TraceRecorder, IPv6ClientsAreMachinesOfTheirOwnByAddress) {
    int asked = 0;
    Recorder r(Limits{}, [&](Ipv4) -> std::optional<Mac> {
        asked++;
        return std::nullopt;
    });
    auto v6 = [](const char* a, const std::string& path, int64_t at) {
        auto t = transfer(Ipv4(), path, 10, at);
        t->client6 = *Ipv6::parse(a);
        return t;
    };
    r.started(v6("fd00:6::2", "bootx64.efi", 10));
    r.started(v6("fd00:6::2", "grubx64.efi", 20));
    r.started(v6("fd00:6::3", "bootx64.efi", 30));
    r.started(transfer(Ipv4(192, 0, 2, 2), "pxelinux.0", 10, 40));
    EXPECT_EQ(r.size(), 3u) << "two IPv6 clients and one IPv4 client";
    EXPECT_EQ(asked, 1) << "the neighbour table is asked for IPv4 addresses only";
    auto recent = r.recent(0, 10, 10);
    ASSERT_EQ(recent.size(), 3u);
    // Most recent first: the IPv4 client, then fd00:6::3, then fd00:6::2 with both files.
    EXPECT_EQ(recent[1].events.size(), 1u);
    ASSERT_EQ(recent[2].events.size(), 2u);
    EXPECT_FALSE(recent[2].mac);
    EXPECT_TRUE(recent[2].address.is_zero());
    auto j = event_json(recent[2].events[1]);
    EXPECT_EQ(j["client"], "fd00:6::2");
    EXPECT_EQ(j["path"], "grubx64.efi");
    EXPECT_EQ(event_json(recent[0].events[0])["client"], "192.0.2.2");
}
