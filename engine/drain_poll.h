// BDRV_POLL_WHILE (included by drain.h).
#pragma once

#include "sim/world.h"

namespace engine {

template <typename Cond>
bool bdrv_poll_while(BlockDriverState& bs, Cond&& cond) {
  sim::World& world = sim::World::current();
  sim::AioContext& ctx = bs.aio_context();
  const bool home = ctx.thread() == world.current_context().thread();
  if (home) return world.poll_while(ctx, cond);
  // Waiting from the main loop for a node in an IOThread: that thread runs on its
  // own; bdrv_wakeup kicks the main loop when the node's state changes.
  bs.wakeup = true;
  bool waited = world.poll_while(world.main_context(), cond);
  bs.wakeup = false;
  return waited;
}

}  // namespace engine
