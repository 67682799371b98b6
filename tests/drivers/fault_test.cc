// The fault driver: blkdebug's rules, the extensions, latencies, breakpoints, limits.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include "engine/io.h"
#include "engine/io_internal.h"
#include "drivers/null_driver.h"
#include "engine/graph.h"

using drivers::FaultConfig;
using drivers::FaultRule;
using drivers::IoKind;
using engine::BlkdebugEvent;
using testing::Graph;

namespace {
FaultRule inject(BlkdebugEvent ev, int error = EIO) {
  FaultRule r;
  r.event = ev;
  r.error = error;
  return r;
}

struct FaultNode {
  Graph g;
  engine::BlockDriverState& file;
  engine::BlockDriverState& bs;
  engine::BdrvChild& child;
  std::vector<std::string> fired;
  explicit FaultNode(FaultConfig cfg, std::uint64_t seed = 0)
      : g(seed), file(g.mem("file", 2 << 20)), bs(g.fault("fault", file, std::move(cfg))), child(g.root(bs)) {
    g.world.trace().add_observer([this](const sim::Trace& t, const sim::TraceEvent& e) {
      if (e.kind == sim::EventKind::kFaultFired) fired.emplace_back(t.text(e.label));
    });
  }
};
}  // namespace

TEST_CASE("inject-error: the request after the event fails with the rule's errno, until the rule is removed") {
  FaultConfig cfg;
  cfg.rules.push_back(inject(BlkdebugEvent::kWriteAio, ENOSPC));
  FaultNode n(cfg);
  CHECK(n.g.write(n.child, 0, 4096, 1) == -ENOSPC);
  CHECK(n.g.write(n.child, 0, 4096, 1) == -ENOSPC);  // not once: stays active
  // As in blkdebug, an active rule without a kind hits every following request,
  // reads included, until an event with inject-error rules replaces the active set.
  int ret = 0;
  n.g.read(n.child, 0, 512, &ret);
  CHECK(ret == -ENOSPC);
  CHECK(n.fired.size() == 3);
  CHECK(n.fired[0] == "inject-error event=write_aio errno=-ENOSPC");
}

TEST_CASE("inject-error once: fails one request, then the rule is gone") {
  FaultConfig cfg;
  FaultRule r = inject(BlkdebugEvent::kWriteAio);
  r.once = true;
  cfg.rules.push_back(r);
  FaultNode n(cfg);
  CHECK(n.g.write(n.child, 0, 512, 1) == -EIO);
  CHECK(n.g.write(n.child, 0, 512, 1) == 0);
  CHECK(n.g.fault_driver().rules_left() == 0);
  CHECK(n.g.fault_driver().faults_fired() == 1);
}

TEST_CASE("inject-error matches a byte offset: only requests covering it fail") {
  FaultConfig cfg;
  FaultRule r = inject(BlkdebugEvent::kWriteAio);
  r.offset = 8192 + 17;  // blkdebug's sector=16 would be 8192
  cfg.rules.push_back(r);
  FaultNode n(cfg);
  CHECK(n.g.write(n.child, 0, 8192, 1) == 0);
  CHECK(n.g.write(n.child, 8192, 512, 1) == -EIO);
  CHECK(n.g.write(n.child, 8192 + 18, 100, 1) == 0);
}

TEST_CASE("inject-error on an engine event: pwritev_rmw_head fails only read-modify-write requests") {
  FaultConfig cfg;
  cfg.align = 4096;
  FaultRule r = inject(BlkdebugEvent::kPwritevRmwHead);
  r.once = true;
  cfg.rules.push_back(r);
  FaultNode n(cfg);
  CHECK(n.g.write(n.child, 0, 4096, 1) == 0);      // aligned: no RMW
  CHECK(n.g.write(n.child, 100, 4096, 1) == -EIO);  // the RMW head read fails
  CHECK(n.g.write(n.child, 100, 4096, 1) == 0);
}

TEST_CASE("immediately fails before the latency, and otherwise after a loop iteration") {
  FaultConfig a;
  FaultRule r = inject(BlkdebugEvent::kWriteAio);
  r.immediately = true;
  a.rules.push_back(r);
  a.latency[static_cast<int>(IoKind::kWrite)] = {drivers::LatencyModel::Kind::kFixed, 0, 0, 2};
  FaultNode n(a);
  CHECK(n.g.write(n.child, 0, 512, 1) == -EIO);
  std::size_t fault_completions = 0;
  for (const auto& w : n.g.waits) fault_completions += w == "fault completion" ? 1 : 0;
  CHECK(fault_completions == 0);
}

TEST_CASE("set-state and state-bound rules: a rule fires only in its state") {
  FaultConfig cfg;
  FaultRule to2;
  to2.action = FaultRule::Action::kSetState;
  to2.event = BlkdebugEvent::kFlushToDisk;
  to2.state = 1;
  to2.new_state = 2;
  cfg.rules.push_back(to2);
  FaultRule in2 = inject(BlkdebugEvent::kWriteAio);
  in2.state = 2;
  cfg.rules.push_back(in2);
  FaultNode n(cfg);
  CHECK(n.g.write(n.child, 0, 512, 1) == 0);  // state 1
  CHECK(n.g.fault_driver().state() == 1);
  CHECK(engine::bdrv_flush(n.bs) == 0);
  CHECK(n.g.fault_driver().state() == 2);
  CHECK(n.g.write(n.child, 0, 512, 1) == -EIO);
}

TEST_CASE("extensions: after N, every N, operation kind") {
  FaultConfig cfg;
  FaultRule r = inject(BlkdebugEvent::kWriteAio);
  r.after = 2;
  r.every = 3;
  r.kind = IoKind::kWrite;
  cfg.rules.push_back(r);
  FaultNode n(cfg);
  std::vector<int> results;
  for (int i = 0; i < 9; ++i) results.push_back(n.g.write(n.child, 0, 512, 1));
  // Matches 1, 2 skipped; then 3, 6, 9 fail.
  CHECK(results == std::vector<int>{0, 0, -EIO, 0, 0, -EIO, 0, 0, -EIO});
  int ret = 1;
  n.g.read(n.child, 0, 512, &ret);
  CHECK(ret == 0);  // kind=write: reads are never hit
}

TEST_CASE("extension: probability fails about that share of requests, the same ones for the same seed") {
  auto run = [](std::uint64_t seed) {
    FaultConfig cfg;
    FaultRule r = inject(BlkdebugEvent::kWriteAio);
    r.probability_ppm = 250000;
    cfg.rules.push_back(r);
    FaultNode n(cfg, seed);
    std::vector<int> results;
    for (int i = 0; i < 400; ++i) results.push_back(n.g.write(n.child, 0, 512, 1));
    return results;
  };
  auto a = run(5);
  CHECK(a == run(5));
  const auto failed = std::count(a.begin(), a.end(), -EIO);
  CHECK(failed > 60);
  CHECK(failed < 140);
}

TEST_CASE("latency models: fixed, uniform, exponential and Pareto draw from their ranges") {
  sim::Rng rng(3);
  using K = drivers::LatencyModel::Kind;
  CHECK(drivers::LatencyModel{K::kNone, 0, 0, 2}.draw(rng) == 0);
  CHECK(drivers::LatencyModel{K::kFixed, 700, 0, 2}.draw(rng) == 700);
  double sum = 0;
  std::uint64_t max_pareto = 0;
  for (int i = 0; i < 10000; ++i) {
    const auto u = drivers::LatencyModel{K::kUniform, 100, 200, 2}.draw(rng);
    REQUIRE(u >= 100);
    REQUIRE(u <= 200);
    sum += static_cast<double>(drivers::LatencyModel{K::kExponential, 1000, 0, 2}.draw(rng));
    const auto p = drivers::LatencyModel{K::kPareto, 1000, 1000000, 1.5}.draw(rng);
    REQUIRE(p >= 1000);
    REQUIRE(p <= 1000000);
    max_pareto = std::max(max_pareto, p);
  }
  CHECK(sum / 10000 > 900);
  CHECK(sum / 10000 < 1100);
  CHECK(max_pareto > 50000);  // the heavy tail shows up
}

TEST_CASE("adding a fault rule on one operation kind does not change the latency drawn for another") {
  rc::prop("latency streams are independent per kind", [] {
    const auto seed = *rc::gen::arbitrary<std::uint64_t>();
    auto read_latencies = [&](bool with_write_rule) {
      FaultConfig cfg;
      cfg.latency[static_cast<int>(IoKind::kRead)] = {drivers::LatencyModel::Kind::kUniform, 1000, 90000, 2};
      cfg.latency[static_cast<int>(IoKind::kWrite)] = {drivers::LatencyModel::Kind::kUniform, 1000, 90000, 2};
      if (with_write_rule) {
        FaultRule r = inject(BlkdebugEvent::kWriteAio);
        r.probability_ppm = 500000;
        r.kind = IoKind::kWrite;
        cfg.rules.push_back(r);
      }
      FaultNode n(cfg, seed);
      std::vector<std::uint64_t> gaps;
      for (int i = 0; i < 6; ++i) {
        n.g.write(n.child, 0, 512, 1);
        const std::uint64_t t0 = n.g.world.now_ns();
        n.g.read(n.child, 0, 512);
        gaps.push_back(n.g.world.now_ns() - t0);
      }
      return gaps;
    };
    RC_ASSERT(read_latencies(false) == read_latencies(true));
  });
}

TEST_CASE("limit overrides: align, max-transfer, opt/max write-zero, opt/max discard") {
  FaultConfig cfg;
  cfg.align = 4096;
  cfg.max_transfer = 65536;
  cfg.opt_write_zero = 65536;
  cfg.max_write_zero = 1 << 20;
  cfg.opt_discard = 131072;
  cfg.max_discard = 1 << 21;
  FaultNode n(cfg);
  CHECK(n.bs.bl.request_alignment == 4096);
  CHECK(n.bs.bl.max_transfer == 65536);
  CHECK(n.bs.bl.pwrite_zeroes_alignment == 65536);
  CHECK(n.bs.bl.max_pwrite_zeroes == 1 << 20);
  CHECK(n.bs.bl.pdiscard_alignment == 131072);
  CHECK(n.bs.bl.max_pdiscard == 1 << 21);
}

TEST_CASE("bdrv_get_info of a fault filter answers with its file's, as block.c does for a filter without its own") {
  // blkdebug of the time has no bdrv_get_info; block.c's forwards a filter's
  // to bs->file (5a612c009e): copy-on-read through it rounds to the image's
  // clusters. A file without get_info answers -ENOTSUP through it too.
  testing::Graph g;
  drivers::MemConfig clustered = Graph::fast();
  clustered.cluster_size = 65536;
  engine::BlockDriverState& file = g.mem("file", 1 << 20, clustered);
  engine::BlockDriverState& filter = g.fault("filter", file);
  engine::BlockDriverInfo bdi;
  CHECK(engine::bdrv_get_info(filter, &bdi) == 0);
  CHECK(bdi.cluster_size == 65536);
  CHECK(engine::bdrv_get_cluster_size(filter) == 65536);
  engine::BlockDriverState& plain = g.mem("plain", 1 << 20);
  engine::BlockDriverState& over_plain = g.fault("over-plain", plain);
  CHECK(engine::bdrv_get_info(over_plain, &bdi) == -ENOTSUP);
}

TEST_CASE("a fault is a trace event naming the request it hit") {
  FaultConfig cfg;
  cfg.rules.push_back(inject(BlkdebugEvent::kWriteAio));
  FaultNode n(cfg);
  std::uint64_t fault_co = 0, request_co = 0;
  n.g.world.trace().add_observer([&](const sim::Trace& t, const sim::TraceEvent& e) {
    if (e.kind == sim::EventKind::kFaultFired) fault_co = e.co;
    if (e.kind == sim::EventKind::kRequestBegin && t.text(e.label) == "bdrv_co_pwritev" && request_co == 0) {
      request_co = e.co;
    }
  });
  CHECK(n.g.write(n.child, 4096, 512, 1) == -EIO);
  CHECK(fault_co != 0);
  CHECK(fault_co == request_co);
}

TEST_CASE("flush and discard go through the rules and down to the file") {
  FaultConfig cfg;
  FaultRule r = inject(BlkdebugEvent::kFlushToDisk);
  r.kind = IoKind::kFlush;
  r.once = true;
  cfg.rules.push_back(r);
  FaultNode n(cfg);
  CHECK(n.g.write(n.child, 0, 512, 1) == 0);
  CHECK(engine::bdrv_flush(n.bs) == -EIO);
  CHECK(engine::bdrv_flush(n.bs) == 0);
  CHECK(n.g.mem_driver().flushes() == 1);
  n.bs.open_flags |= engine::BDRV_O_UNMAP;
  n.file.open_flags |= engine::BDRV_O_UNMAP;
  CHECK(engine::bdrv_pdiscard(n.bs, 0, 512) == 0);
  CHECK(n.g.mem_driver().discards() == 1);
  CHECK(engine::bdrv_pwrite_zeroes(n.child, 0, 512) == 0);
  int pnum = 0;
  engine::BlockDriverState* where = nullptr;
  CHECK((engine::bdrv_get_block_status(n.bs, 0, 1, &pnum, &where) & engine::BDRV_BLOCK_ZERO) != 0);
  CHECK(where == &n.file);
}

TEST_CASE("null: requests complete without data, at once or after a fixed latency") {
  Graph g;
  drivers::NullDriver fast({1 << 20, 0, false});
  drivers::NullDriver slow({1 << 20, 5000, true});
  engine::BlockDriverState a("null-fast", g.world.main_context(), fast, 1 << 20);
  engine::BlockDriverState b("null-slow", g.world.main_context(), slow, 1 << 20);
  engine::BdrvChild ca("root", a, nullptr, engine::ChildRole::kRoot);
  engine::BdrvChild cb("root", b, nullptr, engine::ChildRole::kRoot);
  CHECK(g.write(ca, 0, 4096, 1) == 0);
  auto untouched = g.read(ca, 0, 512);
  CHECK(testing::all_equal(untouched, 0, 512, 0xa5));  // the buffer as it was
  CHECK(g.world.now_ns() == 0);
  auto zeroes = g.read(cb, 0, 512);
  CHECK(testing::all_equal(zeroes, 0, 512, 0));
  CHECK(g.world.now_ns() == 5000);
  CHECK(engine::bdrv_flush(b) == 0);
  CHECK(fast.requests() == 2);
  CHECK(slow.requests() == 1);  // nothing written on b: its flush skips the driver
  g.world.destroy_coroutines();
}

TEST_CASE("a rule without an event is active from the start and survives other events, and block_status rules fail only queries") {
  FaultConfig cfg;
  FaultRule status;
  status.from_start = true;
  status.error = EINVAL;
  status.kind = IoKind::kBlockStatus;
  cfg.rules.push_back(status);
  FaultRule any = inject(BlkdebugEvent::kReadAio, ENOSPC);  // replaces the event-bound active set on reads
  any.kind = IoKind::kWrite;
  cfg.rules.push_back(any);
  FaultNode n(cfg);
  std::int64_t pnum = 0;
  CHECK(engine::bdrv_is_allocated(n.bs, 0, 4096, &pnum) == -EINVAL);
  // `any` kinds never touch block-status queries, and queries never data.
  CHECK(n.g.write(n.child, 0, 512, 1) == 0);
  int ret = 1;
  n.g.read(n.child, 0, 512, &ret);
  CHECK(ret == 0);
  CHECK(n.g.write(n.child, 0, 512, 1) == -ENOSPC);  // the read's event made `any` active
  CHECK(engine::bdrv_is_allocated(n.bs, 0, 4096, &pnum) == -EINVAL);  // still active after that event
  REQUIRE(!n.fired.empty());
  CHECK(n.fired.front() == "inject-error event=(start) errno=-EINVAL kind=block_status");
}
