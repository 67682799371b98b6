// The engine's contract with drivers (drivers/driver_contract.h): the mem and
// fault drivers check every request against their node's limits, and that
// flushes of a node arrive one at a time.
#include <catch2/catch.hpp>

#include "drivers/driver_contract.h"
#include "engine/graph.h"
#include "engine/io.h"
#include "engine/request_flags.h"

using testing::Graph;

namespace {

drivers::MemConfig limited() {
  drivers::MemConfig c = Graph::fast();
  c.limits.request_alignment = 512;
  c.limits.max_transfer = 4096;
  c.limits.max_pwrite_zeroes = 8192;
  c.limits.max_pdiscard = 8192;
  return c;
}

// Calls the driver directly, as a layer that forgot a limit would.
sim::Task<void> raw_read(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes) {
  std::vector<std::uint8_t> buf(bytes);
  engine::IoVector qiov(absl::MakeSpan(buf));
  co_await bs.drv()->co_preadv(bs, offset, bytes, qiov, 0);
}

std::string run_direct(Graph& g, sim::Task<void> body) {
  g.world.spawn(g.world.main_context(), "direct", std::move(body));
  g.world.run();
  return g.world.verdict().ok() ? "" : g.world.verdict().id;
}

}  // namespace

TEST_CASE("contract: the engine keeps every request within the declared limits") {
  Graph g;
  auto& bs = g.mem("d", 1 << 20, limited());
  auto& child = g.root(bs);
  REQUIRE(g.write(child, 100, 20000, 7) == 0);  // unaligned: RMW head and tail, fragments
  int ret = -1;
  g.read(child, 3, 30000, &ret);
  CHECK(ret == 0);
  CHECK(engine::bdrv_pwrite_zeroes(child, 512, 40000, 0) >= 0);
  CHECK(engine::bdrv_pdiscard(bs, 0, 40960) >= 0);
  INFO(g.world.verdict().message);
  CHECK(g.world.verdict().ok());
  CHECK(g.mem_driver().writes() >= 6);  // 20100 bytes in 4 KiB pieces
}

TEST_CASE("contract: a read above max_transfer is an invariant verdict naming the limit") {
  Graph g;
  auto& bs = g.mem("d", 1 << 20, limited());
  CHECK(run_direct(g, raw_read(bs, 0, 8192)) == "driver.max_transfer");
  CHECK(g.world.verdict().message.find("exceeds max_transfer 4096") != std::string::npos);
}

TEST_CASE("contract: an unaligned read is an invariant verdict") {
  Graph g;
  auto& bs = g.mem("d", 1 << 20, limited());
  CHECK(run_direct(g, raw_read(bs, 100, 512)) == "driver.request_alignment");
}

TEST_CASE("contract: zero writes and discards above their maxima are invariant verdicts") {
  {
    Graph g;
    auto& bs = g.mem("d", 1 << 20, limited());
    auto body = [](engine::BlockDriverState& node) -> sim::Task<void> {
      co_await node.drv()->co_pwrite_zeroes(node, 0, 12288, 0);
    };
    CHECK(run_direct(g, body(bs)) == "driver.max_pwrite_zeroes");
  }
  {
    Graph g;
    auto& bs = g.mem("d", 1 << 20, limited());
    auto body = [](engine::BlockDriverState& node) -> sim::Task<void> {
      co_await node.drv()->co_pdiscard(node, 0, 12288);
    };
    CHECK(run_direct(g, body(bs)) == "driver.max_pdiscard");
  }
}

TEST_CASE("contract: the fault driver checks its own limits too") {
  Graph g;
  auto& file = g.mem("file", 1 << 20);
  drivers::FaultConfig cfg;
  cfg.max_transfer = 4096;
  auto& bs = g.fault("f", file, cfg);
  CHECK(run_direct(g, raw_read(bs, 0, 16384)) == "driver.max_transfer");
}

TEST_CASE("contract: two flushes at once reach the driver only if the flush queue is bypassed") {
  SECTION("through the engine: queued, one at a time") {
    Graph g;
    auto& bs = g.mem("d", 1 << 20);
    auto& child = g.root(bs);
    auto flush_after_write = [](Graph& graph, engine::BdrvChild& c, std::uint8_t v) -> sim::Task<void> {
      std::vector<std::uint8_t> buf(512, v);
      engine::IoVector qiov(absl::MakeSpan(buf));
      co_await engine::bdrv_co_pwritev(c, 0, 512, &qiov, 0);
      co_await engine::bdrv_co_flush(*c.bs);
      (void)graph;
    };
    for (std::uint8_t v = 1; v <= 4; ++v) g.world.spawn(g.world.main_context(), "flusher", flush_after_write(g, child, v));
    g.world.run();
    INFO(g.world.verdict().message);
    CHECK(g.world.verdict().ok());
    CHECK(g.mem_driver().flushes() >= 1);
  }
  SECTION("straight at the driver: caught") {
    Graph g;
    auto& bs = g.mem("d", 1 << 20);
    auto flush = [](engine::BlockDriverState& node) -> sim::Task<void> { co_await node.drv()->co_flush_to_disk(node); };
    g.world.spawn(g.world.main_context(), "first", flush(bs));
    g.world.spawn(g.world.main_context(), "second", flush(bs));
    g.world.run();
    CHECK(g.world.verdict().id == "driver.one_flush_at_a_time");
  }
}

TEST_CASE("mem flush_error_count: only the first flushes fail, then the cache becomes durable") {
  drivers::MemConfig c = Graph::fast();
  c.flush_error = -EIO;
  c.flush_error_count = 1;
  Graph g;
  auto& bs = g.mem("d", 65536, c);
  auto& child = g.root(bs);
  REQUIRE(g.write(child, 0, 4096, 0x5a) == 0);
  CHECK(engine::bdrv_flush(bs) == -EIO);
  CHECK(g.mem_driver().media().pending_writes() > 0);
  CHECK(bs.flushed_gen == 0);  // a failed flush is not a flushed generation
  CHECK(engine::bdrv_flush(bs) == 0);
  CHECK(g.mem_driver().flushes() == 2);
  std::vector<std::uint8_t> durable(4096);
  g.mem_driver().media().read_durable(0, durable.size(), durable.data());
  CHECK(durable == std::vector<std::uint8_t>(4096, 0x5a));
}

TEST_CASE("contract: a block-status query past the node's end, or empty, is an invariant verdict") {
  for (const auto& [sector, count] : {std::pair<std::int64_t, int>{0, 4097}, {2048, 1}, {10, 0}, {-1, 2}}) {
    Graph g;
    auto& bs = g.mem("d", 1 << 20);  // 2048 sectors
    auto body = [](engine::BlockDriverState& node, std::int64_t s, int n) -> sim::Task<void> {
      int pnum = 0;
      engine::BlockDriverState* file = nullptr;
      co_await node.drv()->co_get_block_status(node, s, n, &pnum, &file);
    };
    INFO("sectors " << sector << " +" << count);
    CHECK(run_direct(g, body(bs, sector, count)) == "driver.block_status_range");
  }
  Graph g;
  auto& bs = g.mem("d", 1 << 20);
  auto fine = [](engine::BlockDriverState& node) -> sim::Task<void> {
    int pnum = 0;
    engine::BlockDriverState* file = nullptr;
    co_await node.drv()->co_get_block_status(node, 2040, 8, &pnum, &file);
  };
  CHECK(run_direct(g, fine(bs)).empty());
}

TEST_CASE("contract: a driver called on a node whose driver was ejected is an invariant verdict") {
  Graph g;
  auto& bs = g.mem("d", 1 << 20);
  engine::BlockDriver& drv = *bs.drv();
  bs.eject();
  auto body = [](engine::BlockDriverState& node, engine::BlockDriver& d) -> sim::Task<void> {
    std::vector<std::uint8_t> buf(512);
    engine::IoVector qiov(absl::MakeSpan(buf));
    co_await d.co_preadv(node, 0, 512, qiov, 0);
  };
  CHECK(run_direct(g, body(bs, drv)) == "driver.call_on_ejected");
}

TEST_CASE("contract: a zero write's bulk is aligned to pwrite_zeroes_alignment, a smaller piece stays inside a block") {
  // block_int.h: drivers may expect the bulk of a zero write aligned, and
  // unaligned pieces not to cross an alignment boundary. The verdict's id
  // ("" if it held) and message of one direct call.
  const auto zero = [](std::int64_t offset, int bytes) {
    Graph g;
    drivers::MemConfig c = limited();
    c.limits.pwrite_zeroes_alignment = 4096;
    auto& bs = g.mem("d", 1 << 20, c);
    auto body = [](engine::BlockDriverState& node, std::int64_t o, int n) -> sim::Task<void> {
      co_await node.drv()->co_pwrite_zeroes(node, o, n, 0);
    };
    const std::string id = run_direct(g, body(bs, offset, bytes));
    return std::pair{id, g.world.verdict().message};
  };
  CHECK(zero(4096, 8192).first.empty());
  CHECK(zero(5120, 1024).first.empty());  // inside one block
  CHECK(zero(7168, 1024).first.empty());  // up to a boundary
  const auto crossing = zero(3584, 1024);
  CHECK(crossing.first == "driver.zero_alignment");
  CHECK_THAT(crossing.second, Catch::Contains("crosses a boundary of pwrite_zeroes_alignment 4096"));
  const auto untrimmed = zero(4096, 5120);  // the bulk keeps an unaligned tail (mutant zero-tail-untrimmed)
  CHECK(untrimmed.first == "driver.zero_alignment");
  CHECK_THAT(untrimmed.second, Catch::Contains("not aligned to pwrite_zeroes_alignment 4096"));
}
