// Devices' scripted drain callbacks: a backend tells its device on the first
// drained_begin and the last drained_end (block-backend.c's dev_ops), inside
// bdrv_parent_drained_begin/_end and so outside any coroutine. The script may
// submit requests, drain nodes (which polls, nested in the drain that called
// it), open or close drained sections, and change a backing file.
#include <utility>

#include "engine/drain.h"
#include "engine/io.h"
#include "scenarios/backend_spec.h"
#include "scenarios/scenario_run.h"
#include "sim/invariant.h"
#include "sim/str.h"

namespace scenarios {

void ScenarioRun::device_drain_callback(Job& job, bool begin) {
  const BackendOptions& options = *job.spec->backend;
  const std::vector<DrainCallbackAction>& actions = begin ? options.on_drained_begin : options.on_drained_end;
  if (actions.empty()) return;
  // A script that drains from drained_end starts a new section, whose end
  // calls the script again: the reference recurses without bound.
  SIM_CHECK("backend.callback_depth", callback_depth_ < kMaxCallbackDepth,
            sim::cat("device drain callbacks of job '", job.spec->name, "' re-entered ", callback_depth_,
                     " deep through the drains they start"));
  ++callback_depth_;
  const std::string_view callback = begin ? "drained_begin" : "drained_end";
  for (const DrainCallbackAction& a : actions) {
    world_.emit(sim::EventKind::kNote, 0, 0, 0, 0, 0,
                world_.intern(sim::cat("device ", job.spec->name, " ", callback, ": ", a.text)));
    switch (a.kind) {
      case DrainCallbackAction::Kind::kRequest:
        submit_callback_request(job, a.request);
        break;
      case DrainCallbackAction::Kind::kDrain: {
        Node& node = node_named(a.node);
        std::string outer = std::exchange(drain_what_, sim::cat("drain(", a.node, ") in job '", job.spec->name, "''s ", callback, " callback"));
        engine::bdrv_drain(*node.bs);
        drain_what_ = std::move(outer);
        break;
      }
      case DrainCallbackAction::Kind::kDrainedBegin: {
        Node& node = node_named(a.node);
        engine::bdrv_drained_begin(*node.bs);
        check_drained(sim::cat("drained_begin(", a.node, ") in job '", job.spec->name, "''s ", callback, " callback"),
                      node.subtree);
        mark_drained({node.index}, 1);
        break;
      }
      case DrainCallbackAction::Kind::kSetBacking:
        // bdrv_set_backing_hd from inside the drain that called the device.
        change_backing(node_named(a.node), a.backing, false,
                       sim::cat("set_backing(", a.node, ", ", a.backing.empty() ? "none" : a.backing, ") in job '",
                                job.spec->name, "''s ", callback, " callback"));
        break;
      case DrainCallbackAction::Kind::kDrainedEnd: {
        Node& node = node_named(a.node);
        mark_drained({node.index}, -1);
        engine::bdrv_drained_end(*node.bs);
        break;
      }
    }
  }
  --callback_depth_;
}

// blk_aio_prwv: the request counts in the node's in_flight from its
// submission (a drain that follows waits for it), and runs in a coroutine of
// its own. (QEMU enters that coroutine at once; here it is scheduled, which
// the in_flight count makes equivalent for every drain.)
void ScenarioRun::submit_callback_request(Job& job, const Command& cmd) {
  engine::bdrv_inc_in_flight(*job.node->bs);
  ++job.in_flight;
  world_.spawn(job.node->bs->aio_context(), sim::cat(job.spec->name, ".callback"), callback_request(job, cmd), [&job] {
    --job.in_flight;
    job.slot_free.restart_all();
  });
}

sim::Task<void> ScenarioRun::callback_request(Job& job, const Command& cmd) {
  co_await execute(job, cmd);
  engine::bdrv_dec_in_flight(*job.node->bs);
}

}  // namespace scenarios
