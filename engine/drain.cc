#include "engine/drain.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "engine/block_job.h"
#include "engine/fixes.h"
#include "engine/mutations.h"
#include "sim/invariant.h"
#include "sim/probe.h"
#include "sim/str.h"
#include "sim/world.h"

namespace engine {

namespace {
// Code probes (sim/probe.h).
const sim::Probe kProbeDrainWaited("drain.waited", "a drain polled for requests in flight on a node");
const sim::Probe kProbeDrainNested("drain.nested_begin", "a drained section began on a node already quiesced");
const sim::Probe kProbeDrainedEndNested("drain.nested_end", "a drained section ended inside another one on the same node");
const sim::Probe kProbeDrainDriver("drain.driver_co_drain", "a drain let the driver submit its pending internal work (co_drain)");
const sim::Probe kProbeDrainChildWaited("drain.child_waited", "a drain recursed into a child that had requests in flight");
const sim::Probe kProbeDrainWalkGraphChanged("drain.walk_graph_changed", "the child after the one draining was detached while it drained");
const sim::Probe kProbeParentQuiesced("drain.parent_quiesced", "a drained section told a parent role to quiesce");
const sim::Probe kProbeDrainFromCoroutine("drain.from_coroutine", "a coroutine drained through a bottom half (bdrv_co_drained_begin)");
const sim::Probe kProbeDrainAllEdgeMoved("drain_all.edge_moved_inside",
                                         "a parent edge joined or left a node inside a drain_all section (drain-all-graph-change's site)");
const sim::Probe kProbeDrainAllRepeat("drain_all.repeat_pass", "drain_all needed another pass: completing requests started others");
}  // namespace


namespace {
// The edge after `edge` in `list`, or nullptr (also when `edge` is not there).
BdrvChild* next_in(const std::vector<BdrvChild*>& list, const BdrvChild* edge) {
  auto it = std::find(list.begin(), list.end(), edge);
  if (it == list.end() || ++it == list.end()) return nullptr;
  return *it;
}

bool holds(const std::vector<BdrvChild*>& list, const BdrvChild* edge) {
  return edge != nullptr && std::find(list.begin(), list.end(), edge) != list.end();
}

// QLIST_FOREACH over bs's parents, as the reference walks them: the next edge
// is read after the body, from the list as the body left it. A callback may
// poll, and what the poll runs may add a parent (at the head: not visited)
// or remove one; an edge the body removed leads on to the edge that followed
// it (its stale link).
template <typename Body>
void for_each_parent(BlockDriverState& bs, Body&& body) {
  for (BdrvChild* c = bs.parents.empty() ? nullptr : bs.parents.front(); c != nullptr;) {
    BdrvChild* const followed = next_in(bs.parents, c);
    body(*c);
    if (holds(bs.parents, c)) {
      c = next_in(bs.parents, c);
    } else {
      c = holds(bs.parents, followed) ? followed : nullptr;
    }
  }
}
}  // namespace

void bdrv_parent_drained_begin(BlockDriverState& bs) {
  for_each_parent(bs, [](BdrvChild& c) {
    if (c.role != nullptr && c.role->drained_begin) {
      kProbeParentQuiesced.hit();
      c.role->drained_begin(c);
    }
  });
}

void bdrv_parent_drained_end(BlockDriverState& bs) {
  for_each_parent(bs, [](BdrvChild& c) {
    if (c.role != nullptr && c.role->drained_end) c.role->drained_end(c);
  });
}

bool bdrv_requests_pending(const BlockDriverState& bs) {
  if (bs.in_flight > 0) return true;
  for (const BdrvChild* child : bs.children) {
    if (bdrv_requests_pending(*child->bs)) return true;
  }
  return false;
}

namespace {

// Let the driver submit pending internal work (metadata writes to its file).
void bdrv_drain_invoke(BlockDriverState& bs) {
  if (bs.drv() == nullptr || !bs.drv()->implements(kCoDrain)) return;
  kProbeDrainDriver.hit();
  bool done = false;
  auto body = [](BlockDriverState& node, bool& finished) -> sim::Task<void> {
    co_await node.drv()->co_drain(node);
    finished = true;
    bdrv_wakeup(node);
  };
  sim::World::current().spawn(bs.aio_context(), sim::cat("bdrv_co_drain ", bs.node_name()), body(bs, done));
  bdrv_poll_while(bs, [&] { return !done; });
}

// The edge after `child` in bs's list (its `next` link), or nullptr.
BdrvChild* next_child(const BlockDriverState& bs, const BdrvChild& child) { return next_in(bs.children, &child); }

// Wait for bs and then each child, holding a reference on the child while its
// subtree drains (a bottom half run by the polling may change the graph).
bool bdrv_drain_recurse(BlockDriverState& bs) {
  bool waited = !mutated(Mutant::kDrainNoWait) && bdrv_poll_while(bs, [&] { return bs.in_flight > 0; });
  if (waited) kProbeDrainWaited.hit();
  bdrv_drain_invoke(bs);
  const bool in_main_loop = &sim::World::current().current_context() == &sim::World::current().main_context();
  // QLIST_FOREACH_SAFE over the children: the next edge is read before the
  // body runs. The body polls, and a bottom half it runs may change the graph
  // (a block job's completion): the current edge may go, but if the next one
  // is detached meanwhile the reference follows a freed link.
  BdrvChild* child = bs.children.empty() ? nullptr : bs.children.front();
  while (child != nullptr) {
    BdrvChild* next = next_child(bs, *child);
    const std::size_t position = static_cast<std::size_t>(
        std::find(bs.children.begin(), bs.children.end(), child) - bs.children.begin());
    BlockDriverState& cbs = *child->bs;
    SIM_CHECK("drain.child_referenced", cbs.refcnt > 0, "draining a child without references: " + cbs.node_name());
    if (in_main_loop) bdrv_ref(cbs);
    const bool child_waited = bdrv_drain_recurse(cbs);
    if (child_waited) kProbeDrainChildWaited.hit();
    waited |= child_waited;
    if (in_main_loop) bdrv_unref(cbs);
    if (next != nullptr && next->detached) kProbeDrainWalkGraphChanged.hit();
    if (fixed(Fix::kDrainWalkGraphChange) && next != nullptr && next->detached) {
      // Go on from the edge now after this child (or now at its old place).
      if (!child->detached) {
        next = next_child(bs, *child);
      } else {
        next = position < bs.children.size() ? bs.children[position] : nullptr;
      }
    }
    SIM_CHECK("drain_recurse.next_child_attached", next == nullptr || !next->detached,
              "bdrv_drain_recurse(" + bs.node_name() + "): child '" + (next ? next->name : std::string()) +
                  "', the next in the list, was detached while an earlier child drained (use after free in the "
                  "reference's QLIST_FOREACH_SAFE)");
    child = next;
  }
  return waited;
}

}  // namespace

void bdrv_drained_begin(BlockDriverState& bs) {
  SIM_CHECK("drained_begin.not_in_coroutine", !sim::World::current().in_coroutine(),
            "bdrv_drained_begin from a coroutine: use bdrv_co_drained_begin");
  if (bs.quiesce_counter > 0) kProbeDrainNested.hit();
  if (bs.quiesce_counter++ == 0) {
    bs.aio_context().disable_external();
    if (!mutated(Mutant::kParentDrainSkipped)) bdrv_parent_drained_begin(bs);
  } else if (fixed(Fix::kNestedDrainParents)) {
    bdrv_parent_drained_begin(bs);
  }
  bdrv_drain_recurse(bs);
}

void bdrv_drained_end(BlockDriverState& bs) {
  SIM_CHECK("drained_end.balanced", bs.quiesce_counter > 0, "bdrv_drained_end without a drained_begin");
  if (mutated(Mutant::kNestedDrainedEndUncounted) && bs.quiesce_counter > 1) return;  // the planted defect
  if (bs.quiesce_counter-- > 1) {
    kProbeDrainedEndNested.hit();
    if (fixed(Fix::kNestedDrainParents)) bdrv_parent_drained_end(bs);
    return;
  }
  bdrv_parent_drained_end(bs);
  bs.aio_context().enable_external();
}

namespace {
DrainProbe g_drain_probe;  // one run per process: runs never share it

void probe_drained(BlockDriverState& bs, DrainPoint point) {
  if (g_drain_probe) g_drain_probe(bs, point);
}
}  // namespace

sim::Task<void> bdrv_co_drained_begin(BlockDriverState& bs) {
  // Draining polls, which a coroutine must not do: a bottom half drains in the
  // loop while this coroutine yields, so coroutines queued to restart run too.
  kProbeDrainFromCoroutine.hit();
  sim::World& world = sim::World::current();
  sim::Coroutine* self = world.current_coroutine();
  SIM_CHECK("co_drained_begin.in_coroutine", self != nullptr, "bdrv_co_drained_begin outside a coroutine");
  bool done = false;
  bdrv_inc_in_flight(bs);
  bs.aio_context().bh_schedule("bdrv_co_drain_bh_cb", [&bs, &done, self, &world] {
    bdrv_dec_in_flight(bs);
    bdrv_drained_begin(bs);
    probe_drained(bs, DrainPoint::kCoDrainedBegin);
    done = true;
    world.wake(*self);
  });
  co_await world.suspend(sim::WaitInfo{"drain bottom half", 0, 0, bs.node_name(), 0});
  // Resumed by anything but the bottom half is a bug in the caller.
  SIM_CHECK("co_drained_begin.woken_by_bh", done, "coroutine draining " + bs.node_name() + " resumed early");
}


DrainProbeGuard::DrainProbeGuard(DrainProbe probe) : previous_(std::exchange(g_drain_probe, std::move(probe))) {}
DrainProbeGuard::~DrainProbeGuard() { g_drain_probe = std::move(previous_); }

void bdrv_drain(BlockDriverState& bs) {
  bdrv_drained_begin(bs);
  probe_drained(bs, DrainPoint::kDrain);
  bdrv_drained_end(bs);
}

sim::Task<void> bdrv_co_drain(BlockDriverState& bs) {
  co_await bdrv_co_drained_begin(bs);  // probed in its bottom half
  bdrv_drained_end(bs);
}

namespace {

// Tell the edge one begin (or end) of a drain_all section.
void tell_edge(BdrvChild& edge, bool begin) {
  const auto& callback = begin ? edge.role->drained_begin : edge.role->drained_end;
  if (callback) callback(edge);
}

// The parent edges of `bs` as they are now: a callback may change the graph
// (QLIST_FOREACH_SAFE, as QEMU walks them since 02d213009d); an edge that
// left `bs` meanwhile is skipped.
std::vector<BdrvChild*> parents_now(const BlockDriverState& bs) { return bs.parents; }

}  // namespace

void drain_all_tell_parents_begin(BlockDriverState& bs) {
  if (!fixed(Fix::kDrainAllGraphChange)) {
    bdrv_parent_drained_begin(bs);
    return;
  }
  for (BdrvChild* c : parents_now(bs)) {
    if (c->bs != &bs || c->role == nullptr) continue;
    while (c->bs == &bs && c->drain_all_told < bs.drain_all_sections) {
      ++c->drain_all_told;
      tell_edge(*c, true);
    }
  }
}

void drain_all_tell_parents_end(BlockDriverState& bs) {
  if (!fixed(Fix::kDrainAllGraphChange)) {
    bdrv_parent_drained_end(bs);
    return;
  }
  for (BdrvChild* c : parents_now(bs)) {
    if (c->bs != &bs || c->role == nullptr) continue;
    while (c->bs == &bs && c->drain_all_told > bs.drain_all_sections) {
      --c->drain_all_told;
      tell_edge(*c, false);
    }
  }
}

namespace {
int sections_to_tell(const BlockDriverState& bs) {
  return fixed(Fix::kNestedDrainParents) ? bs.quiesce_counter : (bs.quiesce_counter > 0 ? 1 : 0);
}
}  // namespace

bool drained_edge_joined(BdrvChild& edge) {
  if (edge.role == nullptr || !edge.role->drained_begin) return false;
  const int times = sections_to_tell(*edge.bs);
  for (int i = 0; i < times; ++i) edge.role->drained_begin(edge);
  return times > 0;
}

bool drained_edge_leaving(BdrvChild& edge) {
  if (edge.role == nullptr || !edge.role->drained_end) return false;
  const int times = sections_to_tell(*edge.bs);
  for (int i = 0; i < times; ++i) edge.role->drained_end(edge);
  return times > 0;
}

void drain_all_edge_joined(BdrvChild& edge) {
  if (edge.role != nullptr && edge.bs->drain_all_sections > 0) kProbeDrainAllEdgeMoved.hit();
  if (!fixed(Fix::kDrainAllGraphChange) || edge.role == nullptr) return;
  BlockDriverState& bs = *edge.bs;
  while (edge.bs == &bs && edge.drain_all_told < bs.drain_all_sections) {
    ++edge.drain_all_told;
    tell_edge(edge, true);
  }
}

void drain_all_edge_leaving(BdrvChild& edge) {
  if (edge.role != nullptr && edge.bs->drain_all_sections > 0) kProbeDrainAllEdgeMoved.hit();
  if (!fixed(Fix::kDrainAllGraphChange) || edge.role == nullptr) return;
  for (; edge.drain_all_told > 0; --edge.drain_all_told) tell_edge(edge, false);
}

void bdrv_drain_all_begin() {
  block_job_pause_all();
  std::vector<sim::AioContext*> contexts;  // each once, the last seen first (g_slist_prepend)
  NodeWalk quiesce;
  for (BlockDriverState* bs = quiesce.next(); bs != nullptr; bs = quiesce.next()) {
    ++bs->drain_all_sections;
    drain_all_tell_parents_begin(*bs);
    bs->aio_context().disable_external();
    if (std::find(contexts.begin(), contexts.end(), &bs->aio_context()) == contexts.end()) {
      contexts.insert(contexts.begin(), &bs->aio_context());
    }
  }
  // Completing one request can start others on other nodes: keep going until a
  // whole pass waited for nothing. The first pass always runs, so pending
  // completion bottom halves run.
  bool waited = true;
  for (int pass = 0; waited; ++pass) {
    if (pass > 0) kProbeDrainAllRepeat.hit();
    waited = false;
    for (sim::AioContext* ctx : contexts) {
      NodeWalk walk;
      for (BlockDriverState* bs = walk.next(); bs != nullptr; bs = walk.next()) {
        if (&bs->aio_context() == ctx) waited |= bdrv_drain_recurse(*bs);
      }
    }
  }
}

void bdrv_drain_all_end() {
  NodeWalk walk;
  for (BlockDriverState* bs = walk.next(); bs != nullptr; bs = walk.next()) {
    bs->aio_context().enable_external();
    // A node added inside the section is ended all the same (the reference
    // does not tell them apart); only counted ones count down.
    if (bs->drain_all_sections > 0) --bs->drain_all_sections;
    drain_all_tell_parents_end(*bs);
  }
  block_job_resume_all();
}

void bdrv_drain_all() {
  bdrv_drain_all_begin();
  bdrv_drain_all_end();
}

}  // namespace engine
