// A job's aio commands as block-backend.c's blk_aio_* issue them: each gets a
// control block (BlockAIOCB of blk_aio_em_aiocb_info: no cancel_async, no
// context of its own), its request runs in a coroutine of its own, and the
// completion drops the block's reference. aio_cancel takes one of these blocks
// to bdrv_aio_cancel (which polls until the completion ran) or
// bdrv_aio_cancel_async (which, with no cancel_async, does nothing); ioctl
// commands go to blk_co_ioctl or the node's bdrv_co_ioctl.
#include <utility>

#include "engine/io.h"
#include "scenarios/scenario_run.h"
#include "sim/invariant.h"
#include "sim/str.h"

namespace scenarios {

namespace {
// blk_aio_em_aiocb_info of the reference's time: neither callback.
const engine::AIOCBInfo kBlkAioEmInfo{};
}  // namespace

Job::~Job() {
  // A run that stopped early leaves completions that never ran.
  for (engine::BlockAIOCB* acb : aio) delete acb;
}

void ScenarioRun::issue_aio(Job& job, const Command& cmd, std::size_t index, std::string_view family, bool enter) {
  const std::size_t slot = job.aio.size();
  engine::BlockDriverState& bs = *job.node->bs;
  job.aio.push_back(new engine::BlockAIOCB{&kBlkAioEmInfo, &bs, 1, nullptr});
  ++job.in_flight;
  // In flight from the issue until the completion, as blk_aio_prwv's
  // bdrv_inc_in_flight and blk_aio_complete's bdrv_dec_in_flight count it, on
  // the node of the issue whatever the graph does meanwhile (a drain would
  // meet the request anyway: BDRV_POLL_WHILE polls the node's context at
  // least once, which starts it). A backend counts its own requests
  // (block_backend.h: it must drop the count while it queues them).
  const bool counted = job.backend == nullptr;
  if (counted) engine::bdrv_inc_in_flight(bs);
  auto done = [&job, slot, &bs, counted] {
    engine::BlockAIOCB* acb = std::exchange(job.aio[slot], nullptr);
    if (counted) engine::bdrv_dec_in_flight(bs);
    --job.in_flight;
    job.slot_free.restart_all();
    engine::qemu_aio_unref(acb);
  };
  if (enter) {
    world_.enter_numbered(job.node->bs->aio_context(), family, index, execute(job, cmd), std::move(done));
  } else {
    world_.spawn_numbered(job.node->bs->aio_context(), family, index, execute(job, cmd), std::move(done));
  }
}

bool ScenarioRun::batched(const JobSpec& spec, const Command& cmd) {
  return spec.plug && cmd.async && cmd.op != Command::Op::kAioFlush;
}

std::size_t ScenarioRun::submit_batch(Job& job, std::size_t first, std::string_view family) {
  const std::vector<Command>& commands = *job.commands;
  SIM_ASSERT(!world_.in_coroutine(), "a batch is submitted from the kick's callback, outside any coroutine");
  // The node the batch was plugged on is the one it unplugs, whatever a
  // request entered meanwhile did to the job's node.
  engine::BlockDriverState& bs = *job.node->bs;
  engine::bdrv_io_plug(bs);
  std::size_t k = first;
  while (k < commands.size() && batched(*job.spec, commands[k]) && job.in_flight < job.spec->queue_depth) {
    check_guest_entry(job, commands[k]);
    issue_aio(job, commands[k], k, family, /*enter=*/true);
    ++k;
  }
  engine::bdrv_io_unplug(bs);
  return k - first;
}

sim::Task<int> ScenarioRun::ioctl_command(Job& job, const Command& cmd) {
  const auto request = static_cast<unsigned long>(cmd.ioctl_request);
  if (job.backend != nullptr) return job.backend->co_ioctl(request, nullptr);
  return engine::bdrv_co_ioctl(*job.node->bs, request, nullptr);
}

sim::Task<int> ScenarioRun::cancel_command(Job& job, const Command& cmd) {
  SIM_ASSERT(cmd.cancel_back >= 1 && cmd.cancel_back <= job.aio.size(),
             "the parser counts the aio commands before an aio_cancel");
  const std::size_t slot = job.aio.size() - cmd.cancel_back;
  if (job.aio[slot] == nullptr) {
    // Completed already: a caller whose completion ran has nothing to cancel.
    world_.emit(sim::EventKind::kNote, 0, 0, 0, 0, 0,
                world_.intern(sim::cat("aio_cancel of ", job.spec->name, ": already complete")));
    co_return 0;
  }
  if (cmd.cancel_async) {
    engine::bdrv_aio_cancel_async(job.aio[slot]);
    co_return 0;
  }
  // bdrv_aio_cancel polls: from the main loop, outside any coroutine.
  // The bottom half runs later: by then the request may have completed (its
  // control block released), and a device cancels only what is in flight.
  co_await in_main_loop(sim::cat("aio_cancel of ", job.spec->name), [&job, slot] {
    if (job.aio[slot] != nullptr) engine::bdrv_aio_cancel(job.aio[slot]);
  });
  if (job.aio[slot] != nullptr) {
    violation(Oracle::kHygiene, "aio_cancel returned before the completion",
              sim::cat(command_where(scenario_, job, cmd), ": bdrv_aio_cancel returned, but the request's completion "
                                                          "has not run"));
  }
  co_return 0;
}

}  // namespace scenarios
