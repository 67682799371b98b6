// Behaviour 9: limits.
#include <catch2/catch.hpp>
#include <algorithm>

#include "engine/io.h"
#include "graph.h"

using testing::Graph;
using namespace engine;

TEST_CASE("refresh_limits: byte drivers align to 1, sector drivers to 512") {
  Graph g;
  auto& bytes = g.mem("bytes", 65536);
  drivers::MemConfig sectors = Graph::fast();
  sectors.style = drivers::MemConfig::Style::kSectors;
  auto& sec = g.mem("sectors", 65536, sectors);
  drivers::MemConfig callbacks = Graph::fast();
  callbacks.style = drivers::MemConfig::Style::kCallbacks;
  auto& cb = g.mem("callbacks", 65536, callbacks);
  CHECK(bytes.bl.request_alignment == 1);
  CHECK(sec.bl.request_alignment == 512);
  CHECK(cb.bl.request_alignment == 512);
  // Protocol defaults: memory alignment and the iovec limit.
  CHECK(bytes.bl.min_mem_alignment == 512);
  CHECK(bytes.bl.opt_mem_alignment == 4096);
  CHECK(bytes.bl.max_iov == 1024);
}

TEST_CASE("refresh_limits: merged from file and backing, then the driver overrides") {
  drivers::MemConfig small = Graph::fast();
  small.limits.max_transfer = 65536;
  small.limits.request_alignment = 4096;
  drivers::MemConfig smaller = Graph::fast();
  smaller.limits.max_transfer = 16384;
  Graph g;
  auto& file = g.mem("file", 2 << 20, small);
  auto& backing_file = g.mem("bfile", 1 << 20, smaller);
  auto& backing = g.raw("backing", backing_file);
  auto& top = g.cow("top", 1 << 20, 65536, file, &backing);
  // max_transfer: the smallest non-zero of file and backing.
  CHECK(top.bl.max_transfer == 16384);
  // request_alignment is not merged: cow is a byte driver.
  CHECK(top.bl.request_alignment == 1);
  // The driver's own refresh: zeroes and discards on whole clusters.
  CHECK(top.bl.pwrite_zeroes_alignment == 65536);
  CHECK(top.bl.pdiscard_alignment == 65536);
  // Memory alignment: the largest of the children.
  CHECK(top.bl.min_mem_alignment == 512);
  CHECK(top.bl.opt_mem_alignment == 4096);
  // An ejected node refreshes to nothing.
  file.eject();
  bdrv_refresh_limits(file);
  CHECK(file.bl.request_alignment == 0);
}

TEST_CASE("max_transfer caps every driver request, and a write larger than it is fragmented") {
  drivers::MemConfig cfg = Graph::fast();
  cfg.limits.request_alignment = 512;
  cfg.limits.max_transfer = 3000;  // rounded down to the alignment: 2560
  Graph g;
  auto& bs = g.mem("d", 65536, cfg);
  auto& child = g.root(bs);
  REQUIRE(g.write(child, 0, 8192, 1) == 0);
  std::vector<std::uint64_t> sizes;
  for (const auto& o : g.ops) sizes.push_back(o.bytes);
  CHECK(sizes == std::vector<std::uint64_t>{2560, 2560, 2560, 512});
}

TEST_CASE("memory helpers: alignment of an ejected node, and the qiov alignment check") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  CHECK(bdrv_opt_mem_align(bs) == 4096);
  CHECK(bdrv_min_mem_align(bs) == 512);
  alignas(4096) static std::uint8_t buffer[8192];
  IoVector aligned(absl::MakeSpan(buffer, 4096));
  CHECK(bdrv_qiov_is_aligned(bs, aligned));
  IoVector odd_length(absl::MakeSpan(buffer, 100));
  CHECK_FALSE(bdrv_qiov_is_aligned(bs, odd_length));
  IoVector odd_address(absl::MakeSpan(buffer + 1, 512));
  CHECK_FALSE(bdrv_qiov_is_aligned(bs, odd_address));
  bs.eject();
  CHECK(bdrv_opt_mem_align(bs) == 4096);
  CHECK(bdrv_min_mem_align(bs) == 4096);
}

TEST_CASE("qemu_blockalign and friends: aligned to the node's memory alignment, zeroed on request") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  BlockBuffer b = qemu_blockalign(bs, 1000);
  REQUIRE(b);
  CHECK(b.size() == 1000);
  CHECK(reinterpret_cast<std::uintptr_t>(b.data()) % bdrv_opt_mem_align(bs) == 0);
  BlockBuffer z = qemu_blockalign0(bs, 3000);
  CHECK(std::all_of(z.data(), z.data() + 3000, [](std::uint8_t c) { return c == 0; }));
  BlockBuffer t = qemu_try_blockalign(bs, 0);  // never empty on success
  REQUIRE(t);
  CHECK(t.size() == bdrv_opt_mem_align(bs));
  BlockBuffer tz = qemu_try_blockalign0(bs, 10);
  REQUIRE(tz);
  CHECK(tz.data()[9] == 0);
  BlockBuffer moved = std::move(b);
  CHECK(moved.size() == 1000);
  CHECK_FALSE(b);
  // Fresh memory holds the poison, never whatever the allocator left.
  CHECK(std::all_of(moved.data(), moved.data() + 1000, [](std::uint8_t c) { return c == kFreshMemoryPoison; }));
}

TEST_CASE("an allocation limit: qemu_try_blockalign fails above it (traced as the node's -ENOMEM), qemu_blockalign aborts") {
  Graph g(0, "fifo", 8192);
  auto& bs = g.mem("d", 65536);
  int faults = 0;
  g.world.trace().add_observer([&faults](const sim::Trace& t, const sim::TraceEvent& e) {
    if (e.kind == sim::EventKind::kFaultFired && e.d == -ENOMEM && t.text(e.label) == "out of memory") ++faults;
  });
  CHECK(qemu_try_blockalign(bs, 8192));
  CHECK(faults == 0);
  CHECK_FALSE(qemu_try_blockalign(bs, 8193));
  CHECK_FALSE(qemu_try_blockalign0(bs, 65536));
  CHECK(faults == 2);
  CHECK_THROWS_AS(qemu_blockalign(bs, 8193), sim::InvariantViolation);
}
