// qemu-io's allocation queries and the allocation oracle. `alloc OFFSET COUNT`
// asks bdrv_is_allocated of the job's node, `map` asks bdrv_is_allocated_above
// the whole chain over the whole node, each in a loop over the answers' pnum as
// qemu-io does: from the job's coroutine (api "co", "sync-in-coroutine"; the
// reference's fast path), or from the main loop with the sync wrappers (api
// "sync"), every call polling. The oracle judges the answers from the write
// history alone.
#include <algorithm>

#include "engine/io.h"
#include "scenarios/scenario_run.h"
#include "sim/invariant.h"
#include "sim/str.h"

namespace scenarios {
namespace {

struct QueryRange {
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  bool above = false;  // map: the whole chain
};

// The range a command asks, or the error of the length `map` asks first
// (qemu-io's map fails with it: a node without its medium, -ENOMEDIUM).
int query_range(engine::BlockDriverState& bs, const Command& cmd, QueryRange& q) {
  if (cmd.op != Command::Op::kMap) {
    q = {cmd.offset, cmd.offset + cmd.bytes, false};
    return 0;
  }
  const std::int64_t length = engine::bdrv_getlength(bs);
  if (length < 0) return static_cast<int>(length);
  q = {0, static_cast<std::uint64_t>(length), true};
  return 0;
}

// Each call asks at most this much: bdrv_is_allocated takes sectors below INT_MAX.
constexpr std::uint64_t kMaxAsked = static_cast<std::uint64_t>(engine::BDRV_REQUEST_MAX_BYTES);

// The loop outside coroutines: qemu-io's in the main loop, each call polling.
// Each call's coroutine carries the command's state (`annotation`), so the
// driver errors of every query are the command's.
int query_outside(engine::BlockDriverState& bs, const QueryRange& q, std::vector<AllocationAnswer>& answers,
                  void* annotation) {
  sim::World& world = sim::World::current();
  for (std::uint64_t offset = q.begin; offset < q.end;) {
    const auto asked = static_cast<std::int64_t>(std::min(q.end - offset, kMaxAsked));
    std::int64_t pnum = 0;
    const sim::World::SpawnAnnotation command(world, annotation);
    const int ret = q.above ? engine::bdrv_is_allocated_above(bs, nullptr, static_cast<std::int64_t>(offset), asked, &pnum)
                            : engine::bdrv_is_allocated(bs, static_cast<std::int64_t>(offset), asked, &pnum);
    if (ret < 0) return ret;
    answers.push_back({offset, static_cast<std::uint64_t>(pnum), ret != 0});
    if (pnum <= 0) break;  // the end of the node: qemu-io stops
    offset += static_cast<std::uint64_t>(pnum);
  }
  return 0;
}

// Whether bdrv_is_allocated_above(top, NULL) looks at every layer the node's
// data comes from. It walks top's backing chain; each layer's block status
// passes through raw and fault nodes (BDRV_BLOCK_RAW) and through a top
// filter to its child, but asks that node for its own layer only: a cow
// image reached so, with a backing of its own, hides that backing from map
// (as qemu-io's map on a raw node over an image with a backing file: "not
// allocated" where the backing holds data).
bool map_sees_whole_chain(const Scenario& s, const NodeSpec& top) {
  for (const NodeSpec* layer = &top; layer != nullptr;) {
    // Down the pass-through edges of this layer's block status.
    const NodeSpec* n = layer;
    while (n != nullptr && (n->driver == NodeSpec::Driver::kRaw || n->driver == NodeSpec::Driver::kFault ||
                            (n->driver == NodeSpec::Driver::kTop && n != layer))) {
      n = s.find_node(n->driver == NodeSpec::Driver::kTop ? n->backing : n->file);
    }
    if (n != nullptr && n != layer && n->driver == NodeSpec::Driver::kCow && !n->backing.empty()) return false;
    layer = layer->backing.empty() ? nullptr : s.find_node(layer->backing);
  }
  return true;
}

}  // namespace

sim::Task<int> ScenarioRun::query_command(Job& job, const Command& cmd) {
  auto& state = *static_cast<CommandState*>(world_.current_coroutine()->annotation());
  engine::BlockDriverState& bs = *job.node->bs;
  QueryRange q;
  if (const int ret = query_range(bs, cmd, q); ret < 0) co_return ret;
  state.asked_begin = q.begin;
  state.asked_end = q.end;
  if (job.spec->from_main_loop()) {
    int ret = 0;
    co_await in_main_loop(sim::cat("sync wrapper of ", job.spec->name),
                          [&] { ret = query_outside(bs, q, state.answers, &state); });
    co_return ret;
  }
  for (std::uint64_t offset = q.begin; offset < q.end;) {
    const auto asked = static_cast<std::int64_t>(std::min(q.end - offset, kMaxAsked));
    std::int64_t pnum = 0;
    const int ret =
        q.above ? co_await engine::in_coroutine::bdrv_is_allocated_above(bs, nullptr, static_cast<std::int64_t>(offset),
                                                                         asked, &pnum)
                : co_await engine::in_coroutine::bdrv_is_allocated(bs, static_cast<std::int64_t>(offset), asked, &pnum);
    if (ret < 0) co_return ret;
    state.answers.push_back({offset, static_cast<std::uint64_t>(pnum), ret != 0});
    if (pnum <= 0) break;
    offset += static_cast<std::uint64_t>(pnum);
  }
  co_return 0;
}

void ScenarioRun::check_allocation(const Job& job, const Command& cmd, const CommandState& state) {
  if (!checking(Oracle::kAllocation)) return;
  // The range as the command asked it, not as the node is now.
  const QueryRange q{state.asked_begin, state.asked_end, cmd.op == Command::Op::kMap};
  const std::string what = sim::cat(command_where(scenario_, job, cmd), q.above ? " (bdrv_is_allocated_above)" : " (bdrv_is_allocated)");
  // The answers tile the range asked, in order, each non-empty before the end.
  // A truncate that shrank the node meanwhile ends them early with an empty
  // answer at the new end (qemu-io's map: "Unexpected end of image").
  const bool resized = resizes_[data_home(*job.node).index] != state.resizes;
  std::uint64_t at = q.begin;
  for (const AllocationAnswer& a : state.answers) {
    if (resized && a.bytes == 0 && a.offset == at && &a == &state.answers.back()) {
      at = q.end;
      break;
    }
    if (a.offset != at || a.bytes > q.end - a.offset || (a.bytes == 0 && a.offset < q.end)) {
      violation(Oracle::kAllocation, sim::cat(command_verb(cmd), ": answers do not tile the range"),
                sim::cat(what, " answered ", a.bytes, " bytes at ", a.offset, " where ", at, " was asked, up to ", q.end));
      return;
    }
    at += a.bytes;
  }
  if (at != q.end) {
    violation(Oracle::kAllocation, sim::cat(command_verb(cmd), ": answers do not tile the range"),
              sim::cat(what, " stopped at ", at, " of [", q.begin, ", ", q.end, ")"));
    return;
  }
  const WriteHistory& history = checked_.at(job.history).history;
  const std::uint64_t size = history.size();
  // Bytes a settled data write put in the node are allocated in it.
  // ... and so are the ranges a read copied on read before the query began.
  WriteHistory::Ranges written = history.settled_data_ranges(state.began);
  for (const CopiedRange& c : checked_.at(job.history).copied) {
    if (c.completed >= state.began) continue;
    for (const auto& r : history.surviving(c.offset, c.bytes, c.issued)) written.push_back(r);
  }
  std::sort(written.begin(), written.end());
  for (const AllocationAnswer& a : state.answers) {
    if (a.allocated) continue;
    for (const auto& [b, e] : written) {
      if (e <= a.offset || b >= a.offset + a.bytes) continue;
      const std::uint64_t first = std::max(b, a.offset);
      violation(Oracle::kAllocation, sim::cat(command_verb(cmd), ": written data unallocated"),
                sim::cat(what, " reported [", a.offset, ", +", a.bytes, ") unallocated, but byte ", first,
                         " holds data written (or copied on read) and settled before the query began"));
      return;
    }
  }
  if (!q.above || !map_sees_whole_chain(scenario_, *job.node->spec)) return;
  // Unallocated in every layer reads as zeroes.
  for (const AllocationAnswer& a : state.answers) {
    if (a.allocated || a.offset >= size) continue;
    const std::uint64_t end = std::min(a.offset + a.bytes, size);
    const std::uint64_t bad = history.first_excluding(0, a.offset, end, Cutoff{state.began, false});
    if (bad == end) continue;
    violation(Oracle::kAllocation, sim::cat(command_verb(cmd), ": data unallocated in the whole chain"),
              sim::cat(what, " reported [", a.offset, ", +", a.bytes, ") unallocated in the whole chain, so it reads "
                       "as zeroes, but byte ", bad, " may only hold ",
                       describe_values(history.allowed(bad, Cutoff{state.began, false}))));
    return;
  }
}

}  // namespace scenarios
