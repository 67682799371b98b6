// A node of the block graph (QEMU's BlockDriverState) and the edges between nodes
// (BdrvChild). The engine's per-node state lives here: limits, counters, the
// tracked request list and the flush generation machinery.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/block_driver.h"
#include "engine/tracked_request.h"
#include "sim/aio_context.h"
#include "sim/co_mutex.h"
#include "sim/co_queue.h"

namespace engine {

// BlockLimits: 0 means "no limit" / "default".
struct BlockLimits {
  std::uint32_t request_alignment = 1;  // power of two, bytes
  std::uint32_t max_transfer = 0;       // bytes, multiple of request_alignment
};

// Open flags (QEMU's BDRV_O_*).
enum BdrvOpenFlags : int {
  BDRV_O_RDWR = 0x0002,
  BDRV_O_NO_FLUSH = 0x0200,
  BDRV_O_UNMAP = 0x4000,
  BDRV_O_INACTIVE = 0x0800,
  BDRV_O_NO_IO = 0x10000,
};

enum class ChildRole : std::uint8_t { kRoot, kFile, kBacking };

struct BdrvChild {
  std::string name;
  BlockDriverState* bs = nullptr;      // the child node
  BlockDriverState* parent = nullptr;  // nullptr for a root (BlockBackend-like) child
  ChildRole role = ChildRole::kRoot;
};

class BlockDriverState {
 public:
  BlockDriverState(std::string node_name, sim::AioContext& ctx, BlockDriver& drv, std::int64_t size_bytes);
  BlockDriverState(const BlockDriverState&) = delete;
  BlockDriverState& operator=(const BlockDriverState&) = delete;
  ~BlockDriverState();

  const std::string& node_name() const { return node_name_; }
  std::uint32_t trace_label() const { return trace_label_; }
  sim::AioContext& aio_context() const { return *ctx_; }
  BlockDriver* drv() const { return drv_; }

  // State read and written by the request layer.
  BlockLimits bl;
  int open_flags = BDRV_O_RDWR;
  bool read_only = false;
  unsigned supported_write_flags = 0;
  std::int64_t total_sectors = 0;
  std::uint64_t wr_highest_offset = 0;

  unsigned in_flight = 0;
  unsigned serialising_in_flight = 0;
  bool wakeup = false;  // someone polls this node from another thread

  // Flush generations: write_gen counts completed writes; flushed_gen is the
  // write_gen that the last successful flush made stable.
  unsigned write_gen = 0;
  unsigned flushed_gen = 0;
  bool active_flush_req = false;
  sim::CoroutineId active_flush_co = 0;
  sim::CoQueue flush_queue;

  sim::CoMutex reqs_lock;
  TrackedRequestList tracked_requests;

  BdrvChild* file = nullptr;
  BdrvChild* backing = nullptr;
  std::vector<BdrvChild*> children;

 private:
  std::string node_name_;
  std::uint32_t trace_label_;
  sim::AioContext* ctx_;
  BlockDriver* drv_;
};

// bdrv_inc_in_flight / bdrv_dec_in_flight / bdrv_wakeup.
void bdrv_inc_in_flight(BlockDriverState& bs);
void bdrv_dec_in_flight(BlockDriverState& bs);
void bdrv_wakeup(BlockDriverState& bs);

std::int64_t bdrv_getlength(const BlockDriverState& bs);
// Validates a byte range: 0 or -EIO / -ENOMEDIUM.
int bdrv_check_byte_request(const BlockDriverState& bs, std::int64_t offset, std::uint64_t bytes);

}  // namespace engine
