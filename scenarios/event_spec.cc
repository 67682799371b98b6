#include "scenarios/event_spec.h"

#include <algorithm>
#include <set>

#include "scenarios/qemu_io.h"
#include "scenarios/scenario.h"
#include "scenarios/toml_reader.h"
#include "sim/str.h"

namespace scenarios {
namespace {

struct ActionName {
  EventSpec::Action action;
  std::string_view name;
};
constexpr ActionName kActions[] = {
    {EventSpec::Action::kDrain, "drain"},         {EventSpec::Action::kDrained, "drained"},
    {EventSpec::Action::kDrainAll, "drain_all"},   {EventSpec::Action::kFlushAll, "flush_all"},
    {EventSpec::Action::kCrash, "crash"},          {EventSpec::Action::kCopyOnRead, "copy_on_read"},
    {EventSpec::Action::kSetState, "set_state"},   {EventSpec::Action::kResume, "resume"},
    {EventSpec::Action::kEject, "eject"},          {EventSpec::Action::kInsert, "insert"},
    {EventSpec::Action::kReadOnly, "read_only"},   {EventSpec::Action::kDirtyBitmap, "dirty_bitmap"},
    {EventSpec::Action::kPowerCut, "power_cut"},   {EventSpec::Action::kSetBacking, "set_backing"},
    {EventSpec::Action::kReopen, "reopen"},         {EventSpec::Action::kInactivate, "inactivate"},
    {EventSpec::Action::kActivate, "activate"},     {EventSpec::Action::kBackup, "backup"},
    {EventSpec::Action::kBlockResize, "block_resize"}, {EventSpec::Action::kBlockdevDel, "blockdev_del"},
    {EventSpec::Action::kReplaceNode, "replace_node"},
};

// The fault node at or below `name` (following file edges), or nullptr.
const NodeSpec* fault_at_or_below(const Scenario& s, const std::string& name) {
  const NodeSpec* n = s.find_node(name);
  for (int depth = 0; depth < 64 && n != nullptr && n->driver != NodeSpec::Driver::kFault; ++depth) {
    n = n->data_child().empty() ? nullptr : s.find_node(n->data_child());
  }
  return n;
}

// Whether `top` or a node below it (file and backing edges) satisfies `pred`.
template <typename Pred>
bool any_at_or_below(const Scenario& s, const NodeSpec& top, const Pred& pred, int depth = 0) {
  if (pred(top)) return true;
  if (depth >= 64) return false;  // the parser rejects cycles
  for (const auto& [key, edge] : top.edges()) {
    const NodeSpec* child = edge->empty() ? nullptr : s.find_node(*edge);
    if (child != nullptr && any_at_or_below(s, *child, pred, depth + 1)) return true;
  }
  return false;
}

// Whether a mem node the power cut hits is at or below `n` (file and backing).
bool reaches_cut_node(const Scenario& s, const NodeSpec& n, const EventSpec& e) {
  return any_at_or_below(s, n, [&e](const NodeSpec& m) {
    return m.driver == NodeSpec::Driver::kMem && (e.node.empty() || m.name == e.node);
  });
}

// A power cut is judged on the medium itself, with nothing reopened: every job
// whose data lands on a cut mem node must reach it through raw and fault nodes
// alone (offsets unchanged, no backing showing through).
absl::Status check_power_cut_reads(const Reader& r, const toml::table& t, const Scenario& s, const EventSpec& e) {
  for (const JobSpec& j : s.jobs) {
    for (const NodeSpec* n = s.find_node(j.node); n != nullptr && n->driver != NodeSpec::Driver::kMem;
         n = n->data_child().empty() ? nullptr : s.find_node(n->data_child())) {
      if (!reaches_cut_node(s, *n, e)) break;
      const bool passes = n->is_filter() && (n->driver == NodeSpec::Driver::kTop || n->backing.empty());
      if (passes) continue;
      return r.error_at(t, sim::cat("[[event]] power_cut: job '", j.name, "' reaches a cut mem node through ",
                                    n->driver_name(), " node '", n->name, "'", n->backing.empty() ? "" : " (with a backing)",
                                    "; a power cut judges the medium as it is, so only filters (raw and fault without a "
                                    "backing, top) may stand between (use action = \"crash\", which reopens formats)"));
    }
  }
  return absl::OkStatus();
}

bool at_or_below(const Scenario& s, const NodeSpec& top, const std::string& name);

// A crash reopens every cow image whose file it hit. Under cache.no-flush the
// image's own header and table never reach the disk, so the crash may leave it
// unopenable, as QEMU's cache=unsafe promises: nothing to judge after that.
absl::Status check_crash_reopens(const Reader& r, const toml::table& t, const Scenario& s, const EventSpec& e) {
  for (const NodeSpec& cow : s.nodes) {
    if (cow.driver != NodeSpec::Driver::kCow || cow.file.empty()) continue;
    const NodeSpec* file = s.find_node(cow.file);
    for (const NodeSpec& mem : s.nodes) {
      // No flush reaches it: its own flag, or a reopen that turns it on (on
      // a node at or above it: a reopen sets the flag down the subtree).
      const bool unsafe = mem.no_flush || std::any_of(s.events.begin(), s.events.end(), [&](const EventSpec& o) {
        const NodeSpec* reopened = o.action == EventSpec::Action::kReopen && o.no_flush ? s.find_node(o.node) : nullptr;
        return reopened != nullptr && at_or_below(s, *reopened, mem.name);
      });
      if (mem.driver != NodeSpec::Driver::kMem || !unsafe) continue;
      if (!e.node.empty() && e.node != mem.name) continue;
      if (file == nullptr || !at_or_below(s, *file, mem.name)) continue;
      return r.error_at(t, sim::cat("[[event]] crash: cow image '", cow.name, "' keeps its header and table in '", mem.name,
                                    "', which has (or a reopen gives it) no_flush = true: a crash there may leave the "
                                    "image unopenable, as cache=unsafe allows, and there is nothing to judge after it "
                                    "(crash another node, or drop no_flush)"));
    }
  }
  return absl::OkStatus();
}

// Whether node `name` is `top` or below it (file and backing edges).
bool at_or_below(const Scenario& s, const NodeSpec& top, const std::string& name) {
  return any_at_or_below(s, top, [&name](const NodeSpec& m) { return m.name == name; });
}

// A drained section this event ends from its coroutine tells the devices
// above the node from that coroutine, and the sections their scripts end
// tell theirs. A `drain` in such a script would call bdrv_drained_begin in a
// coroutine, which yields that coroutine inside the callback: blksim does not
// model a callback suspended half-way (a C++ coroutine cannot suspend in a
// plain function), so the parser refuses the combination.
absl::Status check_coroutine_drained_end(const Reader& r, const toml::table& t, const Scenario& s, const EventSpec& e) {
  std::vector<std::string> ended{e.node};
  for (std::size_t next = 0; next < ended.size(); ++next) {
    for (const JobSpec& j : s.jobs) {
      const NodeSpec* top = s.find_node(j.node);
      if (!j.backend || top == nullptr || !at_or_below(s, *top, ended[next])) continue;
      for (const DrainCallbackAction& a : j.backend->on_drained_end) {
        if (a.kind == DrainCallbackAction::Kind::kDrain) {
          return r.error_at(t, sim::cat("[[event]] with in_coroutine = true ends the drained section of '", e.node,
                                        "' from a coroutine, which runs job '", j.name, "''s on_drained_end there; its '",
                                        a.text, "' would drain inside that coroutine, which blksim does not model "
                                        "(drain from on_drained_begin, or leave in_coroutine out)"));
        }
        if (a.kind == DrainCallbackAction::Kind::kDrainedEnd &&
            std::find(ended.begin(), ended.end(), a.node) == ended.end()) {
          ended.push_back(a.node);
        }
      }
    }
  }
  return absl::OkStatus();
}

// backup: from a node to another in its AioContext, neither below the other,
// the target at least as large and written by no job; no job writes below
// the source (its writes would pass the notifier by); one backup per node.
absl::Status check_backup(const Reader& r, const toml::table& t, const Scenario& s, const EventSpec& e) {
  const NodeSpec& source = *s.find_node(e.node);
  const NodeSpec* target = s.find_node(e.target);
  if (target == nullptr) return r.error_at(*t.get("target"), sim::cat("[[event]].target: no node named '", e.target, "'"));
  if (at_or_below(s, source, target->name) || at_or_below(s, *target, source.name)) {
    return r.error_at(*t.get("target"), sim::cat("[[event]] backup: '", target->name, "' and '", source.name,
                                                 "' are one above the other; the copy goes to a node of its own"));
  }
  if (target->iothread != source.iothread) {
    return r.error_at(*t.get("target"), sim::cat("[[event]] backup: '", target->name, "' and '", source.name,
                                                 "' run in different AioContexts (a block job keeps to one)"));
  }
  if (s.node_size(*target) < s.node_size(source)) {
    return r.error_at(*t.get("target"), sim::cat("[[event]] backup: target '", target->name, "' has ",
                                                 s.node_size(*target), " bytes, fewer than '", source.name, "''s ",
                                                 s.node_size(source)));
  }
  for (const JobSpec& j : s.jobs) {
    const NodeSpec* n = s.find_node(j.node);
    if (at_or_below(s, *target, j.node) || at_or_below(s, *n, target->name)) {
      return r.error_at(t, sim::cat("[[event]] backup: job '", j.name, "' reaches the target '", target->name,
                                    "'; the target holds the point-in-time copy only"));
    }
    if (j.node != source.name && at_or_below(s, source, j.node)) {
      return r.error_at(t, sim::cat("[[event]] backup: job '", j.name, "' writes to '", j.node, "' below the source '",
                                    source.name, "', past its before-write notifier"));
    }
  }
  for (const EventSpec& other : s.events) {
    if (other.action == EventSpec::Action::kBackup && other.node == e.node) {
      return r.error_at(t, sim::cat("[[event]] backup: node '", e.node, "' already has a backup (event '", other.name, "')"));
    }
  }
  return absl::OkStatus();
}

// Whether every node at or below `top` reads as zeroes for the whole run: no
// initial image, and no job whose writes land there.
absl::Status check_blank(const Reader& r, const toml::source_region& t, std::string_view what, const Scenario& s,
                         const NodeSpec& top, std::string_view role) {
  for (const NodeSpec& n : s.nodes) {
    if (!at_or_below(s, top, n.name)) continue;
    if (n.has_initial_content()) {
      return r.error_at(t, sim::cat(what, ": ", role, " '", top.name, "' holds node '", n.name,
                                    "' with an image or a fill; backings that change must read as zeroes, so that what the "
                                    "guest sees of the node stays the same (the data oracle's model)"));
    }
    for (const NodeSpec& format : s.nodes) {
      const NodeSpec* file = format.driver == NodeSpec::Driver::kCow ? s.find_node(format.file) : nullptr;
      if (file == nullptr || !at_or_below(s, *file, n.name)) continue;
      return r.error_at(t, sim::cat(what, ": ", role, " '", top.name, "' holds node '", n.name,
                                    "', which stores cow image '", format.name, "'; backings that change must read as zeroes"));
    }
    for (const JobSpec& j : s.jobs) {
      // A job's writes land on its node and, through raw and fault, on their files.
      bool lands = false;
      for (const NodeSpec* m = s.find_node(j.node); m != nullptr && !lands;
           m = m->is_filter() && !m->data_child().empty() ? s.find_node(m->data_child()) : nullptr) {
        lands = m->name == n.name;
      }
      if (!lands) continue;
      return r.error_at(t, sim::cat(what, ": ", role, " '", top.name, "' holds node '", n.name,
                                    "', which job '", j.name, "' writes to; backings that change must read as zeroes"));
    }
  }
  return absl::OkStatus();
}

// set_backing: on a cow node, to a node in its iothread that is not above it;
// the old and the new backing must read as zeroes for the whole run, so the
// node's content (what the oracles model) does not change with the graph.
}  // namespace

absl::Status check_set_backing(const Reader& r, const toml::source_region& at_node, const toml::source_region& at_backing,
                               std::string_view what, const Scenario& s, const std::string& node_name,
                               const std::string& backing_name) {
  const NodeSpec& node = *s.find_node(node_name);
  if (node.driver != NodeSpec::Driver::kCow) {
    return r.error_at(at_node, sim::cat(what, ": node '", node_name, "' is ", node.driver_name(),
                                        "; only a cow node has a backing"));
  }
  if (!node.backing.empty()) RETURN_IF_ERROR(check_blank(r, at_node, what, s, *s.find_node(node.backing), "its backing"));
  if (backing_name.empty()) return absl::OkStatus();
  const NodeSpec* backing = s.find_node(backing_name);
  if (backing == nullptr) return r.error_at(at_backing, sim::cat(what, ": no node named '", backing_name, "'"));
  if (at_or_below(s, *backing, node_name)) {
    return r.error_at(at_backing, sim::cat(what, ": '", node_name, "' is at or below '", backing_name,
                                           "': the graph would have a cycle"));
  }
  if (backing->iothread != node.iothread) {
    return r.error_at(at_backing, sim::cat(what, ": '", backing_name, "' runs in another AioContext than '", node_name, "'"));
  }
  return check_blank(r, at_backing, what, s, *backing, "the new backing");
}

namespace {

absl::Status read_trigger(const Reader& r, const toml::table& t, const Scenario& s, EventSpec& e) {
  int triggers = 0;
  for (std::string_view key : {"at_ns", "after_job", "after_requests", "on_break"}) triggers += t.contains(key) ? 1 : 0;
  if (triggers != 1) {
    return r.error_at(t, "[[event]] needs exactly one trigger: at_ns = T, after_job = \"JOB\", after_requests = N or "
                         "on_break = \"TAG\"");
  }
  if (t.contains("at_ns")) {
    e.trigger = EventSpec::Trigger::kAt;
    return r.read_uint(t, "at_ns", e.at_ns, 0, kMaxEventDelayNs, "[[event]]");
  }
  if (t.contains("after_requests")) {
    e.trigger = EventSpec::Trigger::kAfterRequests;
    return r.read_uint(t, "after_requests", e.after_requests, 1, UINT32_MAX, "[[event]]");
  }
  if (t.contains("after_job")) {
    e.trigger = EventSpec::Trigger::kAfterJob;
    RETURN_IF_ERROR(r.read_string(t, "after_job", e.after_job, true, "[[event]]"));
    for (const JobSpec& j : s.jobs) {
      if (j.name == e.after_job) return absl::OkStatus();
    }
    return r.error_at(*t.get("after_job"), sim::cat("[[event]].after_job: no job named '", e.after_job, "'"));
  }
  e.trigger = EventSpec::Trigger::kOnBreak;
  RETURN_IF_ERROR(r.read_string(t, "on_break", e.on_break, true, "[[event]]"));
  if (e.node.empty()) return r.error_at(t, "[[event]] with on_break needs node = \"...\" (the breakpoint's node)");
  return absl::OkStatus();
}

absl::Status read_event(const Reader& r, const toml::table& t, const Scenario& s, EventSpec& e) {
  e.line = static_cast<int>(t.source().begin.line);
  RETURN_IF_ERROR(r.check_keys(t, "[[event]]",
                               {"name", "at_ns", "after_job", "after_requests", "on_break", "action", "node",
                                "duration_ns", "in_coroutine", "mode", "enabled", "state", "tag", "bitmap",
                                "granularity", "count", "every_ns", "backing", "drained", "no_flush", "target", "sync", "cluster_size", "size"}));
  RETURN_IF_ERROR(r.read_name(t, "name", e.name, false, "[[event]]"));
  std::string action;
  RETURN_IF_ERROR(r.read_string(t, "action", action, true, "[[event]]"));
  bool known = false;
  std::string names;
  for (const ActionName& a : kActions) {
    names += sim::cat(names.empty() ? "" : ", ", a.name);
    if (a.name == action) {
      e.action = a.action;
      known = true;
    }
  }
  if (!known) return r.error_at(*t.get("action"), sim::cat("[[event]].action: unknown action '", action, "' (expected one of: ", names, ")"));
  RETURN_IF_ERROR(r.read_string(t, "node", e.node, false, "[[event]]"));
  RETURN_IF_ERROR(read_trigger(r, t, s, e));

  using A = EventSpec::Action;
  // Each option belongs to some actions only: a stray one is a mistake, not a default.
  const auto only_for = [&](std::string_view key, std::initializer_list<A> actions) -> absl::Status {
    if (!t.contains(key)) return absl::OkStatus();
    for (A a : actions) {
      if (a == e.action) return absl::OkStatus();
    }
    return r.error_at(*t.get(key), sim::cat("[[event]].", key, ": not an option of action '", action, "'"));
  };
  RETURN_IF_ERROR(only_for("duration_ns", {A::kDrained, A::kDrainAll}));
  RETURN_IF_ERROR(only_for("in_coroutine", {A::kDrain, A::kDrained}));
  RETURN_IF_ERROR(only_for("mode", {A::kCrash, A::kPowerCut}));
  RETURN_IF_ERROR(only_for("count", {A::kPowerCut}));
  RETURN_IF_ERROR(only_for("backing", {A::kSetBacking}));
  RETURN_IF_ERROR(only_for("drained", {A::kSetBacking}));
  RETURN_IF_ERROR(only_for("no_flush", {A::kReopen}));
  RETURN_IF_ERROR(only_for("target", {A::kBackup, A::kReplaceNode}));
  if (e.action == A::kReplaceNode) RETURN_IF_ERROR(r.read_string(t, "target", e.target, true, "[[event]]"));
  RETURN_IF_ERROR(only_for("sync", {A::kBackup}));
  RETURN_IF_ERROR(only_for("cluster_size", {A::kBackup}));
  RETURN_IF_ERROR(only_for("size", {A::kBlockResize}));
  if (e.action == A::kBlockResize) {
    if (!t.contains("size")) return r.error_at(t, "[[event]] block_resize needs size = BYTES (the new length)");
    RETURN_IF_ERROR(r.read_uint(t, "size", e.size, 0, kMaxTruncateBytes, "[[event]]", true));
  }
  if (e.action == A::kBackup) {
    RETURN_IF_ERROR(r.read_string(t, "target", e.target, true, "[[event]]"));
    std::string sync = "full";
    RETURN_IF_ERROR(r.read_string(t, "sync", sync, false, "[[event]]"));
    if (sync != "full" && sync != "none") {
      return r.error_at(*t.get("sync"), sim::cat("[[event]].sync: expected \"full\" (copy every cluster) or \"none\" "
                                                 "(copy only what is about to be overwritten), got \"", sync, "\""));
    }
    e.sync = sync == "full" ? EventSpec::BackupSync::kFull : EventSpec::BackupSync::kNone;
    std::uint64_t cluster = e.cluster_size;
    RETURN_IF_ERROR(r.read_uint(t, "cluster_size", cluster, 512, kMaxBackupCluster, "[[event]]", true));
    if ((cluster & (cluster - 1)) != 0) {
      return r.error_at(*t.get("cluster_size"), sim::cat("[[event]].cluster_size: expected a power of two, got ", cluster));
    }
    e.cluster_size = static_cast<std::uint32_t>(cluster);
  }
  if (e.action == A::kReopen) {
    // The options the reference's bdrv_reopen can change (read-only has its own event).
    if (!t.contains("no_flush")) return r.error_at(t, "[[event]] reopen needs no_flush = true or false (cache.no-flush)");
    RETURN_IF_ERROR(r.read_bool(t, "no_flush", e.no_flush, "[[event]]"));
  }
  RETURN_IF_ERROR(r.read_bool(t, "drained", e.drained, "[[event]]"));
  if (e.action == A::kSetBacking) {
    if (!t.contains("backing")) {
      return r.error_at(t, "[[event]] set_backing needs backing = \"NODE\" (or \"\" to detach the backing)");
    }
    RETURN_IF_ERROR(r.read_string(t, "backing", e.backing, false, "[[event]]"));
  }
  RETURN_IF_ERROR(only_for("every_ns", {A::kPowerCut}));
  if (e.action == A::kPowerCut) {
    std::uint64_t count = e.count;
    RETURN_IF_ERROR(r.read_uint(t, "count", count, 1, kMaxPowerCuts, "[[event]]"));
    e.count = static_cast<std::uint32_t>(count);
    RETURN_IF_ERROR(r.read_uint(t, "every_ns", e.every_ns, 1, kMaxEventDelayNs, "[[event]]"));
    if ((e.count > 1) != t.contains("every_ns")) {
      return r.error_at(t, "[[event]] power_cut: count > 1 needs every_ns = N (the virtual time between cuts), and "
                           "every_ns needs count > 1");
    }
  }
  RETURN_IF_ERROR(only_for("enabled", {A::kCopyOnRead, A::kReadOnly, A::kDirtyBitmap}));
  RETURN_IF_ERROR(only_for("bitmap", {A::kDirtyBitmap}));
  RETURN_IF_ERROR(only_for("granularity", {A::kDirtyBitmap}));
  if (e.action == A::kDirtyBitmap) {
    RETURN_IF_ERROR(r.read_name(t, "bitmap", e.bitmap, true, "[[event]]"));
    std::uint64_t granularity = e.granularity;
    RETURN_IF_ERROR(r.read_uint(t, "granularity", granularity, 512, 1u << 30, "[[event]]", true));
    if ((granularity & (granularity - 1)) != 0) {
      return r.error_at(*t.get("granularity"), sim::cat("[[event]].granularity: expected a power of two, got ", granularity));
    }
    e.granularity = static_cast<std::uint32_t>(granularity);
  }
  RETURN_IF_ERROR(only_for("state", {A::kSetState}));
  RETURN_IF_ERROR(only_for("tag", {A::kResume}));
  RETURN_IF_ERROR(r.read_uint(t, "duration_ns", e.duration_ns, 0, kMaxEventDelayNs, "[[event]]"));
  RETURN_IF_ERROR(r.read_bool(t, "in_coroutine", e.in_coroutine, "[[event]]"));
  RETURN_IF_ERROR(r.read_bool(t, "enabled", e.enabled, "[[event]]"));
  RETURN_IF_ERROR(r.read_small(t, "state", e.state, 1, 1 << 20, "[[event]]"));
  RETURN_IF_ERROR(r.read_string(t, "tag", e.tag, e.action == A::kResume, "[[event]]"));
  if (const toml::node* mode = t.get("mode")) {
    auto m = mode->is_string() ? drivers::crash_mode_from_name(mode->as_string()->get()) : std::nullopt;
    if (!m) return r.error_at(*mode, "[[event]].mode: expected \"drop-all\", \"random-subset\" or \"torn-sectors\"");
    e.mode = *m;
  }

  const bool needs_node = e.action == A::kDrain || e.action == A::kDrained || e.action == A::kCopyOnRead ||
                          e.action == A::kSetState || e.action == A::kResume || e.action == A::kEject ||
                          e.action == A::kInsert || e.action == A::kReadOnly || e.action == A::kDirtyBitmap ||
                          e.action == A::kSetBacking || e.action == A::kReopen || e.action == A::kBackup ||
                          e.action == A::kBlockResize || e.action == A::kBlockdevDel || e.action == A::kReplaceNode;
  const bool cuts_power = e.action == A::kCrash || e.action == A::kPowerCut;
  const bool takes_node = needs_node || cuts_power || e.trigger == EventSpec::Trigger::kOnBreak;
  if (needs_node && e.node.empty()) return r.error_at(t, sim::cat("[[event]] action '", action, "' needs node = \"...\""));
  if (!takes_node && !e.node.empty()) {
    return r.error_at(*t.get("node"), sim::cat("[[event]].node: action '", action, "' covers every node"));
  }
  if (!e.node.empty()) {
    const NodeSpec* n = s.find_node(e.node);
    if (n == nullptr) return r.error_at(*t.get("node"), sim::cat("[[event]].node: no node named '", e.node, "'"));
    if (cuts_power && n->driver != NodeSpec::Driver::kMem) {
      return r.error_at(*t.get("node"), sim::cat("[[event]].node: a ", action, " hits a mem node; '", e.node, "' is ",
                                                 n->driver_name(), " (leave node out to crash every mem node)"));
    }
    const bool needs_fault = e.action == A::kSetState || e.action == A::kResume || e.trigger == EventSpec::Trigger::kOnBreak;
    if (needs_fault && fault_at_or_below(s, e.node) == nullptr) {
      return r.error_at(*t.get("node"), sim::cat("[[event]].node: no fault node at or below '", e.node, "'"));
    }
  }
  if (e.action == A::kDrainAll && e.in_coroutine) {
    return r.error_at(t, "[[event]]: drain_all runs from the main loop only");
  }
  if (cuts_power) {
    for (const JobSpec& j : s.jobs) {
      const NodeSpec* n = s.find_node(j.node);
      if (n != nullptr && s.node_size(*n) > kMaxCrashCheckedBytes) {
        return r.error_at(t, sim::cat("[[event]]: a ", action, " checks every node jobs write to; node '", j.node,
                                      "' has ", s.node_size(*n), " bytes, above ", kMaxCrashCheckedBytes));
      }
    }
  }
  if (e.action == A::kPowerCut) RETURN_IF_ERROR(check_power_cut_reads(r, t, s, e));
  if (e.in_coroutine) RETURN_IF_ERROR(check_coroutine_drained_end(r, t, s, e));
  if (e.action == A::kSetBacking) {
    const toml::source_region at_node = t.get("node") != nullptr ? t.get("node")->source() : t.source();
    const toml::source_region at_backing = t.get("backing") != nullptr ? t.get("backing")->source() : t.source();
    RETURN_IF_ERROR(check_set_backing(r, at_node, at_backing, "[[event]] set_backing", s, e.node, e.backing));
  }
  if (e.action == A::kBackup) RETURN_IF_ERROR(check_backup(r, t, s, e));
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string_view> event_action_names() {
  std::vector<std::string_view> names;
  for (const ActionName& a : kActions) names.push_back(a.name);
  return names;
}

std::string_view event_action_name(EventSpec::Action action) {
  for (const ActionName& a : kActions) {
    if (a.action == action) return a.name;
  }
  return "?";
}

std::string EventSpec::describe() const {
  std::string out = sim::cat(name, ": ", event_action_name(action));
  if (!node.empty()) out += sim::cat(" ", node);
  return out;
}

namespace {

// blockdev_del: QMP refuses a node a device uses, and a node another node
// holds for the whole run (a file, a data file, a quorum child: only a
// backing can be detached first, by set_backing) is always in use. Once
// deleted the node is gone: nothing else may name it.
absl::Status check_deletion(const Reader& r, const toml::node& at, const Scenario& s, const EventSpec& del) {
  const std::string& d = del.node;
  const std::string what = sim::cat("[[event]] '", del.name, "' deletes '", d, "'");
  for (const JobSpec& j : s.jobs) {
    if (j.node == d) return r.error_at(at, sim::cat(what, ", but job '", j.name, "' uses it for the whole run (QMP: in use)"));
  }
  // A node a replace_node moves every parent away from is free after it.
  const bool replaced = std::any_of(s.events.begin(), s.events.end(), [&](const EventSpec& e) {
    return e.action == EventSpec::Action::kReplaceNode && e.node == d;
  });
  for (const NodeSpec& n : s.nodes) {
    for (const auto& [key, edge] : n.edges()) {
      if (key == "backing" || *edge != d || replaced) continue;
      return r.error_at(at, sim::cat(what, ", but it is the ", key, " of node '", n.name,
                                     "' for the whole run (only a backing can be detached first, by set_backing)"));
    }
  }
  for (const EventSpec& e : s.events) {
    // A retry, or the replacement that frees the node.
    if (&e == &del || ((e.action == EventSpec::Action::kBlockdevDel || e.action == EventSpec::Action::kReplaceNode) &&
                       e.node == d)) {
      continue;
    }
    if (e.node == d || e.backing == d || e.target == d) {
      return r.error_at(at, sim::cat(what, ", but event '", e.name, "' names it too (a deleted node is gone)"));
    }
  }
  for (const JobSpec& j : s.jobs) {
    if (!j.backend) continue;
    for (const auto* actions : {&j.backend->on_drained_begin, &j.backend->on_drained_end}) {
      for (const DrainCallbackAction& a : *actions) {
        if (a.node != d && a.backing != d) continue;
        return r.error_at(at, sim::cat(what, ", but job '", j.name, "''s callback '", a.text,
                                       "' names it (a deleted node is gone)"));
      }
    }
  }
  return absl::OkStatus();
}

// replace_node: a mirror's completion, which copies a node into one nobody
// uses and moves the first node's parents there. For the oracles' model the
// new node must behave as the old one (a mem node with the same options), the
// old one must be held only as a file or data file (the data moves with the
// parents) and by no job directly, and neither may change otherwise
// (medium, size, bitmaps, backups, another replacement).
absl::Status check_replacement(const Reader& r, const toml::node& at, const Scenario& s, const EventSpec& rep) {
  const std::string what = sim::cat("[[event]] '", rep.name, "' replaces '", rep.node, "' by '", rep.target, "'");
  const NodeSpec& from = *s.find_node(rep.node);
  const NodeSpec* to = s.find_node(rep.target);
  if (to == nullptr) return r.error_at(at, sim::cat(what, ", but there is no node named '", rep.target, "'"));
  if (from.driver != NodeSpec::Driver::kMem || to->driver != NodeSpec::Driver::kMem || to == &from) {
    return r.error_at(at, sim::cat(what, ": both must be mem nodes, and two of them"));
  }
  if (!to->image.empty()) return r.error_at(at, sim::cat(what, ", but '", to->name, "' has an image (the copy fills it)"));
  if (const std::string_view diff = mem_behaviour_difference(from, *to); !diff.empty()) {
    return r.error_at(at, sim::cat(what, ", but they differ in ", diff, " (the oracles' model of the path stays the same)"));
  }
  if (s.node_size(from) > kMaxCheckedNodeBytes) {
    return r.error_at(at, sim::cat(what, ", but '", from.name, "' has more than ", kMaxCheckedNodeBytes, " bytes to copy"));
  }
  for (const NodeSpec& n : s.nodes) {
    for (const auto& [key, edge] : n.edges()) {
      if (*edge == to->name) return r.error_at(at, sim::cat(what, ", but '", to->name, "' is the ", key, " of '", n.name, "'"));
      if (*edge != from.name) continue;
      const bool moves = (key == "file" && n.driver != NodeSpec::Driver::kQuorum) || key == "data_file";
      if (!moves) {
        return r.error_at(at, sim::cat(what, ", but '", from.name, "' is the ", key, " of '", n.name,
                                       "' (only a file or a data file is modelled)"));
      }
    }
  }
  for (const JobSpec& j : s.jobs) {
    if (j.node == from.name || j.node == to->name) {
      return r.error_at(at, sim::cat(what, ", but job '", j.name, "' uses '", j.node, "' directly"));
    }
  }
  using A = EventSpec::Action;
  for (const EventSpec& e : s.events) {
    if (&e == &rep) continue;
    const bool harmless = e.action == A::kDrain || e.action == A::kDrained || e.action == A::kCrash || e.action == A::kPowerCut;
    const bool names_to = (e.node == to->name && !harmless) || e.backing == to->name || e.target == to->name;
    const bool changes_from = e.node == from.name && !harmless && e.action != A::kBlockdevDel;
    const bool resizes_from = e.action == A::kBlockResize && s.truncate_home(*s.find_node(e.node)) == &from;
    if (names_to || changes_from || resizes_from || e.backing == from.name || e.target == from.name) {
      return r.error_at(at, sim::cat(what, ", but event '", e.name, "' ", names_to ? "names the new node" : "changes the old one",
                                     " (only drains, crashes and power cuts may name them, and blockdev_del the old one)"));
    }
  }
  for (const JobSpec& j : s.jobs) {
    if (!j.backend) continue;
    for (const auto* actions : {&j.backend->on_drained_begin, &j.backend->on_drained_end}) {
      for (const DrainCallbackAction& a : *actions) {
        if (a.node == to->name || a.backing == to->name || a.backing == from.name) {
          return r.error_at(at, sim::cat(what, ", but job '", j.name, "''s callback '", a.text, "' names it"));
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status read_events(const Reader& r, const toml::table& root, Scenario& s) {
  const toml::node* node = root.get("event");
  if (node == nullptr) return absl::OkStatus();
  if (!node->is_array_of_tables()) return r.error_at(*node, "'event' must be an array of tables: write [[event]]");
  const toml::array& events = *node->as_array();
  if (events.size() > kMaxEvents) return r.error_at(*node, sim::cat("at most ", kMaxEvents, " events"));
  std::set<std::string> names;
  for (const toml::node& entry : events) {
    EventSpec e;
    RETURN_IF_ERROR(read_event(r, *entry.as_table(), s, e));
    if (e.name.empty()) e.name = sim::cat("event", s.events.size());
    if (!names.insert(e.name).second) return r.error_at(entry, sim::cat("event name '", e.name, "' is used twice"));
    s.events.push_back(std::move(e));
  }
  for (std::size_t i = 0; i < s.events.size(); ++i) {
    if (s.events[i].action == EventSpec::Action::kBlockdevDel) RETURN_IF_ERROR(check_deletion(r, events[i], s, s.events[i]));
    // After every event is read: a reopen may come later in the file.
    if (s.events[i].action == EventSpec::Action::kCrash) {
      RETURN_IF_ERROR(check_crash_reopens(r, *events[i].as_table(), s, s.events[i]));
    }
    if (s.events[i].action == EventSpec::Action::kReplaceNode) {
      RETURN_IF_ERROR(check_replacement(r, events[i], s, s.events[i]));
    }
  }
  return absl::OkStatus();
}

}  // namespace scenarios
