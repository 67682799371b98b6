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

// Trace events around one driver operation (driver_issue / driver_complete);
// driver_issue carries the request flags the driver is given.
struct DriverOpTrace {
  std::uint64_t op_id;
  std::uint32_t label;
  std::uint64_t co;
};
DriverOpTrace trace_driver_issue(BlockDriverState& bs, sim::TraceLabel& op, std::uint64_t offset, std::uint64_t bytes,
                                 unsigned flags = 0);
void trace_driver_complete(BlockDriverState& bs, const DriverOpTrace& t, int ret);

sim::Task<int> bdrv_driver_preadv(BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes, IoVector& qiov,
                                  unsigned flags);
sim::Task<int> bdrv_driver_pwritev(BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes, IoVector& qiov,
                                   unsigned flags);
sim::Task<int> bdrv_driver_pwritev_compressed(BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                              IoVector& qiov);

}  // namespace engine
