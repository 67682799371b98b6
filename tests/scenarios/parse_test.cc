#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

#include "scenarios/library.h"
#include <string>

#include "scenarios/runner.h"
#include "scenarios/scenario.h"

using scenarios::parse_scenario;

using testing::replace;

namespace {

const char* kGood = R"(
[scenario]
name = "t"
seeds = 3
strategy = "pct:2"

[[node]]
name = "d"
size = "64k"
request_alignment = 4096
max_transfer = "8k"
latency_ns = [10, 20]

[[job]]
name = "j"
node = "d"
queue_depth = 2
commands = ["aio_write -P 0x11 512 3000", "aio_flush", "read -P 0x11 512 3000", "flush", "write -f 0 4k"]
)";

using testing::error_of;


}  // namespace

TEST_CASE("a well-formed scenario parses with every field") {
  auto s = parse_scenario(kGood, "x.toml");
  REQUIRE(s.ok());
  CHECK(s->name == "t");
  CHECK(s->seeds == 3);
  CHECK(s->strategy.to_string() == "pct:2");
  REQUIRE(s->nodes.size() == 1);
  CHECK(s->nodes[0].size == 65536);
  CHECK(s->nodes[0].mem.limits.request_alignment == 4096);
  CHECK(s->nodes[0].mem.limits.max_transfer == 8192);
  CHECK(s->nodes[0].mem.latency.min_ns == 10);
  REQUIRE(s->jobs.size() == 1);
  const auto& cmds = s->jobs[0].commands;
  REQUIRE(cmds.size() == 5);
  CHECK(cmds[0].async);
  CHECK(cmds[0].op == scenarios::Command::Op::kWrite);
  CHECK(cmds[0].pattern == std::uint8_t{0x11});
  CHECK(cmds[0].offset == 512);
  CHECK(cmds[0].bytes == 3000);
  CHECK(cmds[0].line == 18);
  CHECK(cmds[1].op == scenarios::Command::Op::kAioFlush);
  CHECK(cmds[4].fua);
  CHECK(cmds[4].bytes == 4096);
}

TEST_CASE("errors name file, line and column, and say what was expected") {
  CHECK(error_of("[scenario\nname='x'") .rfind("x.toml:1:", 0) == 0);
  CHECK(error_of(replace(kGood, "seeds = 3", "sedes = 3")) ==
        "x.toml:4:1: unknown key 'sedes' in [scenario] (expected one of: name, description, seeds, strategy, "
        "step_budget, time_budget_ns, oracles, expect, fixes, memory_limit)");
  CHECK(error_of(replace(kGood, "request_alignment = 4096", "request_alignment = 3000")) ==
        "x.toml:10:21: node 'd'.request_alignment: expected a power of two, got 3000");
  CHECK(error_of(replace(kGood, "max_transfer = \"8k\"", "max_transfer = 1000")) ==
        "x.toml:11:16: node 'd'.max_transfer: expected a multiple of request_alignment (4096), got 1000");
  // Limits a driver may not declare: the reference asserts against them.
  CHECK(error_of(replace(kGood, "max_transfer = \"8k\"", "pdiscard_alignment = 8192\nmax_pdiscard = 4096")) ==
        "x.toml:12:16: node 'd'.max_pdiscard: expected 0 or at least pdiscard_alignment and request_alignment (8192), got 4096");
  CHECK(error_of(replace(kGood, "max_transfer = \"8k\"", "max_pwrite_zeroes = 512")) ==
        "x.toml:11:21: node 'd'.max_pwrite_zeroes: expected a multiple of request_alignment (4096), got 512");
  CHECK(error_of(replace(kGood, "max_transfer = \"8k\"", "pwrite_zeroes_alignment = 16384\nmax_pwrite_zeroes = 8192")) ==
        "x.toml:12:21: node 'd'.max_pwrite_zeroes: expected 0 or at least pwrite_zeroes_alignment and request_alignment (16384), got 8192");
  CHECK(error_of(replace(kGood, "strategy = \"pct:2\"", "strategy = \"lifo\"")) ==
        "x.toml:5:12: [scenario].strategy: unknown strategy 'lifo': expected fifo, random, pct, pct:D or replay");
  CHECK(error_of(replace(kGood, "node = \"d\"", "node = \"e\"")) == "x.toml:16:8: [[job]].node: no node named 'e'");
  CHECK(error_of(replace(kGood, "queue_depth = 2", "queue_depth = 0")) ==
        "x.toml:17:15: [[job]].queue_depth: expected 1 to 1024, got 0");
  CHECK(error_of(replace(kGood, "\"flush\",", "\"fluhs\",")) ==
        "x.toml:18:81: unknown command 'fluhs' (expected read, readv, write, writev, aio_read, aio_readv, aio_write, "
        "aio_writev, discard, aio_discard, alloc, map, flush, aio_flush, sleep, ioctl, aio_ioctl, aio_cancel, make_zero, truncate, "
        "pwrite_sync, break, remove_break, resume or wait_break)");
  CHECK(error_of(replace(kGood, "write -f 0 4k", "write -x 0 4k")) ==
        "x.toml:18:90: 'write': unsupported option '-x' (supported: -P pattern, -s file, -z, -u, -c, -f, -q, -C, -b, -n, -F flags)");
  CHECK(error_of(replace(kGood, "write -f 0 4k", "write 0 128k")) ==
        "x.toml:18:90: 'write 0 128k' ends past the end of node 'd' (65536 bytes): expected OFFSET + LENGTH <= 65536");
  CHECK(error_of(replace(kGood, "latency_ns = [10, 20]", "latency_ns = [20, 10]")) ==
        "x.toml:12:14: node 'd'.latency_ns: expected 0 <= MIN <= MAX <= 10000000000, got [20, 10]");
  CHECK(error_of(replace(kGood, "size = \"64k\"", "size = \"64q\"")) ==
        "x.toml:9:8: node 'd'.size: '64q' has an unknown size suffix (expected k, M, G, T, P or E)");
  CHECK(error_of(replace(kGood, "latency_ns = [10, 20]", "latency_ns = [10, 20]\nflush_error = \"EWHAT\"")) ==
        "x.toml:13:15: node 'd'.flush_error: expected EIO, ENOTSUP, ENOSPC, ENOMEDIUM, EPERM, EINVAL, EACCES, EROFS, "
        "ENOMEM, EAGAIN or a positive number");
  CHECK(error_of(replace(kGood, "latency_ns = [10, 20]", "latency_ns = [10, 20]\nflush_error_count = 2")) ==
        "x.toml:13:21: node 'd'.flush_error_count: needs flush_error");
  CHECK(error_of(replace(kGood, "latency_ns = [10, 20]", "latency_ns = [10, 20]\nflush_error = \"EIO\"\nflush_error_count = 0"))
            .find("node 'd'.flush_error_count: expected 1 to") != std::string::npos);
}

TEST_CASE("missing tables and wrong shapes are errors, not defaults") {
  CHECK(error_of("[[node]]\nname='d'\n").find("expected a [scenario] table") != std::string::npos);
  CHECK(error_of("[scenario]\nname='x'\n").find("expected at least one [[node]] table") != std::string::npos);
  CHECK(error_of("[scenario]\nname='x'\n[node]\nname='d'\n").find("write [[node]]") != std::string::npos);
  CHECK(error_of("[scenario]\nname=3\n").find("[scenario].name: expected a string") != std::string::npos);
  CHECK(error_of(replace(kGood, "[[job]]\nname = \"j\"", "[[job]]\nname = \"j\"\n[[job]]\nname = \"j\"")).find(
            "needs a 'node'") != std::string::npos);
}

TEST_CASE("qemu-io numbers and commands") {
  CHECK(*scenarios::parse_qemu_io_number("4096") == 4096);
  CHECK(*scenarios::parse_qemu_io_number("0x1000") == 4096);
  CHECK(*scenarios::parse_qemu_io_number("4k") == 4096);
  CHECK(*scenarios::parse_qemu_io_number("1M") == 1048576);
  CHECK(*scenarios::parse_qemu_io_number("2G") == (2ULL << 30));
  CHECK_FALSE(scenarios::parse_qemu_io_number("k").ok());
  CHECK_FALSE(scenarios::parse_qemu_io_number("12kb").ok());
  CHECK_FALSE(scenarios::parse_qemu_io_number("99999999999999999999").ok());
  CHECK_FALSE(scenarios::parse_qemu_io_number("20000000T").ok());
  auto r = scenarios::parse_command("aio_read -q -P 0xab 1k 2k");
  REQUIRE(r.ok());
  CHECK(r->async);
  CHECK(r->pattern == std::uint8_t{0xab});
  CHECK(r->offset == 1024);
  CHECK(r->bytes == 2048);
  CHECK_FALSE(scenarios::parse_command("read 0").ok());
  CHECK(scenarios::parse_command("read 0 0")->bytes == 0);  // zero-length: the reference's to judge
  CHECK_FALSE(scenarios::parse_command("read -f 0 512").ok());
  CHECK_FALSE(scenarios::parse_command("write -P 0x100 0 512").ok());
  CHECK_FALSE(scenarios::parse_command("flush now").ok());
  CHECK_FALSE(scenarios::parse_command("").ok());
  // qemu-io's larger suffixes, with overflow refused.
  CHECK(*scenarios::parse_qemu_io_number("3P") == (3ULL << 50));
  CHECK(*scenarios::parse_qemu_io_number("15E") == (15ULL << 60));
  CHECK_FALSE(scenarios::parse_qemu_io_number("16E").ok());
  CHECK_FALSE(scenarios::parse_command("write -P 0x11 8E 512").ok());  // past the largest offset
  // aio_discard and sleep, and each formats back to itself.
  for (const char* text : {"aio_discard 4k 8k", "sleep 250", "discard -q 0 512"}) {
    auto c = scenarios::parse_command(text);
    INFO(text);
    REQUIRE(c.ok());
    CHECK(scenarios::parse_command(scenarios::format_command(*c))->op == c->op);
  }
  CHECK(scenarios::parse_command("aio_discard 4k 8k")->async);
  CHECK(scenarios::parse_command("aio_discard 4k 8k")->op == scenarios::Command::Op::kDiscard);
  CHECK(scenarios::parse_command("sleep 250")->sleep_ms == 250);
  CHECK(scenarios::format_command(*scenarios::parse_command("sleep 250 => ok")) == "sleep 250 => ok");
  CHECK_FALSE(scenarios::parse_command("sleep").ok());
  CHECK_FALSE(scenarios::parse_command("sleep 1E").ok());
}

TEST_CASE("readv and writev: one buffer per length, as qemu-io's") {
  auto v = scenarios::parse_command("aio_writev -P 0x11 -f 100 512 1k 0x200");
  REQUIRE(v.ok());
  CHECK(v->op == scenarios::Command::Op::kWrite);
  CHECK(v->async);
  CHECK(v->fua);
  CHECK(v->parts == std::vector<std::uint64_t>{512, 1024, 512});
  CHECK(v->bytes == 2048);
  CHECK(v->offset == 100);
  CHECK(scenarios::format_command(*v) == "aio_writev -P 0x11 -f 100 512 1024 512");
  CHECK(scenarios::parse_command("readv 0 512")->parts.size() == 1);  // one buffer is still a vector
  CHECK(scenarios::format_command(*scenarios::parse_command("readv 0 512")) == "readv 0 512");
  CHECK(scenarios::parse_command("read 0 512")->parts.empty());
  // qemu-io's writev has no -z, -u or -c; lengths are checked one by one and in sum.
  CHECK(scenarios::parse_command("writev -z 0 512").status().message() ==
        "'writev': unsupported option '-z' (supported: -P pattern, -f, -q, -C, -F flags)");
  CHECK(scenarios::parse_command("readv 0").status().message() == "'readv' expects OFFSET LENGTH [LENGTH...], got 1 operands");
  CHECK(scenarios::parse_command("readv 0 512 0").status().message() ==
        "'readv' length 0: expected 1 to 1073741824 bytes per buffer");
  CHECK(scenarios::parse_command("writev 0 1G 512").status().message() ==
        "'writev' length 512: the request may have at most 1073741824 bytes");
  std::string many = "readv 0";
  for (std::size_t i = 0; i <= scenarios::kMaxCommandParts; ++i) many += " 1";
  CHECK(scenarios::parse_command(many).status().message() == "'readv': 4097 buffers, expected at most 4096");
}

TEST_CASE("a readv or writev keeps within its node's max_iov, as the engine derives it") {
  const char* kIov = R"([scenario]
name = "iov"
[[node]]
name = "disk"
size = "64k"
max_iov = 3
[[node]]
name = "fmt"
driver = "raw"
file = "disk"
[[job]]
name = "j"
node = "fmt"
commands = ["writev -P 0x11 0 512 512 512", "CMD"]
)";
  const scenarios::Scenario s = testing::parse(replace(kIov, "CMD", "readv -P 0x11 0 1k 512"));
  CHECK(s.max_iov(s.nodes[0]) == 3);
  CHECK(s.max_iov(s.nodes[1]) == 3);  // a format node takes its file's
  CHECK(testing::error_of(replace(kIov, "CMD", "readv 0 512 512 512 512")) ==
        "x.toml:14:45: 'readv 0 512 512 512 512' has 4 buffers, but node 'fmt' takes at most 3 (max_iov): expected at "
        "most that many lengths");
  // Without a limit of its own a protocol node takes IOV_MAX.
  const scenarios::Scenario plain = testing::parse(replace(replace(kIov, "max_iov = 3\n", ""), "CMD", "flush"));
  CHECK(plain.max_iov(plain.nodes[1]) == 1024);
}

TEST_CASE("request flags qemu-io cannot spell (-F), per request kind") {
  auto w = scenarios::parse_command("aio_write -F zero_write,fua -P 0x11 0 4k");
  REQUIRE(w.ok());
  CHECK(w->request_flags == (engine::BDRV_REQ_ZERO_WRITE | engine::BDRV_REQ_FUA));
  CHECK(w->writes_zeroes());
  CHECK_FALSE(w->zeroes);  // a zero write that carries a buffer
  CHECK(scenarios::format_command(*w) == "aio_write -P 0x11 -F zero_write,fua 0 4096");
  CHECK(scenarios::parse_command("write -z -u -f 0 4k")->engine_flags() ==
        (engine::BDRV_REQ_ZERO_WRITE | engine::BDRV_REQ_MAY_UNMAP | engine::BDRV_REQ_FUA));
  CHECK(scenarios::parse_command("read -F copy_on_read 0 4k")->engine_flags() == engine::BDRV_REQ_COPY_ON_READ);
  CHECK(scenarios::parse_command("readv -F no_serialising 0 4k")->engine_flags() == engine::BDRV_REQ_NO_SERIALISING);
  CHECK(scenarios::parse_command("write -F no_serialising,write_compressed,may_unmap 0 4k").ok());
  CHECK(scenarios::parse_command("read -F fua 0 4k").status().message() ==
        "'read -F fua': not a read's request flag 'fua' (expected copy_on_read, no_serialising, separated by commas)");
  CHECK(scenarios::parse_command("write -F fua,,zero_write 0 4k").status().message().find("unknown request flag ''") !=
        std::string::npos);
  CHECK(scenarios::parse_command("read -F copy_on_read,no_serialising 0 4k").status().message().find(
            "copy_on_read and no_serialising cannot be given together") != std::string::npos);
  CHECK(scenarios::parse_command("discard -F fua 0 4k").status().message() ==
        "'discard': unsupported option '-F' (supported: -q, -C)");
  CHECK_FALSE(scenarios::parse_command("write -F").ok());
}

TEST_CASE("a zero write with a buffer writes zeroes, and copy-on-read per request runs") {
  const scenarios::Scenario s = testing::parse(R"([scenario]
name = "flags"
[[node]]
name = "base"
size = "64k"
[[node]]
name = "top-file"
size = "256k"
[[node]]
name = "top"
driver = "cow"
size = "64k"
cluster_size = 8192
file = "top-file"
backing = "base"
[[job]]
name = "j"
node = "top"
queue_depth = 4
commands = ["write -P 0x22 0 4k", "write -F zero_write -P 0x11 0 512", "read -P 0 0 512", "read -P 0x22 512 512",
            "aio_read -F copy_on_read 8k 8k", "aio_read -F no_serialising 24k 4k", "aio_writev -F fua -P 0x33 20k 1k 3k",
            "aio_flush", "read -P 0x33 20k 4k"]
)");
  testing::require_holds(s, 20);
}

TEST_CASE("sleep waits virtual time, and aio_discard runs beside the job's other requests") {
  const scenarios::Scenario s = testing::parse(R"([scenario]
name = "sleepy"
[[node]]
name = "disk"
size = "64k"
unmap = true
[[job]]
name = "j"
node = "disk"
queue_depth = 4
commands = ["write -P 0x11 0 16k", "aio_discard 0 4k", "aio_discard 8k 4k", "aio_flush", "sleep 1500", "read 4k 4k => ok"]
)");
  const scenarios::RunResult r = testing::run(s, 0);
  INFO(r.verdict.message);
  CHECK(r.verdict.ok());
  CHECK(r.virtual_ns >= 1'500'000'000ULL);
  CHECK(r.requests == 5);  // aio_flush is the job waiting, not a command that completes
}

TEST_CASE("jobs write to huge nodes only where the final image can be checked sparsely") {
  const std::string huge = "[scenario]\nname='big'\n[[node]]\nname='n'\nsize='1T'\n[[node]]\nname='small'\nsize='1M'\n"
                           "[[node]]\nname='cf'\nsize='2T'\n[[node]]\nname='c'\ndriver='cow'\nsize='1T'\nfile='cf'\n"
                           "[[job]]\nname='j'\nnode='small'\ncommands=['flush']\n";
  CHECK(parse_scenario(huge, "x.toml").ok());
  CHECK(parse_scenario(replace(huge, "node='small'", "node='n'"), "x.toml").ok());
  CHECK(error_of(replace(huge, "node='small'", "node='c'")) ==
        "x.toml:19:6: [[job]].node: node 'c' has 1099511627776 bytes; above 268435456 bytes jobs may write only to a mem "
        "node without an image (directly or through raw, fault and top filters), whose final image is checked sparsely");
  CHECK(error_of(replace(huge, "node='small'", "node='n'") + "[[event]]\nname='power'\nat_ns=5\naction='crash'\nnode='n'\n") ==
        "x.toml:21:1: [[event]]: a crash checks every node jobs write to; node 'n' has 1099511627776 bytes, above "
        "67108864");
}

TEST_CASE("requests across 2 GiB and 4 GiB and at 4 EiB, judged by the sparse final-image check") {
  const scenarios::Scenario s = testing::parse(R"([scenario]
name = "huge"
[[node]]
name = "disk"
size = "4E"
[[node]]
name = "fmt"
driver = "raw"
file = "disk"
[[job]]
name = "guest"
node = "fmt"
queue_depth = 4
commands = ["aio_write -P 0x11 2047M 2M", "aio_write -P 0x22 4095M 2M", "aio_write -P 0x33 0x3ffffffffffff000 4k",
            "aio_writev -P 0x44 5G 1k 3k", "aio_flush", "read -P 0x11 2047M 1M", "read -P 0x22 4096M 1M",
            "read -P 0x33 0x3ffffffffffff000 4k", "alloc 0x3ffffffffffff000 4k", "aio_discard 2G 4k", "write -z 3G 1M",
            "read -P 0 3G 512", "readv -P 0x44 5G 2k 2k"]
)");
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    const scenarios::RunResult r = testing::run(s, seed);
    INFO(r.verdict.message);
    CHECK(r.verdict.ok());
    CHECK(r.requests == 12);
  }
}

namespace {
const char* kGraph = R"(
[scenario]
name = "graph"
[[node]]
name = "disk"
driver = "mem"
size = "4M"
write_cache = true
style = "callbacks"
write_zeroes = "enotsup"
discard = "advisory"
[[node]]
name = "blkdebug"
driver = "fault"
file = "disk"
align = 4096
max_transfer = "64k"
latency = { write = "uniform 1000 5000", any = "fixed 100", flush = "pareto 1000 100000 1.5" }
[[node.rule]]
event = "write_aio"
errno = "ENOSPC"
sector = 400
once = true
probability = 0.5
kind = "write"
[[node.rule]]
action = "set-state"
event = "flush_to_disk"
new_state = 2
[[node]]
name = "base"
driver = "null"
size = "1M"
read_zeroes = true
[[node]]
name = "top"
driver = "cow"
file = "blkdebug"
backing = "base"
size = "1M"
cluster_size = "64k"
[[job]]
name = "j"
node = "top"
commands = ["write -P 1 0 4k", "flush", "read -P 1 0 4k", "read -P 0 64k 4k"]
)";
}  // namespace

TEST_CASE("a node graph of every driver parses with its options") {
  auto s = parse_scenario(kGraph, "g.toml");
  INFO((s.ok() ? "" : std::string(s.status().message())));
  REQUIRE(s.ok());
  const auto* disk = s->find_node("disk");
  CHECK(disk->mem.style == drivers::MemConfig::Style::kCallbacks);
  CHECK(disk->mem.zeroes_enotsup);
  CHECK(disk->mem.discard_advisory);
  const auto* f = s->find_node("blkdebug");
  CHECK(f->file == "disk");
  CHECK(f->fault.align == 4096);
  REQUIRE(f->fault.rules.size() == 2);
  CHECK(f->fault.rules[0].error == ENOSPC);
  CHECK(f->fault.rules[0].offset == 400 * 512);
  CHECK(f->fault.rules[0].probability_ppm == 500000);
  CHECK(f->fault.rules[1].action == drivers::FaultRule::Action::kSetState);
  CHECK(f->fault.latency[static_cast<int>(drivers::IoKind::kFlush)].kind == drivers::LatencyModel::Kind::kPareto);
  const auto* top = s->find_node("top");
  CHECK(top->backing == "base");
  CHECK(top->cow.cluster_size == 65536);
  CHECK(s->node_size(*f) == 4 << 20);
}

TEST_CASE("a graph of cow over fault over mem, with a null backing file, runs") {
  auto s = parse_scenario(kGraph, "g.toml");
  REQUIRE(s.ok());
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    scenarios::RunOptions o;
    o.seed = seed;
    scenarios::RunResult r = scenarios::run_scenario(*s, o);
    INFO(seed << ": " << r.verdict.message);
    // The once/probability rule may fail the first write: that is an injected fault, not a bug.
    CHECK((r.verdict.ok() || r.verdict.message.find("-ENOSPC") != std::string::npos));
  }
}

TEST_CASE("bad node configuration names the node and the option") {
  auto with = [](const std::string& from, const std::string& to) { return replace(kGraph, from, to); };
  CHECK(error_of(with("write_cache = true", "write_cach = true")).find("unknown key 'write_cach' in node 'disk'") !=
        std::string::npos);
  CHECK(error_of(with("align = 4096", "align = 3000")).find("node 'blkdebug'.align: expected a power of two, got 3000") !=
        std::string::npos);
  CHECK(error_of(with("max_transfer = \"64k\"", "max_transfer = 5000")).find("node 'blkdebug'.max_transfer: expected a multiple of align (4096), got 5000") !=
        std::string::npos);
  CHECK(error_of(with("backing = \"base\"", "backing = \"nowhere\"")).find("node 'top'.backing: no node named 'nowhere'") !=
        std::string::npos);
  CHECK(error_of(with("file = \"disk\"", "file = \"top\"")).find("cycle in the node graph: ") != std::string::npos);
  CHECK(error_of(with("file = \"disk\"", "file = \"blkdebug\"")).find("node 'blkdebug'.file: a node cannot be its own file") !=
        std::string::npos);
  CHECK(error_of(with("size = \"4M\"", "size = \"1M\"")).find("node 'top'.file: 'blkdebug' has 1048576 bytes, a cow image of this size needs") !=
        std::string::npos);
  CHECK(error_of(with("event = \"write_aio\"", "event = \"write_io\"")).find("node 'blkdebug' rule.event: unknown event 'write_io'") !=
        std::string::npos);
  CHECK(error_of(with("errno = \"ENOSPC\"", "errno = \"EBADNESS\"")).find("rule.errno: expected EIO") != std::string::npos);
  // A set-state rule needs its event (an inject-error rule without one is active from the start).
  CHECK(error_of(with("event = \"flush_to_disk\"", "")).find("node 'blkdebug' rule") != std::string::npos);
  CHECK(error_of(with("kind = \"write\"", "kind = \"status\"")).find("block_status") != std::string::npos);
  CHECK(error_of(with("probability = 0.5", "probability = 1.5")).find("rule.probability: expected a number from 0 to 1") !=
        std::string::npos);
  CHECK(error_of(with("write = \"uniform 1000 5000\"", "write = \"gaussian 1\"")).find("node 'blkdebug'.latency.write: expected 'fixed NS'") !=
        std::string::npos);
  CHECK(error_of(with("cluster_size = \"64k\"", "cluster_size = 3000")).find("node 'top'.cluster_size: expected a power of two") !=
        std::string::npos);
  CHECK(error_of(with("driver = \"null\"", "driver = \"nul\"")).find("node 'base'.driver: unknown driver 'nul'") !=
        std::string::npos);
  CHECK(error_of(with("style = \"callbacks\"", "style = \"telepathy\"")).find("node 'disk'.style: expected one of bytes, sectors") !=
        std::string::npos);
}

TEST_CASE("a missing file is an error naming it") {
  auto s = scenarios::load_scenario("/nonexistent/x.toml");
  REQUIRE_FALSE(s.ok());
  CHECK(std::string(s.status().message()) == "/nonexistent/x.toml: cannot open scenario file");
}

TEST_CASE("breakpoint commands: blkdebug's syntax, a known event, and a fault node to hold them") {
  auto b = scenarios::parse_command("break pwritev_rmw_head A");
  REQUIRE(b.ok());
  CHECK(b->op == scenarios::Command::Op::kBreak);
  CHECK(b->event == "pwritev_rmw_head");
  CHECK(b->tag == "A");
  CHECK(scenarios::parse_command("wait_break A")->op == scenarios::Command::Op::kWaitBreak);
  CHECK(scenarios::parse_command("resume A")->op == scenarios::Command::Op::kResume);
  CHECK(scenarios::parse_command("remove_break A")->op == scenarios::Command::Op::kRemoveBreak);
  CHECK(std::string(scenarios::parse_command("break pwritev_rmw_hed A").status().message()).find("unknown event 'pwritev_rmw_hed'") !=
        std::string::npos);
  CHECK_FALSE(scenarios::parse_command("resume").ok());
  CHECK_FALSE(scenarios::parse_command("break pwritev").ok());
  // Breakpoints need a fault node at or below the job's node.
  CHECK(error_of(replace(kGood, "\"flush\",", "\"break pwritev A\",")).find("no fault node at or below node 'd'") !=
        std::string::npos);
}

TEST_CASE("a resume with nothing held fails the run with the command and its line") {
  auto s = parse_scenario(R"(
[scenario]
name = "bad-resume"
[[node]]
name = "m"
[[node]]
name = "f"
driver = "fault"
file = "m"
[[job]]
name = "j"
node = "f"
commands = ["resume A"]
)", "r.toml");
  REQUIRE(s.ok());
  scenarios::RunOptions o;
  auto r = scenarios::run_scenario(*s, o);
  REQUIRE(r.verdict.kind == sim::Verdict::Kind::kOracle);
  CHECK(r.verdict.message == "job 'j' command 'resume A' (r.toml:13): no request held with tag 'A'");
}

TEST_CASE("a mem node's image is found relative to the scenario file and loaded") {
  const std::string dir = std::string(BLKSIM_SOURCE_DIR) + "/tests/fixtures/";
  const std::string text = "[scenario]\nname='img'\n[[node]]\nname='d'\nsize='64k'\nimage='pattern-41.raw'\n"
                           "[[job]]\nname='j'\nnode='d'\ncommands=['read -P 0x41 0 4k', 'read -P 0 4k 4k']\n";
  auto s = parse_scenario(text, dir + "img.toml");
  REQUIRE(s.ok());
  CHECK(s->nodes[0].image == "pattern-41.raw");  // as written; its bytes are read now
  REQUIRE(s->nodes[0].image_bytes != nullptr);
  CHECK(s->nodes[0].image_bytes->size() == std::filesystem::file_size(dir + "pattern-41.raw"));
  scenarios::RunOptions o;
  CHECK(scenarios::run_scenario(*s, o).verdict.ok());
  std::string missing = text;
  missing.replace(missing.find("pattern-41.raw"), 14, "nothing.raw");
  auto bad = parse_scenario(missing, dir + "img.toml");
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("node 'd'.image: cannot open '" + dir + "nothing.raw'") != std::string::npos);
}

TEST_CASE("a mem node's fill is its initial content, every byte, and bad fills are refused") {
  const std::string text = "[scenario]\nname='fill'\n[[node]]\nname='d'\nsize='64k'\nfill=0xa5\n"
                           "[[job]]\nname='j'\nnode='d'\ncommands=['read -P 0xa5 0 4k', 'write -P 1 0 512', "
                           "'read -P 0xa5 512 64000']\n";
  const scenarios::Scenario s = testing::parse(text);
  REQUIRE(s.nodes[0].has_initial_content());
  CHECK(s.nodes[0].image_bytes->size() == 65536);
  CHECK(s.nodes[0].fill == 0xa5);
  CHECK(scenarios::image_store_of(s).empty());  // the text makes the bytes again: nothing for a repro to carry
  scenarios::RunOptions o;
  CHECK(scenarios::run_scenario(s, o).verdict.ok());
  // The wrong byte is caught: the oracles and the disk agree on the fill.
  const scenarios::RunResult wrong = scenarios::run_scenario(testing::parse(testing::replace(text, "read -P 0xa5 0 4k", "read -P 0xa4 0 4k")), o);
  CHECK_FALSE(wrong.verdict.ok());
  CHECK(testing::error_of(testing::replace(text, "fill=0xa5", "fill=0")) == "x.toml:6:6: node 'd'.fill: expected 1 to 255, got 0");
  CHECK(testing::error_of(testing::replace(text, "fill=0xa5", "fill=256")) == "x.toml:6:6: node 'd'.fill: expected 1 to 255, got 256");
  CHECK(testing::error_of(testing::replace(text, "fill=0xa5", "fill=0xa5\nimage='x.raw'")).find("node 'd'.fill: a node has an image or a fill, not both") !=
        std::string::npos);
  CHECK(testing::error_of(testing::replace(text, "size='64k'", "size='128M'")) ==
        "x.toml:6:6: node 'd'.fill: at most 67108864 bytes of node, got 134217728");
}

TEST_CASE("zero writes, compressed writes and discards in qemu-io syntax") {
  auto z = scenarios::parse_command("aio_write -z -u -f 4k 8k");
  REQUIRE(z.ok());
  CHECK(z->zeroes);
  CHECK(z->unmap);
  CHECK(z->fua);
  CHECK(scenarios::parse_command("write -c 0 64k")->compressed);
  auto d = scenarios::parse_command("discard 512 1k");
  REQUIRE(d.ok());
  CHECK(d->op == scenarios::Command::Op::kDiscard);
  CHECK(std::string(scenarios::parse_command("write -z -P 1 0 512").status().message()) ==
        "'write': -z and -P cannot be given together");
  CHECK(std::string(scenarios::parse_command("write -u 0 512").status().message()) == "'write': -u needs -z");
  CHECK(std::string(scenarios::parse_command("write -z -c 0 512").status().message()) ==
        "'write': -z and -c cannot be given together");
  CHECK(std::string(scenarios::parse_command("discard -P 1 0 512").status().message()) ==
        "'discard': unsupported option '-P' (supported: -q, -C)");
}

TEST_CASE("a scenario of zero writes with -ENOTSUP fallback, unmapping discards and compressed writes holds") {
  auto s = parse_scenario(R"(
[scenario]
name = "zero-discard-compress"
[[node]]
name = "disk"
size = "4M"
write_zeroes = "enotsup"
unmap = true
[[node]]
name = "img-file"
size = "2M"
[[node]]
name = "img"
driver = "cow"
file = "img-file"
size = "1M"
cluster_size = "64k"
compressed = true
unmap = true
[[job]]
name = "raw-user"
node = "disk"
queue_depth = 4
commands = ["aio_write -P 0x11 0 64k", "aio_flush", "aio_write -z -f 1000 5000", "discard 16k 16k", "aio_flush",
            "read -P 0x11 0 1000", "read -P 0 1000 5000", "read -P 0x11 6000 10384"]
[[job]]
name = "cow-user"
node = "img"
commands = ["write -c -P 0x22 64k 64k", "read -P 0x22 64k 64k", "write -z -u 128k 64k", "read -P 0 128k 64k"]
)", "z.toml");
  INFO((s.ok() ? "" : std::string(s.status().message())));
  REQUIRE(s.ok());
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    scenarios::RunOptions o;
    o.seed = seed;
    auto r = scenarios::run_scenario(*s, o);
    INFO(r.verdict.message);
    CHECK(r.verdict.ok());
  }
}

TEST_CASE("api = sync and sync-in-coroutine: the sync wrappers, with their errors attributed") {
  const char* kSync = R"([scenario]
name = "sync"
[[node]]
name = "disk"
size = "64k"
unmap = true
[[node]]
name = "errors"
driver = "fault"
file = "disk"
[[node.rule]]
event = "read_aio"
errno = "EIO"
sector = 40
[[job]]
name = "qemu-io"
node = "errors"
api = "sync"
queue_depth = 4
commands = ["write -P 0x11 0 8k", "aio_write -P 0x22 4k 4k", "writev -f -P 0x33 8k 1k 1k", "write -z -u 16k 4k",
            "discard 24k 4k", "flush", "aio_flush", "read -P 0x22 4k 4k", "readv -P 0x33 8k 512 1536",
            "read 20k 1k => EIO"]
[[job]]
name = "guest"
node = "disk"
queue_depth = 2
commands = ["aio_write -P 0x44 32k 8k", "aio_read 0 16k", "write -P 0x55 40k 4k", "flush"]
)";
  const scenarios::Scenario s = testing::parse(kSync);
  REQUIRE(s.jobs[0].api == scenarios::JobSpec::Api::kSync);
  CHECK(s.jobs[1].api == scenarios::JobSpec::Api::kCoroutine);
  const scenarios::Scenario inside = testing::parse(replace(kSync, "api = \"sync\"", "api = \"sync-in-coroutine\""));
  REQUIRE(inside.jobs[0].api == scenarios::JobSpec::Api::kSyncInCoroutine);
  std::set<std::string> created_outside, created_inside;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    for (const scenarios::Scenario* sc : {&s, &inside}) {
      std::set<std::string>& created = sc == &s ? created_outside : created_inside;
      scenarios::RunOptions options;
      options.seed = seed;
      options.observers.push_back([&created](const sim::Trace& trace, const sim::TraceEvent& e) {
        if (e.kind == sim::EventKind::kCoCreate) created.insert(std::string(trace.text(e.label)));
      });
      const scenarios::RunResult r = scenarios::run_scenario(*sc, options);
      INFO("seed " << seed << ", api " << (sc == &s ? "sync" : "sync-in-coroutine") << ": " << r.verdict.message);
      CHECK(r.verdict.ok());
    }
  }
  // Outside a coroutine each wrapper creates its request coroutine; inside, the
  // wrapper runs in the job's own (the aio commands still get theirs).
  for (const char* name : {"bdrv_preadv", "bdrv_pwritev", "bdrv_pwrite_zeroes", "bdrv_pdiscard", "bdrv_flush"}) {
    CHECK(created_outside.count(name) == 1);
    CHECK(created_inside.count(name) == 0);
  }
  CHECK(created_inside.count("qemu-io.cmd") == 1);  // a numbered family
  CHECK(testing::error_of(replace(kSync, "api = \"sync\"", "api = \"async\"")) ==
        "x.toml:18:7: [[job]].api: expected \"co\" (bdrv_co_* from the job's coroutine), \"sync\" (the sync wrappers "
        "from the main loop), \"sync-in-coroutine\" (the sync wrappers from the job's coroutine), \"sectors\" "
        "(bdrv_read / bdrv_write from the main loop) or \"co-sectors\" (bdrv_co_readv / bdrv_co_writev from the job's "
        "coroutine), got \"async\"");
  CHECK(testing::error_of(replace(kSync, "\"read 20k 1k => EIO\"", "\"read -F copy_on_read 0 4k\"")).find(
            "reads with bdrv_pread or bdrv_preadv, which take no request flags") != std::string::npos);
}

TEST_CASE("alloc and map in qemu-io's syntax") {
  auto a = scenarios::parse_command("alloc 4k");
  REQUIRE(a.ok());
  CHECK(a->op == scenarios::Command::Op::kAlloc);
  CHECK(a->offset == 4096);
  CHECK(a->bytes == 512);  // a sector unless COUNT is given
  CHECK(scenarios::format_command(*scenarios::parse_command("alloc 0 64k")) == "alloc 0 65536");
  CHECK(scenarios::parse_command("map")->op == scenarios::Command::Op::kMap);
  CHECK(scenarios::parse_command("alloc 100").status().message() == "'alloc' offset 100: expected a multiple of 512 up to 9223372036854775807");
  CHECK(scenarios::parse_command("alloc 0 1000").status().message() ==
        "'alloc' count 1000: expected a multiple of 512 from 512 to 1073741824");
  CHECK(scenarios::parse_command("map 0 4k").status().message() == "'map' takes no arguments (it maps the whole node)");
  CHECK(testing::error_of(replace(kGood, "\"flush\",", "\"alloc 60k 8k\",")).find("ends past the end of node 'd'") !=
        std::string::npos);
}

TEST_CASE("qemu-io's options combine as getopt's, -b -v -s -l -C are read and -n is refused") {
  auto zu = scenarios::parse_command("write -zu 0 4k");
  REQUIRE(zu.ok());
  CHECK(zu->zeroes);
  CHECK(zu->unmap);
  CHECK(scenarios::parse_command("write -P0x11 -fq 0 4k")->pattern == std::uint8_t{0x11});
  CHECK(scenarios::parse_command("write -P0x11 -fq 0 4k")->fua);
  auto v = scenarios::parse_command("read -vC -P 0x61 -s 8 -l16 0 40");
  REQUIRE(v.ok());
  CHECK(v->dump);
  CHECK(v->verify_offset == 8);
  CHECK(v->verify_bytes == std::uint64_t{16});
  CHECK(scenarios::format_command(*v) == "read -P 0x61 -v -s 8 -l 16 0 40");
  CHECK(scenarios::parse_command("read -b 0 4k")->vmstate);
  CHECK(scenarios::parse_command("read -s 8 0 40").status().message() == "'read': -s and -l verify a pattern, so they need -P");
  CHECK(scenarios::parse_command("read -P 1 -s 32 -l 16 0 40").status().message() ==
        "'read': the verified range (-s 32 -l 16) is outside the 40 bytes read");
  CHECK(scenarios::parse_command("write -n -z 0 4k").status().message().find("BDRV_REQ_NO_FALLBACK came after the reference") !=
        std::string::npos);
  CHECK(scenarios::parse_command("write -b -f 0 4k").status().message() ==
        "'write -b': the VM state takes plain reads and writes (no -z, -c, -f or -F)");
  CHECK(scenarios::parse_command("aio_read -b 0 4k").status().message() ==
        "'aio_read': unsupported option '-b' (supported: -P pattern, -q, -C, -v, -F flags)");
  CHECK_FALSE(scenarios::parse_command("write -P").ok());
}

TEST_CASE("the VM state through every api, -s and -l narrow a pattern check, and a VM state needs a node keeping one") {
  const char* kVm = R"([scenario]
name = "vm"
[[node]]
name = "disk"
size = "64k"
vmstate = true
[[node]]
name = "fmt"
driver = "raw"
file = "disk"
[[job]]
name = "qemu-io"
node = "fmt"
api = "sync"
commands = ["write -b -P0x42 0 4k", "read -b -P 0x42 0 4k", "write -P 0x61 0 40", "write -P 0x62 0 8",
            "read -v -P 0x61 -s 8 -l 16 0 40", "read -bqC -P 0x42 1k 1k"]
[[job]]
name = "co"
node = "fmt"
commands = ["write -b -P0x43 8k 4k", "read -b -P 0x43 8k 4k"]
[[job]]
name = "in-co"
node = "fmt"
api = "sync-in-coroutine"
commands = ["write -b -P0x44 16k 4k", "read -b -P 0x44 16k 4k", "read -b -P 0 20k 512 => ok"]
)";
  const scenarios::Scenario s = testing::parse(kVm);
  testing::require_holds(s, 10);
  // Without -s and -l the whole read is verified, and its first bytes are 0x62.
  const scenarios::RunResult wrong = testing::run(testing::parse(replace(kVm, " -s 8 -l 16", "")), 0);
  CHECK(wrong.verdict.id == "expect");
  CHECK(testing::error_of(replace(kVm, "vmstate = true\n", "")).find("keeps a VM state (expected vmstate = true") !=
        std::string::npos);
  CHECK(testing::error_of(replace(kVm, "read -b -P 0x44 16k 4k", "read -b 1M 4k")).find("ends past the VM state area") !=
        std::string::npos);
}

TEST_CASE("zero-length requests reach the engine, which pads an unaligned one to a whole block") {
  const scenarios::Scenario s = testing::parse(R"([scenario]
name = "zero-length"
[[node]]
name = "disk"
size = "64k"
request_alignment = 4096
unmap = true
[[job]]
name = "guest"
node = "disk"
queue_depth = 4
commands = ["write -P 0x11 0 8k", "aio_write -P 0x22 100 0", "aio_read 100 0", "aio_write -z 600 0", "aio_discard 700 0",
            "aio_flush", "read -P 0x11 0 8k", "write 64k 0 => ok", "read 64k 0 => ok"]
)");
  std::uint64_t block_writes = 0;
  scenarios::RunOptions options;
  options.observers.push_back([&block_writes](const sim::Trace& trace, const sim::TraceEvent& e) {
    if (e.kind == sim::EventKind::kDriverIssue && trace.text(e.label) == "pwritev" && e.c == 4096) ++block_writes;
  });
  const scenarios::RunResult r = scenarios::run_scenario(s, options);
  INFO(r.verdict.message);
  CHECK(r.verdict.ok());
  // The 0-byte write at 100 and the 0-byte zero write at 600 are each a
  // read-modify-write of the block around them, as in the reference.
  CHECK(block_writes == 2);
}

TEST_CASE("a job behind a backend: the parent role is told of drains, past-end requests are the backend's -EIO") {
  const char* kBackend = R"([scenario]
name = "backend"
[[node]]
name = "disk"
size = "64k"
[[job]]
name = "vm"
node = "disk"
queue_depth = 2
backend = { queue_while_drained = true }
commands = ["aio_write -P 0x11 0 8k", "aio_write -P 0x22 8k 8k", "aio_flush", "read -P 0x11 0 8k", "read 64k 1 => EIO",
            "write 60k 8k => EIO", "read -P 0x22 8k 8k"]
[[event]]
name = "d"
at_ns = 3000
action = "drained"
node = "disk"
duration_ns = 20000
)";
  const scenarios::Scenario s = testing::parse(kBackend);
  REQUIRE(s.jobs[0].backend.has_value());
  CHECK(s.jobs[0].backend->queue_while_drained);
  CHECK(s.jobs[0].backend->write_cache);
  testing::require_holds(s, 20);
  // A bare root child (no backend) may not be sent past the end: that is the scenario's error.
  CHECK(testing::error_of(replace(kBackend, "backend = { queue_while_drained = true }\n", "")).find(
            "ends past the end of node 'disk'") != std::string::npos);
  CHECK(testing::error_of(replace(kBackend, "backend = { queue_while_drained = true }", "backend = true")) ==
        "x.toml:10:11: [[job]].backend: expected a table such as { write_cache = false } ({} for the defaults)");
  CHECK(testing::error_of(replace(kBackend, "queue_while_drained = true", "queue = true")).find(
            "unknown key 'queue' in [[job]].backend") != std::string::npos);
  CHECK(testing::error_of(replace(kBackend, "queue_depth = 2", "queue_depth = 2\napi = \"sync\"")).find(
            "a backend's sync calls (blk_pread, ...) are not modelled") != std::string::npos);
}

TEST_CASE("a parent that is never told of a drain is the drain oracle's failure") {
  const scenarios::Scenario s = testing::parse(R"([scenario]
name = "backend"
[[node]]
name = "disk"
size = "64k"
[[job]]
name = "vm"
node = "disk"
backend = {}
commands = ["write -P 0x11 0 8k"]
[[event]]
name = "d"
at_ns = 0
action = "drain"
node = "disk"
)");
  CHECK(testing::run(s, 0).verdict.ok());
  // The role's callbacks skipped: the node is quiesced, its backend is not.
  const scenarios::RunResult r = testing::run(s, 0, {engine::Mutant::kParentDrainSkipped});
  CHECK(r.verdict.id == "drain");
  CHECK(r.verdict.message.find("was never told") != std::string::npos);
}

TEST_CASE("eject, insert and read_only events, with the errors they mean") {
  const char* kMedia = R"([scenario]
name = "media"
[[node]]
name = "disk"
size = "64k"
[[node]]
name = "fmt"
driver = "raw"
file = "disk"
[[job]]
name = "dev"
node = "fmt"
commands = ["write -P 0x11 0 4k", "sleep 1", "read 0 4k => ENOMEDIUM", "flush => ok", "sleep 1", "write 0 4k => EPERM",
            "discard 0 4k => EPERM", "read -P 0x11 0 4k", "sleep 1", "write -P 0x22 0 4k", "read -P 0x22 0 4k"]
[[event]]
name = "out"
at_ns = 500000
action = "eject"
node = "disk"
[[event]]
name = "in"
at_ns = 1500000
action = "insert"
node = "disk"
[[event]]
name = "ro"
at_ns = 1600000
action = "read_only"
node = "fmt"
[[event]]
name = "rw"
at_ns = 2600000
action = "read_only"
node = "fmt"
enabled = false
)";
  const scenarios::Scenario s = testing::parse(kMedia);
  testing::require_holds(s, 10);
  CHECK(testing::error_of(replace(kMedia, "action = \"eject\"\nnode = \"disk\"", "action = \"eject\"")).find(
            "action 'eject' needs node") != std::string::npos);
  CHECK(testing::error_of(replace(kMedia, "action = \"eject\"", "action = \"eject\"\nenabled = true")).find(
            "not an option of action 'eject'") != std::string::npos);
}

TEST_CASE("dirty_bitmap events and the dirty-bitmaps oracle") {
  const char* kBitmaps = R"([scenario]
name = "bitmaps"
[[node]]
name = "disk"
size = "256k"
[[job]]
name = "guest"
node = "disk"
queue_depth = 4
commands = ["aio_write -P 0x11 0 64k", "aio_write -z 64k 8k", "aio_flush", "sleep 1", "write -P 0x22 128k 4k",
            "sleep 1", "write -P 0x33 192k 4k"]
[[event]]
at_ns = 0
action = "dirty_bitmap"
node = "disk"
bitmap = "b"
granularity = 4096
[[event]]
at_ns = 500000
action = "dirty_bitmap"
node = "disk"
bitmap = "b"
enabled = false
)";
  const scenarios::Scenario s = testing::parse(kBitmaps);
  REQUIRE(s.events.size() == 2);
  CHECK(s.events[0].granularity == 4096);
  CHECK_FALSE(s.events[1].enabled);
  testing::require_holds(s, 10);
  CHECK(testing::error_of(replace(kBitmaps, "granularity = 4096", "granularity = 3000")).find(
            "granularity: expected a power of two, got 3000") != std::string::npos);
  CHECK(testing::error_of(replace(kBitmaps, "bitmap = \"b\"\ngranularity", "granularity")).find(
            "'bitmap'") != std::string::npos);
}

TEST_CASE("power_cut events: count and every_ns go together, mem nodes only, and only raw and fault above them") {
  const std::string kCuts = R"([scenario]
name = "cuts"
[[node]]
name = "disk"
driver = "mem"
size = "64k"
latency_ns = [1000, 9000]
[[node]]
name = "fmt"
driver = "raw"
file = "disk"
[[job]]
name = "g"
node = "fmt"
queue_depth = 4
commands = ["aio_write -P 0x11 0 8k", "aio_write -f -P 0x12 8k 8k", "aio_flush", "flush", "write -P 0x13 0 4k"]
[[event]]
at_ns = 500
action = "power_cut"
mode = "torn-sectors"
count = 40
every_ns = 700
)";
  const scenarios::Scenario s = testing::parse(kCuts);
  REQUIRE(s.events.size() == 1);
  CHECK(s.events[0].count == 40);
  CHECK(s.events[0].every_ns == 700);
  testing::require_holds(s, 10);
  CHECK(testing::error_of(replace(kCuts, "every_ns = 700\n", "")).find("count > 1 needs every_ns") != std::string::npos);
  CHECK(testing::error_of(replace(kCuts, "count = 40\n", "")).find("count > 1 needs every_ns") != std::string::npos);
  CHECK(testing::error_of(replace(kCuts, "count = 40", "count = 1001")).find("count: expected 1 to 1000, got 1001") !=
        std::string::npos);
  CHECK(testing::error_of(replace(kCuts, "mode = \"torn-sectors\"", "node = \"fmt\"")).find(
            "a power_cut hits a mem node; 'fmt' is raw") != std::string::npos);
  CHECK(testing::error_of(replace(replace(kCuts, "driver = \"raw\"", "driver = \"cow\""), "size = \"64k\"", "size = \"2M\"")).find(
            "job 'g' reaches a cut mem node through cow node 'fmt'") != std::string::npos);
  CHECK(testing::error_of(replace(kCuts, "count = 40\nevery_ns = 700\n", "duration_ns = 5\n")).find(
            "not an option of action 'power_cut'") != std::string::npos);
}

TEST_CASE("device drain callbacks: scripted actions run in the callback, bad scripts are errors, runaway recursion is stopped") {
  const std::string kDevice = R"([scenario]
name = "device"
[[node]]
name = "disk"
driver = "mem"
size = "64k"
latency_ns = [1000, 9000]
drain_callback = true
[[node]]
name = "other"
driver = "mem"
size = "64k"
[[job]]
name = "vm"
node = "disk"
queue_depth = 2
backend = { on_drained_begin = ["drain other", "aio_write -P 0x21 0 4k", "drained_begin other"], on_drained_end = ["drained_end other", "aio_read 0 4k"] }
commands = ["aio_write -P 0x11 8k 4k", "read 0 512"]
[[event]]
at_ns = 3000
action = "drained"
node = "disk"
duration_ns = 5000
)";
  const scenarios::Scenario s = testing::parse(kDevice);
  REQUIRE(s.jobs[0].backend.has_value());
  CHECK(s.jobs[0].backend->on_drained_begin.size() == 3);
  CHECK(s.jobs[0].backend->on_drained_end.size() == 2);
  CHECK(s.nodes[0].mem.drain_callback);
  testing::require_holds(s, 10);
  const auto error = [&](const std::string& from, const std::string& to) { return testing::error_of(replace(kDevice, from, to)); };
  CHECK(error("\"drain other\"", "\"drain nowhere\"").find("'drain nowhere': no node named 'nowhere'") != std::string::npos);
  CHECK(error("\"aio_write -P 0x21 0 4k\"", "\"write 0 4k\"").find("a callback cannot wait") != std::string::npos);
  CHECK(error("\"aio_write -P 0x21 0 4k\"", "\"aio_flush\"").find("a callback cannot wait") != std::string::npos);
  CHECK(error("\"drained_end other\", ", "").find("begins more drained sections of node 'other' than on_drained_end ends") !=
        std::string::npos);
  CHECK(error("\"drained_end other\", \"aio_read 0 4k\"", "\"drained_end other\", \"drained_begin other\"")
            .find("sections begin in on_drained_begin") != std::string::npos);
  CHECK(error("on_drained_end = [", "on_drained_ends = [").find("unknown key 'on_drained_ends'") != std::string::npos);
  CHECK(error("drain_callback = true", "drain_sleep_ns = 5").find("only with drain_callback = true") != std::string::npos);
  // A device that drains its own node when told drained_end starts a section
  // whose end tells it again: stopped, with the invariant's id.
  const scenarios::RunResult runaway = testing::run(
      testing::parse(replace(kDevice, "on_drained_end = [\"drained_end other\", \"aio_read 0 4k\"]",
                             "on_drained_end = [\"drained_end other\", \"drain disk\"]")),
      0);
  INFO(runaway.verdict.message);
  CHECK(runaway.verdict.kind == sim::Verdict::Kind::kInvariant);
  CHECK(runaway.verdict.id == "backend.callback_depth");
  // The same script under a section ended from a coroutine cannot be modelled: refused.
  CHECK(testing::error_of(replace(replace(kDevice, "duration_ns = 5000", "duration_ns = 5000\nin_coroutine = true"),
                                  "on_drained_end = [\"drained_end other\", \"aio_read 0 4k\"]",
                                  "on_drained_end = [\"drained_end other\", \"drain disk\"]"))
            .find("'drain disk' would drain inside that coroutine") != std::string::npos);
}

TEST_CASE("set_backing events: on a cow node, to a blank node in its context, never into a cycle") {
  const std::string kChange = R"([scenario]
name = "change"
[[node]]
name = "base1"
driver = "mem"
size = "64k"
[[node]]
name = "base2"
driver = "mem"
size = "32k"
[[node]]
name = "image"
driver = "mem"
size = "2M"
[[node]]
name = "top"
driver = "cow"
file = "image"
backing = "base1"
size = "64k"
cluster_size = 4096
[[job]]
name = "g"
node = "top"
queue_depth = 4
commands = ["aio_write -P 0x11 0 8k", "aio_read 4k 8k", "aio_flush", "read -P 0 32k 4k", "write -P 0x12 40k 4k"]
[[event]]
at_ns = 2000
action = "set_backing"
node = "top"
backing = "base2"
[[event]]
at_ns = 9000
action = "set_backing"
node = "top"
backing = ""
drained = true
)";
  const scenarios::Scenario s = testing::parse(kChange);
  REQUIRE(s.events.size() == 2);
  CHECK(s.events[0].backing == "base2");
  CHECK(s.events[1].drained);
  testing::require_holds(s, 10);
  const auto error = [&](const std::string& from, const std::string& to) { return testing::error_of(replace(kChange, from, to)); };
  CHECK(error("backing = \"base2\"", "backing = \"nowhere\"").find("no node named 'nowhere'") != std::string::npos);
  CHECK(error("backing = \"base2\"", "backing = \"image\"").find("holds node 'image', which stores cow image 'top'") !=
        std::string::npos);
  CHECK(error("node = \"top\"\nbacking = \"base2\"", "node = \"top\"\nbacking = \"top\"").find(
            "'top' is at or below 'top': the graph would have a cycle") != std::string::npos);
  CHECK(error("backing = \"\"\ndrained", "drained").find("set_backing needs backing =") != std::string::npos);
  CHECK(error("action = \"set_backing\"\nnode = \"top\"\nbacking = \"base2\"", "action = \"set_backing\"\nnode = \"image\"\nbacking = \"base2\"")
            .find("node 'image' is mem; only a cow node has a backing") != std::string::npos);
  CHECK(testing::error_of(replace(kChange, "[[event]]", "[[job]]\nname = \"h\"\nnode = \"base2\"\ncommands = [\"write 0 4k\"]\n[[event]]"))
            .find("the new backing 'base2' holds node 'base2', which job 'h' writes to") != std::string::npos);
  CHECK(error("[[node]]\nname = \"base2\"\ndriver = \"mem\"\nsize = \"32k\"",
              "[[node]]\nname = \"base2\"\ndriver = \"mem\"\nsize = \"32k\"\niothread = \"io\"")
            .find("runs in another AioContext") != std::string::npos);
  CHECK(error("drained = true", "drained = true\nmode = \"drop-all\"").find("not an option of action 'set_backing'") !=
        std::string::npos);
}

TEST_CASE("cache modes: no_flush and detect_zeroes on nodes, reopen events, and their errors") {
  const std::string kModes = R"([scenario]
name = "modes"
[[node]]
name = "disk"
driver = "mem"
size = "64k"
latency_ns = [1000, 9000]
unmap = true
detect_zeroes = "unmap"
[[node]]
name = "fmt"
driver = "raw"
file = "disk"
no_flush = true
[[job]]
name = "g"
node = "fmt"
commands = ["write -P 0x11 0 8k", "flush", "write -P 0 0 4k", "alloc 0 8k", "read -P 0 0 4k", "read -P 0x11 4k 4k"]
[[event]]
after_requests = 2
action = "reopen"
node = "fmt"
no_flush = false
[[event]]
after_requests = 4
action = "crash"
)";
  const scenarios::Scenario s = testing::parse(kModes);
  CHECK(s.nodes[0].detect_zeroes == engine::DetectZeroes::kUnmap);
  CHECK(s.nodes[1].no_flush);
  REQUIRE(s.events.size() == 2);
  CHECK_FALSE(s.events[0].no_flush);
  testing::require_holds(s, 10);
  const auto error = [&](const std::string& from, const std::string& to) { return testing::error_of(replace(kModes, from, to)); };
  CHECK(error("unmap = true\n", "").find("detect_zeroes: \"unmap\" needs unmap = true") != std::string::npos);
  CHECK(error("detect_zeroes = \"unmap\"", "detect_zeroes = \"maybe\"").find("detect_zeroes") != std::string::npos);
  CHECK(error("no_flush = false\n", "").find("reopen needs no_flush = true or false") != std::string::npos);
  CHECK(error("no_flush = false", "no_flush = false\nbacking = \"disk\"").find("not an option of action 'reopen'") !=
        std::string::npos);
  // A crash of the disk under a cow image's header, when that disk ignores
  // flushes, leaves nothing to judge: refused, not judged.
  const std::string kUnsafeImage = R"([scenario]
name = "unsafe"
[[node]]
name = "file"
driver = "mem"
size = "1M"
no_flush = true
[[node]]
name = "image"
driver = "cow"
file = "file"
size = "64k"
[[job]]
name = "g"
node = "image"
commands = ["write -P 0x11 0 8k"]
[[event]]
at_ns = 100000
action = "crash"
)";
  CHECK(testing::error_of(kUnsafeImage).find("crash: cow image 'image' keeps its header and table in 'file', which has "
                                             "(or a reopen gives it) no_flush = true") != std::string::npos);
  // A reopen that turns no_flush on, even one written after the crash.
  CHECK(testing::error_of(replace(kUnsafeImage, "no_flush = true\n", "") +
                          "[[event]]\nat_ns = 50000\naction = \"reopen\"\nnode = \"image\"\nno_flush = true\n")
            .find("(or a reopen gives it) no_flush = true") != std::string::npos);
  CHECK(scenarios::parse_scenario(replace(kUnsafeImage, "no_flush = true\n", ""), "x.toml").ok());
}

TEST_CASE("plugged batches: a job's runs of aio commands between bdrv_io_plug and bdrv_io_unplug, every node unplugged at the end") {
  const scenarios::Scenario s = testing::parse(R"([scenario]
name = "plug"
[[node]]
name = "disk"
driver = "mem"
size = "64k"
plug = true
[[job]]
name = "g"
node = "disk"
queue_depth = 4
plug = true
commands = ["aio_write -P 1 0 4k", "aio_write -P 2 4k 4k", "aio_flush", "read -P 1 0 4k", "aio_read 4k 4k"]
)");
  CHECK(s.jobs[0].plug);
  CHECK(s.nodes[0].mem.plug);
  testing::require_holds(s, 5);
  CHECK(testing::error_of(R"([scenario]
name = "plug"
[[node]]
name = "disk"
driver = "mem"
size = "64k"
[[job]]
name = "g"
node = "disk"
plug = "yes"
commands = ["read 0 4k"]
)").find("plug: expected true or false") != std::string::npos);
}

TEST_CASE("inactivate and activate events: reads go on while inactive, a write is the reference's assertion") {
  const std::string kHandover = R"([scenario]
name = "handover"
[[node]]
name = "disk"
driver = "mem"
size = "64k"
latency_ns = [1000, 9000]
[[job]]
name = "g"
node = "disk"
commands = ["write -P 0x11 0 8k", "sleep 1", "read -P 0x11 0 8k", "sleep 2", "write -P 0x12 0 4k", "read -P 0x12 0 4k"]
[[event]]
at_ns = 500000
action = "inactivate"
[[event]]
at_ns = 1500000
action = "activate"
)";
  const scenarios::Scenario s = testing::parse(kHandover);
  REQUIRE(s.events.size() == 2);
  testing::require_holds(s, 5);
  // The job writes while the nodes are inactive: QEMU of the time aborts.
  const scenarios::RunResult r = testing::run(testing::parse(replace(kHandover, "at_ns = 1500000", "at_ns = 5000000")), 0);
  CHECK(r.verdict.kind == sim::Verdict::Kind::kInvariant);
  CHECK(r.verdict.id == "co_pwritev.active");
  CHECK(testing::error_of(replace(kHandover, "action = \"inactivate\"", "action = \"inactivate\"\nnode = \"disk\"")).find(
            "action 'inactivate' covers every node") != std::string::npos);
}

TEST_CASE("permissions: devices on two nodes of a chain need share-rw, a format's file takes no other writer") {
  // A device on a filter and another on the disk below it.
  const char* kTwoDevices = R"([scenario]
name = "two-devices"
[[node]]
name = "disk"
size = "64k"
[[node]]
name = "filter"
driver = "raw"
file = "disk"
[[job]]
name = "upper"
node = "filter"
backend = {}
commands = ["write -P 0x11 0 4k"]
[[job]]
name = "lower"
node = "disk"
backend = {}
commands = ["read 0 4k"]
)";
  // The reader below does not share writing with the writer above.
  CHECK(testing::error_of(kTwoDevices) ==
        "x.toml:15:1: [[job]]: node 'disk' has two users, the file edge from 'filter' and job 'lower': through the "
        "first job 'upper' writes it, and through the second job 'lower''s device does not share writing (share-rw=off): "
        "QEMU refuses it; give job 'lower' backend = { share_rw = true } (share-rw=on)");
  // With share-rw=on on the one that refused, QEMU takes them.
  const std::string shared = replace(kTwoDevices, "node = \"disk\"\nbackend = {}", "node = \"disk\"\nbackend = { share_rw = true }");
  CHECK(testing::parse(shared).jobs[1].backend->share_rw);
  // Now the lower one writes too: the upper device must share as well.
  const std::string both = replace(shared, "read 0 4k", "write -P 0x22 8k 4k");
  CHECK(testing::error_of(both).find("give job 'upper' backend = { share_rw = true }") != std::string::npos);
  testing::parse(replace(both, "node = \"filter\"\nbackend = {}", "node = \"filter\"\nbackend = { share_rw = true }"));
  // A write the upper device's drain callback makes takes WRITE as well.
  const std::string callback_writes = replace(
      replace(shared, "write -P 0x11 0 4k", "read 0 512"), "node = \"filter\"\nbackend = {}",
      "node = \"filter\"\nbackend = { on_drained_begin = [\"aio_write -P 0x12 0 512\"] }");
  testing::parse(callback_writes);  // the lower device shares writing
  CHECK(testing::error_of(replace(callback_writes, "backend = { share_rw = true }", "backend = {}"))
            .find("through the first job 'upper' writes it") != std::string::npos);
  // Users like qemu-io's (no backend) share everything; jobs on one node are one user.
  testing::parse(replace(kTwoDevices, "backend = {}\ncommands = [\"read", "commands = [\"read"));
  testing::parse(replace(kTwoDevices, "node = \"disk\"\nbackend = {}", "node = \"filter\"\nbackend = {}"));
  CHECK(testing::error_of(replace(kTwoDevices, "backend = {}\ncommands = [\"read", "backend = { share_rw = 1 }\ncommands = [\"read"))
            .find("[[job]].backend.share_rw: expected true or false") != std::string::npos);

  // A job on a format's file: the format writes it and never shares that.
  const char* kUnderFormat = R"([scenario]
name = "under-format"
[[node]]
name = "file"
size = "1M"
[[node]]
name = "image"
driver = "cow"
file = "file"
size = "64k"
[[job]]
name = "vm"
node = "image"
commands = ["read 0 4k"]
[[job]]
name = "tool"
node = "file"
backend = { share_rw = true }
commands = ["write -P 0x33 0 512"]
)";
  CHECK(testing::error_of(kUnderFormat) ==
        "x.toml:15:1: [[job]]: node 'file' has two users, job 'tool' and the file edge from 'image': through the first "
        "job 'tool' writes it, and through the second format 'image' does not share writing (a format never shares its "
        "file): QEMU refuses it whatever share-rw says");
  // A reader of the file is refused too, unless its device shares writing
  // (the format writes the file whatever its own users do).
  const std::string reader = replace(kUnderFormat, "write -P 0x33 0 512", "read 0 512");
  testing::parse(reader);
  CHECK(testing::error_of(replace(reader, "{ share_rw = true }", "{}")).find("format 'image' (its file) writes it") !=
        std::string::npos);
}
