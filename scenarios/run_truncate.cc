// qemu-io's `truncate LENGTH`: blk_truncate (a job with a backend) or
// bdrv_truncate of the job's node, from the main loop, synchronous, while the
// job's and other jobs' requests run on (the reference neither drains nor
// tracks a truncate). The oracles' model: the truncate lands on the mem node
// below raw and fault nodes (truncate_home); every byte past the new length
// is zero from then on, durably (the file's length is metadata the mem model
// keeps durable at once). The errors oracle derives the answer from the graph,
// and the parents oracle checks that every device whose data was resized was
// told and sees the new length.
#include <algorithm>

#include "engine/io.h"
#include "scenarios/scenario_run.h"
#include "sim/invariant.h"
#include "sim/str.h"

namespace scenarios {

std::vector<std::uint64_t> ScenarioRun::resize_callbacks() const {
  std::vector<std::uint64_t> told;
  for (const auto& j : jobs_) told.push_back(j->backend != nullptr ? j->backend->resizes() : 0);
  return told;
}

sim::Task<int> ScenarioRun::truncate_command(Job& job, const Command& cmd) {
  int ret = 0;
  co_await in_main_loop(sim::cat("truncate of ", job.spec->name), [&] {
    const std::vector<std::uint64_t> told = resize_callbacks();
    const auto length = static_cast<std::int64_t>(cmd.offset);
    ret = job.backend != nullptr ? job.backend->truncate(length) : engine::bdrv_truncate(*job.node->root, length);
    // Judged at once: nothing else runs between the truncate and this.
    resized(*job.node, job.backend != nullptr, cmd.offset, ret, told, command_where(scenario_, job, cmd));
  });
  co_return ret;
}

// QMP's block_resize of the reference's time: a new BlockBackend on the node
// (blk_truncate: no medium, no resize), the truncate inside a drained
// section of the node. (Its refusal of nodes that are not the first
// non-filter of their chain is not modelled.)
void ScenarioRun::block_resize(const EventSpec& e) {
  Node& node = node_named(e.node);
  engine::BdrvChild blk_root("block_resize", *node.bs, nullptr, engine::ChildRole::kRoot);
  engine::bdrv_drained_begin(*node.bs);
  const std::vector<std::uint64_t> told = resize_callbacks();
  const int ret = engine::bdrv_is_inserted(*node.bs) ? engine::bdrv_truncate(blk_root, static_cast<std::int64_t>(e.size))
                                                     : -ENOMEDIUM;
  resized(node, true, e.size, ret, told, sim::cat("event '", e.name, "' (block_resize of '", e.node, "' to ", e.size, ")"));
  engine::bdrv_drained_end(*node.bs);
}

int ScenarioRun::truncate_answer(const Node& target, bool through_backend, std::uint64_t length) const {
  // blk_truncate asks bdrv_is_inserted, which looks at the whole subtree.
  if (through_backend && subtree_ejected(target)) return -ENOMEDIUM;
  // bdrv_truncate: no driver, -ENOMEDIUM; raw and mem resize (read-only:
  // -EACCES), raw passing it to its file; fault (blkdebug, a filter) passes it
  // on untouched; cow, top and null have no truncate.
  const Node* n = &target;
  for (std::size_t depth = 0; depth <= nodes_.size(); ++depth) {
    if (media_[n->index].ejected) return -ENOMEDIUM;
    const NodeSpec& spec = *n->spec;
    const bool read_only = media_[n->index].read_only;
    if (spec.driver == NodeSpec::Driver::kMem) {
      if (read_only) return -EACCES;
      return length > scenario_.node_capacity(spec) ? -ENOSPC : 0;
    }
    if (spec.driver == NodeSpec::Driver::kRaw && read_only) return -EACCES;
    if (spec.driver != NodeSpec::Driver::kRaw && spec.driver != NodeSpec::Driver::kFault) return -ENOTSUP;
    n = &node_named_const(spec.file);
  }
  SIM_ASSERT(false, "a cycle of raw and fault nodes (the parser refuses them)");
  return -ENOTSUP;
}

void ScenarioRun::resized(const Node& target, bool through_backend, std::uint64_t length, int ret,
                          const std::vector<std::uint64_t>& told, const std::string& where) {
  // An inactive node: the reference asserts (invariant truncate.active).
  if (!world_.verdict().ok() || inactive_) return;
  if (checking(Oracle::kErrors)) {
    if (const int must = truncate_answer(target, through_backend, length); ret != must) {
      violation(Oracle::kErrors, "truncate: wrong answer",
                sim::cat(where, " answered ", expect_name(ret < 0 ? ret : 0), ", but the node's driver chain answers ",
                         expect_name(must)));
      return;
    }
  }
  if (ret < 0) return;
  const NodeSpec* home_spec = scenario_.truncate_home(*target.spec);
  SIM_ASSERT(home_spec != nullptr, "a truncate succeeded where the model says it cannot");
  const Node& home = node_named_const(home_spec->name);
  ++resizes_[home.index];
  // Past the new length every byte is zero, at once and durably.
  if (auto it = checked_.find(home.index); it != checked_.end()) {
    WriteHistory& history = it->second.history;
    if (length < history.size()) {
      WriteRecord w;
      w.offset = length;
      w.bytes = history.size() - length;
      w.zeroes = true;
      w.truncation = true;
      w.fua = true;  // durable on completion
      w.issued = ++clock_;
      const std::size_t id = history.issue(w);
      history.complete(id, ++clock_, true);
    }
  }
  // Every device whose data lives on the resized node (through raw, fault
  // and top nodes) is told, and sees the new length.
  for (std::size_t j = 0; j < jobs_.size(); ++j) {
    const Job& device = *jobs_[j];
    if (device.backend == nullptr || data_home(*device.node).index != home.index) continue;
    // What the device's view went through: a fault node between the truncated
    // node and the data (truncated through a filter), or the truncated node
    // below the device's (resized below it).
    const bool below = std::find(target.subtree.begin(), target.subtree.end(), device.node->index) ==
                       target.subtree.end();
    std::string how;
    for (const Node* n = below ? &target : device.node; n != nullptr && n->spec->is_filter();) {
      if (n->spec->driver == NodeSpec::Driver::kFault) how = sim::cat("through filter '", n->spec->name, "'");
      n = &node_named_const(n->spec->data_child());
    }
    const std::string path = below ? "resized below it" : how.empty() ? "on its own path" : "through a filter";
    if (how.empty()) how = below ? sim::cat("below it, on '", target.spec->name, "'") : "on its own path";
    const std::int64_t seen = engine::bdrv_getlength(*device.node->bs);
    if (device.backend->resizes() == told[j]) {
      violation(Oracle::kParents, sim::cat("resize: device not told (", path, ")"),
                sim::cat(where, " resized '", home.spec->name, "' to ", length, " bytes ", how, ", but job '",
                         device.spec->name, "''s device on '", device.node->spec->name,
                         "' was not told (no resize callback); it sees ", seen, " bytes"));
      return;
    }
    if (seen != static_cast<std::int64_t>(engine::align_up(length, engine::BDRV_SECTOR_SIZE))) {
      violation(Oracle::kParents, sim::cat("resize: device sees the old length (", path, ")"),
                sim::cat(where, " resized '", home.spec->name, "' to ", length, " bytes ", how, "; job '",
                         device.spec->name, "''s device on '", device.node->spec->name, "' was told, but sees ", seen,
                         " bytes"));
      return;
    }
  }
}

}  // namespace scenarios
