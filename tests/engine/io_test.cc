#include <catch2/catch.hpp>

#include "engine/errors.h"
#include "harness.h"

using testing::all_equal;
using testing::NodeHarness;

TEST_CASE("aligned write and read round-trip through the driver") {
  NodeHarness h(64 * 1024, 512, 0);
  REQUIRE(h.write(4096, 8192, 0x5a) == 8192);
  int ret = -1;
  auto data = h.read(4096, 8192, &ret);
  CHECK(ret == 8192);
  CHECK(all_equal(data, 0, data.size(), 0x5a));
  CHECK(h.count_ops("pwritev") == 1);
  CHECK(h.count_ops("preadv") == 1);
  CHECK(h.bs.write_gen == 1);
  CHECK(h.bs.wr_highest_offset == 4096 + 8192);
  CHECK(h.idle());
}

TEST_CASE("an unaligned write is a read-modify-write that keeps the neighbouring bytes") {
  NodeHarness h(64 * 1024, 4096, 0);
  REQUIRE(h.write(0, 16384, 0xee) == 16384);
  h.ops.clear();
  REQUIRE(h.write(1000, 5000, 0x11) == 5000);  // head in block 0, tail in block 1
  // Head and tail blocks are read, then both blocks written in one request.
  REQUIRE(h.ops.size() == 3);
  CHECK(h.ops[0].op == "preadv");
  CHECK(h.ops[0].offset == 0);
  CHECK(h.ops[1].op == "preadv");
  CHECK(h.ops[1].offset == 4096);
  CHECK(h.ops[2].op == "pwritev");
  CHECK(h.ops[2].offset == 0);
  CHECK(h.ops[2].bytes == 8192);
  auto data = h.read(0, 16384);
  CHECK(all_equal(data, 0, 1000, 0xee));
  CHECK(all_equal(data, 1000, 6000, 0x11));
  CHECK(all_equal(data, 6000, 16384, 0xee));
  CHECK(h.idle());
}

TEST_CASE("a write inside one block reads it once (the head buffer holds the tail)") {
  NodeHarness h(64 * 1024, 4096, 0);
  REQUIRE(h.write(100, 200, 0x22) == 200);
  REQUIRE(h.ops.size() == 2);
  CHECK(h.ops[0].op == "preadv");
  CHECK(h.ops[1].op == "pwritev");
  CHECK(h.ops[1].bytes == 4096);
  auto data = h.read(0, 4096);
  CHECK(all_equal(data, 0, 100, 0));
  CHECK(all_equal(data, 100, 300, 0x22));
  CHECK(all_equal(data, 300, 4096, 0));
}

TEST_CASE("an unaligned read is padded to the alignment and returns only what was asked") {
  NodeHarness h(64 * 1024, 4096, 0);
  REQUIRE(h.write(0, 8192, 0x33) == 8192);
  h.ops.clear();
  auto data = h.read(4000, 200);
  CHECK(all_equal(data, 0, 200, 0x33));
  REQUIRE(h.ops.size() == 1);
  CHECK(h.ops[0].offset == 0);
  CHECK(h.ops[0].bytes == 8192);
}

TEST_CASE("max_transfer fragments reads and writes") {
  NodeHarness h(64 * 1024, 512, 4096);
  REQUIRE(h.write(0, 10240, 0x44) == 10240);
  REQUIRE(h.ops.size() == 3);
  CHECK(h.ops[0].bytes == 4096);
  CHECK(h.ops[1].bytes == 4096);
  CHECK(h.ops[2].bytes == 2048);
  CHECK(h.ops[2].offset == 8192);
  h.ops.clear();
  auto data = h.read(0, 10240);
  CHECK(h.count_ops("preadv") == 3);
  CHECK(all_equal(data, 0, 10240, 0x44));
}

TEST_CASE("reads past the end of the image return zeroes without asking the driver") {
  NodeHarness h(8192, 512, 0);
  REQUIRE(h.write(0, 8192, 0x55) == 8192);
  h.ops.clear();
  // Requests are not checked against the length: the part past it reads as zeroes.
  int ret = -1;
  std::vector<std::uint8_t> buf(16384, 0xa5);
  engine::IoVector qiov(absl::MakeSpan(buf));
  ret = engine::bdrv_preadv(h.child, 0, qiov);
  CHECK(ret == 16384);
  CHECK(all_equal(buf, 0, 8192, 0x55));
  CHECK(all_equal(buf, 8192, 16384, 0));
  REQUIRE(h.ops.size() == 1);
  CHECK(h.ops[0].bytes == 8192);
}

TEST_CASE("request checks: negative offset, read-only node, oversized request") {
  NodeHarness h(8192, 512, 0);
  CHECK(h.write(-512, 512, 1) == -EIO);
  CHECK(engine::bdrv_check_byte_request(h.bs, 0, 512) == 0);
  int ret = 0;
  h.read(-1, 10, &ret);
  CHECK(ret == -EIO);
  h.bs.read_only = true;
  CHECK(h.write(0, 512, 1) == -EPERM);
  CHECK(engine::bdrv_check_byte_request(h.bs, 0, (1ULL << 31)) == -EIO);
  CHECK(h.idle());
}

namespace {
sim::Task<void> write_task(engine::BdrvChild& child, std::int64_t offset, std::size_t bytes, std::uint8_t pattern) {
  std::vector<std::uint8_t> buf(bytes, pattern);
  engine::IoVector qiov(absl::MakeSpan(buf));
  int ret = co_await engine::bdrv_co_pwritev(child, offset, bytes, &qiov, 0);
  SIM_ASSERT(ret == 0, "write failed");
}
}  // namespace

TEST_CASE("overlapping unaligned writes serialise: no lost write under any seed") {
  std::size_t seeds_that_waited = 0;
  for (std::uint64_t seed = 0; seed < 60; ++seed) {
    NodeHarness h(32 * 1024, 4096, 0, seed, "random", {100, 20000});
    // Both touch block 0 and 1 but no common byte.
    h.world.spawn(h.world.main_context(), "a", write_task(h.child, 100, 3000, 0x11));
    h.world.spawn(h.world.main_context(), "b", write_task(h.child, 3500, 2000, 0x22));
    h.world.spawn(h.world.main_context(), "c", write_task(h.child, 6000, 4000, 0x33));
    h.world.run();
    INFO("seed " << seed);
    REQUIRE(h.world.verdict().ok());
    const auto d = h.driver.contents();
    CHECK(all_equal(d, 100, 3100, 0x11));
    CHECK(all_equal(d, 3500, 5500, 0x22));
    CHECK(all_equal(d, 6000, 10000, 0x33));
    CHECK(all_equal(d, 0, 100, 0));
    CHECK(all_equal(d, 3100, 3500, 0));
    CHECK(h.idle());
    if (h.count_waits("serialising") > 0) ++seeds_that_waited;
  }
  // The race is real: most seeds had one request wait for another.
  CHECK(seeds_that_waited > 30);
}

TEST_CASE("the sync wrappers refuse to run inside a coroutine") {
  NodeHarness h(8192, 512, 0);
  auto body = [](NodeHarness& harness) -> sim::Task<void> {
    harness.write(0, 512, 1);
    co_return;
  };
  h.world.spawn(h.world.main_context(), "misuse", body(h));
  h.world.run();
  REQUIRE(h.world.verdict().kind == sim::Verdict::Kind::kInvariant);
  CHECK(h.world.verdict().message.find("bdrv_pwritev called from a coroutine") != std::string::npos);
}

TEST_CASE("tracked requests are traced under QEMU's names") {
  NodeHarness h(8192, 512, 0);
  std::vector<std::string> names;
  h.world.trace().add_observer([&](const sim::Trace& t, const sim::TraceEvent& e) {
    if (e.kind == sim::EventKind::kRequestBegin) names.emplace_back(t.text(e.label));
  });
  h.write(0, 512, 1);
  h.read(0, 512);
  engine::bdrv_flush(h.bs);
  CHECK(names == std::vector<std::string>{"bdrv_co_pwritev", "bdrv_co_preadv", "bdrv_co_flush"});
}
