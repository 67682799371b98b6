// Behaviour 3: writes.
#include <catch2/catch.hpp>

#include "engine/io.h"
#include "graph.h"

using testing::all_equal;
using testing::Graph;

TEST_CASE("writes to a read-only node fail with -EPERM and reach nothing") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  auto& child = g.root(bs);
  bs.read_only = true;
  CHECK(g.write(child, 0, 512, 1) == -EPERM);
  CHECK(g.count_ops("pwritev") == 0);
  CHECK(bs.write_gen == 0);
}

TEST_CASE("a before-write notifier sees each write and can fail it before the driver") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  auto& child = g.root(bs);
  std::vector<std::pair<std::int64_t, std::uint64_t>> seen;
  engine::bdrv_add_before_write_notifier(bs, [&](engine::BdrvTrackedRequest& req) -> sim::Task<int> {
    seen.emplace_back(req.offset, req.bytes);
    co_return req.offset >= 8192 ? -EACCES : 0;
  });
  CHECK(g.write(child, 0, 4096, 1) == 0);
  CHECK(g.write(child, 8192, 512, 2) == -EACCES);
  REQUIRE(seen.size() == 2);
  CHECK(seen[1] == std::make_pair(std::int64_t{8192}, std::uint64_t{512}));
  CHECK(g.count_ops("pwritev") == 1);
  // The failed write still counts: it bumps write_gen and dirties its range.
  CHECK(bs.write_gen == 2);
  CHECK(g.idle(bs));
}

TEST_CASE("before-write notifiers run newest first, and one added while another yields waits for the next write") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  auto& child = g.root(bs);
  std::vector<std::string> ran;
  engine::bdrv_add_before_write_notifier(bs, [&](engine::BdrvTrackedRequest&) -> sim::Task<int> {
    ran.push_back("first");
    co_return 0;
  });
  bool added = false;
  engine::bdrv_add_before_write_notifier(bs, [&](engine::BdrvTrackedRequest&) -> sim::Task<int> {
    ran.push_back("second");
    if (!added) {
      added = true;
      // notifier_with_return_list_add inserts at the head: behind this walk.
      engine::bdrv_add_before_write_notifier(bs, [&](engine::BdrvTrackedRequest&) -> sim::Task<int> {
        ran.push_back("third");
        co_return 0;
      });
      co_await sim::co_sleep_ns(10);
    }
    co_return 0;
  });
  CHECK(g.write(child, 0, 512, 1) == 0);
  CHECK(ran == std::vector<std::string>{"second", "first"});
  ran.clear();
  CHECK(g.write(child, 0, 512, 2) == 0);
  CHECK(ran == std::vector<std::string>{"third", "second", "first"});
}

TEST_CASE("detect-zeroes turns a write of zeroes into a zero write, with MAY_UNMAP for unmap") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  auto& child = g.root(bs);
  CHECK(g.write(child, 0, 4096, 0) == 0);  // off: an ordinary write
  CHECK(g.count_ops("pwritev") == 1);
  bs.detect_zeroes = engine::DetectZeroes::kOn;
  CHECK(g.write(child, 4096, 4096, 0) == 0);
  CHECK(g.count_ops("pwrite_zeroes") == 1);
  CHECK((g.mem_driver().last_zero_flags() & engine::BDRV_REQ_MAY_UNMAP) == 0);
  CHECK(g.write(child, 4096, 4096, 7) == 0);  // not zeroes: written
  CHECK(g.count_ops("pwritev") == 2);
  bs.detect_zeroes = engine::DetectZeroes::kUnmap;
  bs.supported_zero_flags = engine::BDRV_REQ_MAY_UNMAP;
  CHECK(g.write(child, 8192, 4096, 0) == 0);
  CHECK(g.count_ops("pwrite_zeroes") == 2);
  CHECK((g.mem_driver().last_zero_flags() & engine::BDRV_REQ_MAY_UNMAP) != 0);
}

TEST_CASE("detect-zeroes needs the driver's write-zeroes") {
  drivers::MemConfig cfg = Graph::fast();
  cfg.write_zeroes = false;
  Graph g;
  auto& bs = g.mem("d", 65536, cfg);
  auto& child = g.root(bs);
  bs.detect_zeroes = engine::DetectZeroes::kOn;
  CHECK(g.write(child, 0, 4096, 0) == 0);
  CHECK(g.count_ops("pwritev") == 1);
  CHECK(g.count_ops("pwrite_zeroes") == 0);
}

TEST_CASE("compressed writes: -ENOTSUP without driver support, else the compressed path") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  auto& child = g.root(bs);
  CHECK(g.write(child, 0, 4096, 1, engine::BDRV_REQ_WRITE_COMPRESSED) == -ENOTSUP);
  drivers::MemConfig cfg = Graph::fast();
  cfg.compressed = true;
  auto& cbs = g.mem("c", 65536, cfg);
  auto& cchild = g.root(cbs);
  CHECK(g.write(cchild, 0, 4096, 9, engine::BDRV_REQ_WRITE_COMPRESSED) == 0);
  CHECK(g.mem_driver(1).compressed_writes() == 1);
  CHECK(all_equal(g.read(cchild, 0, 4096), 0, 4096, 9));
}

TEST_CASE("every write bumps write_gen, dirties its range, raises wr_highest_offset and grows the node") {
  Graph g;
  auto& bs = g.mem("d", 1 << 20);
  auto& child = g.root(bs);
  auto& bitmap = engine::bdrv_create_dirty_bitmap(bs, 65536);
  bs.total_sectors = 8;  // the node believes it is 4 KiB; the medium is larger
  CHECK(g.write(child, 200000, 1000, 3) == 0);
  CHECK(bs.write_gen == 1);
  CHECK(bitmap.get(196608));
  CHECK_FALSE(bitmap.get(0));
  CHECK(bitmap.count() == 1);
  CHECK(bs.wr_highest_offset == 201000);
  CHECK(bs.total_sectors == (201000 + 511) / 512);
  CHECK(g.write(child, 0, 512, 3) == 0);
  CHECK(bs.wr_highest_offset == 201000);  // a maximum, never lowered
  CHECK(bitmap.count() == 2);
}

TEST_CASE("a read-only dirty bitmap forbids writes and discards with -EPERM") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  auto& child = g.root(bs);
  engine::bdrv_create_dirty_bitmap(bs, 4096).readonly = true;
  CHECK(g.write(child, 0, 4096, 1) == -EPERM);
  bs.open_flags |= engine::BDRV_O_UNMAP;
  CHECK(engine::bdrv_pdiscard(bs, 0, 4096) == -EPERM);
  CHECK(g.count_ops("pwritev") == 0);
}

TEST_CASE("a write to an inactive node is a checked invariant") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  auto& child = g.root(bs);
  bs.open_flags |= engine::BDRV_O_INACTIVE;
  auto body = [](engine::BdrvChild& c) -> sim::Task<void> {
    std::vector<std::uint8_t> buf(512, 1);
    engine::IoVector q(absl::MakeSpan(buf));
    co_await engine::bdrv_co_pwritev(c, 0, 512, &q, 0);
  };
  g.world.spawn(g.world.main_context(), "w", body(child));
  g.world.run();
  REQUIRE(g.world.verdict().kind == sim::Verdict::Kind::kInvariant);
  CHECK(g.world.verdict().id == "co_pwritev.active");
}

TEST_CASE("sector-based writes: -EINVAL for a bad sector count, else byte requests") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  auto& child = g.root(bs);
  std::vector<std::uint8_t> buf(1024, 0x31);
  CHECK(engine::bdrv_write(child, 2, buf.data(), -3) == -EINVAL);
  CHECK(engine::bdrv_write(child, 2, buf.data(), 2) == 0);
  std::vector<std::uint8_t> back(1024, 0);
  CHECK(engine::bdrv_read(child, 2, back.data(), 2) == 0);
  CHECK(back == buf);
  CHECK(engine::bdrv_pwrite(child, 0, buf.data(), -1) == -EINVAL);
  CHECK(engine::bdrv_pread(child, 0, back.data(), -1) == -EINVAL);
  CHECK(engine::bdrv_pwrite(child, 100, buf.data(), 10) == 10);
  CHECK(engine::bdrv_pread(child, 100, back.data(), 10) == 10);
}
