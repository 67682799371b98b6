// Behaviour 7: block status.
#include <catch2/catch.hpp>

#include "engine/io.h"
#include "graph.h"

using testing::Graph;
using testing::all_equal;
using namespace engine;

namespace {
std::int64_t status(BlockDriverState& bs, std::int64_t sector, int nb, int* pnum, BlockDriverState** file) {
  return bdrv_get_block_status(bs, sector, nb, pnum, file);
}
}  // namespace

TEST_CASE("block status at and past the end is EOF with pnum 0, and nb_sectors 0 is empty") {
  Graph g;
  auto& bs = g.mem("d", 65536);  // 128 sectors
  int pnum = -1;
  BlockDriverState* file = nullptr;
  CHECK(status(bs, 128, 10, &pnum, &file) == BDRV_BLOCK_EOF);
  CHECK(pnum == 0);
  CHECK(status(bs, 5, 0, &pnum, &file) == 0);
  CHECK(pnum == 0);
}

TEST_CASE("a driver without block status reports allocated data, and a protocol driver an offset in itself") {
  drivers::MemConfig cfg = Graph::fast();
  cfg.block_status = false;
  Graph g;
  auto& bs = g.mem("d", 65536, cfg);
  int pnum = 0;
  BlockDriverState* file = nullptr;
  std::int64_t ret = status(bs, 10, 1000, &pnum, &file);
  CHECK(pnum == 118);  // clamped to the end
  CHECK(ret == (BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_EOF | BDRV_BLOCK_OFFSET_VALID | (10 * 512)));
  CHECK(file == &bs);
}

TEST_CASE("protocol block status: data and holes, ALLOCATED for both, EOF when the answer reaches the end") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  auto& child = g.root(bs);
  REQUIRE(g.write(child, 4096, 4096, 1) == 0);
  int pnum = 0;
  BlockDriverState* file = nullptr;
  std::int64_t ret = status(bs, 0, 128, &pnum, &file);
  CHECK(pnum == 8);
  CHECK((ret & BDRV_BLOCK_ZERO) != 0);
  CHECK((ret & BDRV_BLOCK_ALLOCATED) != 0);
  CHECK((ret & BDRV_BLOCK_EOF) == 0);
  ret = status(bs, 8, 120, &pnum, &file);
  CHECK(pnum == 8);
  CHECK((ret & BDRV_BLOCK_DATA) != 0);
  CHECK((ret & BDRV_BLOCK_OFFSET_MASK) == 4096);
  ret = status(bs, 16, 112, &pnum, &file);
  CHECK(pnum == 112);
  CHECK((ret & BDRV_BLOCK_EOF) != 0);
}

TEST_CASE("the RAW recursion: a raw format answers with its file's status") {
  Graph g;
  auto& file = g.mem("file", 65536);
  auto& raw = g.raw("raw", file);
  auto& child = g.root(raw);
  REQUIRE(g.write(child, 0, 1024, 1) == 0);
  int pnum = 0;
  BlockDriverState* where = nullptr;
  std::int64_t ret = status(raw, 0, 128, &pnum, &where);
  CHECK(where == &file);
  CHECK(pnum == 2);
  CHECK((ret & BDRV_BLOCK_DATA) != 0);
  CHECK((ret & BDRV_BLOCK_RAW) == 0);
}

namespace {
// base (raw over mem, 256 KiB) <- mid (cow, 512 KiB) <- top (cow, 512 KiB)
struct Chain {
  Graph g;
  BlockDriverState& base_file = g.mem("base-file", 262144);
  BlockDriverState& mid_file = g.mem("mid-file", 2 << 20);
  BlockDriverState& top_file = g.mem("top-file", 2 << 20);
  BlockDriverState& base = g.raw("base", base_file);
  BlockDriverState& mid = g.cow("mid", 524288, 65536, mid_file, &base);
  BlockDriverState& top = g.cow("top", 524288, 65536, top_file, &mid);
  BdrvChild& base_root = g.root(base);
  BdrvChild& mid_root = g.root(mid);
  BdrvChild& top_root = g.root(top);
};
}  // namespace

TEST_CASE("cow block status: unallocated, zero, and data refined through the file layer") {
  Chain c;
  REQUIRE(c.g.write(c.top_root, 0, 65536, 0x11) == 0);        // cluster 0: data
  REQUIRE(bdrv_pwrite_zeroes(c.top_root, 131072, 65536, 0) == 0);  // cluster 2: zero
  int pnum = 0;
  BlockDriverState* file = nullptr;
  std::int64_t ret = bdrv_get_block_status_above(c.top, &c.mid, 0, 1024, &pnum, &file);
  CHECK((ret & (BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_OFFSET_VALID)) ==
        (BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED | BDRV_BLOCK_OFFSET_VALID));
  CHECK(file == &c.top_file);
  CHECK(pnum == 128);
  ret = bdrv_get_block_status_above(c.top, &c.mid, 128, 128, &pnum, &file);
  CHECK(ret == 0);  // unallocated, with a backing file: not zero
  ret = bdrv_get_block_status_above(c.top, &c.mid, 256, 128, &pnum, &file);
  CHECK(ret == (BDRV_BLOCK_ZERO | BDRV_BLOCK_ALLOCATED));
}

TEST_CASE("unallocated is zero without a backing file") {
  Graph g;
  auto& file = g.mem("file", 2 << 20);
  auto& solo = g.cow("solo", 524288, 65536, file);
  int pnum = 0;
  BlockDriverState* where = nullptr;
  CHECK((bdrv_get_block_status(solo, 0, 128, &pnum, &where) & BDRV_BLOCK_ZERO) != 0);
}

TEST_CASE("unallocated past the end of a shorter backing file is zero") {
  int pnum = 0;
  BlockDriverState* where = nullptr;
  Chain c;
  // mid is 512 KiB over a 256 KiB base: sectors from 512 on are past the backing file.
  CHECK((bdrv_get_block_status_above(c.mid, &c.base, 512, 128, &pnum, &where) & BDRV_BLOCK_ZERO) != 0);
  CHECK((bdrv_get_block_status_above(c.mid, &c.base, 0, 128, &pnum, &where) & BDRV_BLOCK_ZERO) == 0);
}

TEST_CASE("data in the format over a hole in the file is refined to ZERO") {
  Graph g;
  auto& file = g.mem("file", 2 << 20);
  auto& cow = g.cow("cow", 524288, 65536, file);
  auto& child = g.root(cow);
  REQUIRE(g.write(child, 0, 65536, 0x21) == 0);
  int pnum = 0;
  BlockDriverState* where = nullptr;
  std::int64_t ret = bdrv_get_block_status(cow, 0, 128, &pnum, &where);
  REQUIRE(where == &file);
  const std::int64_t host = ret & BDRV_BLOCK_OFFSET_MASK;  // after the header and table
  CHECK(host == 131072);
  // Punch the host cluster in the file: the format still says data; the file says zero.
  file.open_flags |= BDRV_O_UNMAP;
  REQUIRE(bdrv_pdiscard(file, host, 65536) == 0);
  ret = bdrv_get_block_status(cow, 0, 128, &pnum, &where);
  CHECK((ret & BDRV_BLOCK_DATA) != 0);
  CHECK((ret & BDRV_BLOCK_ZERO) != 0);
}

TEST_CASE("status above a base walks the backing chain") {
  Chain c;
  REQUIRE(c.g.write(c.base_root, 0, 262144, 0x01) == 0);
  REQUIRE(c.g.write(c.mid_root, 65536, 65536, 0x02) == 0);
  int pnum = 0;
  BlockDriverState* file = nullptr;
  // Above base: cluster 0 is unallocated in top and mid.
  std::int64_t ret = bdrv_get_block_status_above(c.top, &c.base, 0, 1024, &pnum, &file);
  CHECK((ret & BDRV_BLOCK_ALLOCATED) == 0);
  CHECK(pnum == 128);
  // Cluster 1 is allocated in mid.
  ret = bdrv_get_block_status_above(c.top, &c.base, 128, 1024, &pnum, &file);
  CHECK((ret & BDRV_BLOCK_DATA) != 0);
  CHECK(file == &c.mid_file);
  // Down to the bottom: base's data.
  ret = bdrv_get_block_status_above(c.top, nullptr, 0, 128, &pnum, &file);
  CHECK((ret & BDRV_BLOCK_DATA) != 0);
  CHECK(file == &c.base_file);
}

TEST_CASE("is_allocated and is_allocated_above follow the reference's pnum rules") {
  Chain c;
  REQUIRE(c.g.write(c.mid_root, 65536, 65536, 0x02) == 0);
  std::int64_t pnum = 0;
  CHECK(bdrv_is_allocated(c.top, 0, 262144, &pnum) == 0);
  CHECK(pnum == 262144);  // one unallocated run (cow merges clusters of one state)
  CHECK(bdrv_is_allocated(c.mid, 65536, 65536, &pnum) == 1);
  CHECK(pnum == 65536);
  CHECK(bdrv_is_allocated_above(c.top, &c.base, 0, 262144, &pnum) == 0);
  CHECK(pnum == 65536);  // limited by mid's unallocated prefix
  CHECK(bdrv_is_allocated_above(c.top, &c.base, 65536, 4096, &pnum) == 1);
  CHECK(pnum == 4096);
  CHECK(bdrv_is_allocated_above(c.top, nullptr, 0, 4096, &pnum) == 1);  // base has no block status: allocated
  // Past the end of the shorter base, mid's unallocated length is not shortened by base.
  CHECK(bdrv_is_allocated_above(c.mid, nullptr, 327680, 65536, &pnum) == 0);
  CHECK(pnum == 65536);
}

TEST_CASE("is_allocated_above outside a coroutine polls once per layer, inside it runs in the caller's coroutine") {
  Chain c;
  REQUIRE(c.g.write(c.mid_root, 65536, 65536, 0x02) == 0);
  std::vector<std::string> created;
  c.g.world.trace().add_observer([&created](const sim::Trace& trace, const sim::TraceEvent& e) {
    if (e.kind == sim::EventKind::kCoCreate) created.emplace_back(trace.text(e.label));
  });
  std::int64_t pnum = 0;
  // Unallocated in top and mid, down to base: one block-status coroutine per layer asked.
  CHECK(bdrv_is_allocated_above(c.top, &c.base, 0, 4096, &pnum) == 0);
  CHECK(created == std::vector<std::string>{"bdrv_get_block_status_above", "bdrv_get_block_status_above"});
  created.clear();
  int inside = -1;
  std::int64_t inside_pnum = 0;
  auto body = [](Chain& chain, int& out, std::int64_t& n) -> sim::Task<void> {
    out = co_await in_coroutine::bdrv_is_allocated_above(chain.top, &chain.base, 65536, 4096, &n);
  };
  c.g.world.spawn(c.g.world.main_context(), "caller", body(c, inside, inside_pnum));
  c.g.world.run();
  CHECK(inside == 1);
  CHECK(inside_pnum == 4096);
  CHECK(created == std::vector<std::string>{"caller"});
}

TEST_CASE("sync wrappers from a coroutine: the reference's fast path, same vectors and byte counts") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  auto& child = g.root(bs);
  std::vector<std::uint8_t> out(4096, 0x3c);
  std::vector<std::uint8_t> in(4096, 0);
  std::vector<int> results;
  auto body = [&]() -> sim::Task<void> {
    results.push_back(co_await in_coroutine::bdrv_pwrite(child, 0, out.data(), 4096));
    results.push_back(co_await in_coroutine::bdrv_pread(child, 0, in.data(), 4096));
    results.push_back(co_await in_coroutine::bdrv_pwrite_zeroes(child, 0, 512));
    results.push_back(co_await in_coroutine::bdrv_pwrite_sync(child, 512, out.data(), 512));
    results.push_back(co_await in_coroutine::bdrv_flush(bs));
    results.push_back(co_await in_coroutine::bdrv_pread(child, 0, in.data(), -1));
  };
  g.world.spawn(g.world.main_context(), "caller", body());
  g.world.run();
  CHECK(results == std::vector<int>{4096, 4096, 0, 0, 0, -EINVAL});
  CHECK(all_equal(in, 0, 4096, 0x3c));
  CHECK(all_equal(g.read(child, 0, 1024), 0, 512, 0));
  CHECK(all_equal(g.read(child, 0, 1024), 512, 1024, 0x3c));
}
