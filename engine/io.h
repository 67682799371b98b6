// The request layer's entry points (QEMU's block/io.c).
//
// Coroutine functions return Task<int>: 0 or a negative errno. The sync wrappers
// must be called from outside any coroutine; they spawn the request as a
// coroutine and poll its node's context until it ends (BDRV_POLL_WHILE).
#pragma once

#include <cstdint>

#include "engine/block_driver_state.h"
#include "engine/iovec.h"
#include "engine/request_flags.h"
#include "sim/task.h"

namespace engine {

sim::Task<int> bdrv_co_preadv(BdrvChild& child, std::int64_t offset, std::uint64_t bytes, IoVector& qiov,
                              unsigned flags = 0);
sim::Task<int> bdrv_co_pwritev(BdrvChild& child, std::int64_t offset, std::uint64_t bytes, IoVector& qiov,
                               unsigned flags = 0);
sim::Task<int> bdrv_co_flush(BlockDriverState& bs);

// Sync wrappers.
int bdrv_preadv(BdrvChild& child, std::int64_t offset, IoVector& qiov);
int bdrv_pwritev(BdrvChild& child, std::int64_t offset, IoVector& qiov, unsigned flags = 0);
int bdrv_flush(BlockDriverState& bs);

// Driver calls with their trace events (driver_issue / driver_complete).
sim::Task<int> bdrv_driver_preadv(BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes, IoVector& qiov,
                                  unsigned flags);
sim::Task<int> bdrv_driver_pwritev(BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes, IoVector& qiov,
                                   unsigned flags);

}  // namespace engine
