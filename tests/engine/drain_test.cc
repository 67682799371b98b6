// Behaviour 8: drain and drain-all. The first group transcribes QEMU's
// tests/test-bdrv-drain.c (drv_cb, quiesce, nested, blockjob, co_ and iothread
// variants) for the reference's semantics, which differ from later QEMU where
// noted: in the reference, draining a node also invokes its children's co_drain
// (later QEMU does that only for subtree drains), a node child's role drains its
// parent node (block.c's child_file/child_backing), and drain_all touches
// quiesce_counter only through those roles (later QEMU counts it on every node).
#include <catch2/catch.hpp>

#include <optional>

#include "engine/block_job.h"
#include "engine/drain.h"
#include "engine/fixes.h"
#include "engine/io.h"
#include "graph.h"

using testing::Graph;
using namespace engine;

namespace {

drivers::MemConfig probe() {
  drivers::MemConfig c = Graph::fast();
  c.drain_callback = true;
  c.latency = {100000, 100000};  // a request stays until drain polls for it
  return c;
}

// test-node (cow-like format: raw over a probe file) with a backing probe node.
struct DrainGraph {
  Graph g;
  BlockDriverState& backing = g.mem("backing", 65536, probe());
  BlockDriverState& bs = g.mem("test-node", 65536, probe());
  BdrvChild& blk;
  DrainGraph() : blk(g.root(bs)) { bs.attach_child("backing", backing, ChildRole::kBacking); }
  drivers::MemDriver& s() { return g.mem_driver(1); }
  drivers::MemDriver& backing_s() { return g.mem_driver(0); }
};

// A read submitted as a guest would (an aio request): returns the slot its result lands in.
int* start_read(Graph& g, BdrvChild& child, int& slot) {
  slot = -EINPROGRESS;
  auto body = [](BdrvChild& c, int& out) -> sim::Task<void> {
    std::vector<std::uint8_t> buf(512);
    IoVector q(absl::MakeSpan(buf));
    out = co_await bdrv_co_preadv(c, 0, 512, q, 0);
  };
  g.world.spawn(child.bs->aio_context(), "aio_preadv", body(child, slot));
  return &slot;
}

}  // namespace

TEST_CASE("test-bdrv-drain drv_cb_drain: the driver's co_drain runs, and drain waits for a pending request") {
  DrainGraph d;
  bdrv_drained_begin(d.bs);
  CHECK(d.s().drains() == 1);
  CHECK(d.backing_s().drains() == 1);  // reference: the recursion invokes children too
  bdrv_drained_end(d.bs);

  int aio_ret = 0;
  start_read(d.g, d.blk, aio_ret);
  d.g.world.poll(d.g.world.main_context(), false);  // the request starts and sleeps in the driver
  CHECK(aio_ret == -EINPROGRESS);
  bdrv_drained_begin(d.bs);
  CHECK(aio_ret == 0);
  CHECK(d.bs.in_flight == 0);
  CHECK(d.s().drains() == 2);
  bdrv_drained_end(d.bs);
}

TEST_CASE("test-bdrv-drain drv_cb_drain_all: every node's co_drain, and pending requests complete") {
  DrainGraph d;
  bdrv_drain_all_begin();
  // backing (the older node) goes first: its child role drains test-node, whose
  // recursion invokes both; then the polling pass drains backing, then test-node
  // and again backing through its recursion.
  CHECK(d.s().drains() == 2);
  CHECK(d.backing_s().drains() == 3);
  bdrv_drain_all_end();
  int aio_ret = 0;
  start_read(d.g, d.blk, aio_ret);
  d.g.world.poll(d.g.world.main_context(), false);
  bdrv_drain_all_begin();
  CHECK(aio_ret == 0);
  bdrv_drain_all_end();
  // bdrv_drain_all: the same, begin and end at once.
  start_read(d.g, d.blk, aio_ret);
  d.g.world.poll(d.g.world.main_context(), false);
  CHECK(aio_ret == -EINPROGRESS);
  bdrv_drain_all();
  CHECK(aio_ret == 0);
  CHECK_FALSE(d.g.world.main_context().external_disabled());
}

TEST_CASE("test-bdrv-drain quiesce_drain and quiesce_drain_all") {
  DrainGraph d;
  bdrv_drained_begin(d.bs);
  CHECK(d.bs.quiesce_counter == 1);
  CHECK(d.backing.quiesce_counter == 0);
  bdrv_drained_end(d.bs);
  CHECK(d.bs.quiesce_counter == 0);
  bdrv_drain_all_begin();
  // Reference: drain_all quiesces through parents and external sources only;
  // backing's parent is test-node, whose counter its child role raised (QEMU's
  // own test of the time left this case out: "drain_all doesn't quiesce").
  CHECK(d.bs.quiesce_counter == 1);
  CHECK(d.backing.quiesce_counter == 0);
  CHECK(d.g.world.main_context().external_disabled());
  bdrv_drain_all_end();
  CHECK_FALSE(d.g.world.main_context().external_disabled());
}

TEST_CASE("test-bdrv-drain nested: quiesce_counter nests, and external sources and parents see one section") {
  DrainGraph d;
  int begins = 0;
  int ends = 0;
  BdrvChildRole role{[&](BdrvChild&) { ++begins; }, [&](BdrvChild&) { ++ends; }};
  d.g.root(d.bs, &role);
  bdrv_drained_begin(d.bs);
  bdrv_drained_begin(d.bs);
  CHECK(d.bs.quiesce_counter == 2);
  CHECK(d.g.world.main_context().external_disable_count() == 1);
  CHECK(begins == 1);
  bdrv_drained_end(d.bs);
  CHECK(ends == 0);
  CHECK(d.g.world.main_context().external_disabled());
  bdrv_drained_end(d.bs);
  CHECK(ends == 1);
  CHECK(d.bs.quiesce_counter == 0);
  CHECK_FALSE(d.g.world.main_context().external_disabled());
  CHECK_THROWS_AS(bdrv_drained_end(d.bs), sim::InvariantViolation);
}

TEST_CASE("draining a backing node drains every node above it and tells the root user (block.c's child roles)") {
  DrainGraph d;
  int begins = 0;
  int ends = 0;
  BdrvChildRole role{[&](BdrvChild&) { ++begins; }, [&](BdrvChild&) { ++ends; }};
  d.g.root(d.bs, &role);
  bdrv_drained_begin(d.backing);
  CHECK(d.backing.quiesce_counter == 1);
  CHECK(d.bs.quiesce_counter == 1);  // child_backing's drained_begin drained the parent node
  CHECK(begins == 1);
  CHECK(d.s().drains() == 1);          // the parent's drain recursed through its subtree...
  CHECK(d.backing_s().drains() == 2);  // ...and the backing node drained itself as well
  bdrv_drained_end(d.backing);
  CHECK(d.bs.quiesce_counter == 0);
  CHECK(ends == 1);
  CHECK_FALSE(d.g.world.main_context().external_disabled());
}

namespace {
sim::Task<void> job_body(BlockJob& job, int& iterations, bool& cancelled) {
  while (!cancelled) {
    co_await sim::co_sleep_ns(10000, "job work");
    ++iterations;
    co_await job.pause_point();
  }
}
}  // namespace

TEST_CASE("test-bdrv-drain blockjob_drain_all: jobs pause while everything is drained and resume after") {
  DrainGraph d;
  BlockJob job("job0");
  int iterations = 0;
  bool cancelled = false;
  d.g.world.spawn(d.g.world.main_context(), "job", job_body(job, iterations, cancelled));
  d.g.world.run_until([&] { return iterations >= 2; });
  bdrv_drain_all_begin();
  CHECK(job.pause_count() == 1);
  d.g.world.run_until([&] { return job.paused(); });
  const int frozen = iterations;
  d.g.world.main_context().timer_add(200001, "let time pass", [] {});
  d.g.world.run_until([&] { return d.g.world.now_ns() > 200000; });
  REQUIRE(d.g.world.verdict().ok());
  CHECK(iterations == frozen);  // no progress while paused
  bdrv_drain_all_end();
  CHECK(job.pause_count() == 0);
  d.g.world.run_until([&] { return iterations > frozen; });
  CHECK_FALSE(job.paused());
  cancelled = true;
  d.g.world.run();
  INFO(d.g.world.verdict().message);
  for (const auto& line : d.g.world.verdict().details) UNSCOPED_INFO(line);
  CHECK(d.g.world.verdict().ok());
}

TEST_CASE("test-bdrv-drain blockjob_drain: a job attached to a node pauses through its parent role") {
  DrainGraph d;
  BlockJob job("job0");
  BdrvChildRole job_role{[&](BdrvChild&) { job.pause(); }, [&](BdrvChild&) { job.resume(); }};
  d.g.root(d.bs, &job_role);
  bdrv_drained_begin(d.bs);
  CHECK(job.pause_count() == 1);
  bdrv_drained_end(d.bs);
  CHECK(job.pause_count() == 0);
}

namespace {
sim::Task<void> co_drain_section(BlockDriverState& bs, int& quiesce_inside, bool& done) {
  co_await bdrv_co_drained_begin(bs);
  quiesce_inside = bs.quiesce_counter;
  bdrv_drained_end(bs);
  co_await bdrv_co_drain(bs);
  done = true;
}
}  // namespace

TEST_CASE("test-bdrv-drain co_drain: drained_begin from a coroutine goes through a bottom half") {
  DrainGraph d;
  int aio_ret = 0;
  start_read(d.g, d.blk, aio_ret);
  int quiesce_inside = 0;
  bool done = false;
  std::size_t bh = 0;
  d.g.world.trace().add_observer([&](const sim::Trace& t, const sim::TraceEvent& e) {
    if (e.kind == sim::EventKind::kBhRun && t.text(e.label) == "bdrv_co_drain_bh_cb") ++bh;
  });
  d.g.world.spawn(d.g.world.main_context(), "drainer", co_drain_section(d.bs, quiesce_inside, done));
  d.g.world.run();
  REQUIRE(d.g.world.verdict().ok());
  CHECK(done);
  CHECK(quiesce_inside == 1);
  CHECK(aio_ret == 0);
  CHECK(bh == 2);
  CHECK(d.bs.quiesce_counter == 0);
}

TEST_CASE("drained_begin with the polling API from inside a coroutine is a checked invariant") {
  DrainGraph d;
  auto body = [](BlockDriverState& bs) -> sim::Task<void> {
    bdrv_drained_begin(bs);
    co_return;
  };
  d.g.world.spawn(d.g.world.main_context(), "wrong", body(d.bs));
  d.g.world.run();
  REQUIRE(d.g.world.verdict().kind == sim::Verdict::Kind::kInvariant);
  CHECK(d.g.world.verdict().id == "drained_begin.not_in_coroutine");
}

TEST_CASE("test-bdrv-drain iothread: draining from the main loop waits for a request in an IOThread") {
  Graph g;
  sim::AioContext& io = g.world.new_context("iothread0");
  auto driver = std::make_unique<drivers::MemDriver>(65536, probe(), g.world.rng("latency"));
  BlockDriverState bs("io-node", io, *driver, 65536);
  bdrv_refresh_limits(bs);
  BdrvChild blk("root", bs, nullptr, ChildRole::kRoot);
  int aio_ret = 0;
  start_read(g, blk, aio_ret);
  bool drained = false;
  g.world.main_context().bh_schedule("main drains", [&] {
    bdrv_drained_begin(bs);
    drained = true;
    CHECK(aio_ret == 0);
    bdrv_drained_end(bs);
  });
  g.world.run();
  INFO(g.world.verdict().message);
  REQUIRE(g.world.verdict().ok());
  CHECK(drained);
  CHECK(io.external_disable_count() == 0);
  g.world.destroy_coroutines();
}

TEST_CASE("requests_pending looks at the whole subtree") {
  DrainGraph d;
  CHECK_FALSE(bdrv_requests_pending(d.bs));
  BdrvChild backing_user("user", d.backing, nullptr, ChildRole::kRoot);
  int aio_ret = 0;
  start_read(d.g, backing_user, aio_ret);
  d.g.world.poll(d.g.world.main_context(), false);
  CHECK(d.bs.in_flight == 0);
  CHECK(bdrv_requests_pending(d.bs));
  bdrv_drain(d.bs);
  CHECK_FALSE(bdrv_requests_pending(d.bs));
  CHECK(aio_ret == 0);
}

TEST_CASE("drain holds a reference on each child while it drains the child's subtree") {
  DrainGraph d;
  int seen_refcnt = 0;
  // The backing node's co_drain runs inside the recursion: its refcnt is raised then.
  d.g.world.trace().add_observer([&](const sim::Trace& t, const sim::TraceEvent& e) {
    if (e.kind == sim::EventKind::kCoCreate && t.text(e.label) == "bdrv_co_drain backing") seen_refcnt = d.backing.refcnt;
  });
  bdrv_drain(d.bs);
  CHECK(seen_refcnt == 2);
  CHECK(d.backing.refcnt == 1);
}

TEST_CASE("while drained, guest submissions (external sources) wait, and they run after drained_end") {
  DrainGraph d;
  bool guest_ran = false;
  bdrv_drained_begin(d.bs);
  d.g.world.main_context().external_schedule("guest", [&] { guest_ran = true; });
  d.g.world.run_until([&] { return d.g.world.now_ns() > 1000000; });
  d.g.world.main_context().timer_add(d.g.world.now_ns() + 10, "tick", [] {});
  d.g.world.run();
  CHECK_FALSE(guest_ran);
  bdrv_drained_end(d.bs);
  d.g.world.run();
  CHECK(guest_ran);
}

TEST_CASE("bdrv_set_backing_hd: a drained new backing drains its parent, and the parent leaving a drained node is told") {
  Graph g;
  BlockDriverState& base = g.mem("base", 65536, probe());
  BlockDriverState& top = g.mem("top", 65536, probe());
  const int base_refs = base.refcnt;
  bdrv_drained_begin(base);
  bdrv_set_backing_hd(top, &base);
  CHECK(top.backing != nullptr);
  CHECK(base.refcnt == base_refs + 1);
  CHECK(top.quiesce_counter == 1);  // child_backing's drained_begin, as bdrv_replace_child_noperm calls it
  BdrvChild* edge = top.backing;
  bdrv_set_backing_hd(top, nullptr);
  CHECK(top.backing == nullptr);
  CHECK(edge->detached);
  CHECK(top.quiesce_counter == 0);  // ...and drained_end when it leaves
  CHECK(base.refcnt == base_refs);
  CHECK(base.parents.empty());
  bdrv_drained_end(base);
}

TEST_CASE("a parent joining a node drained twice: told once in the reference, twice with nested-drain-parents' fix") {
  // bdrv_replace_child_noperm tells a joining edge one section; 0152bf400f,
  // which tells the parents every section, tells it quiesce_counter of them
  // (and a leaving edge as many ends), or a nested section's end would end
  // the joined parent's section early.
  for (const bool with_fix : {false, true}) {
    CAPTURE(with_fix);
    Graph g;
    BlockDriverState& base = g.mem("base", 65536, probe());
    BlockDriverState& top = g.mem("top", 65536, probe());
    std::optional<ScopedFix> fix;
    if (with_fix) fix.emplace(Fix::kNestedDrainParents);
    bdrv_drained_begin(base);
    bdrv_drained_begin(base);
    bdrv_set_backing_hd(top, &base);
    CHECK(top.quiesce_counter == (with_fix ? 2 : 1));
    bdrv_drained_end(base);
    // The reference's nested end tells nobody; the fix's tells top one end.
    CHECK(top.quiesce_counter == 1);
    bdrv_set_backing_hd(top, nullptr);
    CHECK(top.quiesce_counter == 0);
    bdrv_drained_end(base);
    CHECK(base.quiesce_counter == 0);
  }
}

namespace {
// top over file (newest, walked first) and backing; a read sleeps in file's
// driver, and a block job that finishes meanwhile defers to the main loop a
// completion that drops the backing (block_job_defer_to_main_loop). A bottom
// half already pending would run in top's own poll, before the walk starts.
struct GraphChangeDuringDrain {
  Graph g;
  BlockDriverState& backing = g.mem("backing", 65536, probe());
  BlockDriverState& file = g.mem("file", 65536, probe());
  BlockDriverState& top = g.mem("top", 65536, Graph::fast());
  int slot = 0;
  GraphChangeDuringDrain() {
    bdrv_set_backing_hd(top, &backing);
    top.attach_child("file", file, ChildRole::kFile);
    start_read(g, g.root(file), slot);
    g.world.poll(g.world.main_context(), false);
    auto job = [](BlockDriverState& node) -> sim::Task<void> {
      co_await sim::co_sleep_ns(50000, "job work");
      sim::World::current().main_context().bh_schedule("stream complete", [&node] { bdrv_set_backing_hd(node, nullptr); });
    };
    g.world.spawn(g.world.main_context(), "stream job", job(top));
  }
};
}  // namespace

TEST_CASE("with the later fix, a drain's walk of the children survives a graph change its polling runs") {
  GraphChangeDuringDrain d;
  ScopedFix fix(Fix::kDrainWalkGraphChange);
  bdrv_drained_begin(d.top);
  CHECK(d.top.backing == nullptr);
  CHECK(d.slot == 0);
  CHECK(d.file.in_flight == 0);
  bdrv_drained_end(d.top);
}

TEST_CASE("a graph change during a drain: the reference's walk of the children follows a detached edge, caught") {
  GraphChangeDuringDrain d;
  try {
    bdrv_drained_begin(d.top);  // polls inside file's recursion, which runs the bottom half
    FAIL("the detached next edge was followed unnoticed");
  } catch (const sim::InvariantViolation& e) {
    INFO(e.what());
    CHECK(e.id() == std::string("drain_recurse.next_child_attached"));
  }
}
