// The engine's contract with a driver: every request a driver receives fits
// the limits its node declared. QEMU's blkdebug asserts the same (which is how
// qemu-iotests catch a layer above that forgets a limit); here a breach is an
// invariant verdict with a stable id naming the limit, so a scenario reports it
// like any other engine invariant.
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/block_driver_state.h"
#include "engine/iovec.h"

namespace drivers {

enum class RequestKind : std::uint8_t { kRead, kWrite, kZero, kDiscard };

// Every call: the node still has its driver (not ejected).
void check_node_has_driver(const engine::BlockDriverState& bs, std::string_view what);

// Reads and writes: offset and length aligned to request_alignment, length at
// most max_transfer, a vector (`qiov`, given for every read and write) of
// exactly that length in at most max_iov buffers. Zero writes: at most max_pwrite_zeroes. Discards: at most
// max_pdiscard. (Zero writes and discards may have unaligned heads and tails.)
void check_request_limits(const engine::BlockDriverState& bs, RequestKind kind, std::uint64_t offset,
                          std::uint64_t bytes, const engine::IoVector* qiov = nullptr);

// Block-status queries: a whole-sector range, not empty, inside the node
// (bdrv_co_get_block_status answers past-the-end and empty queries itself and
// clips the rest to the node's length).
void check_block_status_call(const engine::BlockDriverState& bs, std::int64_t sector_num, int nb_sectors);

// Flags a driver receives are among those its node declared
// (supported_write_flags for writes, supported_zero_flags for zero writes);
// and nothing that changes data reaches a read-only or inactive node (the
// request layer refuses or asserts first).
void check_request_flags(const engine::BlockDriverState& bs, RequestKind kind, unsigned flags);
void check_node_writable(const engine::BlockDriverState& bs, RequestKind kind);

// What O_DIRECT demands of the buffers a direct-I/O driver hands the device:
// every one starts at a multiple of the node's min_mem_alignment (the buffer
// alignment file-posix probes) and spans whole logical blocks
// (request_alignment); the kernel answers -EINVAL otherwise. Checked by its own arithmetic, not by
// asking the engine's bdrv_qiov_is_aligned, whose answer it judges.
void check_direct_buffers(const engine::BlockDriverState& bs, const engine::IoVector& qiov);

// Flushes of one node reach its driver one at a time: the reference keeps a
// single active flush per node and queues the others behind it. A driver holds
// one gate and brackets each flush with enter() and leave().
class FlushGate {
 public:
  void enter(const engine::BlockDriverState& bs);
  void leave();

 private:
  int active_ = 0;
};

}  // namespace drivers
