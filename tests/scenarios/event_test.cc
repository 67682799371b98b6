// Scenario events, random workloads and oracle selection: how they parse (and
// how they are refused), and what they do in a run.
#include <catch2/catch.hpp>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <set>

#include "engine/fixes.h"
#include "sim/scheduler.h"
#include "sim/verdict.h"
#include "tests/scenarios/library.h"

namespace {

const std::string kHead = R"([scenario]
name = "t"
seeds = 2
[[node]]
name = "disk"
driver = "mem"
size = "64k"
[[node]]
name = "dbg"
driver = "fault"
file = "disk"
[[job]]
name = "j"
node = "dbg"
commands = ["write -P 0x11 0 4k", "flush", "write -P 0x22 4k 4k"]
)";

using testing::error_of;

}  // namespace

TEST_CASE("events: bad triggers, actions and options are errors with their location") {
  CHECK(error_of(kHead + "[[event]]\naction = \"drain\"\nnode = \"disk\"\n") ==
        "x.toml:16:1: [[event]] needs exactly one trigger: at_ns = T, after_job = \"JOB\", after_requests = N or "
        "on_break = \"TAG\"");
  CHECK(error_of(kHead + "[[event]]\nat_ns = 1\nafter_requests = 2\naction = \"drain\"\nnode = \"disk\"\n")
            .find("exactly one trigger") != std::string::npos);
  CHECK(error_of(kHead + "[[event]]\nat_ns = 1\naction = \"explode\"\n") ==
        "x.toml:18:10: [[event]].action: unknown action 'explode' (expected one of: drain, drained, drain_all, "
        "flush_all, crash, copy_on_read, set_state, resume, eject, insert, read_only, dirty_bitmap, power_cut, set_backing, reopen, inactivate, activate, backup, block_resize, blockdev_del, replace_node)");
  CHECK(error_of(kHead + "[[event]]\nat_ns = 1\naction = \"drain\"\n") == "x.toml:16:1: [[event]] action 'drain' needs node = \"...\"");
  CHECK(error_of(kHead + "[[event]]\nat_ns = 1\naction = \"drain_all\"\nnode = \"disk\"\n") ==
        "x.toml:19:8: [[event]].node: action 'drain_all' covers every node");
  CHECK(error_of(kHead + "[[event]]\nat_ns = 1\naction = \"crash\"\nnode = \"dbg\"\n") ==
        "x.toml:19:8: [[event]].node: a crash hits a mem node; 'dbg' is fault (leave node out to crash every mem node)");
  CHECK(error_of(kHead + "[[event]]\nat_ns = 1\naction = \"crash\"\nmode = \"gentle\"\n") ==
        "x.toml:19:8: [[event]].mode: expected \"drop-all\", \"random-subset\" or \"torn-sectors\"");
  CHECK(error_of(kHead + "[[event]]\nat_ns = 1\naction = \"drain\"\nnode = \"disk\"\nmode = \"drop-all\"\n") ==
        "x.toml:20:8: [[event]].mode: not an option of action 'drain'");
  CHECK(error_of(kHead + "[[event]]\nafter_job = \"nobody\"\naction = \"flush_all\"\n") ==
        "x.toml:17:13: [[event]].after_job: no job named 'nobody'");
  CHECK(error_of(kHead + "[[event]]\nat_ns = 1\naction = \"set_state\"\nnode = \"disk\"\nstate = 2\n") ==
        "x.toml:19:8: [[event]].node: no fault node at or below 'disk'");
  CHECK(error_of(kHead + "[[event]]\nat_ns = 1\naction = \"resume\"\nnode = \"dbg\"\n") ==
        "x.toml:16:1: [[event]] needs a 'tag' (a string)");
  CHECK(error_of(kHead + "[[event]]\nat_ns = 1\naction = \"drain_all\"\nin_coroutine = true\n") ==
        "x.toml:19:16: [[event]].in_coroutine: not an option of action 'drain_all'");
}

TEST_CASE("oracles, expect and random workloads: bad values are errors") {
  std::string with_oracles = kHead;
  with_oracles.replace(with_oracles.find("seeds = 2"), 9, "seeds = 2\noracles = [\"data\", \"speed\"]");
  INFO(error_of(with_oracles));
  CHECK(error_of(with_oracles).find("x.toml:4:20: [scenario].oracles: expected one of: data, durability,") == 0);
  std::string expect = kHead;
  expect.replace(expect.find("seeds = 2"), 9, "seeds = 2\nexpect = \"maybe\"");
  CHECK(error_of(expect) == "x.toml:4:10: [scenario].expect: expected \"pass\" or \"fail\", got \"maybe\"");
  std::string random = kHead;
  random.replace(random.find("commands = [\"write -P 0x11 0 4k\", \"flush\", \"write -P 0x22 4k 4k\"]"),
                 std::string("commands = [\"write -P 0x11 0 4k\", \"flush\", \"write -P 0x22 4k 4k\"]").size(),
                 "random = { ops = 10, min_bytes = 1000, max_bytes = 512, align = 1 }");
  CHECK(error_of(random) == "x.toml:15:10: [[job]].random: min_bytes (1000) is above max_bytes (512)");
  std::string both = kHead;
  both.replace(both.find("commands ="), 10, "random = { ops = 1 }\ncommands =");
  CHECK(error_of(both) == "x.toml:15:10: [[job]]: give either commands or random, not both");
  std::string unaligned = random;
  unaligned.replace(unaligned.find("min_bytes = 1000, max_bytes = 512, align = 1"), 44, "min_bytes = 512, max_bytes = 4096, align = 3");
  CHECK(error_of(unaligned) == "x.toml:15:10: [[job]].random: min_bytes, max_bytes and from must be multiples of align (3)");
}

TEST_CASE("a random workload is drawn from the seed: the same seed gives the same run, others differ") {
  const scenarios::Scenario s = testing::library("flush-crash.toml");
  REQUIRE(s.jobs.front().random.has_value());
  std::set<std::uint64_t> fingerprints;
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    const scenarios::RunResult a = testing::run(s, seed);
    const scenarios::RunResult b = testing::run(s, seed);
    INFO(a.verdict.message);
    REQUIRE(a.verdict.ok());
    CHECK(a.fingerprint == b.fingerprint);
    CHECK(a.requests == 200);
    CHECK(a.crashes == 3);
    fingerprints.insert(a.fingerprint);
  }
  CHECK(fingerprints.size() == 5);
}

TEST_CASE("generated commands are valid qemu-io commands that round-trip") {
  scenarios::RandomWorkload w;
  w.ops = 500;
  w.zero = 10;
  w.discard = 10;
  w.fua_percent = 30;
  w.min_bytes = 512;
  w.max_bytes = 65536;
  w.log_sizes = true;
  sim::Rng rng(42);
  const std::vector<scenarios::Command> cmds = scenarios::generate_workload(w, 1 << 20, rng);
  REQUIRE(cmds.size() == 500);
  std::set<scenarios::Command::Op> ops;
  for (const scenarios::Command& c : cmds) {
    ops.insert(c.op);
    auto back = scenarios::parse_command(c.text);
    REQUIRE(back.ok());
    CHECK(back->offset == c.offset);
    CHECK(back->bytes == c.bytes);
    CHECK(back->pattern == c.pattern);
    CHECK(back->fua == c.fua);
    CHECK(back->zeroes == c.zeroes);
    CHECK(c.offset + c.bytes <= (1u << 20));
    CHECK(c.offset % 512 == 0);
    CHECK(c.bytes % 512 == 0);
  }
  CHECK(ops.size() == 4);  // read, write (with zeroes), discard, flush
}

TEST_CASE("events act: a breakpoint resumed by an event, a set-state, drains and flush_all") {
  const std::string text = R"([scenario]
name = "acting"
[[node]]
name = "disk"
driver = "mem"
size = "64k"
[[node]]
name = "dbg"
driver = "fault"
file = "disk"
[[node.rule]]
event = "write_aio"
state = 2
errno = "EIO"
once = true
[[job]]
name = "j"
node = "dbg"
queue_depth = 2
commands = ["break write_aio A", "aio_write -P 0x11 0 4k", "aio_flush", "write -P 0x22 4k 4k", "read -P 0x11 0 4k"]
[[job]]
name = "late"
node = "dbg"
start_ns = 10000000
commands = ["write -P 0x33 8k 4k", "read -P 0x33 8k 4k"]
[[event]]
name = "release"
on_break = "A"
node = "dbg"
action = "resume"
tag = "A"
[[event]]
name = "arm"
after_job = "j"
action = "set_state"
node = "dbg"
state = 2
[[event]]
at_ns = 1
action = "drained"
node = "disk"
duration_ns = 100
[[event]]
after_requests = 3
action = "flush_all"
)";
  // With the state set, the late write fails with -EIO (explained by the
  // injected error, so the errors oracle accepts it) and its read-back finds zeroes.
  const scenarios::RunResult armed = testing::run(testing::parse(text), 0);
  CHECK(armed.verdict.kind == sim::Verdict::Kind::kOracle);
  CHECK_THAT(armed.verdict.message, Catch::StartsWith("read -P: job 'late' command 'read -P 0x33 8k 4k'"));
  // Without the set_state event the rule never fires and everything holds.
  std::string unarmed_text = text;
  const std::string set_state = "action = \"set_state\"\nnode = \"dbg\"\nstate = 2";
  REQUIRE(unarmed_text.find(set_state) != std::string::npos);
  unarmed_text.replace(unarmed_text.find(set_state), set_state.size(), "action = \"set_state\"\nnode = \"dbg\"\nstate = 3");
  const scenarios::RunResult unarmed = testing::run(testing::parse(unarmed_text), 0);
  INFO(unarmed.verdict.message);
  CHECK(unarmed.verdict.ok());
  CHECK(unarmed.requests == 6);  // aio_flush waits in the job, it is no request
}

// Found by blksim hunt once its events could wait for completed commands: a
// job of aio_flush commands alone never let after_requests fire, and the run
// ended in a deadlock blamed on nothing but the trigger.
TEST_CASE("after_requests counts every command, aio_flush too") {
  const std::string text = kHead + R"([[job]]
name = "flusher"
node = "disk"
commands = ["aio_write -P 0x44 8k 4k", "aio_flush", "aio_flush", "aio_flush"]
[[event]]
after_requests = 7
action = "flush_all"
)";
  const scenarios::RunResult r = testing::run(testing::parse(text), 0);
  INFO(r.verdict.message);
  CHECK(r.verdict.ok());
  CHECK(r.requests == 4);  // three commands of job j, the aio_write: requests
}

// Found by blksim hunt (seeds 682 and 668), shrunk: a crash's drain and its
// checks' reads poll the main loop, which ran a second crash, or a sync
// wrapper's command, nested inside them; the durability and data oracles then
// judged by a history another crash had rebased, or that did not yet know of a
// completed write. Crashes now wait for the main loop's actions in progress,
// and actions wait while a crash is done and judged.
TEST_CASE("crashes do not nest in each other's checks nor in a sync wrapper's poll") {
  const auto quorum_crashes = testing::parse(R"([scenario]
name = "t"
[[node]]
name = "disk0"
driver = "mem"
size = "64k"
[[node]]
name = "disk1"
driver = "mem"
size = "64k"
latency_ns = [20000, 30000]
[[node]]
name = "quorum"
driver = "quorum"
children = ["disk0", "disk1"]
vote_threshold = 2
[[job]]
name = "j"
node = "quorum"
queue_depth = 4
commands = ["aio_write -P 0x7e 15360 512", "aio_write -P 0x11 0 4k", "aio_write -P 0x12 8k 4k", "aio_flush",
            "write -P 0x13 20k 512", "aio_write -P 0x14 30k 1k"]
[[event]]
at_ns = 40000
action = "crash"
node = "disk1"
mode = "torn-sectors"
[[event]]
at_ns = 41000
action = "crash"
mode = "random-subset"
)");
  testing::require_holds(quorum_crashes, 40);

  const auto sync_crash = testing::parse(R"([scenario]
name = "t"
[[node]]
name = "disk"
driver = "mem"
size = 66048
latency_ns = [1000, 101000]
[[node]]
name = "filter0"
driver = "fault"
file = "disk"
latency = { any = "uniform 0 30000" }
[[job]]
name = "j"
node = "filter0"
api = "sync"
commands = ["aio_read 65024 512", "write -P 0x39 40448 512", "read 8192 512", "writev -P 0x65 29696 306 206"]
[[event]]
at_ns = 182338
action = "crash"
node = "disk"
mode = "random-subset"
)");
  testing::require_holds(sync_crash, 40);
}

TEST_CASE("a crash's restart and an image's creation are the harness's: fault rules do not answer them") {
  // Every read and write of the image's file fails from the start; the
  // image is still created, reopened after the crash and judged, and the
  // guest's writes (which meet the rules) fail as they should.
  const auto rules_below_a_format = testing::parse(R"([scenario]
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
errno = "ENOMEDIUM"
kind = "any"
[[node]]
name = "image"
driver = "cow"
file = "file-faults"
size = "64k"
cluster_size = 4096
[[job]]
name = "j"
node = "image"
commands = ["write -P 0x11 0 4k", "read 0 4k", "flush"]
[[event]]
at_ns = 500000
action = "crash"
node = "file"
mode = "drop-all"
)");
  testing::require_holds(rules_below_a_format, 20);
}

TEST_CASE("a quorum replica under cache.no-flush keeps nothing a flush covered: the oracle knows") {
  // disk1 ignores flushes (cache=unsafe): after the write and its flush, a
  // crash of disk1 alone loses the write there, as QEMU would.
  const auto unsafe_replica = testing::parse(R"([scenario]
name = "t"
[[node]]
name = "disk0"
driver = "mem"
size = "64k"
[[node]]
name = "disk1"
driver = "mem"
size = "64k"
no_flush = true
[[node]]
name = "quorum"
driver = "quorum"
children = ["disk0", "disk1"]
vote_threshold = 2
[[job]]
name = "j"
node = "quorum"
commands = ["write -P 0x24 4096 4096", "flush"]
[[event]]
at_ns = 900000
action = "crash"
node = "disk1"
mode = "drop-all"
)");
  testing::require_holds(unsafe_replica, 20);
}

TEST_CASE("a check after the run that trips the engine ends with its verdict, and reads through aligned buffers") {
  // Found by blksim hunt (seed 2353): the final-image check reads the backing
  // of a cow image with 512-byte clusters; the engine pads each cluster's
  // read to the backing's 4 KiB blocks and, as the reference does
  // (iov-length-alignment), sends O_DIRECT parts shorter than a block. The
  // check's read polls; the verdict must end it, not abort the process. And
  // the check's buffer is aligned as a guest's, so whether the driver
  // bounces it never depends on where the heap put it.
  const auto s = testing::parse(R"([scenario]
name = "t"
strategy = "pct:3"
[[node]]
name = "image-file"
driver = "mem"
size = 198656
[[node]]
name = "base"
driver = "mem"
size = 131072
request_alignment = 4096
direct = true
min_mem_alignment = 512
[[node]]
name = "image"
driver = "cow"
file = "image-file"
backing = "base"
size = 65536
cluster_size = 512
[[job]]
name = "j"
node = "image"
commands = ["truncate 81920"]
)");
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    const scenarios::RunResult r = testing::run(s, seed);
    CHECK(r.verdict.id == "driver.direct_buffer_length.memory_aligned");
  }
  scenarios::Scenario fixed = s;
  fixed.fixes.push_back(engine::Fix::kIovLengthAlignment);
  testing::require_holds(fixed, 3);
}

TEST_CASE("known defects of the reference with IOThreads: a sync wrapper never kicks, nested waiters assert") {
  // Found by blksim hunt (seed 291): a synchronous discard of a node in an
  // IOThread, whose filter was not opened with unmap, returns at once without
  // touching in_flight: nothing kicks the main loop, which sleeps forever.
  scenarios::Scenario no_kick = testing::parse(R"([scenario]
name = "t"
[[node]]
name = "disk"
driver = "mem"
size = "128k"
iothread = "io0"
unmap = true
[[node]]
name = "filter"
driver = "fault"
file = "disk"
iothread = "io0"
[[job]]
name = "j"
node = "filter"
api = "sync"
commands = ["discard 37376 512", "read 0 4k"]
)");
  auto r = testing::first_failure(no_kick, 3);
  REQUIRE(r.has_value());
  CHECK(r->known_defect == "sync-wrapper-no-kick");
  CHECK(sim::failure_signature(r->verdict) == "deadlock [no cycle; blocked: j@main loop]");
  no_kick.fixes = {engine::Fix::kSyncWrapperKick};
  testing::require_holds(no_kick, 10);

  // Found by blksim hunt (seed 38): an eject drains the disk of an IOThread
  // from the main loop; a drained section of the filter above, run while that
  // drain polls the main loop, waits on the same disk: a second waiter.
  scenarios::Scenario nested = testing::parse(R"([scenario]
name = "t"
strategy = "pct"
[[node]]
name = "disk"
driver = "mem"
size = "128k"
iothread = "io0"
drain_callback = true
drain_sleep_ns = 20617
latency_ns = [1000, 11000]
[[node]]
name = "filter0"
driver = "fault"
file = "disk"
iothread = "io0"
latency = { any = "uniform 0 30000" }
[[node]]
name = "filter1"
driver = "fault"
file = "filter0"
iothread = "io0"
[[job]]
name = "j"
node = "filter1"
start_ns = 197677
commands = ["truncate 327680"]
[[event]]
at_ns = 1074678
action = "eject"
node = "disk"
[[event]]
at_ns = 1074679
action = "drained"
duration_ns = 73764
node = "filter1"
)");
  r = testing::first_failure(nested, 10);
  REQUIRE(r.has_value());
  CHECK(r->known_defect == "nested-poll-waiters");
  nested.fixes = {engine::Fix::kNestedPollWaiters};
  testing::require_holds(nested, 10);
}

TEST_CASE("an inserted medium comes back with its limits, even after a reopen zeroed them while it was out") {
  // Found by blksim hunt (seeds 208 and 413): a reopen refreshes the limits
  // of an ejected node, which (as bdrv_refresh_limits without a driver)
  // zeroes them; the insert must bring them back as an opened node has them,
  // or the next unaligned write serialises to an alignment of 0.
  const auto s = testing::parse(R"([scenario]
name = "t"
[[node]]
name = "disk"
driver = "mem"
size = "64k"
request_alignment = 4096
[[job]]
name = "j"
node = "disk"
start_ns = 300000
commands = ["write -P 0x11 100 200", "read -P 0x11 100 200"]
[[event]]
at_ns = 1000
action = "eject"
node = "disk"
[[event]]
at_ns = 2000
action = "reopen"
node = "disk"
no_flush = false
[[event]]
at_ns = 3000
action = "insert"
node = "disk"
)");
  testing::require_holds(s, 5);
  // Left out until the end: the final checks put the medium back to read it.
  std::string out_to_the_end = R"([scenario]
name = "t"
[[node]]
name = "disk"
driver = "mem"
size = "64k"
request_alignment = 4096
[[job]]
name = "j"
node = "disk"
commands = ["write -P 0x11 100 200"]
[[event]]
after_job = "j"
action = "eject"
node = "disk"
[[event]]
at_ns = 10000000
action = "reopen"
node = "disk"
no_flush = false
)";
  testing::require_holds(testing::parse(out_to_the_end), 5);
}

TEST_CASE("bdrv_is_inserted looks at every child: a quorum with a disk ejected has no medium") {
  // Found by blksim hunt (seed 98): the port answered from the node's own
  // driver only; block.c's bdrv_is_inserted asks every child, so a
  // block_resize through filters over a quorum with an ejected disk answers
  // -ENOMEDIUM, as the parents oracle's model says.
  const auto s = testing::parse(R"([scenario]
name = "t"
[[node]]
name = "disk0"
driver = "mem"
size = "128k"
[[node]]
name = "disk1"
driver = "mem"
size = "128k"
[[node]]
name = "quorum"
driver = "quorum"
children = ["disk0", "disk1"]
vote_threshold = 2
[[node]]
name = "filter0"
driver = "fault"
file = "quorum"
[[job]]
name = "j"
node = "filter0"
commands = ["write -P 0x11 0 4k", "flush"]
[[event]]
at_ns = 1
action = "eject"
node = "disk0"
[[event]]
at_ns = 2
action = "block_resize"
node = "filter0"
size = "160k"
[[event]]
at_ns = 3
action = "insert"
node = "disk0"
)");
  testing::require_holds(s, 5);
}

TEST_CASE("an aio_cancel whose bottom half runs after the request completed cancels nothing") {
  // Found by blksim hunt (seed 141): the cancel's bottom half ran nested in
  // another job's synchronous flush, after the request's completion had
  // released its control block; it cancelled freed memory (a crash).
  auto s = scenarios::load_scenario(std::string(BLKSIM_SOURCE_DIR) + "/tests/fixtures/hunt-141-late-cancel.toml");
  REQUIRE(s.ok());
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    const scenarios::RunResult r = testing::run(*s, seed);
    CHECK(r.verdict.id != "uncaught-exception");
  }
  // Seed 0 is the one that crashed; it must end with a verdict of its own.
  CHECK(testing::run(*s, 0).verdict.ok());
}

TEST_CASE("flush_all makes nothing durable on a disk that is read-only or without a medium") {
  // Found by blksim hunt (seed 393): bdrv_co_flush returns 0 at once for a
  // read-only node, so a write completed before the node became read-only is
  // still only in its cache after flush_all succeeded.
  const auto s = testing::parse(R"([scenario]
name = "t"
[[node]]
name = "disk"
driver = "mem"
size = "256k"
latency_ns = [1000, 11000]
[[job]]
name = "j"
node = "disk"
commands = ["write -P 0xc0 41472 512"]
[[event]]
at_ns = 1705450
action = "read_only"
node = "disk"
enabled = true
[[event]]
at_ns = 1870844
action = "flush_all"
)");
  testing::require_holds(s, 10);
}

TEST_CASE("a plugged batch is submitted in one kick: no graph change falls between its plug and unplug") {
  // Found by blksim hunt (scenario 0-1m163 under a mutant build): the batch
  // spanned several guest kicks, a replace_node fell between them, and the
  // unplug went down to a node never plugged (invariant io_unplug.plugged):
  // a verdict against the engine for what virtio-blk's handler cannot do.
  testing::require_holds(testing::fixture("plugged-batch-graph-change.toml"), 50);
}

TEST_CASE("a coroutine's drain is judged where its drained_begin returns, not where the coroutine resumes") {
  // Found by blksim hunt (scenario 0-1m229): the drain oracle judged
  // bdrv_co_drain when its coroutine resumed and counted the flush a
  // main-loop pwrite_sync issued after drained_begin had returned in its
  // bottom half (73 of 200 seeds "failed").
  testing::require_holds(testing::fixture("hunt-0-1m229-drain-then-wrapper.toml"), 200);
}

TEST_CASE("after a crash the allocation oracle no longer counts what copy-on-read copied before it") {
  // Found by blksim hunt (hunt-957): an unflushed copy-on-read's clusters
  // lost their table entries in a random-subset crash, and map's honest
  // "unallocated" was judged wrong (12 of 100 seeds).
  testing::require_holds(testing::fixture("hunt-957-cor-crash-map.toml"), 100);
}

TEST_CASE("the errors oracle follows the known defects' fixes the hunter runs behind them") {
  // Found by blksim hunt in runs behind known defects (with their fixes on).
  // With cor-max-transfer's fix a failed block-status query of a piece is
  // taken as unallocated, as QEMU's copy-on-read loop does.
  scenarios::Scenario cor = testing::fixture("hunt-0-1m935-cor-pieces-status-error.toml");
  cor.fixes = {engine::Fix::kCopyOnReadMaxTransfer};
  testing::require_holds(cor, 20);
  // ... and asks for whole sectors around a piece that starts mid-sector.
  scenarios::Scenario unaligned = testing::fixture("hunt-81-cor-pieces-unaligned.toml");
  unaligned.fixes = {engine::Fix::kCopyOnReadMaxTransfer};
  testing::require_holds(unaligned, 20);
  // A backend's request past BDRV_MAX_LENGTH is refused with -EIO by the
  // fix of request-end-overflow; one past the device's end gets the
  // backend's -EIO before a read-only node's -EPERM (with or without it).
  scenarios::Scenario backend = testing::fixture("backend-past-max-length.toml");
  testing::require_holds(backend, 5);
  backend.fixes = {engine::Fix::kMaxLength};
  testing::require_holds(backend, 5);
}

TEST_CASE("read_only is refused for a node with copy-on-read enabled, as bdrv_can_set_read_only refuses it") {
  // Found by blksim hunt (scenario 0-1m67; seed 209 earlier): copy-on-read
  // writes back below bdrv_co_pwritev's read-only check, so the harness's
  // read-only node got a driver write; QEMU never makes that node read-only.
  testing::require_holds(testing::fixture("hunt-67-read-only-cor.toml"), 10);
}

TEST_CASE("read_only is refused where a running job's copy-on-read reads may write, as bdrv_check_perm refuses it") {
  // Found by blksim hunt (seed 31): per-request copy-on-read wrote into a
  // node made read-only before the job started.
  testing::require_holds(testing::fixture("hunt-31-cor-read-only.toml"), 10);

  // The reader holds write permission on its node and the file below; a
  // write issued after the event shows whether the node became read-only.
  const std::string through_filter = R"(
[scenario]
name = "cor-reader-permission"
seeds = 1
[[node]]
name = "disk"
driver = "mem"
size = "256k"
[[node]]
name = "f"
driver = "raw"
file = "disk"
[[job]]
name = "reader"
node = "f"
commands = ["read -F copy_on_read 0 4096", "sleep 2", "read -F copy_on_read 8192 4096"]
[[job]]
name = "writer"
node = "disk"
start_ns = 1000000
commands = ["write -P 0x11 65536 4096"]
[[event]]
at_ns = 500000
action = "read_only"
node = "disk"
)";
  const std::string over_backing = R"(
[scenario]
name = "cor-reader-backing"
seeds = 1
[[node]]
name = "base"
driver = "mem"
size = "256k"
[[node]]
name = "file"
driver = "mem"
size = "1m"
[[node]]
name = "top"
driver = "cow"
file = "file"
backing = "base"
size = "256k"
cluster_size = 4096
[[job]]
name = "reader"
node = "top"
commands = ["read -F copy_on_read 0 4096", "sleep 2", "read -F copy_on_read 8192 4096"]
[[job]]
name = "writer"
node = "base"
start_ns = 1000000
commands = ["write -P 0x11 65536 4096"]
[[event]]
at_ns = 500000
action = "read_only"
node = "base"
)";
  scenarios::RunOptions o;
  o.record_outcomes = true;
  auto writer_ret = [&](const std::string& scenario) {
    const scenarios::RunResult r = scenarios::run_scenario(testing::parse(scenario), o);
    INFO(r.verdict.message);
    REQUIRE(r.verdict.ok());
    for (const scenarios::CommandOutcome& c : r.outcomes) {
      if (c.job == "writer") return c.ret;
    }
    FAIL("the writer's command has no outcome");
    return 1;
  };
  // The filter's file is on the reader's write path: refused.
  CHECK(writer_ret(through_filter) == 0);
  // Without copy-on-read the reader asks no write permission: carried out.
  CHECK(writer_ret(testing::replace(testing::replace(through_filter, "read -F copy_on_read 0", "read 0"),
                                    "read -F copy_on_read 8192", "read 8192")) == -EPERM);
  // A backing file is not on it (a format asks only reads of its backing).
  CHECK(writer_ret(over_backing) == -EPERM);
}

// An open finding of the class "serialised only on its own node": the
// serialisation oracle sees the scenario's write enter below the node that
// serialises, inside the serialising request's range; without that oracle the
// scenario loses a completed write; with the writer moved onto the node every
// seed holds.
static void check_writer_below(const std::string& finding_file, const std::string& writer, const std::string& below,
                        const std::string& serialising, std::uint64_t seeds) {
  const scenarios::Scenario finding = testing::finding(finding_file);
  const auto r = testing::first_failure(finding, seeds);
  REQUIRE(r.has_value());
  CHECK(sim::failure_signature(r->verdict) == "oracle:serialisation [write below a serialising request]");
  CHECK_THAT(r->verdict.message, Catch::Contains("on '" + below + "'") && Catch::Contains("on '" + serialising + "' above it"));
  const auto lost = testing::first_failure(testing::only(finding, {scenarios::Oracle::kData}), seeds);
  REQUIRE(lost.has_value());
  CHECK(sim::failure_signature(lost->verdict) == "oracle:data [final image: lost write (expected write)]");
  std::ifstream in(finding.path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string job = "name = \"" + writer + "\"\nnode = ";
  const std::string same_node = testing::replace(text.str(), job + "\"" + below + "\"", job + "\"" + serialising + "\"");
  testing::require_holds(testing::parse(same_node), 100);
}

TEST_CASE("copy-on-read overwrites a write that enters below the copying node (open finding cor-writer-below)") {
  // The engine is the reference: the copy serialises only on its own node.
  check_writer_below("cor-writer-below.toml", "writer", "lower", "upper", 3);
}

TEST_CASE("a read-modify-write overwrites a write that enters below the padding node (open finding rmw-writer-below)") {
  // As cor-writer-below: the padded write serialises on its own node only.
  check_writer_below("rmw-writer-below.toml", "below", "lower", "upper", 40);
}

TEST_CASE("copy_on_read is refused on a read-only node, and so is the disable that matches it") {
  // Enabled, the reader's copy-on-read would write into the read-only top
  // (driver.write_on_read_only); the matching disable must not underflow.
  testing::require_holds(testing::parse(R"(
[scenario]
name = "cor-on-read-only"
seeds = 3
[[node]]
name = "base"
driver = "mem"
size = "256k"
[[node]]
name = "file"
driver = "mem"
size = "1m"
[[node]]
name = "top"
driver = "cow"
file = "file"
backing = "base"
size = "256k"
cluster_size = 4096
[[job]]
name = "reader"
node = "top"
start_ns = 300000
commands = ["read 0 4096", "read 65536 8192"]
[[event]]
at_ns = 100000
action = "read_only"
node = "top"
[[event]]
at_ns = 200000
action = "copy_on_read"
node = "top"
[[event]]
at_ns = 5000000
action = "copy_on_read"
node = "top"
enabled = false
)"),
                         3);
}

TEST_CASE("a node deleted while drain_all walks the nodes is not visited, as QEMU's list walk goes") {
  // Found by blksim hunt (scenario 0-1m365): drain_all_begin's walk polls
  // (a parent's drained_begin), a bottom half deletes a node it has not
  // reached; the port walked the vector by reference, read past its new end
  // and counted the deleted node, so drain_all_end left its loop disabled.
  testing::require_holds(testing::fixture("hunt-365-delete-in-drain-all-walk.toml"), 10);
}

TEST_CASE("copy-on-read's piece loop asserts when a read starts max_transfer or more into a cluster (open finding cor-piece-past-skip)") {
  const std::optional<scenarios::Scenario> finding = testing::finding("cor-piece-past-skip.toml");
  // The reference sends the whole cluster to the driver (cor-max-transfer)...
  scenarios::RunOptions o;
  CHECK(sim::failure_signature(scenarios::run_scenario(*finding, o).verdict) == "invariant:driver.max_transfer");
  // ... and QEMU's fix of that, piece by piece, asserts as qemu-io 7.2 does.
  o.fixes = {engine::Fix::kCopyOnReadMaxTransfer};
  CHECK(sim::failure_signature(scenarios::run_scenario(*finding, o).verdict) == "invariant:copy_on_read.piece_past_skip");
  // A read inside the first max_transfer bytes of the cluster is copied.
  std::ifstream in(finding->path);
  std::stringstream text;
  text << in.rdbuf();
  const scenarios::Scenario inside =
      testing::parse(testing::replace(text.str(), "read -F copy_on_read 8192 512", "read -F copy_on_read 2048 512"));
  CHECK(scenarios::run_scenario(inside, o).verdict.ok());
}

TEST_CASE("a zero write's padded head is a write below the filter that pads it: its FUA may be emulated there") {
  // Found by blksim hunt (scenario 0-1m719 of a mutant hunt): the
  // driver-calls oracle asked FUA of a pwrite_zeroes that detect_zeroes made
  // of the head's read-modify-write, whose FUA the padding filter emulated
  // with a flush (its file takes FUA on zero writes, not on writes). Its runs
  // also meet discard-unserialised: with that fix every seed holds.
  scenarios::Scenario s = testing::fixture("hunt-0-1m719-zero-head-fua.toml");
  s.fixes = {engine::Fix::kDiscardSerialised};
  testing::require_holds(s, 10);
}

TEST_CASE("map fails with the length's error on an ejected node, and a node shrunk meanwhile ends its answers early") {
  // Both found by blksim hunt (scenario 0-1m510 of a mutant hunt): the map took
  // -ENOMEDIUM for a length (26 of 100 seeds failed the allocation oracle),
  // and the oracle asked answers up to a length a truncate had cut meanwhile
  // (1 of 100).
  testing::require_holds(testing::fixture("hunt-0-1m510-map-ejected.toml"), 100);
  testing::require_holds(testing::fixture("hunt-0-1m510-map-shrunk-meanwhile.toml"), 100);
}

TEST_CASE("an activation whose cow image cannot be read for want of a medium leaves the node without a driver") {
  // Found by blksim hunt (scenario 0-1m728 of a mutant hunt): the durability
  // oracle took the -ENOMEDIUM of the image's re-read for an image left
  // unopenable by a lost write (20 of 20 seeds of the fixture failed). The
  // later read expects -ENOMEDIUM, as from a node whose driver is gone.
  testing::require_holds(testing::fixture("hunt-0-1m728-activate-without-medium.toml"), 20);
}

TEST_CASE("a backup job's copy runs in its node's AioContext, and a backend joining nested sections is told each") {
  // Found by blksim hunt (scenario 0-1m899 of a mutant hunt): the copy ran in
  // the main loop, so an IOThread draining its node never saw the copy's
  // request complete (a deadlock, 24 of 64 seeds), and with
  // nested-drain-parents' fix the job's backend, joining a node inside
  // nested sections, was told one of them (the drain oracle, 2 of 64).
  const scenarios::Scenario s = testing::fixture("hunt-0-1m899-backup-job-context.toml");
  for (const bool with_fix : {false, true}) {
    std::uint64_t held = 0;
    for (std::uint64_t seed = 0; seed < 64; ++seed) {
      scenarios::RunOptions o;
      o.seed = seed;
      o.strategy = *sim::StrategySpec::parse("pct:3");
      if (with_fix) o.fixes = {engine::Fix::kNestedDrainParents};
      const scenarios::RunResult r = scenarios::run_scenario(s, o);
      INFO("fix " << with_fix << ", seed " << seed << ": " << r.verdict.message);
      // The simulator's single-stack limit is not a verdict on the engine.
      CHECK((r.verdict.ok() || r.verdict.kind == sim::Verdict::Kind::kSimLimit));
      held += r.verdict.ok() ? 1 : 0;
    }
    CHECK(held >= 32);
  }
}

TEST_CASE("map through a raw node does not see an image's backing, and the allocation oracle claims no zeroes there") {
  // Found by blksim hunt (scenario 95 of CI's hunt, backings with data): the
  // oracle read map's "unallocated" as "reads as zeroes" (3 of 3 seeds).
  testing::require_holds(testing::fixture("hunt-95-map-through-raw.toml"), 20);
  // On the image itself map walks the backing: the claim stands, and holds.
  const std::string text = R"([scenario]
name = "t"
[[node]]
name = "base"
size = "64k"
fill = 0x4a
[[node]]
name = "image-file"
size = "512k"
[[node]]
name = "image"
driver = "cow"
file = "image-file"
backing = "base"
size = "64k"
cluster_size = 4096
[[job]]
name = "j"
node = "image"
commands = ["map", "read -P 0x4a 0 64k"]
)";
  testing::require_holds(testing::parse(text), 3);
}

TEST_CASE("a backend that joins a node's parents while a drain walks them is not told, and the others once") {
  // Found by blksim hunt (scenario 0-1m1088 of a mutant hunt): the walk was
  // a loop over the vector the join changed, and a device was told twice
  // (50 of 50 seeds of the fixture).
  testing::require_holds(testing::fixture("hunt-0-1m1088-parent-joins-during-walk.toml"), 50);
}

TEST_CASE("the harness's read of the initial content passes fault nodes untouched, and their rules count the guest's requests") {
  // Found by blksim hunt (scenario 140 of a mutant hunt): a rule of the
  // backing's fault node answered the harness's read of the image's initial
  // content, and blksim reported that read's EACCES against the engine (10 of
  // 10 seeds of the fixture failed). Now the rule (every fifth read, from the
  // first) answers the guest's first read, and only that one.
  const scenarios::Scenario s = testing::fixture("hunt-140-initial-read-faults.toml");
  testing::require_holds(s, 10);
  scenarios::RunOptions o;
  o.record_outcomes = true;
  const scenarios::RunResult r = scenarios::run_scenario(s, o);
  INFO(r.verdict.message);
  REQUIRE(r.verdict.ok());
  REQUIRE(r.outcomes.size() == 5);
  CHECK(r.outcomes[0].ret == -EACCES);
  for (std::size_t i = 1; i < r.outcomes.size(); ++i) CHECK(r.outcomes[i].ret == 0);
}

TEST_CASE("bdrv_make_zero over zeroes writes nothing, and the dirty-bitmaps oracle asks no chunk dirty there") {
  // Found by blksim hunt (scenario 0-1m87 of a mutant hunt): the oracle took
  // make_zero for a zero write of the whole node and asked every chunk of an
  // enabled bitmap dirty, where the reference, asking block status first,
  // wrote nothing (9 of 10 seeds of the fixture failed). Over the filled
  // disk it writes everything, and those chunks are still judged.
  testing::require_holds(testing::fixture("hunt-0-1m87-make-zero-clean.toml"), 10);
}

TEST_CASE("a plugged guest's kick that finds its queue filled by the device's drained-end request waits for a slot again") {
  // Found by blksim hunt (scenario 637 of a --no-feedback hunt): the harness
  // asserted that a kick submits at least one command (20 of 20 seeds of the
  // fixture failed).
  testing::require_holds(testing::fixture("hunt-637-kick-finds-queue-full.toml"), 20);
}
