// Behaviour 1: tracked requests and serialisation.
#include <catch2/catch.hpp>

#include "engine/io.h"
#include "engine/io_internal.h"
#include "graph.h"

using testing::Graph;

// Trace names of the requests these tests track by hand.
namespace {
sim::TraceLabel kTestLabel("test");
sim::TraceLabel kLabelA("a");
sim::TraceLabel kLabelB("b");
sim::TraceLabel kLabelOuter("outer");
sim::TraceLabel kLabelNested("nested");
}  // namespace

TEST_CASE("tracked requests: begin and end keep the node's list, newest first") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  std::vector<std::uint64_t> seen;
  auto body = [](engine::BlockDriverState& node, std::vector<std::uint64_t>& out) -> sim::Task<void> {
    engine::BdrvTrackedRequest a;
    engine::BdrvTrackedRequest b;
    co_await engine::tracked_request_begin(a, node, 0, 512, engine::TrackedType::kRead, kTestLabel);
    co_await engine::tracked_request_begin(b, node, 512, 512, engine::TrackedType::kWrite, kTestLabel);
    for (auto* r = node.tracked_requests.head(); r != nullptr; r = r->list_next) out.push_back(r->id);
    CHECK(node.tracked_requests.size() == 2);
    co_await engine::tracked_request_end(a, 0);
    CHECK(node.tracked_requests.size() == 1);
    CHECK(node.tracked_requests.head() == &b);
    co_await engine::tracked_request_end(b, 0);
  };
  g.world.spawn(g.world.main_context(), "t", body(bs, seen));
  g.world.run();
  REQUIRE(g.world.verdict().ok());
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] > seen[1]);  // QLIST_INSERT_HEAD
  CHECK(bs.tracked_requests.empty());
}

TEST_CASE("mark_request_serialising widens the overlap window to the alignment and counts once") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  engine::BdrvTrackedRequest req;
  req.bs = &bs;
  req.offset = 5000;
  req.bytes = 100;
  req.overlap_offset = 5000;
  req.overlap_bytes = 100;
  engine::mark_request_serialising(req, 4096);
  CHECK(req.serialising);
  CHECK(req.overlap_offset == 4096);
  CHECK(req.overlap_bytes == 4096);
  CHECK(bs.serialising_in_flight == 1);
  engine::mark_request_serialising(req, 512);  // never narrows, counts once
  CHECK(req.overlap_offset == 4096);
  CHECK(req.overlap_bytes == 4096);
  CHECK(bs.serialising_in_flight == 1);
  engine::mark_request_serialising(req, 16384);
  CHECK(req.overlap_offset == 0);
  CHECK(req.overlap_bytes == 16384);
  bs.serialising_in_flight = 0;
}

TEST_CASE("tracked_request_overlaps: half-open ranges") {
  engine::BdrvTrackedRequest req;
  req.overlap_offset = 4096;
  req.overlap_bytes = 4096;
  CHECK_FALSE(engine::tracked_request_overlaps(req, 0, 4096));      // ends where req starts
  CHECK_FALSE(engine::tracked_request_overlaps(req, 8192, 512));    // starts where req ends
  CHECK(engine::tracked_request_overlaps(req, 4095, 2));
  CHECK(engine::tracked_request_overlaps(req, 8191, 1));
  CHECK(engine::tracked_request_overlaps(req, 0, 100000));
}

// QEMU builds with -fwrapv and so does blksim: a range that passes INT64_MAX
// wraps as the reference's does (known defect request-end-overflow).
TEST_CASE("a serialising range that ends past INT64_MAX wraps and overlaps nothing, as in the reference") {
  // A value known only at run time: clang refuses to fold a wrapping
  // constant expression (-Winteger-overflow), which is what is tested here.
  volatile std::int64_t near_max = INT64_MAX - 511;
  CHECK(engine::round_up(near_max, 4096) == INT64_MIN);         // ROUND_UP: by mask
  CHECK(engine::align_up(near_max, 4096) == INT64_MIN + 4096);  // QEMU_ALIGN_UP: by division
  CHECK(engine::round_up(5000, 4096) == engine::align_up(5000, 4096));  // the same below the wrap
  Graph g;
  auto& bs = g.mem("d", 65536);
  engine::BdrvTrackedRequest req;
  req.bs = &bs;
  req.offset = INT64_MAX - 1023;  // 2^63 - 1024: the write's own range ends below 2^63
  req.bytes = 512;
  req.overlap_offset = req.offset;
  req.overlap_bytes = 512;
  engine::mark_request_serialising(req, 4096);
  CHECK(req.overlap_offset == INT64_MAX - 4095);
  CHECK(req.overlap_bytes == 4096);  // ROUND_UP wrapped to INT64_MIN; the difference wraps back
  // Its end, overlap_offset + overlap_bytes, is INT64_MIN: every range starts
  // at or after it, so none overlaps; not even the request's own.
  CHECK_FALSE(engine::tracked_request_overlaps(req, req.offset, 512));
  CHECK_FALSE(engine::tracked_request_overlaps(req, INT64_MAX - 4095, 4096));
  // A block lower down is not affected.
  req.offset = req.overlap_offset = INT64_MAX - 8191;
  req.overlap_bytes = 512;
  engine::mark_request_serialising(req, 4096);
  CHECK(engine::tracked_request_overlaps(req, INT64_MAX - 8191 + 100, 1));
  bs.serialising_in_flight = 0;
}

namespace {
struct Pair {
  engine::BdrvTrackedRequest a;
  engine::BdrvTrackedRequest b;
  bool a_waited = false;
  bool b_waited = false;
  bool a_started = false;
};

sim::Task<void> first(engine::BlockDriverState& bs, Pair& p) {
  co_await engine::tracked_request_begin(p.a, bs, 0, 4096, engine::TrackedType::kWrite, kLabelA);
  engine::mark_request_serialising(p.a, 4096);
  p.a_started = true;
  co_await sim::co_sleep_ns(10);  // let b register
  p.a_waited = co_await engine::wait_serialising_requests(p.a);
  co_await engine::tracked_request_end(p.a, 0);
}

sim::Task<void> second(engine::BlockDriverState& bs, Pair& p) {
  co_await engine::tracked_request_begin(p.b, bs, 0, 4096, engine::TrackedType::kWrite, kLabelB);
  engine::mark_request_serialising(p.b, 4096);
  co_await sim::co_sleep_ns(20);  // a is waiting for us by now
  p.b_waited = co_await engine::wait_serialising_requests(p.b);
  co_await sim::co_sleep_ns(5);
  co_await engine::tracked_request_end(p.b, 0);
}
}  // namespace

TEST_CASE("wait_serialising_requests: the waiting_for escape lets a request go on instead of deadlocking") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  Pair p;
  g.world.spawn(g.world.main_context(), "a", first(bs, p));
  g.world.spawn(g.world.main_context(), "b", second(bs, p));
  g.world.run();
  INFO(g.world.verdict().message);
  REQUIRE(g.world.verdict().ok());
  // a waited for b; b saw that a already waits (a.waiting_for is set) and went on.
  CHECK(p.a_waited);
  CHECK_FALSE(p.b_waited);
  CHECK(g.count_waits("serialising") == 1);
  CHECK(bs.serialising_in_flight == 0);
}

TEST_CASE("wait_serialising_requests: nothing to wait for without serialising requests in flight") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  bool waited = true;
  auto body = [](engine::BlockDriverState& node, bool& w) -> sim::Task<void> {
    engine::BdrvTrackedRequest a;
    engine::BdrvTrackedRequest b;
    co_await engine::tracked_request_begin(a, node, 0, 4096, engine::TrackedType::kWrite, kLabelA);
    co_await engine::tracked_request_begin(b, node, 0, 4096, engine::TrackedType::kWrite, kLabelB);
    w = co_await engine::wait_serialising_requests(b);  // overlapping, but neither serialises
    co_await engine::tracked_request_end(b, 0);
    co_await engine::tracked_request_end(a, 0);
  };
  g.world.spawn(g.world.main_context(), "t", body(bs, waited));
  g.world.run();
  REQUIRE(g.world.verdict().ok());
  CHECK_FALSE(waited);
}

TEST_CASE("wait_serialising_requests: a request waiting for its own coroutine is a checked invariant") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  auto body = [](engine::BlockDriverState& node) -> sim::Task<void> {
    engine::BdrvTrackedRequest outer;
    engine::BdrvTrackedRequest nested;
    co_await engine::tracked_request_begin(outer, node, 0, 4096, engine::TrackedType::kWrite, kLabelOuter);
    engine::mark_request_serialising(outer, 4096);
    // A driver issuing a nested overlapping request on the same node.
    co_await engine::tracked_request_begin(nested, node, 0, 512, engine::TrackedType::kRead, kLabelNested);
    co_await engine::wait_serialising_requests(nested);
  };
  g.world.spawn(g.world.main_context(), "reentrant", body(bs));
  g.world.run();
  REQUIRE(g.world.verdict().kind == sim::Verdict::Kind::kInvariant);
  CHECK(g.world.verdict().id == "tracked.reentrant");
  CHECK(g.world.verdict().event_index > 0);
}

TEST_CASE("round_to_clusters and the cluster size come from the driver's info") {
  Graph g;
  auto& file = g.mem("file", 2 << 20);
  auto& cow = g.cow("cow", 1 << 20, 65536, file);
  std::int64_t off = 0;
  std::uint64_t bytes = 0;
  engine::bdrv_round_to_clusters(cow, 70000, 100, &off, &bytes);
  CHECK(off == 65536);
  CHECK(bytes == 65536);
  engine::bdrv_round_to_clusters(cow, 65000, 1000, &off, &bytes);
  CHECK(off == 0);
  CHECK(bytes == 131072);
  CHECK(engine::bdrv_get_cluster_size(cow) == 65536);
  // No driver info: the range itself, and request_alignment as the cluster size.
  engine::bdrv_round_to_clusters(file, 70000, 100, &off, &bytes);
  CHECK(off == 70000);
  CHECK(bytes == 100);
  CHECK(engine::bdrv_get_cluster_size(file) == 1);
}
