// Behaviour 2: reads.
#include <catch2/catch.hpp>

#include "engine/io.h"
#include "graph.h"

using testing::all_equal;
using testing::Graph;

TEST_CASE("read checks: too large is -EIO, no medium is -ENOMEDIUM, a negative offset is -EIO") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  auto& child = g.root(bs);
  int ret = 0;
  g.read(child, -512, 512, &ret);
  CHECK(ret == -EIO);
  CHECK(engine::bdrv_check_byte_request(bs, 0, static_cast<std::uint64_t>(engine::BDRV_REQUEST_MAX_BYTES) + 1) == -EIO);
  std::vector<std::uint8_t> buf(512);
  CHECK(engine::bdrv_read(child, 0, buf.data(), -1) == -EINVAL);
  CHECK(engine::bdrv_read(child, 0, buf.data(), 1) == 0);
  bs.eject();
  g.read(child, 0, 512, &ret);
  CHECK(ret == -ENOMEDIUM);
  CHECK(g.write(child, 0, 512, 1) == -ENOMEDIUM);
}

TEST_CASE("reads count in_flight while they run, and dec_in_flight kicks a waiting poller") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  auto& child = g.root(bs);
  unsigned during = 0;
  g.world.main_context().timer_add(50, "probe", [&] { during = bs.in_flight; });
  bs.wakeup = true;  // as if the main loop polled this node from another thread
  std::size_t wakeups = 0;
  g.world.trace().add_observer([&](const sim::Trace& t, const sim::TraceEvent& e) {
    if (e.kind == sim::EventKind::kBhRun && t.text(e.label) == "bdrv_wakeup") ++wakeups;
  });
  g.read(child, 0, 4096);
  bs.wakeup = false;
  g.world.run();  // the kick is a bottom half in the main loop
  CHECK(during == 1);
  CHECK(bs.in_flight == 0);
  CHECK(wakeups >= 1);
}

TEST_CASE("copy-on-read is a reference count, and disabling more than enabling is an invariant") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  engine::bdrv_enable_copy_on_read(bs);
  engine::bdrv_enable_copy_on_read(bs);
  engine::bdrv_disable_copy_on_read(bs);
  CHECK(bs.copy_on_read == 1);
  engine::bdrv_disable_copy_on_read(bs);
  CHECK(bs.copy_on_read == 0);
  CHECK_THROWS_AS(engine::bdrv_disable_copy_on_read(bs), sim::InvariantViolation);
}

namespace {
// A cow image over a backing node holding pattern 0x42 everywhere.
struct CorChain {
  Graph g;
  engine::BlockDriverState& base_file = g.mem("base-file", 2 << 20);
  engine::BlockDriverState& top_file = g.mem("top-file", 2 << 20);
  engine::BlockDriverState& base = g.raw("base", base_file);
  engine::BlockDriverState& top = g.cow("top", 1 << 20, 65536, top_file, &base);
  engine::BdrvChild& base_root = g.root(base);
  engine::BdrvChild& top_root = g.root(top);
  CorChain() {
    REQUIRE(g.write(base_root, 0, 1 << 20, 0x42) == 0);
    g.ops.clear();
  }
};
}  // namespace

TEST_CASE("copy-on-read copies whole clusters from the backing file into the image, once") {
  CorChain c;
  engine::bdrv_enable_copy_on_read(c.top);
  auto data = c.g.read(c.top_root, 70000, 1000);
  CHECK(all_equal(data, 0, 1000, 0x42));
  // The whole 64 KiB cluster around the read is now allocated in the image.
  CHECK(c.g.cow_driver().cluster_state(1) == drivers::CowFormat::State::kData);
  CHECK(c.g.cow_driver().cluster_state(0) == drivers::CowFormat::State::kUnallocated);
  std::int64_t pnum = 0;
  CHECK(engine::bdrv_is_allocated(c.top, 65536, 65536, &pnum) == 1);
  CHECK(pnum == 65536);
  // Reading again finds it allocated: no new copy.
  const auto allocations = c.g.cow_driver().allocations();
  c.g.read(c.top_root, 70000, 1000);
  CHECK(c.g.cow_driver().allocations() == allocations);
  // Copy-on-read never changes what the guest sees.
  engine::bdrv_disable_copy_on_read(c.top);
  CHECK(all_equal(c.g.read(c.top_root, 65536, 65536), 0, 65536, 0x42));
}

TEST_CASE("copy-on-read writes an all-zero cluster as a zero write") {
  Graph g;
  auto& base_file = g.mem("base-file", 2 << 20);
  auto& top_file = g.mem("top-file", 2 << 20);
  auto& base = g.raw("base", base_file);
  auto& top = g.cow("top", 1 << 20, 65536, top_file, &base);
  auto& top_root = g.root(top);
  engine::bdrv_enable_copy_on_read(top);
  CHECK(all_equal(g.read(top_root, 0, 4096), 0, 4096, 0));
  CHECK(g.cow_driver().cluster_state(0) == drivers::CowFormat::State::kZero);
  CHECK(g.count_ops("pwrite_zeroes", "top") == 1);
  CHECK(g.count_ops("pwritev", "top") == 0);
}

TEST_CASE("copy-on-read serialises on the cluster: an overlapping guest write waits for it") {
  std::size_t serialised = 0;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    Graph g(seed, "random");
    auto& base_file = g.mem("base-file", 2 << 20);
    auto& top_file = g.mem("top-file", 2 << 20);
    auto& base = g.raw("base", base_file);
    auto& top = g.cow("top", 1 << 20, 65536, top_file, &base);
    auto& base_root = g.root(base);
    auto& top_root = g.root(top);
    REQUIRE(g.write(base_root, 0, 131072, 0x42) == 0);
    engine::bdrv_enable_copy_on_read(top);
    std::vector<std::uint8_t> seen(512);
    auto reader = [](engine::BdrvChild& c, std::vector<std::uint8_t>& out) -> sim::Task<void> {
      engine::IoVector q(absl::MakeSpan(out));
      int ret = co_await engine::bdrv_co_preadv(c, 100, 512, q, 0);
      SIM_ASSERT(ret == 0, "read failed");
    };
    auto writer = [](engine::BdrvChild& c) -> sim::Task<void> {
      std::vector<std::uint8_t> buf(512, 0x77);
      engine::IoVector q(absl::MakeSpan(buf));
      int ret = co_await engine::bdrv_co_pwritev(c, 60000, 512, &q, 0);
      SIM_ASSERT(ret == 0, "write failed");
    };
    g.world.spawn(g.world.main_context(), "cor", reader(top_root, seen));
    g.world.spawn(g.world.main_context(), "guest", writer(top_root));
    g.world.run();
    INFO("seed " << seed << ": " << g.world.verdict().message);
    REQUIRE(g.world.verdict().ok());
    // Whatever the order, the guest's write survives and the read saw old data.
    CHECK(all_equal(g.read(top_root, 60000, 512), 0, 512, 0x77));
    CHECK(all_equal(seen, 0, 512, 0x42));
    if (g.count_waits("serialising") > 0) ++serialised;
  }
  CHECK(serialised > 0);
}

TEST_CASE("reads past the end of the node are zero-filled, and fragments obey max_transfer") {
  drivers::MemConfig cfg = Graph::fast();
  cfg.limits.max_transfer = 4096;
  Graph g;
  auto& bs = g.mem("d", 8192, cfg);
  auto& child = g.root(bs);
  REQUIRE(g.write(child, 0, 8192, 0x55) == 0);
  g.ops.clear();
  auto data = g.read(child, 0, 16384);
  CHECK(all_equal(data, 0, 8192, 0x55));
  CHECK(all_equal(data, 8192, 16384, 0));
  CHECK(g.count_ops("preadv") == 2);
}
