// Changes to a node's size and shape under requests: truncate and QMP's
// block_resize (with the parents oracle and the resize defects of the
// reference), and a format with a second child it writes to (a data file).
#include <catch2/catch.hpp>

#include <string>

#include "scenarios/hunt/consequence.h"
#include "scenarios/library.h"
#include "scenarios/qemu_io.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"

using testing::error_of;
using testing::parse;
using testing::replace;

TEST_CASE("truncate parses, and refuses lengths it cannot take") {
  auto cmd = scenarios::parse_command("truncate 128k");
  REQUIRE(cmd.ok());
  CHECK(cmd->op == scenarios::Command::Op::kTruncate);
  CHECK(cmd->offset == 128 * 1024);
  CHECK(scenarios::format_command(*cmd) == "truncate 131072");
  for (const char* bad : {"truncate", "truncate 1 2", "truncate 8E", "truncate -1", "truncate x"}) {
    INFO(bad);
    CHECK_FALSE(scenarios::parse_command(bad).ok());
  }
  // A truncate that grows a mem node raises its capacity: commands may reach past its first size.
  const auto s = testing::parse(R"([scenario]
name = "t"
[[node]]
name = "disk"
size = "64k"
[[node]]
name = "fmt"
driver = "raw"
file = "disk"
[[job]]
name = "a"
node = "fmt"
commands = ["write -P 1 96k 4k"]
[[job]]
name = "b"
node = "disk"
commands = ["truncate 1M"]
)");
  CHECK(s.node_capacity(*s.find_node("fmt")) == 1 << 20);
  CHECK(s.node_size(*s.find_node("fmt")) == 64 * 1024);
}

TEST_CASE("truncate under requests in flight holds, its answers follow the graph, and a missing refresh is caught") {
  const scenarios::Scenario s = testing::library("truncate.toml");
  CHECK_FALSE(testing::first_failure(s, 10).has_value());
  auto r = testing::first_failure(s, 5, {engine::Mutant::kTruncateNoRefresh});
  REQUIRE(r.has_value());
  CHECK(r->verdict.id == "parents");
  CHECK_THAT(r->verdict.message, Catch::Contains("was told, but sees"));
  // A read-only raw node answers -EACCES, a cow node -ENOTSUP (the library's image-admin job), a past-capacity grow -ENOSPC.
  const auto eacces = testing::parse(R"([scenario]
name = "t"
[[node]]
name = "disk"
size = "64k"
[[node]]
name = "fmt"
driver = "raw"
file = "disk"
[[job]]
name = "a"
node = "fmt"
commands = ["truncate 32k => ok", "read -P 0 32k 32k"]
[[event]]
name = "ro"
at_ns = 100
action = "read_only"
node = "fmt"
[[job]]
name = "b"
node = "fmt"
start_ns = 1000
commands = ["truncate 16k => EACCES"]
)");
  auto held = testing::run(eacces, 0);
  INFO(held.verdict.message);
  CHECK(held.verdict.ok());
}

TEST_CASE("the resize defects of the reference: labelled, and gone with their later fixes") {
  for (const auto& [file, defect] : {std::pair<const char*, const char*>{"truncate-filters.toml", "truncate-filter-stale"},
                                     {"resize-below-filter.toml", "resize-below-filter"}}) {
    scenarios::Scenario s = testing::library(file);
    auto r = testing::first_failure(s, 3);
    REQUIRE(r.has_value());
    CHECK(r->known_defect == defect);
    s.fixes = {*engine::fix_from_name(defect)};
    INFO(file);
    CHECK_FALSE(testing::first_failure(s, 20).has_value());
  }
}

TEST_CASE("block_resize resizes inside a drained section, and is judged as truncate") {
  const std::string text = R"([scenario]
name = "t"
[[node]]
name = "disk"
size = "64k"
[[node]]
name = "fmt"
driver = "raw"
file = "disk"
[[job]]
name = "guest"
node = "fmt"
backend = {}
commands = ["write -P 0x11 0 64k", "sleep 1", "write -P 0x22 96k 32k => ok", "read -P 0x22 96k 32k", "read -P 0x11 0 64k"]
[[event]]
name = "grow"
at_ns = 500000
action = "block_resize"
node = "fmt"
size = "128k"
)";
  const auto s = testing::parse(text);
  CHECK(s.node_capacity(*s.find_node("fmt")) == 128 * 1024);
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    const auto r = testing::run(s, seed);
    INFO(r.verdict.message);
    CHECK(r.verdict.ok());
  }
  // Without the event the device's write past 64k fails (-EIO from its backend).
  const auto without = testing::parse(replace(text, "action = \"block_resize\"\nnode = \"fmt\"\nsize = \"128k\"",
                                              "action = \"drain\"\nnode = \"fmt\""));
  CHECK(testing::run(without, 0).verdict.id == "expect");
  CHECK(testing::error_of(replace(text, "size = \"128k\"", "size = \"9E\"")).find("[[event]].size") != std::string::npos);
  CHECK(testing::error_of(replace(text, "size = \"128k\"\n", "")).find("block_resize needs size") != std::string::npos);
}

TEST_CASE("a cow image with a data file writes its data there, and a flush must reach it") {
  scenarios::Scenario s = testing::library("data-file.toml");
  const auto r = testing::first_failure(s, 5);
  REQUIRE(r.has_value());
  CHECK(r->known_defect == "flush-misses-data-file");
  s.fixes = {engine::Fix::kFlushAllChildren};
  CHECK_FALSE(testing::first_failure(s, 30).has_value());
  // The data file must hold the image, and be no other format's file.
  const std::string text = R"([scenario]
name = "t"
[[node]]
name = "meta"
size = "64k"
[[node]]
name = "data"
size = "256k"
[[node]]
name = "image"
driver = "cow"
size = "256k"
cluster_size = 16384
file = "meta"
data_file = "data"
[[job]]
name = "j"
node = "image"
commands = ["write -P 1 0 4k"]
)";
  CHECK(testing::parse(text).find_node("image")->cow.data_file);
  CHECK(testing::error_of(replace(text, "size = \"256k\"\n[[node]]\nname = \"image\"", "size = \"128k\"\n[[node]]\nname = \"image\""))
            .find("data_file: 'data' has 131072 bytes, fewer than the image's 262144") != std::string::npos);
  CHECK(testing::error_of(replace(text, "data_file = \"data\"", "data_file = \"meta\"")).find("data_file") != std::string::npos);
  CHECK(testing::error_of(replace(text, "data_file = \"data\"", "data_file = \"nowhere\"")).find("no node named 'nowhere'") !=
        std::string::npos);
}

TEST_CASE("a device's callbacks may change the graph inside a drain, and under drain_all that is known defect drain-all-graph-change") {
  // The library scenario holds; under drain_all the device is told
  // drained_begin and never drained_end: a deadlock, gone with the fix.
  CHECK_FALSE(testing::first_failure(testing::library("callback-graph-changes.toml"), 10).has_value());
  const scenarios::Scenario finding = testing::fixture("drain-all-callback-graph-change.toml");
  const auto r = testing::first_failure(finding, 3);
  REQUIRE(r.has_value());
  CHECK(r->verdict.kind == sim::Verdict::Kind::kDeadlock);
  scenarios::RunOptions fixed;
  fixed.fixes = {engine::Fix::kDrainAllGraphChange};
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    fixed.seed = seed;
    const scenarios::RunResult f = scenarios::run_scenario(finding, fixed);
    INFO("seed " << seed << ": " << f.verdict.message);
    CHECK(f.verdict.ok());
  }
  // Its deadlock has drain-all-deleted-node's shape: the hunter's label check
  // on the run refutes that label (that fix leaves it failing).
  scenarios::hunt::ConsequenceQuery q{&finding, sim::failure_signature(r->verdict), {}, {}, 1, 0};
  auto deleted_node = scenarios::hunt::label_confirmed(q, r->seed, engine::Fix::kDrainAllDeletedNode);
  REQUIRE(deleted_node.ok());
  CHECK_FALSE(*deleted_node);
  auto graph_change = scenarios::hunt::label_confirmed(q, r->seed, engine::Fix::kDrainAllGraphChange);
  REQUIRE(graph_change.ok());
  CHECK(*graph_change);
  // A callback's set_backing is checked as an event's: only a cow node has a backing.
  const std::string text = R"([scenario]
name = "t"
[[node]]
name = "disk"
size = "64k"
[[node]]
name = "base"
size = "64k"
[[job]]
name = "j"
node = "disk"
backend = { on_drained_begin = ["set_backing disk base"] }
commands = ["write -P 1 0 4k"]
)";
  CHECK(testing::error_of(text).find("job 'j''s callback 'set_backing disk base': node 'disk' is mem; only a cow node has a backing") !=
        std::string::npos);
  CHECK(testing::error_of(replace(text, "set_backing disk base", "set_backing disk nowhere")).find("no node named 'nowhere'") !=
        std::string::npos);
}

TEST_CASE("write -s FILE parses, formats back, takes the file's bytes, and travels in repro files") {
  auto cmd = scenarios::parse_command("aio_write -f -s images/pattern-17.bin 1000 9000");
  REQUIRE(cmd.ok());
  CHECK(cmd->source_file == "images/pattern-17.bin");
  CHECK(scenarios::format_command(*cmd) == "aio_write -s images/pattern-17.bin -f 1000 9000");
  for (const char* bad : {"write -s f -P 1 0 4k", "write -z -s f 0 4k", "write -s", "writev -s f 0 512 512"}) {
    INFO(bad);
    CHECK_FALSE(scenarios::parse_command(bad).ok());
  }
  const scenarios::Scenario s = testing::library("pattern-files.toml");
  const scenarios::Command& first = s.jobs.front().commands.front();
  REQUIRE(first.source_bytes != nullptr);
  CHECK(first.source_bytes->size() == 17);
  CHECK(scenarios::image_store_of(s).count("images/pattern-17.bin") == 1);
  CHECK_FALSE(testing::first_failure(s, 10).has_value());
  CHECK(testing::error_of(replace(std::string(R"([scenario]
name = "t"
[[node]]
name = "disk"
size = "64k"
[[job]]
name = "j"
node = "disk"
commands = ["write -s nowhere.bin 0 4k"]
)"), "nowhere.bin", "nowhere.bin")).find("cannot open") != std::string::npos);
}

TEST_CASE("a quorum writes both children at once, reads the first and falls back, and flushes both") {
  scenarios::Scenario s = testing::library("quorum.toml");
  s.fixes = {engine::Fix::kFuaCleanNode};  // FUA emulated at the quorum meets it too (labelled in the suite)
  testing::require_holds(s, 20);
  // A crash of the second child must keep what was flushed: with flushes that
  // never reach a disk, the replica loses it.
  const auto lost = testing::first_failure(testing::only(s, {scenarios::Oracle::kDurability}), 20,
                                           {engine::Mutant::kSkipFlushToDisk});
  REQUIRE(lost.has_value());
  CHECK_THAT(lost->verdict.shape, Catch::Contains("in a quorum replica"));

  const std::string text = R"([scenario]
name = "t"
[[node]]
name = "a"
size = "64k"
[[node]]
name = "fa"
driver = "fault"
file = "a"
[[node.rule]]
errno = "EIO"
kind = "read"
[[node]]
name = "b"
size = "64k"
[[node]]
name = "fb"
driver = "fault"
file = "b"
[[node]]
name = "q"
driver = "quorum"
children = ["fa", "fb"]
vote_threshold = 2
[[job]]
name = "j"
node = "q"
commands = ["write -P 5 0 4k => ok", "read -P 5 0 4k => ok", "flush => ok"]
)";
  // The first child's reads fail: the second answers, and the errors oracle
  // knows quorum falls back (no verdict for the absorbed -EIO).
  testing::require_holds(parse(text), 3);
  // Both fail: the last child's error is the read's.
  const std::string both = replace(text, "name = \"fb\"\ndriver = \"fault\"\nfile = \"b\"\n",
                                   "name = \"fb\"\ndriver = \"fault\"\nfile = \"b\"\n[[node.rule]]\nerrno = \"ENOSPC\"\nkind = \"read\"\n");
  testing::require_holds(parse(replace(both, "read -P 5 0 4k => ok", "read 0 4k => ENOSPC")), 3);
  // A write fails when a child's does (every child is needed).
  testing::require_holds(parse(replace(replace(replace(text, "kind = \"read\"", "kind = \"write\""), "write -P 5 0 4k => ok",
                                               "write -P 5 0 4k => EIO"),
                                       "read -P 5 0 4k", "read 0 4k")),
                         3);
  // Parse errors: the threshold QEMU requires (and only every child is
  // modelled), children of one length, listed once, written only through it.
  CHECK_THAT(error_of(replace(text, "vote_threshold = 2\n", "")), Catch::Contains("vote_threshold"));
  CHECK_THAT(error_of(replace(text, "vote_threshold = 2", "vote_threshold = 1")), Catch::Contains("every child"));
  CHECK_THAT(error_of(replace(text, "name = \"b\"\nsize = \"64k\"", "name = \"b\"\nsize = \"128k\"")),
             Catch::Contains("one length"));
  CHECK_THAT(error_of(replace(text, "children = [\"fa\", \"fb\"]", "children = [\"fa\", \"fa\"]")), Catch::Contains("twice"));
  CHECK_THAT(error_of(replace(text, "children = [\"fa\", \"fb\"]", "children = [\"fa\"]")), Catch::Contains("2 to 8"));
  CHECK_THAT(error_of(replace(text, "node = \"q\"", "node = \"fb\"")), Catch::Contains("write through 'q'"));
}

TEST_CASE("blockdev_del closes a node nothing holds, refuses one in use, and the deleted node is gone") {
  scenarios::Scenario s = testing::library("node-deletion.toml");
  testing::require_holds(s, 10);
  const scenarios::RunResult r = testing::run(s, 1);
  REQUIRE(r.verdict.ok());
  const std::string text = R"([scenario]
name = "t"
[[node]]
name = "base"
size = "64k"
[[node]]
name = "other"
size = "64k"
[[node]]
name = "image"
size = "1M"
[[node]]
name = "top"
driver = "cow"
file = "image"
backing = "base"
size = "64k"
cluster_size = 4096
[[job]]
name = "j"
node = "top"
commands = ["write -P 1 0 4k", "sleep 1", "read -P 1 0 4k", "sleep 1", "read -P 0 8k 4k"]
[[event]]
name = "detach"
at_ns = 500000
action = "set_backing"
node = "top"
backing = ""
[[event]]
name = "del"
at_ns = 1500000
action = "blockdev_del"
node = "base"
)";
  testing::require_holds(parse(text), 2);
  // Parse errors: a node a job uses, a node held as a file for the whole run,
  // and a deleted node named by another event.
  CHECK_THAT(error_of(replace(text, "action = \"blockdev_del\"\nnode = \"base\"", "action = \"blockdev_del\"\nnode = \"top\"")), Catch::Contains("job 'j' uses it"));
  CHECK_THAT(error_of(replace(text, "action = \"blockdev_del\"\nnode = \"base\"", "action = \"blockdev_del\"\nnode = \"image\"")), Catch::Contains("the file of node 'top'"));
  CHECK_THAT(error_of(replace(text, "backing = \"\"", "backing = \"base\"")), Catch::Contains("names it too"));
  CHECK_THAT(error_of(text + "[[event]]\nat_ns = 2000000\naction = \"drain\"\nnode = \"base\"\n"),
             Catch::Contains("a deleted node is gone"));
  // A retry after a refusal is allowed: the first comes while 'base' still backs 'top'.
  testing::require_holds(parse(text + "[[event]]\nname = \"early\"\nat_ns = 100000\naction = \"blockdev_del\"\nnode = \"base\"\n"), 2);
}

TEST_CASE("replace_node copies a disk into another and moves its parents there, as a mirror's completion does") {
  testing::require_holds(testing::library("replace-node.toml"), 10);
  const std::string text = R"([scenario]
name = "t"
[[node]]
name = "old"
size = "256k"
[[node]]
name = "new"
size = "256k"
[[node]]
name = "guest-disk"
driver = "raw"
file = "old"
[[job]]
name = "j"
node = "guest-disk"
commands = ["write -P 1 0 64k", "sleep 1", "read -P 1 0 64k", "write -P 2 64k 4k", "flush", "sleep 1", "read -P 1 0 64k",
            "read -P 2 64k 4k"]
[[event]]
name = "switch"
at_ns = 500000
action = "replace_node"
node = "old"
target = "new"
[[event]]
name = "drop"
at_ns = 1500000
action = "blockdev_del"
node = "old"
[[event]]
name = "crash"
at_ns = 1600000
action = "crash"
node = "new"
)";
  // The data written before the switch was copied, what came after went to
  // the new disk, the old one is gone, and a crash of the new one keeps what
  // was flushed.
  testing::require_holds(parse(text), 3);
  // Parse errors: the two must behave alike, the new one must be unused, the
  // old one held as a file, neither used by a job directly.
  CHECK_THAT(error_of(replace(text, "name = \"new\"\nsize = \"256k\"", "name = \"new\"\nsize = \"256k\"\nfua = true")),
             Catch::Contains("differ in fua"));
  CHECK_THAT(error_of(replace(text, "name = \"new\"\nsize = \"256k\"", "name = \"new\"\nsize = \"512k\"")),
             Catch::Contains("differ in size"));
  CHECK_THAT(error_of(replace(text, "node = \"guest-disk\"", "node = \"old\"")), Catch::Contains("uses 'old' directly"));
  CHECK_THAT(error_of(text + "[[node]]\nname = \"other\"\ndriver = \"raw\"\nfile = \"new\"\n"), Catch::Contains("is the file of 'other'"));
  CHECK_THAT(error_of(text + "[[event]]\nat_ns = 9\naction = \"read_only\"\nnode = \"old\"\n"), Catch::Contains("changes the old one"));
  CHECK_THAT(error_of(replace(text, "target = \"new\"", "target = \"nothing\"")), Catch::Contains("no node named 'nothing'"));
}

TEST_CASE("a write in flight across a replace_node wrote the old node, and the copy carried it") {
  // Found by blksim hunt (scenarios 0-1m591, 0-1m1201): the driver-calls
  // oracle looked for the write's driver calls on the node the data is on
  // when the command completed, the new one, which only the copy wrote.
  testing::require_holds(testing::fixture("hunt-591-replace-in-flight.toml"), 10);
}
