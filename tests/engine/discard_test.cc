// Behaviour 5: discard.
#include <catch2/catch.hpp>

#include "engine/io.h"
#include "graph.h"

using testing::all_equal;
using testing::Graph;

namespace {
std::vector<std::pair<std::uint64_t, std::uint64_t>> discards(const Graph& g) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  for (const auto& o : g.ops) {
    if (o.op == "pdiscard") out.emplace_back(o.offset, o.bytes);
  }
  return out;
}
}  // namespace

TEST_CASE("discard checks: no medium, bad range, read-only") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  bs.open_flags |= engine::BDRV_O_UNMAP;
  CHECK(engine::bdrv_pdiscard(bs, -512, 512) == -EIO);
  bs.read_only = true;
  CHECK(engine::bdrv_pdiscard(bs, 0, 512) == -EPERM);
  bs.read_only = false;
  bs.eject();
  CHECK(engine::bdrv_pdiscard(bs, 0, 512) == -ENOMEDIUM);
}

TEST_CASE("discard is a no-op without BDRV_O_UNMAP or without driver support") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  auto& child = g.root(bs);
  REQUIRE(g.write(child, 0, 8192, 0x11) == 0);
  CHECK(engine::bdrv_pdiscard(bs, 0, 8192) == 0);
  CHECK(discards(g).empty());
  CHECK(bs.write_gen == 1);  // not even counted
  drivers::MemConfig cfg = Graph::fast();
  cfg.discard = false;
  auto& nod = g.mem("n", 65536, cfg);
  nod.open_flags |= engine::BDRV_O_UNMAP;
  CHECK(engine::bdrv_pdiscard(nod, 0, 8192) == 0);
  CHECK(discards(g).empty());
}

TEST_CASE("discard fragments at pdiscard_alignment, with request_alignment pieces in the head and tail") {
  drivers::MemConfig cfg = Graph::fast();
  cfg.limits.request_alignment = 512;
  cfg.limits.pdiscard_alignment = 65536;
  cfg.limits.max_pdiscard = 131072;
  Graph g;
  auto& bs = g.mem("d", 1 << 20, cfg);
  bs.open_flags |= engine::BDRV_O_UNMAP;
  // 1000 .. 400100
  CHECK(engine::bdrv_pdiscard(bs, 1000, 399100) == 0);
  auto d = discards(g);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> expected = {
      {1000, 24},              // up to the next request_alignment boundary
      {1024, 64512},           // up to the next pdiscard_alignment boundary
      {65536, 131072},         // max_pdiscard
      {196608, 131072},        //
      {327680, 65536},         // the last aligned cluster
      {393216, 6656},          // tail: request-aligned part
      {399872, 228},           // and the unaligned rest
  };
  CHECK(d == expected);
  CHECK(bs.write_gen == 1);
  CHECK(g.idle(bs));
}

TEST_CASE("discard: -ENOTSUP from the driver is ignored, and other errors fail it") {
  Graph g;
  auto& file = g.mem("file", 2 << 20);
  auto& cow = g.cow("cow", 1 << 20, 65536, file);
  cow.open_flags |= engine::BDRV_O_UNMAP;
  // cow refuses partial clusters with -ENOTSUP: fine, the discard succeeds.
  CHECK(engine::bdrv_pdiscard(cow, 1000, 1000) == 0);
  CHECK(engine::bdrv_pdiscard(cow, 0, 65536) == 0);
  // A failing callback submission is -EIO.
  drivers::MemConfig cfg = Graph::fast();
  cfg.style = drivers::MemConfig::Style::kCallbacks;
  cfg.limits.request_alignment = 512;
  auto& cb = g.mem("cb", 65536, cfg);
  cb.open_flags |= engine::BDRV_O_UNMAP;
  CHECK(engine::bdrv_pdiscard(cb, 0, 4096) == 0);
  CHECK(g.mem_driver(1).discards() == 1);
  g.mem_driver(1).fail_next_submission();
  CHECK(engine::bdrv_pdiscard(cb, 0, 4096) == -EIO);
  CHECK(g.idle(cb));
}

TEST_CASE("discard updates write_gen and the dirty bitmap, and goes through the notifiers") {
  Graph g;
  auto& bs = g.mem("d", 1 << 20);
  auto& child = g.root(bs);
  bs.open_flags |= engine::BDRV_O_UNMAP;
  REQUIRE(g.write(child, 0, 65536, 0x66) == 0);
  auto& bitmap = engine::bdrv_create_dirty_bitmap(bs, 4096);
  int notified = 0;
  engine::bdrv_add_before_write_notifier(bs, [&](engine::BdrvTrackedRequest& req) -> sim::Task<int> {
    ++notified;
    co_return req.type == engine::TrackedType::kDiscard && req.offset == 8192 ? -EBUSY : 0;
  });
  CHECK(engine::bdrv_pdiscard(bs, 0, 4096) == 0);
  CHECK(notified == 1);
  CHECK(bs.write_gen == 2);
  CHECK(bitmap.get(0));
  CHECK(all_equal(g.read(child, 0, 4096), 0, 4096, 0));
  CHECK(engine::bdrv_pdiscard(bs, 8192, 4096) == -EBUSY);
  CHECK(bs.write_gen == 3);
  CHECK(all_equal(g.read(child, 8192, 4096), 0, 4096, 0x66));
}
