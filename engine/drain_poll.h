// BDRV_POLL_WHILE (included by drain.h).
#pragma once

#include "engine/fixes.h"
#include "sim/invariant.h"
#include "sim/world.h"

namespace engine {

// As the reference's macro: in the node's home thread, poll its context,
// blocking while `cond` holds, and then without blocking until it makes no
// more progress; from the main loop for a node of an IOThread, ask
// bdrv_wakeup to kick the main loop (bs.wakeup), sleep in the main loop while
// `cond` holds, and then poll the node's context without blocking until it
// makes no progress.
template <typename Cond>
bool bdrv_poll_while(BlockDriverState& bs, Cond&& cond) {
  sim::World& world = sim::World::current();
  sim::AioContext& ctx = bs.aio_context();
  bool waited = false;
  bool busy = true;
  if (ctx.thread() == world.current_context().thread()) {
    while (cond() || busy) {
      busy = world.poll(ctx, cond(), absl::FunctionRef<bool()>(cond));
      waited |= cond() || busy;
    }
    return waited;
  }
  // The reference asserts one waiter (known defect nested-poll-waiters);
  // AioWait, later, counts them.
  SIM_CHECK("poll_while.one_waiter", !bs.wakeup || fixed(Fix::kNestedPollWaiters),
            "BDRV_POLL_WHILE on " + bs.node_name() + " from the main loop while another one waits on it");
  const bool outer = !bs.wakeup;
  bs.wakeup = true;
  while (busy) {
    if (cond()) {
      waited = busy = true;
      world.poll(world.main_context(), true, absl::FunctionRef<bool()>(cond));
    } else {
      busy = world.poll(ctx, false);
      waited |= busy;
    }
  }
  if (outer) bs.wakeup = false;  // a nested waiter (the fix) leaves the flag to the outer one
  return waited;
}

}  // namespace engine
