// Pieces shared by the read, write, zero-write and discard paths; not part of the
// engine's API.
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>

#include "engine/block_driver_state.h"
#include "engine/iovec.h"
#include "sim/probe.h"
#include "sim/task.h"

namespace engine {

template <typename T>
T min_non_zero(T a, T b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

// The largest fragment a request on `bs` may send to the driver: max_transfer
// (or INT_MAX when unset) rounded down to the request's alignment.
inline std::int64_t max_transfer_for(const BlockDriverState& bs, std::int64_t align) {
  std::int64_t limit = min_non_zero<std::int64_t>(bs.bl.max_transfer, INT_MAX);
  return limit / align * align;
}

// Reads an aligned range for a tracked request (also the RMW reads of a write).
// block.c's refresh_total_sectors and bdrv_parent_cb_resize (engine/truncate.cc).
int refresh_total_sectors(BlockDriverState& bs, std::int64_t hint);
void bdrv_parent_cb_resize(BlockDriverState& bs);

sim::Task<int> bdrv_aligned_preadv(BdrvChild& child, BdrvTrackedRequest& req, std::int64_t offset,
                                   std::uint64_t bytes, std::int64_t align, IoVector& qiov, unsigned flags);
// Writes an aligned range for a tracked request; qiov is nullptr for zero writes.
sim::Task<int> bdrv_aligned_pwritev(BdrvChild& child, BdrvTrackedRequest& req, std::int64_t offset,
                                    std::uint64_t bytes, std::int64_t align, IoVector* qiov, unsigned flags);
// The zero-write engine below the tracked request: driver zeroes, or a bounce buffer.
sim::Task<int> bdrv_co_do_pwrite_zeroes(BlockDriverState& bs, std::int64_t offset, int bytes, unsigned flags);
// A zero write with unaligned head or tail, done by read-modify-write.
sim::Task<int> bdrv_co_do_zero_pwritev(BdrvChild& child, std::int64_t offset, std::uint64_t bytes, unsigned flags,
                                       BdrvTrackedRequest& req);
// Cluster size for serialising copy-on-read, from driver info or request_alignment.
std::int64_t bdrv_get_cluster_size(BlockDriverState& bs);
// Hit where padding a read or a write gives a driver more buffers than max_iov
// (known defect padded-max-iov): defined in read.cc, hit there and in write.cc.
extern const sim::Probe kProbePaddedPastMaxIov;

}  // namespace engine
