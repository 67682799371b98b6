// The entry points besides qemu-io's: sector-based wrappers, bdrv_pwrite_sync,
// bdrv_make_zero, ioctl, aio cancel, and bdrv_drain / bdrv_co_drain events.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "scenarios/library.h"
#include "scenarios/qemu_io.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"

using testing::replace;

namespace {


const char* kBase = R"([scenario]
name = "entry"
[[node]]
name = "disk"
size = "256k"
ioctl = "coroutine"
unmap = true
[[node]]
name = "fmt"
driver = "raw"
file = "disk"
[[node]]
name = "plain"
size = "64k"
[[job]]
name = "j"
node = "fmt"
api = "sectors"
queue_depth = 2
commands = ["write -P 0x11 0 4k", "aio_write -P 0x12 4k 4k", "aio_cancel", "read -P 0x11 0 4k", "ioctl 5 => ok"]
)";

// The names of the coroutines a run creates, and its verdict.
struct Observed {
  scenarios::RunResult result;
  std::set<std::string> coroutines;
  std::set<std::string> notes;
};

Observed observe(const scenarios::Scenario& s, std::uint64_t seed) {
  Observed out;
  scenarios::RunOptions options;
  options.seed = seed;
  options.observers.push_back([&out](const sim::Trace& trace, const sim::TraceEvent& e) {
    if (e.kind == sim::EventKind::kCoCreate) out.coroutines.insert(std::string(trace.text(e.label)));
    if (e.kind == sim::EventKind::kNote) out.notes.insert(std::string(trace.text(e.label)));
  });
  out.result = scenarios::run_scenario(s, options);
  return out;
}

}  // namespace

TEST_CASE("the new commands parse, format back as written, and refuse what they cannot take") {
  for (const char* text : {"ioctl 21", "aio_ioctl 4294967295", "aio_cancel", "aio_cancel -a", "aio_cancel 3",
                           "aio_cancel -a 2", "make_zero", "make_zero -u", "pwrite_sync -P 0x22 512 4096"}) {
    auto cmd = scenarios::parse_command(text);
    INFO(text << ": " << (cmd.ok() ? "" : cmd.status().message()));
    REQUIRE(cmd.ok());
    CHECK(scenarios::format_command(*cmd) == text);
  }
  CHECK(scenarios::parse_command("aio_ioctl 7")->async);
  CHECK_FALSE(scenarios::parse_command("ioctl 7")->async);
  CHECK_FALSE(scenarios::parse_command("aio_cancel")->async);  // it waits: not an aio request of its own
  CHECK(scenarios::parse_command("make_zero")->writes_zeroes());
  for (const char* bad : {"ioctl", "ioctl 4294967296", "aio_cancel 0", "aio_cancel 1025", "aio_cancel -b",
                          "aio_cancel 1 2", "make_zero -z", "pwrite_sync -z 0 4k", "pwrite_sync -f -P 1 0 4k"}) {
    INFO(bad);
    CHECK_FALSE(scenarios::parse_command(bad).ok());
  }
}

TEST_CASE("jobs may only call what their api's callers can, with clear errors") {
  testing::parse(kBase);
  // The sync-only wrappers need a sync api.
  CHECK(testing::error_of(replace(replace(kBase, "api = \"sectors\"", "api = \"co\""), "\"ioctl 5 => ok\"",
                                  "\"make_zero\"")) ==
        "x.toml:20:97: 'make_zero': bdrv_make_zero and bdrv_pwrite_sync are sync wrappers: expected api = \"sync\", "
        "\"sync-in-coroutine\" or \"sectors\" (job api = \"co\")");
  // Sector-based reads and writes: whole sectors, no flags, one buffer from the main loop.
  CHECK(testing::error_of(replace(kBase, "\"write -P 0x11 0 4k\"", "\"write -P 0x11 100 4k\"")).find(
            "the sector-based reads and writes take whole sectors") != std::string::npos);
  CHECK(testing::error_of(replace(kBase, "\"write -P 0x11 0 4k\"", "\"write -f 0 4k\"")).find(
            "take no flags, zero writes or compression") != std::string::npos);
  CHECK(testing::error_of(replace(kBase, "\"write -P 0x11 0 4k\"", "\"writev 0 2k 2k\"")).find(
            "bdrv_read and bdrv_write take one buffer") != std::string::npos);
  testing::parse(replace(replace(kBase, "\"write -P 0x11 0 4k\"", "\"writev 0 2k 2k\""), "api = \"sectors\"",
                         "api = \"co-sectors\""));
  // aio_cancel: an aio command must come before it, and it polls the main loop.
  CHECK(testing::error_of(replace(kBase, "\"aio_cancel\"", "\"aio_cancel 2\"")) ==
        "x.toml:20:62: 'aio_cancel 2': only 1 aio commands come before it in job 'j' (expected N from 1 to that)");
  const std::string threaded = replace(kBase, "driver = \"raw\"", "driver = \"raw\"\niothread = \"t\"");
  CHECK(testing::error_of(replace(threaded, "size = \"256k\"", "size = \"256k\"\niothread = \"t\"")).find(
            "use aio_cancel -a") != std::string::npos);
  testing::parse(replace(replace(threaded, "size = \"256k\"", "size = \"256k\"\niothread = \"t\""), "\"aio_cancel\"",
                         "\"aio_cancel -a\""));
  // Node options.
  CHECK(testing::error_of(replace(kBase, "ioctl = \"coroutine\"", "ioctl = \"sg\"")).find("ioctl") != std::string::npos);
  CHECK(testing::error_of(replace(kBase, "ioctl = \"coroutine\"", "flush = \"to_os\"")).find("flush") != std::string::npos);
}

TEST_CASE("sector jobs call bdrv_read / bdrv_write or bdrv_co_readv / bdrv_co_writev, and hold") {
  const scenarios::Scenario main_loop = testing::parse(kBase);
  const scenarios::Scenario in_co = testing::parse(replace(kBase, "api = \"sectors\"", "api = \"co-sectors\""));
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    const Observed outside = observe(main_loop, seed);
    INFO("seed " << seed << ": " << outside.result.verdict.message);
    CHECK(outside.result.verdict.ok());
    // Outside a coroutine the wrappers create their request's coroutine.
    CHECK(outside.coroutines.count("bdrv_pwritev") == 1);
    CHECK(outside.coroutines.count("bdrv_preadv") == 1);
    const Observed inside = observe(in_co, seed);
    INFO("co-sectors: " << inside.result.verdict.message);
    CHECK(inside.result.verdict.ok());
    CHECK(inside.coroutines.count("bdrv_pwritev") == 0);
  }
}

TEST_CASE("ioctl answers from the driver chain, and a wrong expectation is the expect oracle's") {
  testing::require_holds(testing::parse(kBase), 5);
  // A node whose driver takes no ioctl answers -ENOTSUP; raw passes it on.
  const std::string plain = replace(kBase, "node = \"fmt\"\napi", "node = \"plain\"\napi");
  testing::require_holds(testing::parse(replace(plain, "\"ioctl 5 => ok\"", "\"ioctl 5 => ENOTSUP\"")), 5);
  const scenarios::RunResult wrong = testing::run(testing::parse(plain), 0);
  REQUIRE_FALSE(wrong.verdict.ok());
  CHECK(wrong.verdict.id == "expect");
  // Through a backend on an ejected medium: -ENOMEDIUM, no driver asked.
  const std::string backend = R"([scenario]
name = "b"
[[node]]
name = "disk"
size = "64k"
ioctl = "callback"
[[job]]
name = "dev"
node = "disk"
backend = {}
commands = ["ioctl 9 => ok", "aio_ioctl 9", "sleep 1", "ioctl 9 => ENOMEDIUM"]
[[event]]
name = "out"
at_ns = 500000
action = "eject"
node = "disk"
)";
  testing::require_holds(testing::parse(backend), 5);
}

TEST_CASE("aio_cancel waits for the completion but -a does not, and make_zero and pwrite_sync are modelled") {
  // bdrv_aio_cancel polls the main loop until the request completed.
  const scenarios::Scenario s = testing::parse(kBase);
  bool waited = false;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const Observed o = observe(s, seed);
    REQUIRE(o.result.verdict.ok());
    waited = waited || o.notes.count("aio_cancel of j: already complete") == 0;
  }
  CHECK(waited);
  // make_zero writes zeroes over the whole node: data written before reads back as zeroes...
  const std::string zero = replace(replace(kBase, "api = \"sectors\"", "api = \"sync\""), "\"ioctl 5 => ok\"",
                                   "\"make_zero\", \"read -P 0 0 256k\"");
  testing::require_holds(testing::parse(zero), 10);
  // ...and the data oracle knows it: expecting the old data is a failure.
  const scenarios::RunResult stale = testing::run(testing::parse(replace(zero, "\"read -P 0 0 256k\"", "\"read -P 0x11 0 4k\"")), 0);
  REQUIRE_FALSE(stale.verdict.ok());
  CHECK(stale.verdict.id == "expect");
  // pwrite_sync's own flush makes its write durable: with flushes that never
  // reach the disk, the flush-order oracle sees its write still volatile.
  const std::string sync_write = replace(zero, "\"make_zero\", \"read -P 0 0 256k\"", "\"pwrite_sync -P 0x33 8k 4k\"");
  testing::require_holds(testing::parse(sync_write), 10);
  const auto caught = testing::first_failure(testing::parse(sync_write), 10, {engine::Mutant::kSkipFlushToDisk});
  REQUIRE(caught.has_value());
  CHECK(caught->verdict.id == "flush-order");
}

TEST_CASE("the errors of every request a sync wrapper makes are its command's") {
  // Found by blksim hunt (seeds 246 and 0-1m301): pwrite_sync's flush and
  // make_zero's zero writes run in request coroutines of their own, after the
  // first; only the first carried the command's state, so a driver error of
  // a later one made the command's failure look like the engine's invention.
  const std::string text = R"([scenario]
name = "w"
[[node]]
name = "disk"
driver = "mem"
size = "64k"
latency_ns = [1000, 20000]
[[node]]
name = "faults"
driver = "fault"
file = "disk"
[[node.rule]]
errno = "ENOSPC"
kind = "KIND"
immediately = true
[[job]]
name = "j"
node = "faults"
api = "sync"
commands = ["write -P 0x11 0 4k", "COMMAND"]
)";
  for (const auto& [kind, command] :
       {std::pair{"flush", "pwrite_sync -P 0x22 512 4k => ENOSPC"}, std::pair{"zero", "make_zero => ENOSPC"}}) {
    const std::string scenario = replace(replace(text, "KIND", kind), "COMMAND", command);
    INFO(command << " with a " << kind << " rule");
    testing::require_holds(testing::parse(scenario), 5);
  }
}

TEST_CASE("a memory limit: bounce buffers that cannot be allocated answer -ENOMEM, which reaches the caller") {
  testing::require_holds(testing::library("memory-limit.toml"), 10);
  // The limit is the scenario's; below the largest alignment every padded request would abort.
  const std::string text = R"([scenario]
name = "m"
memory_limit = "64k"
[[node]]
name = "base"
size = "1M"
[[node]]
name = "file"
size = "2M"
[[node]]
name = "disk"
driver = "cow"
size = "1M"
cluster_size = 65536
file = "file"
backing = "base"
[[job]]
name = "j"
node = "disk"
commands = ["read -F copy_on_read 60k 8k => ENOMEM", "read -F copy_on_read 0 8k => ok", "alloc 0 64k"]
)";
  testing::require_holds(testing::parse(text), 5);
  CHECK(testing::error_of(replace(text, "memory_limit = \"64k\"", "memory_limit = \"4k\"")).find("memory_limit") !=
        std::string::npos);
  // Without the limit the same read copies both clusters (unallocated in the cow: copy-on-read runs).
  const scenarios::RunResult unlimited = testing::run(testing::parse(replace(text, "memory_limit = \"64k\"\n", "")), 0);
  REQUIRE_FALSE(unlimited.verdict.ok());
  CHECK(unlimited.verdict.id == "expect");
}

TEST_CASE("a top filter on a backing child forwards every request and answers block status from its backing") {
  const scenarios::Scenario s = testing::library("top-filter.toml");
  const scenarios::NodeSpec* top = s.find_node("mirror-top");
  REQUIRE(top != nullptr);
  CHECK(top->is_filter());
  CHECK(top->data_child() == "img");
  CHECK(s.node_size(*top) == 64 * 1024);
  testing::require_holds(s, 10);
  // A top needs its backing, and takes no file.
  const std::string text = R"([scenario]
name = "t"
[[node]]
name = "disk"
size = "64k"
[[node]]
name = "top"
driver = "top"
backing = "disk"
[[job]]
name = "j"
node = "top"
commands = ["write -P 7 0 4k", "alloc 0 4k", "read -P 7 0 4k"]
)";
  testing::require_holds(testing::parse(text), 5);
  CHECK(testing::error_of(replace(text, "backing = \"disk\"", "file = \"disk\"")).find("file") != std::string::npos);
  CHECK(testing::error_of(replace(text, "backing = \"disk\"\n", "")).find("needs a 'backing'") != std::string::npos);
}

TEST_CASE("backup: the before-write notifier copies the old data first, and the target holds the point in time") {
  const scenarios::Scenario s = testing::library("backup.toml");
  testing::require_holds(s, 10);
  // sync = "none": only the clusters about to be overwritten are copied, each once.
  const char* text = R"([scenario]
name = "b"
[[node]]
name = "disk"
size = "256k"
[[node]]
name = "copy"
size = "256k"
[[job]]
name = "fill"
node = "disk"
commands = ["write -P 0x11 0 256k", "sleep 1", "write -P 0x22 64k 64k", "write -P 0x33 200k 4k"]
[[event]]
name = "b"
at_ns = 500000
action = "backup"
node = "disk"
target = "copy"
sync = "none"
cluster_size = 65536
)";
  const scenarios::Scenario fleece = testing::parse(text);
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    std::vector<std::uint64_t> copied;
    scenarios::RunOptions options;
    options.seed = seed;
    options.observers.push_back([&copied](const sim::Trace& trace, const sim::TraceEvent& e) {
      if (e.kind == sim::EventKind::kDriverIssue && trace.text(e.label2) == "copy") copied.push_back(e.b);
    });
    const scenarios::RunResult r = scenarios::run_scenario(fleece, options);
    INFO("seed " << seed << ": " << r.verdict.message);
    CHECK(r.verdict.ok());
    // Clusters 1 (the 0x22 write) and 3 (the 0x33 write), copied before they changed.
    CHECK(copied == std::vector<std::uint64_t>{65536, 196608});
  }
  // Bad input: the target must be a node of its own that no job reaches.
  CHECK(testing::error_of(replace(text, "target = \"copy\"", "target = \"disk\"")).find("one above the other") !=
        std::string::npos);
  CHECK(testing::error_of(replace(text, "target = \"copy\"", "target = \"nope\"")).find("no node named 'nope'") !=
        std::string::npos);
  CHECK(testing::error_of(replace(text, "sync = \"none\"", "sync = \"top\"")).find("expected \"full\"") !=
        std::string::npos);
  CHECK(testing::error_of(replace(text, "cluster_size = 65536", "cluster_size = 3000")).find("power of two") !=
        std::string::npos);
  CHECK(testing::error_of(replace(text, "node = \"disk\"\ncommands", "node = \"copy\"\ncommands")).find(
            "reaches the target") != std::string::npos);
  CHECK(testing::error_of(replace(text, "action = \"backup\"", "action = \"drain\"")).find(
            "not an option of action 'drain'") != std::string::npos);
}

TEST_CASE("backup: drains pause the job at its pause point, so nothing of it is in flight once they return") {
  // Found by blksim hunt (seed 683): the harness's backup loop went on
  // copying through drain_all, whose last pass (a driver's drain callback
  // polling) let it issue a read after the loop had seen the source idle.
  // block_job_pause_all and the job's backend (block_job_drained_begin)
  // pause a job of the time at its next block_job_sleep_ns.
  const char* text = R"([scenario]
name = "b"
seeds = 10
[[node]]
name = "disk"
size = "256k"
latency_ns = [0, 10000]
drain_callback = true
drain_sleep_ns = 27272
[[node]]
name = "filter"
driver = "fault"
file = "disk"
latency = { any = "uniform 0 30000" }
[[node]]
name = "copy"
size = "256k"
[[job]]
name = "guest"
node = "filter"
backend = {}
commands = ["write -P 0x11 0 64k", "sleep 1", "discard 167936 512", "read 0 64k"]
[[event]]
at_ns = 100000
action = "backup"
node = "filter"
target = "copy"
sync = "full"
cluster_size = 4096
[[event]]
at_ns = 187017
action = "drain_all"
duration_ns = 107832
[[event]]
at_ns = 400000
action = "drained"
node = "filter"
duration_ns = 100000
)";
  // The drain oracle judges it: nothing in flight below a drain that returned.
  testing::require_holds(testing::parse(text), 30);
  // A backup asked for inside a drain_all section starts after it (the
  // reference forbids creating jobs inside one; drain_all_end resumed the
  // new job that drain_all_begin had not paused: an assertion). Found by
  // blksim hunt (seed 0-1m294).
  std::string inside = replace(text, "at_ns = 187017\naction = \"drain_all\"", "at_ns = 90000\naction = \"drain_all\"");
  REQUIRE(inside != text);
  testing::require_holds(testing::parse(inside), 30);
  // A backup is a monitor command: it does not start inside a reopen's
  // drain_all either (blksim hunt, scenario 0-1m1524).
  testing::require_holds(testing::fixture("hunt-1524-backup-in-reopen.toml"), 10);
}

TEST_CASE("backup on 4 KiB-block nodes deadlocks and asserts, and holds with backup-top's order (backup-copy-serialising)") {
  scenarios::Scenario s = testing::library("backup-4k-serialising.toml");
  bool deadlocked = false;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const scenarios::RunResult r = testing::run(s, seed);
    const std::string& id = r.verdict.id;
    INFO("seed " << seed << ": " << r.verdict.message);
    CHECK((r.verdict.ok() || r.verdict.kind == sim::Verdict::Kind::kDeadlock ||
           id == "co_pwritev.tail_wait_before_head_read" || id == "aligned_pwritev.no_late_serialising_wait"));
    if (r.verdict.kind == sim::Verdict::Kind::kDeadlock) {
      deadlocked = true;
      CHECK(r.known_defect == "backup-copy-serialising");
    }
  }
  CHECK(deadlocked);
  // The notifier's copy before the guest's request exists: nothing waits
  // inside a serialising write, every seed holds.
  s.fixes = {engine::Fix::kBackupCopySerialising};
  testing::require_holds(s, 40);
}

TEST_CASE("the assertions QEMU later removed guarded a lost write: with their fixes the finding loses one") {
  // docs/reference-defects.md, padded-write-waits-twice and late-serialising-wait:
  // applied alone, QEMU 4.2's and 5.0's changes let a guest write be overwritten
  // by stale padding (seed 167 of the finding, the serialisation oracle left
  // out as it would stop the run at the overlap first; the seed moves with
  // changes of the interleavings: it was 31 before backups became block jobs
  // paused by drains, 1066 before their copy ran in the node's AioContext).
  std::optional<scenarios::Scenario> s = testing::library("backup-4k-serialising.toml");
  s->oracles = scenarios::OracleSet::none()
                   .with(scenarios::Oracle::kData)
                   .with(scenarios::Oracle::kDurability)
                   .with(scenarios::Oracle::kFlushOrder);
  s->fixes = {engine::Fix::kPaddingWaitsOnce, engine::Fix::kLateWaitUnasserted};
  const std::uint64_t seed = 167;
  const scenarios::RunResult r = testing::run(*s, seed);
  INFO(r.verdict.message);
  REQUIRE(r.verdict.id == "flush-order");
  CHECK_THAT(r.verdict.message, Catch::Contains("the writes completed before the flush began allow only 0xcf"));
  // Without the fixes the reference's assertion stops that run first.
  s->fixes.clear();
  const scenarios::RunResult reference = testing::run(*s, seed);
  CHECK(reference.verdict.kind == sim::Verdict::Kind::kInvariant);
}

TEST_CASE("a read that skips the serialising wait reopens a read-modify-write's wait, and a write goes past it (serialising-wait-reopened)") {
  // Found by blksim hunt (scenario 0-1m570 of a mutant hunt, failing the
  // unmutated engine too). The reference: the read-modify-write's late wait
  // asserts, or (where that wait found nothing) the guest write's head read
  // goes past the waiting read-modify-write.
  scenarios::Scenario s = testing::finding("serialising-wait-reopened.toml");
  std::set<std::string> known;
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    const scenarios::RunResult r = testing::run(s, seed);
    if (r.verdict.ok()) continue;
    INFO("seed " << seed << ": " << r.verdict.message);
    CHECK((r.known_defect == "late-serialising-wait" || r.known_defect == "serialising-wait-reopened"));
    known.insert(r.known_defect);
  }
  CHECK(known.size() == 2);
  // QEMU's later removal of the two assertions alone: the guest's write is
  // lost under the stale padding (the data oracle alone, as the serialisation
  // oracle stops the run at the overlap first).
  scenarios::Scenario later = testing::only(s, {scenarios::Oracle::kData});
  later.fixes = {engine::Fix::kPaddingWaitsOnce, engine::Fix::kLateWaitUnasserted};
  const std::optional<scenarios::RunResult> lost = testing::first_failure(later, 100);
  REQUIRE(lost.has_value());
  CHECK_THAT(lost->verdict.message, Catch::Contains("byte 1024 is 0x00, but the writes to it allow only 0x99"));
  // The read waits for the serialising write (backup's copy since QEMU 4.2):
  // every seed holds, with the assertions as they are and without them.
  s.fixes = {engine::Fix::kNoSerialisingWaits};
  testing::require_holds(s, 100);
  later.fixes.push_back(engine::Fix::kNoSerialisingWaits);
  testing::require_holds(later, 100);
}

TEST_CASE("a zero write's fallback capped by max_transfer leaves the rest unaligned, sent whole (zero-fallback-unaligned)") {
  // Found by blksim hunt (scenario 401 of a 1000-scenario hunt) once the
  // strict drivers checked zero writes against pwrite_zeroes_alignment; still
  // in QEMU (7.2's blkdebug asserts on it: the finding's header).
  scenarios::Scenario s = testing::finding("zero-fallback-unaligned.toml");
  const scenarios::RunResult r = testing::run(s, 0);
  CHECK(r.verdict.id == "driver.zero_alignment");
  CHECK_THAT(r.verdict.message, Catch::Contains("driver zero write [2048, +1536) not aligned to pwrite_zeroes_alignment 1536"));
  CHECK(r.known_defect == "zero-fallback-unaligned");
  // With the fix the rest goes up to the boundary alone, and the data is right.
  s.fixes = {engine::Fix::kZeroFallbackRealigns};
  testing::require_holds(s, 3);
}
