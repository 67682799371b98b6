// Every oracle has a negative test: a deliberately broken run (an engine mutant,
// or a scenario that breaks a rule) that it must catch, next to the same run
// unbroken, which must hold; and a selected-out oracle must stay quiet.
#include <catch2/catch.hpp>

#include <cerrno>
#include <map>
#include <set>
#include <string>

#include "scenarios/oracles.h"
#include "scenarios/in_flight_model.h"
#include "scenarios/known_defects.h"
#include "sim/probe.h"
#include "tests/scenarios/library.h"

using engine::Mutant;
using scenarios::Oracle;
using testing::first_failure;
using testing::library;
using testing::only;

namespace {

void require_caught(const std::optional<scenarios::RunResult>& r, Oracle oracle) {
  REQUIRE(r.has_value());
  INFO(r->verdict.message);
  CHECK(r->verdict.kind == sim::Verdict::Kind::kOracle);
  CHECK(r->verdict.id == std::string(scenarios::oracle_name(oracle)));
  CHECK(r->verdict.event_index > 0);
}

}  // namespace

TEST_CASE("data: racing RMW cycles without serialisation lose writes, and the data oracle sees it") {
  const scenarios::Scenario s = only(library("overlapping-writers.toml"), {Oracle::kData});
  CHECK_FALSE(first_failure(s, 20).has_value());
  require_caught(first_failure(s, 50, {Mutant::kSkipSerialisingWait}), Oracle::kData);
}

TEST_CASE("data: copy-on-read without serialisation writes stale backing data over guest writes") {
  const scenarios::Scenario s = only(library("cor-racing-writes.toml"), {Oracle::kData});
  CHECK_FALSE(first_failure(s, 10).has_value());
  require_caught(first_failure(s, 80, {Mutant::kSkipSerialisingWait}), Oracle::kData);
}

TEST_CASE("serialisation: driver I/O inside a serialising request's range is caught at the event") {
  const scenarios::Scenario s = only(library("overlapping-writers.toml"), {Oracle::kSerialisation});
  CHECK_FALSE(first_failure(s, 20).has_value());
  auto r = first_failure(s, 20, {Mutant::kSkipSerialisingWait});
  require_caught(r, Oracle::kSerialisation);
  CHECK_THAT(r->verdict.message, Catch::Contains("which is past its wait"));
}

TEST_CASE("flush-order: a flush that skips the disk leaves completed writes volatile") {
  const scenarios::Scenario s = only(library("flush-crash.toml"), {Oracle::kFlushOrder});
  CHECK_FALSE(first_failure(s, 10).has_value());
  require_caught(first_failure(s, 10, {Mutant::kSkipFlushToDisk}), Oracle::kFlushOrder);
}

TEST_CASE("durability: flushed writes lost in a crash are caught, and the reference's FUA emulation defect too") {
  const scenarios::Scenario s = only(library("flush-crash.toml"), {Oracle::kDurability});
  CHECK_FALSE(first_failure(s, 10).has_value());
  require_caught(first_failure(s, 10, {Mutant::kSkipFlushToDisk}), Oracle::kDurability);
  // Without any mutant: the reference skips the flush that emulates FUA on a clean node.
  auto fua = testing::run(library("fua-crash.toml"), 0);
  require_caught(fua, Oracle::kDurability);
  CHECK_THAT(fua.verdict.message, Catch::Contains("byte 8192"));
}

TEST_CASE("durability: a crash that spares a disk below a node leaves its cached writes volatile, until a flush") {
  // Found by blksim hunt (seed 911): a partial crash used to make the cached
  // write count as durable, and the full crash after it then "lost" it.
  testing::require_holds(testing::fixture("hunt-911-partial-crash.toml"), 10);
  // With a flush after the partial crash, the next crash is judged again: a
  // flush that skips the disk is caught.
  const std::string text = R"(
[scenario]
name = "partial-crash-then-flush"
[[node]]
name = "image-file"
driver = "mem"
size = "256k"
latency_ns = [1000, 11000]
[[node]]
name = "base"
driver = "mem"
size = "64k"
latency_ns = [1000, 11000]
[[node]]
name = "image"
driver = "cow"
file = "image-file"
backing = "base"
size = "64k"
cluster_size = 8192
[[job]]
name = "guest"
node = "image"
commands = ["write -P 0x83 43520 512", "sleep 1", "write -P 0x84 8192 512", "flush", "sleep 1"]
[[event]]
at_ns = 500000
action = "crash"
mode = "torn-sectors"
node = "base"
[[event]]
at_ns = 5000000
action = "crash"
mode = "drop-all"
)";
  const scenarios::Scenario s = only(testing::parse(text), {Oracle::kDurability});
  CHECK_FALSE(first_failure(s, 10).has_value());
  require_caught(first_failure(s, 10, {Mutant::kSkipFlushToDisk}), Oracle::kDurability);
}

TEST_CASE("errors: a write past a node's end grows it, and a backend then takes requests up to the new end") {
  // Found by blksim hunt (scenario 600, a null disk of 6 GiB): the errors
  // oracle expected the backend's -EIO past the node's first length, but
  // bdrv_aligned_pwritev had raised total_sectors to the write's end.
  const std::string text = R"(
[scenario]
name = "null-grows"
seeds = 3
[[node]]
name = "disk"
driver = "null"
size = 6442450944
latency_ns = 20000
[[job]]
name = "grower"
node = "disk"
commands = ["write -P 0x3a -f 6442449920 1536"]
[[job]]
name = "inside"
node = "disk"
backend = {}
start_ns = 500000
commands = ["write -P 0x1f -f 6442450944 512"]
[[job]]
name = "beyond"
node = "disk"
backend = {}
start_ns = 500000
commands = ["write -P 0x1f 6442451456 512"]
)";
  const scenarios::Scenario s = testing::parse(text);
  testing::require_holds(s, 3);
  scenarios::RunOptions o;
  o.record_outcomes = true;
  const scenarios::RunResult r = scenarios::run_scenario(s, o);
  std::map<std::string, int> ret;
  for (const scenarios::CommandOutcome& c : r.outcomes) ret[c.job] = c.ret;
  CHECK(ret.at("grower") == 0);
  CHECK(ret.at("inside") == 0);      // the grown length: 6 GiB + 512
  CHECK(ret.at("beyond") == -EIO);  // past it: the backend refuses
}

TEST_CASE("durability: a power cut at any moment, with requests in flight, catches flushed writes still volatile") {
  // power-cuts has no crash event: the power cuts are its only durability judgement.
  const scenarios::Scenario s = only(library("power-cuts.toml"), {Oracle::kDurability});
  CHECK_FALSE(first_failure(s, 10).has_value());
  auto r = first_failure(s, 10, {Mutant::kSkipFlushToDisk});
  require_caught(r, Oracle::kDurability);
  CHECK_THAT(r->verdict.message, Catch::Contains("power cut") && Catch::Contains("writes in the driver"));
}

TEST_CASE("durability: cow metadata written before its data is caught after a crash") {
  scenarios::Scenario s = only(library("cow-alloc-crash.toml"), {Oracle::kDurability, Oracle::kData});
  CHECK_FALSE(first_failure(s, 10).has_value());
  for (scenarios::NodeSpec& n : s.nodes) n.cow.unsafe_metadata_order = true;
  REQUIRE(first_failure(s, 40).has_value());
}

TEST_CASE("drain: a drained_begin that does not wait is caught") {
  const scenarios::Scenario s = only(library("drain-all-two-loops.toml"), {Oracle::kDrain});
  CHECK_FALSE(first_failure(s, 5).has_value());
  auto r = first_failure(s, 10, {Mutant::kDrainNoWait});
  require_caught(r, Oracle::kDrain);
  // Judged from the trace (the oracle's own model), not the engine's counters.
  CHECK_THAT(r->verdict.message, Catch::Contains("the trace shows") && Catch::Contains("still in flight"));
}

TEST_CASE("errors: a swallowed write error and a missing zero-write fallback are caught") {
  const scenarios::Scenario eio = only(library("eio-fragment.toml"), {Oracle::kErrors});
  CHECK_FALSE(first_failure(eio, 5).has_value());
  auto swallowed = first_failure(eio, 10, {Mutant::kSwallowWriteError});
  require_caught(swallowed, Oracle::kErrors);
  CHECK_THAT(swallowed->verdict.message, Catch::Contains("the error was swallowed"));

  const scenarios::Scenario zeroes = only(library("zero-enotsup-fua.toml"), {Oracle::kErrors});
  CHECK_FALSE(first_failure(zeroes, 5).has_value());
  auto no_fallback = first_failure(zeroes, 10, {Mutant::kNoZeroFallback});
  require_caught(no_fallback, Oracle::kErrors);
  CHECK_THAT(no_fallback->verdict.message, Catch::Contains("the reference absorbs"));
}

// Found by blksim hunt (seed 1537), shrunk: a filter's zero write asks its
// child to write zeroes; the child's fallback write fails with -ENOTSUP,
// which comes back up as the filter's zero-write answer, and the filter's
// layer falls back to writing a zeroed buffer, which succeeds. The reference
// (and QEMU since) absorbs the error there; the oracle once called it swallowed.
TEST_CASE("driver-calls: below a zero write that fell back to writing zeroes, detect-zeroes owes no MAY_UNMAP") {
  // Found by blksim hunt (seed 1823): filter1's zero write answers -ENOTSUP
  // once, so the engine writes zeroes there (a write: MAY_UNMAP is not a
  // write flag); the disk's detect-zeroes = "on" turns that write back into a
  // zero write without MAY_UNMAP, as the reference does. The disk's own
  // fallback (max_transfer 3 inside pwrite_zeroes_alignment 8) meets the
  // known defect zero-fallback-unaligned first: its fix is on.
  const scenarios::Scenario s = only(testing::parse(R"([scenario]
name = "t"
strategy = "fifo"
fixes = ["zero-fallback-unaligned"]
[[node]]
name = "disk"
driver = "mem"
size = "256k"
request_alignment = 1
max_transfer = 3
pwrite_zeroes_alignment = 8
detect_zeroes = "on"
write_zeroes = "enotsup"
fua = true
unmap = true
[[node]]
name = "filter0"
driver = "fault"
file = "disk"
unmap = true
[[node]]
name = "filter1"
driver = "fault"
file = "filter0"
unmap = true
[[node.rule]]
errno = "ENOTSUP"
kind = "any"
after = 1
once = true
[[job]]
name = "j"
node = "filter1"
api = "sync"
commands = ["aio_write -z -f 143360 512", "write -z -u 29184 512"]
)"),
                                    {Oracle::kDriverCalls});
  testing::require_holds(s, 10);
  // MAY_UNMAP is still owed where no fallback came between: the
  // out-of-tree mutant unmap-dropped (tests/mutants) is caught by the library.
}

TEST_CASE("errors: -ENOTSUP carried up to a format's discard is absorbed there, as the reference's discard does") {
  // The cow image's discard rewrites table entries in its file, where a rule
  // answers -ENOTSUP: the image's discard answers -ENOTSUP, which
  // bdrv_co_pdiscard takes as "cannot discard" (found by blksim hunt, seed 972).
  const scenarios::Scenario s = only(testing::parse(R"([scenario]
name = "t"
[[node]]
name = "file"
driver = "mem"
size = "1M"
[[node]]
name = "file-faults"
driver = "fault"
file = "file"
[[node.rule]]
errno = "ENOTSUP"
kind = "write"
after = 4
[[node]]
name = "image"
driver = "cow"
file = "file-faults"
size = "64k"
cluster_size = 4096
unmap = true
[[job]]
name = "a"
node = "image"
commands = ["write -P 0x11 0 8k", "discard 0 8k", "read 0 8k"]
)"),
                                    {Oracle::kErrors});
  testing::require_holds(s, 20);
}

TEST_CASE("errors: -ENOTSUP carried up to a filter's zero write is fallen back from above") {
  const scenarios::Scenario s = only(testing::parse(R"([scenario]
name = "t"
[[node]]
name = "disk"
driver = "mem"
size = "64k"
request_alignment = 4096
write_zeroes = "no"
unmap = true
[[node]]
name = "filter0"
driver = "fault"
file = "disk"
[[node.rule]]
errno = "ENOTSUP"
kind = "any"
probability = 0.39
[[node]]
name = "filter1"
driver = "fault"
file = "filter0"
[[job]]
name = "a"
node = "filter1"
commands = ["aio_write -z 8192 512"]
[[job]]
name = "b"
node = "filter1"
backend = {}
commands = ["write -z -u 16384 512", "write -z 16384 512", "aio_write -z -u 0 512", "write -z 36864 512",
            "write -z -u 57344 512"]
[[job]]
name = "c"
node = "filter1"
backend = {}
start_ns = 44718
commands = ["write -z -u 53248 512", "aio_write -z 45056 512", "aio_write -z -u 16384 512", "write -z 28672 512"]
)"),
                                    {Oracle::kErrors});
  testing::require_holds(s, 60);
  // The fallback above is still required: without it the command fails.
  auto r = first_failure(s, 60, {Mutant::kNoZeroFallback});
  require_caught(r, Oracle::kErrors);
}

// Found by blksim hunt (seed 535), shrunk: a map that began on a 64 KiB node
// asks [0, 64k) while another job's truncate grows the node to 128 KiB; the
// allocation oracle once took the range from the node's length after the map,
// and called the answers a range not tiled.
TEST_CASE("allocation: a map is judged over the range it asked, whatever a truncate did since") {
  const scenarios::Scenario s = only(testing::parse(R"([scenario]
name = "t"
strategy = "pct:3"
[[node]]
name = "disk"
driver = "mem"
size = 65536
request_alignment = 65536
style = "sectors"
latency_ns = [1000, 11000]
[[job]]
name = "grow"
node = "disk"
api = "sync"
commands = ["truncate 131072"]
[[job]]
name = "map"
node = "disk"
api = "sync"
commands = ["map"]
)"),
                                    {Oracle::kAllocation});
  testing::require_holds(s, 40);
}

TEST_CASE("errors: an errno changed on the way up, and an error the reference ignores passed up, are caught") {
  // driver-errors: EINVAL, ENOSPC, EPERM, ENOMEDIUM and ENOTSUP on every
  // operation, and failing block-status queries below a format and above a disk.
  const scenarios::Scenario s = only(library("driver-errors.toml"), {Oracle::kErrors});
  CHECK_FALSE(first_failure(s, 10).has_value());
  auto flattened = first_failure(s, 10, {Mutant::kFlattenWriteErrno});
  require_caught(flattened, Oracle::kErrors);
  CHECK_THAT(flattened->verdict.message, Catch::Contains("the driver errors the reference passes up are others"));
  auto passed = first_failure(s, 10, {Mutant::kRefinementErrorPassed});
  require_caught(passed, Oracle::kErrors);
  CHECK_THAT(passed->verdict.message, Catch::Contains("block_status -EIO on 'cow-file' (ignore)"));
}

TEST_CASE("driver-calls: a FUA the driver takes must reach it, and the oracle's own path model holds on the library") {
  const scenarios::Scenario s = only(library("request-flags.toml"), {Oracle::kDriverCalls});
  CHECK_FALSE(first_failure(s, 10).has_value());
  auto r = first_failure(s, 5, {Mutant::kFuaNotPassed});
  require_caught(r, Oracle::kDriverCalls);
  CHECK_THAT(r->verdict.message, Catch::Contains("carries flags none, but the command asked for fua"));
  // Without the oracle the same run holds: the data is right, only the flags differ.
  const scenarios::Scenario others = only(library("request-flags.toml"), {Oracle::kData, Oracle::kDurability, Oracle::kFlushOrder, Oracle::kErrors});
  CHECK_FALSE(first_failure(others, 5, {Mutant::kFuaNotPassed}).has_value());
}

TEST_CASE("flush-order: a discard the disk carried out must be durable after a flush") {
  const scenarios::Scenario s = only(library("request-flags.toml"), {Oracle::kFlushOrder});
  CHECK_FALSE(first_failure(s, 10).has_value());
  auto r = first_failure(s, 10, {Mutant::kDiscardNoWriteGen});
  require_caught(r, Oracle::kFlushOrder);
  CHECK_THAT(r->verdict.shape, Catch::Contains("discard"));
}

TEST_CASE("hygiene: a serialising count that never drops is caught at the end") {
  const scenarios::Scenario s = only(library("overlapping-writers.toml"), {Oracle::kHygiene});
  CHECK_FALSE(first_failure(s, 5).has_value());
  auto r = first_failure(s, 5, {Mutant::kLeakSerialisingCount});
  require_caught(r, Oracle::kHygiene);
  CHECK_THAT(r->verdict.message, Catch::Contains("serialising_in_flight"));
}

TEST_CASE("liveness: the expected-fail scenario deadlocks with its wait cycle") {
  const scenarios::Scenario s = library("breakpoint-deadlock.toml");
  CHECK(s.expect_fail);
  auto r = testing::run(s, 0);
  REQUIRE(r.verdict.kind == sim::Verdict::Kind::kDeadlock);
  bool cycle = false;
  for (const std::string& d : r.verdict.details) cycle = cycle || d.find("wait cycle: co#1 -> co#2 -> co#1") != std::string::npos;
  CHECK(cycle);
}

TEST_CASE("invariants: an engine assertion broken by a scenario ends the run with its id") {
  auto r = testing::run(testing::parse(R"(
[scenario]
name = "cor-underflow"
[[node]]
name = "d"
driver = "mem"
size = "64k"
[[job]]
name = "j"
node = "d"
commands = ["write 0 4k"]
[[event]]
at_ns = 0
action = "copy_on_read"
node = "d"
enabled = false
)"),
                        0);
  CHECK(r.verdict.kind == sim::Verdict::Kind::kInvariant);
  CHECK(r.verdict.id == "copy_on_read.underflow");
}

TEST_CASE("an oracle left out of a scenario does not judge it") {
  // The mutant breaks serialisation (and so the data read back); with only
  // hygiene selected neither oracle judges. What remains is the scenario's own
  // statement, its read -P patterns (expect, always on).
  const scenarios::Scenario s = only(library("overlapping-writers.toml"), {Oracle::kHygiene});
  const scenarios::Scenario judged = library("overlapping-writers.toml");
  int caught_when_judged = 0;
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    const scenarios::RunResult r = testing::run(s, seed, {Mutant::kSkipSerialisingWait});
    INFO("seed " << seed << ": " << r.verdict.message);
    CHECK((r.verdict.ok() || r.verdict.id == "expect"));
    caught_when_judged += testing::run(judged, seed, {Mutant::kSkipSerialisingWait}).verdict.id == "serialisation" ? 1 : 0;
  }
  CHECK(caught_when_judged > 0);
}

TEST_CASE("every mutant is caught by the oracle it names, somewhere in the library") {
  struct Case {
    Mutant mutant;
    const char* scenario;
    bool fixture = false;  // of tests/fixtures, not the library
  };
  const Case cases[] = {
      {Mutant::kSkipSerialisingWait, "overlapping-writers.toml"}, {Mutant::kSkipFlushToDisk, "flush-crash.toml"},
      {Mutant::kDrainNoWait, "drain-all-two-loops.toml"},         {Mutant::kSwallowWriteError, "eio-fragment.toml"},
      {Mutant::kNoZeroFallback, "zero-enotsup-fua.toml"},         {Mutant::kLeakSerialisingCount, "overlapping-writers.toml"},
      {Mutant::kOverlapStartOnly, "overlapping-writers.toml"},   {Mutant::kParentDrainSkipped, "backend-drains.toml"},
      {Mutant::kFlattenWriteErrno, "driver-errors.toml"},        {Mutant::kRefinementErrorPassed, "driver-errors.toml"},
      {Mutant::kFuaNotPassed, "request-flags.toml"},          {Mutant::kDiscardNoWriteGen, "request-flags.toml"},
      {Mutant::kTruncateNoRefresh, "truncate.toml"},          {Mutant::kNestedDrainedEndUncounted, "quiesce-balance.toml"},
      {Mutant::kCorEnomemSuccess, "memory-limit.toml"},
      // Not in the library: its two writers meet known defects first (the
      // fixture runs with the fix of one, which lets the other's lost write
      // through).
      {Mutant::kRmwHeadUnserialised, "rmw-two-writers.toml", true},
  };
  for (const Case& c : cases) {
    const engine::MutantInfo* info = nullptr;
    for (const engine::MutantInfo& m : engine::all_mutants()) {
      if (m.mutant == c.mutant) info = &m;
    }
    REQUIRE(info != nullptr);
    INFO(info->name);
    auto oracle = scenarios::oracle_from_name(info->caught_by);
    REQUIRE(oracle.has_value());
    scenarios::Scenario s = only(c.fixture ? testing::fixture(c.scenario) : library(c.scenario), {*oracle});
    if (c.mutant == Mutant::kRmwHeadUnserialised) {
      s.fixes = {engine::Fix::kLateWaitUnasserted};
      CHECK_FALSE(first_failure(s, 40).has_value());  // the fixture holds without the mutant
    }
    require_caught(first_failure(s, 40, {c.mutant}), *oracle);
  }
  CHECK(engine::all_mutants().size() == std::size(cases));
}

TEST_CASE("the serialisation oracle judges overlap with its own model, not the engine's overlap function") {
  // overlap-start-only plants a defect in the engine's tracked_request_overlaps:
  // a request whose range starts before a serialising one and reaches into it
  // no longer waits for it. An oracle that asked that function would see no
  // overlap either; the model decides overlap itself and catches the driver
  // I/O inside the serialising request's range.
  const scenarios::Scenario s = only(library("overlapping-writers.toml"), {Oracle::kSerialisation});
  const auto r = first_failure(s, 20, {Mutant::kOverlapStartOnly});
  require_caught(r, Oracle::kSerialisation);
  CHECK(r->verdict.message.find("widened to") != std::string::npos);
  // Without the defect the same seeds hold.
  CHECK_FALSE(first_failure(s, 20).has_value());
}

TEST_CASE("the in-flight model widens, matches nodes and coroutines, and forgets ended requests") {
  sim::Trace trace;
  const std::uint32_t node = trace.intern("disk0");
  const std::uint32_t other = trace.intern("disk1");
  const std::uint32_t pwritev = trace.intern("bdrv_co_pwritev");
  const std::uint32_t preadv = trace.intern("preadv");
  scenarios::InFlightModel model;
  const auto event = [](sim::EventKind kind, std::uint64_t co, std::uint64_t a, std::uint64_t b, std::uint64_t c,
                        std::uint32_t label, std::uint32_t label2) {
    sim::TraceEvent e;
    e.kind = kind;
    e.co = co;
    e.a = a;
    e.b = b;
    e.c = c;
    e.label = label;
    e.label2 = label2;
    return e;
  };
  std::uint64_t next_op = 1;
  const auto issue_on = [&](std::uint64_t co, std::uint64_t offset, std::uint64_t bytes, std::uint32_t on) {
    return model.observe(trace, event(sim::EventKind::kDriverIssue, co, next_op++, offset, bytes, preadv, on));
  };
  const auto issue = [&](std::uint64_t co, std::uint64_t offset, std::uint64_t bytes) {
    return issue_on(co, offset, bytes, node);
  };
  CHECK_FALSE(model.observe(trace, event(sim::EventKind::kRequestBegin, 1, 7, 512, 3000, pwritev, node)));
  CHECK_FALSE(issue(2, 3600, 100));  // not serialising yet
  CHECK_FALSE(model.observe(trace, event(sim::EventKind::kSerialising, 1, 7, 4096, 0, 0, node)));
  CHECK_FALSE(issue(2, 3600, 100));  // serialising, but not past its wait
  CHECK_FALSE(model.observe(trace, event(sim::EventKind::kSerialisingPastWait, 1, 7, 0, 0, 0, node)));
  const auto v = issue(2, 4000, 96);  // inside the widening 3512..4096, outside the request's own bytes
  REQUIRE(v.has_value());
  CHECK(v->shape == "preadv overlaps serialising pwritev");
  CHECK(v->message.find("widened to 0..4096") != std::string::npos);
  CHECK_FALSE(issue(2, 4096, 512));  // the next block
  CHECK_FALSE(issue(1, 0, 4096));    // its own I/O
  CHECK_FALSE(issue_on(2, 0, 4096, other));
  CHECK(model.requests_on(node) == 1);
  CHECK(model.driver_ops_on(node) == 5);  // the issues above on this node, none completed yet
  CHECK(model.driver_ops_on(other) == 1);
  CHECK_FALSE(model.observe(trace, event(sim::EventKind::kDriverComplete, 2, 1, 0, 0, preadv, node)));
  CHECK(model.driver_ops_on(node) == 4);
  CHECK_FALSE(model.observe(trace, event(sim::EventKind::kRequestEnd, 1, 7, 0, 0, pwritev, node)));
  CHECK_FALSE(issue(2, 0, 4096));
  CHECK(model.in_flight() == 0);
  CHECK(model.requests_on(node) == 0);
}

TEST_CASE("a format's copy-on-write reads are its own, not the engine's calls: the driver contract leaves them alone") {
  // Found by blksim hunt (seed 32): a cow image inherits its backing's
  // max_transfer (bdrv_refresh_limits merges the backing's limits), and a
  // write that allocates a cluster reads the rest of it whole; the driver
  // read it internally through its own entry point, so the contract judged a
  // 32 KiB read against the 1 KiB limit. What it reads below goes through the
  // engine, which splits it for the backing.
  const scenarios::Scenario s = testing::parse(R"([scenario]
name = "c"
[[node]]
name = "image-file"
size = "704k"
latency_ns = [1000, 20000]
[[node]]
name = "base"
size = "64k"
max_transfer = 1024
latency_ns = [1000, 20000]
[[node]]
name = "image"
driver = "cow"
file = "image-file"
backing = "base"
size = "256k"
cluster_size = 32768
[[job]]
name = "j"
node = "image"
commands = ["write -P 0x11 1024 512", "write -z 181760 512", "read -P 0x11 1024 512", "read -P 0 0 1024"]
)");
  testing::require_holds(s, 5);
}

TEST_CASE("under cache.no-flush a FUA write emulated by a flush promises nothing: a power cut may drop it") {
  // Found by blksim hunt (seed 905): the durability oracle held an emulated
  // FUA write durable on a disk whose flushes cache.no-flush skips.
  const scenarios::Scenario s = testing::parse(R"([scenario]
name = "f"
strategy = "pct"
[[node]]
name = "disk"
size = "128k"
request_alignment = 4096
no_flush = true
iothread = "io0"
latency_ns = [1000, 101000]
[[job]]
name = "j"
node = "disk"
backend = {}
commands = ["aio_write -P 0xd4 -f 52140 1"]
[[event]]
at_ns = 1400487
action = "power_cut"
node = "disk"
mode = "drop-all"
)");
  testing::require_holds(s, 5);
}

TEST_CASE("known defects: each trigger probe is one the engine has, and a label by signature needs the run to hit it") {
  std::set<std::string_view> names;
  for (const sim::Probe* p : sim::Probe::all()) names.insert(p->name());
  std::size_t with_probe = 0;
  for (const scenarios::KnownDefect& d : scenarios::known_defects()) {
    if (d.trigger_probe.empty()) continue;
    ++with_probe;
    INFO(d.name << ": " << d.trigger_probe);
    CHECK(names.contains(d.trigger_probe));
    // A signature of the defect's shape.
    std::string signature(d.prefix);
    for (std::string_view part : d.contains) signature += std::string(part);
    CHECK(scenarios::known_defect_for(signature, {}, {}) != &d);
    const std::map<std::string, std::uint64_t> hit = {{std::string(d.trigger_probe), 1}};
    const scenarios::KnownDefect* labelled = scenarios::known_defect_for(signature, {}, hit);
    REQUIRE(labelled != nullptr);
    CHECK(labelled->fix == d.fix);
    // With its fix on, a failure of that shape is something else.
    CHECK((scenarios::known_defect_for(signature, {d.fix}, hit) == nullptr ||
           scenarios::known_defect_for(signature, {d.fix}, hit)->fix != d.fix));
  }
  // Every defect but the ones whose signature is their own assertion
  // (nested-poll-waiters) has its site marked.
  CHECK(with_probe + 1 == scenarios::known_defects().size());
}

TEST_CASE("known defects: a probe met by the checks after the run counts for the label, not for coverage") {
  // Hunt scenario 189: the final-image check's read through the engine meets
  // iov-length-alignment's site; the run itself did not.
  scenarios::Scenario s = testing::fixture("hunt-189-direct-io-in-checks.toml");
  const scenarios::RunResult r = testing::run(s, 0);
  INFO(r.verdict.message);
  CHECK(r.verdict.id == "driver.direct_buffer_length.memory_aligned");
  CHECK(r.known_defect == "iov-length-alignment");
  CHECK(r.probes_in_checks.contains("driver.iov_part_below_request_alignment"));
  CHECK_FALSE(r.probes.contains("driver.iov_part_below_request_alignment"));
  s.fixes = {engine::Fix::kIovLengthAlignment};
  testing::require_holds(s, 3);
}

TEST_CASE("errors: a quorum child's read that could not allocate its bounce buffer falls back to the next child") {
  // Found by blksim hunt (scenario 114 of a mutant hunt): the error table let
  // a failed driver read below a quorum child other than the last fall back,
  // but not a failed allocation, and called the -ENOMEM swallowed (10 of 10
  // seeds of the fixture failed).
  testing::require_holds(testing::fixture("hunt-114-quorum-child-allocation.toml"), 10);
  // The same allocation below the last child too is the read's error: passed up.
  scenarios::Scenario last = testing::fixture("hunt-114-quorum-child-allocation.toml");
  for (scenarios::NodeSpec& n : last.nodes) {
    if (n.name == "disk1") n.mem.direct = true;
  }
  scenarios::RunOptions o;
  o.record_outcomes = true;
  const scenarios::RunResult r = scenarios::run_scenario(last, o);
  INFO(r.verdict.message);
  REQUIRE(r.verdict.ok());
  REQUIRE(r.outcomes.size() == 3);
  CHECK(r.outcomes[1].ret == -ENOMEM);
}
