// Pieces shared by the read and write paths; not part of the engine's API.
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>

#include "engine/block_driver_state.h"
#include "engine/iovec.h"
#include "sim/task.h"

namespace engine {

// The largest fragment a request on `bs` may send to the driver: max_transfer
// (or INT_MAX when unset) rounded down to the request's alignment.
inline std::int64_t max_transfer_for(const BlockDriverState& bs, std::int64_t align) {
  std::int64_t limit = bs.bl.max_transfer != 0 ? std::min<std::int64_t>(bs.bl.max_transfer, INT_MAX) : INT_MAX;
  return limit / align * align;
}

// Reads an aligned range for a tracked request (also the RMW reads of a write).
sim::Task<int> bdrv_aligned_preadv(BdrvChild& child, BdrvTrackedRequest& req, std::int64_t offset,
                                   std::uint64_t bytes, std::int64_t align, IoVector& qiov, unsigned flags);

}  // namespace engine
