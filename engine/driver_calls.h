// Calls into the driver (see driver_calls.cc); internal to the engine.
#pragma once

#include <cstdint>

#include "engine/block_driver_state.h"
#include "sim/coroutine.h"
#include "sim/task.h"

namespace engine {

// QEMU's CoroutineIOCompletion: a callback-style request records its result and
// wakes the waiting coroutine.
struct CoroutineIOCompletion {
  CoroutineIOCompletion();
  BlockCompletion callback();
  // The request's result: `error_if_null` when the driver returned no control
  // block, else whatever the completion reported.
  sim::Task<int> wait(BlockAIOCB* acb, int error_if_null);

  sim::Coroutine* co;
  int ret = 0;
  bool done = false;
};

sim::Task<int> bdrv_driver_preadv(BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes, IoVector& qiov,
                                  unsigned flags);
sim::Task<int> bdrv_driver_pwritev(BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes, IoVector& qiov,
                                   unsigned flags);
sim::Task<int> bdrv_driver_pwritev_compressed(BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                              IoVector& qiov);

}  // namespace engine
