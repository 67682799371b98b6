// Behaviour 4: zero writes.
#include <catch2/catch.hpp>

#include "engine/io.h"
#include "graph.h"

using testing::all_equal;
using testing::Graph;

namespace {
std::vector<Graph::Op> ops_named(const Graph& g, const std::string& name) {
  std::vector<Graph::Op> out;
  for (const auto& o : g.ops) {
    if (o.op == name) out.push_back(o);
  }
  return out;
}
}  // namespace

TEST_CASE("zero writes split at pwrite_zeroes_alignment and cap at max_pwrite_zeroes") {
  drivers::MemConfig cfg = Graph::fast();
  cfg.limits.pwrite_zeroes_alignment = 4096;
  cfg.limits.max_pwrite_zeroes = 8192;
  Graph g;
  auto& bs = g.mem("d", 1 << 20, cfg);
  auto& child = g.root(bs);
  REQUIRE(g.write(child, 0, 65536, 0x11) == 0);
  g.ops.clear();
  // 1000 .. 21000: head to 4096, bulk capped at 8192, tail from 20480.
  CHECK(engine::bdrv_pwrite_zeroes(child, 1000, 20000, 0) == 0);
  auto zs = ops_named(g, "pwrite_zeroes");
  REQUIRE(zs.size() == 4);
  CHECK(zs[0].offset == 1000);
  CHECK(zs[0].bytes == 3096);
  CHECK(zs[1].offset == 4096);
  CHECK(zs[1].bytes == 8192);
  CHECK(zs[2].offset == 12288);
  CHECK(zs[2].bytes == 8192);
  CHECK(zs[3].offset == 20480);
  CHECK(zs[3].bytes == 520);
  auto data = g.read(child, 0, 65536);
  CHECK(all_equal(data, 0, 1000, 0x11));
  CHECK(all_equal(data, 1000, 21000, 0));
  CHECK(all_equal(data, 21000, 65536, 0x11));
}

TEST_CASE("zero writes: -ENOTSUP from write-zeroes falls back to zeroed buffers capped by max_transfer") {
  drivers::MemConfig cfg = Graph::fast();
  cfg.write_zeroes = false;
  cfg.limits.max_transfer = 16384;
  Graph g;
  auto& bs = g.mem("d", 1 << 20, cfg);
  auto& child = g.root(bs);
  REQUIRE(g.write(child, 0, 65536, 0x22) == 0);
  g.ops.clear();
  CHECK(engine::bdrv_pwrite_zeroes(child, 0, 40000, 0) == 0);
  auto ws = ops_named(g, "pwritev");
  REQUIRE(ws.size() == 3);
  CHECK(ws[0].bytes == 16384);
  CHECK(ws[1].bytes == 16384);
  CHECK(ws[2].bytes == 40000 - 32768);
  CHECK(all_equal(g.read(child, 0, 65536), 0, 40000, 0));
}

TEST_CASE("zero-write FUA: passed to a driver that supports it, else one flush at the end") {
  drivers::MemConfig cfg = Graph::fast();
  cfg.write_zeroes = false;
  cfg.limits.max_transfer = 4096;
  Graph g;
  auto& bs = g.mem("d", 1 << 20, cfg);
  auto& child = g.root(bs);
  REQUIRE(g.write(child, 0, 512, 1) == 0);  // something for the flush to do
  CHECK(engine::bdrv_pwrite_zeroes(child, 0, 16384, engine::BDRV_REQ_FUA) == 0);
  CHECK(g.count_ops("pwritev") == 1 + 4);
  CHECK(g.mem_driver().flushes() == 1);

  drivers::MemConfig fua = Graph::fast();
  fua.fua = true;
  auto& fbs = g.mem("f", 1 << 20, fua);
  auto& fchild = g.root(fbs);
  REQUIRE(g.write(fchild, 0, 512, 1) == 0);
  CHECK(engine::bdrv_pwrite_zeroes(fchild, 0, 16384, engine::BDRV_REQ_FUA) == 0);
  CHECK((g.mem_driver(1).last_zero_flags() & engine::BDRV_REQ_FUA) != 0);
  CHECK(g.mem_driver(1).flushes() == 0);
}

TEST_CASE("MAY_UNMAP reaches the driver only with BDRV_O_UNMAP") {
  drivers::MemConfig cfg = Graph::fast();
  cfg.fua = true;  // supported_zero_flags includes MAY_UNMAP
  Graph g;
  auto& bs = g.mem("d", 65536, cfg);
  auto& child = g.root(bs);
  auto zero = [&](unsigned flags) {
    int ret = 1;
    auto body = [](engine::BdrvChild& c, unsigned f, int& out) -> sim::Task<void> {
      out = co_await engine::bdrv_co_pwrite_zeroes(c, 0, 4096, f);
    };
    g.world.spawn(g.world.main_context(), "z", body(child, flags, ret));
    g.world.run();
    return ret;
  };
  CHECK(zero(engine::BDRV_REQ_MAY_UNMAP) == 0);
  CHECK((g.mem_driver().last_zero_flags() & engine::BDRV_REQ_MAY_UNMAP) == 0);
  bs.open_flags |= engine::BDRV_O_UNMAP;
  CHECK(zero(engine::BDRV_REQ_MAY_UNMAP) == 0);
  CHECK((g.mem_driver().last_zero_flags() & engine::BDRV_REQ_MAY_UNMAP) != 0);
}

TEST_CASE("unaligned zero writes read-modify-write their head and tail blocks") {
  drivers::MemConfig cfg = Graph::fast();
  cfg.limits.request_alignment = 4096;
  Graph g;
  auto& bs = g.mem("d", 65536, cfg);
  auto& child = g.root(bs);
  REQUIRE(g.write(child, 0, 65536, 0x33) == 0);
  g.ops.clear();
  CHECK(engine::bdrv_pwrite_zeroes(child, 1000, 10000, 0) == 0);
  // head block 0 and tail block 2 are read and rewritten; block 1 is zeroed.
  CHECK(g.count_ops("preadv") == 2);
  CHECK(g.count_ops("pwritev") == 2);
  CHECK(g.count_ops("pwrite_zeroes") == 1);
  auto data = g.read(child, 0, 16384);
  CHECK(all_equal(data, 0, 1000, 0x33));
  CHECK(all_equal(data, 1000, 11000, 0));
  CHECK(all_equal(data, 11000, 16384, 0x33));
  // Inside one block: one RMW.
  g.ops.clear();
  CHECK(engine::bdrv_pwrite_zeroes(child, 20000, 100, 0) == 0);
  CHECK(g.count_ops("preadv") == 1);
  CHECK(g.count_ops("pwritev") == 1);
  CHECK(all_equal(g.read(child, 20000, 100), 0, 100, 0));
}

TEST_CASE("bdrv_make_zero writes zeroes only where the node does not read as zero") {
  Graph g;
  auto& bs = g.mem("d", 1 << 20);
  auto& child = g.root(bs);
  REQUIRE(g.write(child, 65536, 4096, 0x44) == 0);
  REQUIRE(g.write(child, 500000, 1000, 0x44) == 0);
  g.ops.clear();
  CHECK(engine::bdrv_make_zero(child, 0) == 0);
  auto zs = ops_named(g, "pwrite_zeroes");
  REQUIRE(zs.size() == 2);
  CHECK(zs[0].offset == 65536);
  CHECK(zs[0].bytes == 4096);
  CHECK(zs[1].offset == 499712);
  CHECK(zs[1].bytes == 1536);
  CHECK(all_equal(g.read(child, 0, 1 << 20), 0, 1 << 20, 0));
}
