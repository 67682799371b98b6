// Scenario events: each runs as a coroutine of the main loop that waits for its
// trigger, then acts. Actions that poll (drain, flush_all, a crash) run in a
// bottom half, outside any coroutine, as QEMU's main loop would run them.
#include <algorithm>
#include <utility>

#include "engine/drain.h"
#include "engine/errors.h"
#include "engine/io.h"
#include "scenarios/scenario_run.h"
#include "sim/invariant.h"
#include "sim/str.h"

namespace scenarios {

sim::Task<void> ScenarioRun::wait_trigger(const EventSpec& e) {
  switch (e.trigger) {
    case EventSpec::Trigger::kAt:
      if (e.at_ns > 0) co_await sim::co_sleep_ns(e.at_ns, "event time");
      break;
    case EventSpec::Trigger::kAfterJob: {
      const std::string_view reason = world_.intern(sim::cat("job ", e.after_job, " to finish"));
      for (;;) {
        bool done = false;
        for (const auto& job : jobs_) done = done || (job->spec->name == e.after_job && job->finished);
        if (done) break;
        co_await progress_.wait(nullptr, sim::WaitInfo{"event trigger", 0, 0, reason, 0});
      }
      break;
    }
    case EventSpec::Trigger::kAfterRequests: {
      const std::string_view reason = world_.intern(sim::cat(e.after_requests, " completed commands"));
      while (commands_done_ < e.after_requests) {
        co_await progress_.wait(nullptr, sim::WaitInfo{"event trigger", 0, 0, reason, 0});
      }
      break;
    }
    case EventSpec::Trigger::kOnBreak:
      co_await fault_below(node_named(e.node)).breakpoints().wait_held(e.on_break);
      break;
  }
}

sim::Task<void> ScenarioRun::in_main_loop(std::string_view what, absl::AnyInvocable<void()> fn, bool power_loss) {
  if (!power_loss) co_await after_power_loss();
  sim::Coroutine* self = world_.current_coroutine();
  bool done = false;
  const std::string_view name = world_.intern(what);
  // Counted from now: a bottom half scheduled but not yet run would run a
  // crash scheduled after it nested in its poll.
  ++main_loop_actions_;
  world_.main_context().bh_schedule(name, [this, self, &done, &fn] {
    fn();
    --main_loop_actions_;
    if (main_loop_actions_ == 0) wake_power_loss_waiters();
    done = true;
    world_.wake(*self);
  });
  co_await world_.suspend(sim::WaitInfo{"main loop", 0, 0, name, 0});
  SIM_ASSERT(done, "an event resumed before its bottom half ran");
}

void ScenarioRun::mark_drained(const std::vector<std::size_t>& nodes, int delta) {
  for (std::size_t i : nodes) {
    drained_[i] += delta;
    SIM_ASSERT(drained_[i] >= 0, "unbalanced drained sections");
  }
}

const Node* ScenarioRun::drained_over(const Node& node) const {
  // Sections are counted on the node drained; what they cover is its subtree
  // now (a graph change moves it).
  for (const auto& d : nodes_) {
    if (drained_[d->index] == 0) continue;
    if (std::find(d->subtree.begin(), d->subtree.end(), node.index) != d->subtree.end()) return d.get();
  }
  return nullptr;
}

sim::Task<void> ScenarioRun::drained_section(const EventSpec& e) {
  using A = EventSpec::Action;
  if (e.action == A::kDrainAll) {
    std::vector<std::size_t> all;
    for (const auto& n : nodes_) all.push_back(n->index);
    ++drain_all_open_;
    co_await in_main_loop(sim::cat("event ", e.name, ": drain_all begin"), [this, &all] {
      engine::bdrv_drain_all_begin();
      check_drained("bdrv_drain_all_begin", all);
    });
    mark_drained(all, 1);
    world_.emit(sim::EventKind::kNote, 0, 0, 0, 0, 0, "drained begin *");
    if (e.duration_ns > 0) co_await sim::co_sleep_ns(e.duration_ns, "drained section");
    mark_drained(all, -1);
    world_.emit(sim::EventKind::kNote, 0, 0, 0, 0, 0, "drained end *");
    co_await in_main_loop(sim::cat("event ", e.name, ": drain_all end"), [] { engine::bdrv_drain_all_end(); });
    if (--drain_all_open_ == 0) drain_all_closed_.restart_all();
    co_return;
  }
  Node& node = node_named(e.node);
  engine::BlockDriverState& bs = *node.bs;
  const std::string what = sim::cat("drained_begin(", e.node, ")", e.in_coroutine ? " from a coroutine" : "");
  if (e.in_coroutine) {
    co_await engine::bdrv_co_drained_begin(bs);  // the drain probe checks it in its bottom half
  } else {
    co_await in_main_loop(sim::cat("event ", e.name, ": ", what), [this, &bs, &what, &node] {
      engine::bdrv_drained_begin(bs);
      check_drained(what, node.subtree);
    });
  }
  mark_drained({node.index}, 1);
  // Notes for pictures of the run: which drained section is open when.
  world_.emit(sim::EventKind::kNote, 0, 0, 0, 0, 0, world_.intern(sim::cat("drained begin ", e.node)));
  if (e.duration_ns > 0) co_await sim::co_sleep_ns(e.duration_ns, "drained section");
  mark_drained({node.index}, -1);
  world_.emit(sim::EventKind::kNote, 0, 0, 0, 0, 0, world_.intern(sim::cat("drained end ", e.node)));
  // Ended where it began: from the coroutine (as bdrv_co_drain), or from the
  // main loop, outside any coroutine (parents' callbacks run there).
  if (e.in_coroutine) {
    engine::bdrv_drained_end(bs);
  } else {
    co_await in_main_loop(sim::cat("event ", e.name, ": drained_end(", e.node, ")"), [&bs] { engine::bdrv_drained_end(bs); });
  }
}

// Power loss and restart at a quiescent point: requests in flight complete
// first (unflushed), then the cache is lost, formats reopen their images, and
// the durability oracle reads every node jobs write to.
void ScenarioRun::crash(const EventSpec& e) {
  engine::bdrv_drain_all_begin();
  prepare_for_checks(true);  // the durability check reads whole nodes
  std::vector<bool> crashed(nodes_.size(), false);
  for (auto& n : nodes_) {
    if (n->mem == nullptr || n->deleted || (!e.node.empty() && n->spec->name != e.node)) continue;
    n->mem->crash(*n->bs, e.mode);
    crashed[n->index] = true;
  }
  ++crashes_;
  for (auto& n : nodes_) {
    if (n->cow == nullptr || n->deleted) continue;
    bool hit = false;
    for (std::size_t k : n->subtree) hit = hit || crashed[k];
    if (!hit) continue;
    const int ret = n->cow->open(*n->bs);
    if (ret < 0) {
      violation(Oracle::kDurability, "cow image unopenable after crash", sim::cat("after the crash, cow image '", n->spec->name,
                                              "' cannot be reopened: ", engine::errno_name(ret)));
    }
  }
  check_durability(crashed);
  prepare_for_checks(false);
  engine::bdrv_drain_all_end();
}

// bdrv_set_backing_hd from the main loop, as a block job's completion or
// QMP does it: with requests in flight unless `drained` (then inside a
// drained section of the node, as careful callers do). The parser made sure
// the old and new backing read as zeroes, so the node's content is unchanged.
void ScenarioRun::set_backing(const EventSpec& e) {
  change_backing(node_named(e.node), e.backing, e.drained,
                 sim::cat("set_backing(", e.node, ", ", e.backing.empty() ? "none" : e.backing, ")"));
}

void ScenarioRun::change_backing(Node& node, const std::string& backing_name, bool drained, const std::string& what) {
  engine::BlockDriverState* backing = backing_name.empty() ? nullptr : node_named(backing_name).bs.get();
  if (drained) {
    engine::bdrv_drained_begin(*node.bs);
    check_drained(what, node.subtree);
  }
  engine::bdrv_set_backing_hd(*node.bs, backing);
  recompute_subtrees();
  if (drained) engine::bdrv_drained_end(*node.bs);
}

// QMP blockdev-del of the time: refused while anything holds the node (a
// parent node's edge, or a device: "Node ... is in use"); otherwise the
// monitor's reference goes, and the last one with it, so bdrv_delete closes
// the node (drain, flush, drain, no driver and no children any more) and
// takes it off the list of nodes. The harness's own way in (the node's root
// edge, which only its checks use) is the monitor's reference here.
void ScenarioRun::blockdev_del(const EventSpec& e) {
  Node& node = node_named(e.node);
  for (const engine::BdrvChild* parent : node.bs->parents) {
    if (parent == node.root.get()) continue;
    world_.emit(sim::EventKind::kNote, 0, 0, 0, 0, 0,
                world_.intern(sim::cat("blockdev-del ", e.node, " refused: in use by ",
                                       parent->parent != nullptr ? parent->parent->node_name() : parent->name)));
    return;
  }
  engine::bdrv_delete(*node.bs);
  node.deleted = true;
  recompute_subtrees();
  // The driver's state is freed with the node: nothing may still be in
  // flight on it (the oracle's own model of the trace).
  if (!checking(Oracle::kDrain)) return;
  const std::uint32_t label = node.bs->trace_label();
  const std::size_t requests = in_flight_.requests_on(label);
  const std::size_t ops = in_flight_.driver_ops_on(label);
  if (requests != 0 || ops != 0) {
    violation(Oracle::kDrain, "deleted with I/O in flight",
              sim::cat("blockdev-del of '", e.node, "' closed it, but the trace shows ", requests, " requests and ", ops,
                       " driver operations still in flight on it"));
  }
}

// A mirror's completion with replaces= (mirror_run's last pass and
// mirror_exit of the time), from the main loop: inside a drained section of
// the old node (which drains the formats and filters above it, as mirror
// drains its source), copy what it holds into the new one and flush that
// (the job's last pass), then bdrv_replace_node inside a drained section of
// the new node: every parent moves over. The parser made sure the two behave
// alike, so the oracles go on judging the same data, now at the new node.
void ScenarioRun::replace_node(const EventSpec& e) {
  Node& from = node_named(e.node);
  Node& to = node_named(e.target);
  engine::bdrv_drained_begin(*from.bs);
  const std::uint64_t began = ++clock_;
  const auto size = static_cast<std::uint64_t>(engine::bdrv_getlength(*from.bs));
  constexpr std::uint64_t kPiece = 1 << 20;
  IoBuffer buffer;
  int ret = 0;
  for (std::uint64_t offset = 0; offset < size && ret >= 0; offset += kPiece) {
    buffer.resize(std::min(kPiece, size - offset));
    const auto at = static_cast<std::int64_t>(offset);
    const int bytes = static_cast<int>(buffer.size());
    ret = engine::bdrv_pread(*from.root, at, buffer.data(), bytes);
    if (ret >= 0) ret = engine::bdrv_pwrite(*to.root, at, buffer.data(), bytes);
  }
  if (ret >= 0) ret = engine::bdrv_flush(*to.bs);
  if (ret < 0) {
    // The job fails and replaces nothing.
    world_.emit(sim::EventKind::kNote, 0, 0, 0, 0, 0,
                world_.intern(sim::cat("replace_node ", e.node, " -> ", e.target, " failed: ", engine::errno_name(ret))));
    engine::bdrv_drained_end(*from.bs);
    return;
  }
  engine::bdrv_drained_begin(*to.bs);
  engine::bdrv_replace_node(*from.bs, *to.bs, from.root.get());
  replacements_.push_back(Replacement{from.bs->trace_label(), &to, began});
  engine::bdrv_drained_end(*to.bs);
  engine::bdrv_drained_end(*from.bs);
  recompute_subtrees();
  // The oracles' write history moves with the data: what completed before
  // the copy began is in the new node, and flushed.
  if (auto it = checked_.find(from.index); it != checked_.end()) {
    SIM_ASSERT(checked_.count(to.index) == 0, "the new node held no job's data (the parser checks)");
    CheckedNode moved = std::move(it->second);
    checked_.erase(it);
    moved.flushed(began);
    CheckedNode& now = checked_.emplace(to.index, std::move(moved)).first->second;
    for (auto& job : jobs_) {
      if (job->history != from.index) continue;
      job->history = to.index;
      job->checked = &now;
    }
  }
}

void ScenarioRun::recompute_subtrees() {
  const auto index_of = [this](const engine::BlockDriverState* bs) { return node_of(*bs).index; };
  for (auto& n : nodes_) {
    n->subtree.assign(1, n->index);
    for (std::size_t next = 0; next < n->subtree.size(); ++next) {
      for (const engine::BdrvChild* c : nodes_[n->subtree[next]]->bs->children) {
        const std::size_t k = index_of(c->bs);
        if (std::find(n->subtree.begin(), n->subtree.end(), k) == n->subtree.end()) n->subtree.push_back(k);
      }
    }
  }
}

// Ejecting or inserting a medium, or making a node read-only, happens at a
// quiescent point, as QEMU's blk_remove_bs, blk_insert_bs and bdrv_reopen
// drain the node first.
// A medium comes back opened, with its limits (bdrv_open refreshes them), and
// the nodes above see them: a reopen while it was out left them zeroed, as
// bdrv_refresh_limits does for a node without a driver.
void ScenarioRun::insert_medium(Node& node) {
  node.bs->insert(*node.driver);
  for (std::size_t i : children_first(scenario_.nodes)) {
    const std::vector<std::size_t>& below = nodes_[i]->subtree;
    if (std::find(below.begin(), below.end(), node.index) != below.end()) engine::bdrv_refresh_limits(*nodes_[i]->bs);
  }
}

void ScenarioRun::change_medium(const EventSpec& e) {
  using A = EventSpec::Action;
  Node& node = node_named(e.node);
  engine::bdrv_drained_begin(*node.bs);
  MediumState& m = media_[node.index];
  if (e.action == A::kEject && !m.ejected) {
    node.bs->eject();
    m.ejected = true;
    ++m.changes;
  } else if (e.action == A::kInsert && m.ejected) {
    insert_medium(node);
    m.ejected = false;
    ++m.changes;
  } else if (e.action == A::kReadOnly && e.enabled && !m.read_only && node.bs->copy_on_read > 0) {
    // bdrv_reopen_prepare's bdrv_can_set_read_only: "Can't set node to r/o
    // with copy-on-read enabled" (copy-on-read writes back below the
    // read-only check of bdrv_co_pwritev).
    world_.emit(sim::EventKind::kNote, 0, 0, 0, 0, 0,
                world_.intern(sim::cat("read_only ", e.node, " refused: copy-on-read enabled")));
  } else if (e.action == A::kReadOnly && e.enabled && !m.read_only && copy_on_read_writer_over(node)) {
    // bdrv_reopen_prepare's bdrv_check_perm: "Block node is read-only" while
    // a parent holds a write permission (copy-on-read writes back below the
    // read-only check too).
    world_.emit(sim::EventKind::kNote, 0, 0, 0, 0, 0,
                world_.intern(sim::cat("read_only ", e.node, " refused: a copy-on-read reader holds write permission")));
  } else if (e.action == A::kReadOnly && m.read_only != e.enabled) {
    node.bs->read_only = e.enabled;
    m.read_only = e.enabled;
    ++m.changes;
  }
  engine::bdrv_drained_end(*node.bs);
}

std::uint64_t ScenarioRun::medium_changes(const Node& node) const {
  std::uint64_t n = 0;
  for (std::size_t i : node.subtree) n += media_[i].changes;
  return n;
}

bool ScenarioRun::subtree_ejected(const Node& node) const {
  for (std::size_t i : node.subtree) {
    if (media_[i].ejected) return true;
  }
  return false;
}

bool ScenarioRun::subtree_read_only(const Node& node) const {
  for (std::size_t i : node.subtree) {
    if (media_[i].read_only) return true;
  }
  return false;
}

namespace {

bool reads_with_copy_on_read(const Job& job) {
  return std::any_of(job.commands->begin(), job.commands->end(),
                     [](const Command& c) { return (c.request_flags & engine::BDRV_REQ_COPY_ON_READ) != 0; });
}

// `target` is `from` or below it through edges that carry write permission:
// every child but a backing file (block.c's format and filter permissions
// ask writes of file and data children only).
bool on_write_path(const engine::BlockDriverState& from, const engine::BlockDriverState& target) {
  if (&from == &target) return true;
  for (const engine::BdrvChild* c : from.children) {
    if (c != from.backing && c->bs != nullptr && on_write_path(*c->bs, target)) return true;
  }
  return false;
}

}  // namespace

// A job whose commands read with BDRV_REQ_COPY_ON_READ is block-stream's
// kind of user: its BlockBackend holds BLK_PERM_WRITE_UNCHANGED for the job's
// life, which keeps every node its reads may copy into from being reopened
// read-only. A guest's plain writes need no such rule: the engine fails them
// with -EPERM itself, which the language models as the read_only event.
bool ScenarioRun::copy_on_read_writer_over(const Node& node) const {
  for (const auto& job : jobs_) {
    if (job->finished || job->commands == nullptr || !reads_with_copy_on_read(*job)) continue;
    if (on_write_path(*job->node->bs, *node.bs)) return true;
  }
  return false;
}

bool ScenarioRun::flush_may_skip_disk(const Node& node) const {
  // Raw and fault nodes flush their file whatever their own flag (the
  // reference's flush_parent): over a mem node only the mem node's counts. A
  // format may keep its own data back: then any flag below counts.
  // A quorum's replicas hold the same data: a flag on any of them counts
  // (conservative for a node written beside its quorum: it only checks less).
  if (const Node* mem = identity_mem(node)) {
    for (std::size_t k : with_replicas(mem->index)) {
      if (no_flush_[k]) return true;
    }
    return false;
  }
  for (std::size_t i : node.subtree) {
    if (no_flush_[i]) return true;
  }
  return false;
}

bool ScenarioRun::detects_zeroes(const Node& node) const {
  for (std::size_t i : node.subtree) {
    if (nodes_[i]->spec->detect_zeroes != engine::DetectZeroes::kOff) return true;
  }
  return false;
}

// bdrv_flush_all; when it succeeds every checked node counts as flushed from
// its start, unless cache.no-flush may have kept its data from the disk.
void ScenarioRun::flush_all(const EventSpec&) {
  const std::uint64_t began = ++clock_;
  if (engine::bdrv_flush_all() < 0) return;
  std::vector<std::size_t> covered;
  for (auto& [index, checked] : checked_) {
    if (flush_may_skip_disk(*nodes_[index])) {
      checked.flushed_under_no_flush = true;
      continue;
    }
    // bdrv_co_flush returns 0 at once for a node without a medium or
    // read-only: a disk below in either state was not flushed.
    if (subtree_read_only(*nodes_[index]) || subtree_ejected(*nodes_[index])) continue;
    checked.flushed(began);
    covered.push_back(index);
  }
  check_flush_order("bdrv_flush_all", began, covered);
}

// Migration's completion of the time: vm_stop drains and flushes every node
// (bdrv_drain_all, bdrv_flush_all), then bdrv_inactivate_all marks each node
// inactive (parents before children; no driver here has an inactivate
// callback). Writes to an inactive node are a caller's bug the reference
// asserts against; reads go on.
void ScenarioRun::inactivate_all(const EventSpec& e) {
  engine::bdrv_drain_all();
  flush_all(e);
  for (auto& n : nodes_) n->bs->open_flags |= engine::BDRV_O_INACTIVE;
  inactive_ = true;
}

// bdrv_invalidate_cache_all: children first, each node active again, and a
// format re-reads its image (qcow2_invalidate_cache reopens it).
void ScenarioRun::activate_all(const EventSpec& e) {
  // The reopen reads as the harness: the scenario language has no failed
  // activation (a VM that does not start), so fault rules do not answer it.
  pause_faults(true);
  for (std::size_t i : children_first(scenario_.nodes)) {
    Node& n = *nodes_[i];
    n.bs->open_flags &= ~engine::BDRV_O_INACTIVE;
    if (n.cow == nullptr || n.deleted) continue;
    const int ret = n.cow->open(*n.bs);
    if (ret < 0 && subtree_ejected(n)) {
      // Its image is out of reach (a medium below is out): qcow2_invalidate_cache
      // of the time fails ("Could not reopen qcow2 layer") and leaves the node
      // without a driver (bs->drv = NULL), so its requests fail with
      // -ENOMEDIUM from then on. Not a durability failure.
      n.bs->eject();
      media_[i].ejected = true;
      ++media_[i].changes;
      world_.emit(sim::EventKind::kNote, 0, 0, 0, 0, 0,
                  world_.intern(sim::cat("event ", e.name, ": cow image ", n.spec->name, " not reopened (",
                                         engine::errno_name(ret), "): left without a driver")));
      continue;
    }
    if (ret < 0) {
      violation(Oracle::kDurability, "cow image unopenable after activation",
                sim::cat("event '", e.name, "': cow image '", n.spec->name, "' cannot be reopened: ", engine::errno_name(ret)));
    }
  }
  pause_faults(false);
  inactive_ = false;
}

// bdrv_reopen of the time (bdrv_reopen_multiple): drain everything, flush
// each node queued (the node, then its children, which inherit
// cache.no-flush) with its old flags, and only if every flush succeeded give
// them the new flags. No durability is credited for those flushes.
void ScenarioRun::reopen(const EventSpec& e) {
  Node& node = node_named(e.node);
  engine::bdrv_drain_all_begin();
  // The flushes below run with the old flags.
  for (auto& [index, checked] : checked_) {
    if (flush_may_skip_disk(*nodes_[index])) checked.flushed_under_no_flush = true;
  }
  bool prepared = true;
  for (std::size_t i : node.subtree) {
    const int ret = engine::bdrv_flush(*nodes_[i]->bs);
    if (ret < 0) {
      world_.emit(sim::EventKind::kNote, 0, 0, 0, 0, 0,
                  world_.intern(sim::cat("reopen of ", e.node, " failed: flushing ", nodes_[i]->spec->name, ": ",
                                         engine::errno_name(ret))));
      prepared = false;
      break;
    }
  }
  if (prepared) {
    for (std::size_t i : node.subtree) {
      engine::BlockDriverState& bs = *nodes_[i]->bs;
      bs.open_flags = e.no_flush ? (bs.open_flags | engine::BDRV_O_NO_FLUSH) : (bs.open_flags & ~engine::BDRV_O_NO_FLUSH);
      engine::bdrv_refresh_limits(bs);
      no_flush_[i] = e.no_flush;
    }
  }
  engine::bdrv_drain_all_end();
}

void ScenarioRun::pause_faults(bool paused) {
  for (auto& n : nodes_) {
    if (n != nullptr && n->fault != nullptr) n->fault->set_paused(paused);
  }
}

void ScenarioRun::prepare_for_checks(bool in) {
  checks_in_progress_ = in;
  if (in) copy_on_read_saved_.assign(nodes_.size(), 0);
  // The checks' reads are the harness's, not the guest's: no memory limit.
  world_.set_alloc_limit(in ? 0 : scenario_.memory_limit);
  // Nor do fault rules answer them: a crash's restart reopens formats and
  // reads every node, and an injected error there says nothing of the engine.
  pause_faults(in);
  for (auto& n : nodes_) {
    if (in) {
      copy_on_read_saved_[n->index] = std::exchange(n->bs->copy_on_read, 0);
    } else {
      n->bs->copy_on_read = copy_on_read_saved_[n->index];
    }
    if (!media_[n->index].ejected) continue;
    if (in) {
      insert_medium(*n);
    } else {
      n->bs->eject();
    }
  }
}

// Creates the bitmap the first time, then enables or disables it (QMP's
// block-dirty-bitmap-add / -enable / -disable, which do not drain).
void ScenarioRun::dirty_bitmap_event(const EventSpec& e) {
  Node& node = node_named(e.node);
  const std::uint64_t now = ++clock_;
  BitmapWatch* watch = nullptr;
  for (BitmapWatch& b : bitmaps_) {
    if (b.name == e.bitmap && b.node == node.index) watch = &b;
  }
  if (watch == nullptr) {
    engine::BdrvDirtyBitmap& bitmap = engine::bdrv_create_dirty_bitmap(*node.bs, e.granularity);
    bitmap.enabled = false;
    watch = &bitmaps_.emplace_back(BitmapWatch{e.bitmap, node.index, &bitmap, {}});
  }
  if (e.enabled == watch->bitmap->enabled) return;
  watch->bitmap->enabled = e.enabled;
  if (e.enabled) {
    watch->enabled.emplace_back(now, kNeverSettles);
  } else {
    watch->enabled.back().second = now;
  }
}

ScenarioRun::MainLoopAction ScenarioRun::main_loop_action(EventSpec::Action action) {
  using A = EventSpec::Action;
  switch (action) {
    case A::kFlushAll: return &ScenarioRun::flush_all;
    case A::kInactivate: return &ScenarioRun::inactivate_all;
    case A::kActivate: return &ScenarioRun::activate_all;
    case A::kCrash: return &ScenarioRun::crash;
    case A::kReopen: return &ScenarioRun::reopen;
    case A::kBlockResize: return &ScenarioRun::block_resize;
    case A::kSetBacking: return &ScenarioRun::set_backing;
    case A::kBlockdevDel: return &ScenarioRun::blockdev_del;
    case A::kReplaceNode: return &ScenarioRun::replace_node;
    case A::kEject:
    case A::kInsert:
    case A::kReadOnly: return &ScenarioRun::change_medium;
    default: break;
  }
  SIM_ASSERT(false, "not an action of the main loop");
  return nullptr;
}

// A power loss stops the machine: no other event starts while one is being
// done and judged. Its drain and its checks' reads poll the main loop, which
// would otherwise run another event nested inside them (a second crash
// rebasing the histories the first is still judging by).
sim::Task<void> ScenarioRun::after_power_loss() {
  while (crashing_) {
    power_loss_waiters_.push_back(world_.current_coroutine());
    co_await world_.suspend(sim::WaitInfo{"power loss", 0, 0, world_.intern("a crash in progress"), 0});
  }
}

// And a crash waits for every action of the main loop in progress (a sync
// wrapper's poll, another event's drain) to return: nested inside one, the
// power loss would come between a request's completion in the driver and the
// moment its command records it, and judge by a history that is not yet true.
sim::Task<void> ScenarioRun::before_power_loss() {
  while (crashing_ || main_loop_actions_ > 0) {
    power_loss_waiters_.push_back(world_.current_coroutine());
    co_await world_.suspend(sim::WaitInfo{"power loss", 0, 0, world_.intern("actions of the main loop to return"), 0});
  }
}

sim::Task<void> ScenarioRun::monitor_turn() {
  while (monitor_busy_) {
    monitor_waiters_.push_back(world_.current_coroutine());
    co_await world_.suspend(sim::WaitInfo{"monitor", 0, 0, world_.intern("the monitor command in progress"), 0});
  }
  monitor_busy_ = true;
}

void ScenarioRun::end_monitor_turn() {
  SIM_ASSERT(monitor_busy_, "a monitor command ended that had not begun");
  monitor_busy_ = false;
  // The first waiter takes the next turn; the others wait again.
  for (sim::Coroutine* waiter : std::exchange(monitor_waiters_, {})) world_.wake(*waiter);
}

void ScenarioRun::wake_power_loss_waiters() {
  for (sim::Coroutine* waiter : std::exchange(power_loss_waiters_, {})) world_.wake(*waiter);
}

sim::Task<void> ScenarioRun::event_main(const EventSpec& e) {
  using A = EventSpec::Action;
  co_await wait_trigger(e);
  if (e.action == A::kCrash) {
    co_await before_power_loss();
    crashing_ = true;
  } else {
    co_await after_power_loss();
  }
  world_.emit(sim::EventKind::kNote, 0, 0, 0, 0, 0, world_.intern(sim::cat("event ", e.describe())));
  switch (e.action) {
    case A::kDrain: {
      // bdrv_drain / bdrv_co_drain: the drain probe checks their quiescent point.
      Node& node = node_named(e.node);
      if (e.in_coroutine) {
        co_await engine::bdrv_co_drain(*node.bs);
      } else {
        co_await in_main_loop(sim::cat("event ", e.name, ": drain(", e.node, ")"), [&node] { engine::bdrv_drain(*node.bs); });
      }
      break;
    }
    case A::kDrained:
    case A::kDrainAll:
      co_await drained_section(e);
      break;
    case A::kFlushAll:
    case A::kInactivate:
    case A::kActivate:
    case A::kCrash:
    case A::kReopen:
    case A::kBlockResize:
    case A::kSetBacking:
    case A::kBlockdevDel:
    case A::kReplaceNode:
    case A::kEject:
    case A::kInsert:
    case A::kReadOnly: {
      // Actions of the main loop, outside any coroutine, as QEMU runs them:
      // each may poll. Those a monitor command does (all but a crash) run one
      // at a time: QEMU dispatches the monitor from the main loop, never
      // from inside the aio_poll of a command in progress.
      const bool monitor = e.action != A::kCrash;
      if (monitor) co_await monitor_turn();
      const auto action = main_loop_action(e.action);
      co_await in_main_loop(sim::cat("event ", e.name, ": ", event_action_name(e.action)),
                            [this, &e, action] { (this->*action)(e); }, e.action == A::kCrash);
      if (monitor) end_monitor_turn();
      if (e.action == A::kCrash) {
        crashing_ = false;
        wake_power_loss_waiters();
      }
      break;
    }
    case A::kPowerCut:
      for (std::uint32_t cut = 0; cut < e.count; ++cut) {
        if (cut > 0) {
          if (std::none_of(jobs_.begin(), jobs_.end(), [](const auto& job) { return !job->finished; })) break;
          co_await sim::co_sleep_ns(e.every_ns, "next power cut");
        }
        check_power_cut(e);
      }
      break;
    case A::kCopyOnRead: {
      Node& node = node_named(e.node);
      if (e.enabled && media_[node.index].read_only) {
        // Who turns copy-on-read on makes the node writable first: an open
        // with copy-on-read refuses a read-only node (bdrv_open_common),
        // block-stream reopens it read-write. Its disable is refused too.
        ++copy_on_read_refused_[node.index];
        world_.emit(sim::EventKind::kNote, 0, 0, 0, 0, 0,
                    world_.intern(sim::cat("copy_on_read ", e.node, " refused: the node is read-only")));
        break;
      }
      if (!e.enabled && copy_on_read_refused_[node.index] > 0) {
        --copy_on_read_refused_[node.index];
        break;
      }
      if (e.enabled) {
        engine::bdrv_enable_copy_on_read(*node.bs);
      } else {
        engine::bdrv_disable_copy_on_read(*node.bs);
      }
      copy_on_read_[node.index] += e.enabled ? 1 : -1;
      ++cor_changes_;
      break;
    }
    case A::kDirtyBitmap:
      dirty_bitmap_event(e);
      break;
    case A::kBackup:
      co_await backup_event(e);
      break;
    case A::kSetState:
      fault_below(node_named(e.node)).set_state(e.state);
      break;
    case A::kResume: {
      drivers::Breakpoints& bp = fault_below(node_named(e.node)).breakpoints();
      if (!bp.suspended(e.tag)) {
        world_.fail(sim::Verdict{sim::Verdict::Kind::kOracle,
                                 sim::cat("event '", e.name, "' (", scenario_.path, ":", e.line,
                                          "): resume: no request held with tag '", e.tag, "'"),
                                 "",
                                 {},
                                 std::string(oracle_name(Oracle::kExpect)),
                                 "resume: no request held"});
      }
      bp.resume(e.tag);
      break;
    }
  }
}

}  // namespace scenarios
