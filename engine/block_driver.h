// The interface every block driver implements (QEMU's BlockDriver).
//
// The engine never names a concrete driver. QEMU marks an operation as missing
// with a NULL function pointer, and the request layer's fallbacks depend on
// which are missing; here a driver lists what it implements in ops(), and the
// engine calls only what is listed. A driver offers one of three styles for
// reads and writes: byte-based coroutines (co_preadv / co_pwritev), sector-based
// coroutines (co_readv / co_writev[_flags]), or callbacks (aio_readv /
// aio_writev, whose completion wakes the request).
#pragma once

#include <cstdint>
#include <string_view>

#include <absl/functional/any_invocable.h>

#include "engine/debug_event.h"
#include "engine/iovec.h"
#include "sim/task.h"

namespace sim {
class AioContext;
}

namespace engine {

class BlockDriverState;
struct BlockAIOCB;

// What a driver implements. Each bit stands for one function pointer of QEMU's BlockDriver.
enum DriverOp : std::uint32_t {
  kCoPreadv = 1u << 0,
  kCoPwritev = 1u << 1,
  kCoReadv = 1u << 2,
  kCoWritev = 1u << 3,
  kCoWritevFlags = 1u << 4,
  kAioReadv = 1u << 5,
  kAioWritev = 1u << 6,
  kAioFlush = 1u << 7,
  kAioPdiscard = 1u << 8,
  kAioIoctl = 1u << 9,
  kCoPwriteZeroes = 1u << 10,
  kCoPdiscard = 1u << 11,
  kCoFlush = 1u << 12,
  kCoFlushToOs = 1u << 13,
  kCoFlushToDisk = 1u << 14,
  kCoGetBlockStatus = 1u << 15,
  kCoDrain = 1u << 16,
  kRefreshLimits = 1u << 17,
  kPwritevCompressed = 1u << 18,
  kVmstate = 1u << 19,  // save_vmstate and load_vmstate
  kIoPlug = 1u << 20,   // io_plug and io_unplug
  kCoIoctl = 1u << 21,
  kGetInfo = 1u << 22,
  kDebugEvent = 1u << 23,
  kTruncate = 1u << 24,
};

// BlockDriverInfo: what get_info reports.
struct BlockDriverInfo {
  std::int32_t cluster_size = 0;
  bool unallocated_blocks_are_zero = false;
};

// Block status bits (QEMU's BDRV_BLOCK_*). With OFFSET_VALID, the bits above
// BDRV_BLOCK_OFFSET_MASK hold a byte offset in the returned file.
inline constexpr std::int64_t BDRV_BLOCK_DATA = 0x01;
inline constexpr std::int64_t BDRV_BLOCK_ZERO = 0x02;
inline constexpr std::int64_t BDRV_BLOCK_OFFSET_VALID = 0x04;
inline constexpr std::int64_t BDRV_BLOCK_RAW = 0x08;
inline constexpr std::int64_t BDRV_BLOCK_ALLOCATED = 0x10;
inline constexpr std::int64_t BDRV_BLOCK_EOF = 0x20;
inline constexpr std::int64_t BDRV_BLOCK_OFFSET_MASK = ~std::int64_t{511};

// Completion callback of the callback style: called once with 0 or -errno.
using BlockCompletion = absl::AnyInvocable<void(int)>;

// AIOCBInfo: how an outstanding callback request can be cancelled.
struct AIOCBInfo {
  // Ask the request to finish early; it must still call its completion.
  void (*cancel_async)(BlockAIOCB* acb) = nullptr;
  // The loop that completes it, if not its node's.
  sim::AioContext* (*get_aio_context)(BlockAIOCB* acb) = nullptr;
};

// BlockAIOCB: an outstanding callback request. The driver holds one reference
// until it has called the completion; bdrv_aio_cancel holds another while it polls.
struct BlockAIOCB {
  const AIOCBInfo* info = nullptr;
  BlockDriverState* bs = nullptr;
  int refcnt = 1;
  void* opaque = nullptr;  // the driver's own state
};
void qemu_aio_ref(BlockAIOCB* acb);
// Drops a reference; the last one frees the control block.
void qemu_aio_unref(BlockAIOCB* acb);

class BlockDriver {
 public:
  virtual ~BlockDriver() = default;
  virtual std::string_view format_name() const = 0;
  // A protocol driver (one that stores data itself) has a name here: block
  // status then reports offsets into the node itself.
  virtual std::string_view protocol_name() const { return {}; }
  virtual std::uint32_t ops() const = 0;
  bool implements(DriverOp op) const { return (ops() & op) != 0; }
  // Reads beyond the reported length are allowed to return zeroes; a driver whose
  // length changes by itself says so and the engine re-reads it.
  virtual bool has_variable_length() const { return false; }
  // A filter passes what it does not implement to its file (BlockDriver's
  // is_filter): bdrv_truncate does so for resizing.
  virtual bool is_filter() const { return false; }
  // Whether the node's length is `child`'s (a filter's data child; raw's file):
  // with Fix::kResizeBelowFilter a resize of that child refreshes this node.
  virtual bool filters_child(const BlockDriverState& bs, const BdrvChild& child) const;
  // bdrv_truncate's driver call (PREALLOC_MODE_OFF): resize the node to
  // `offset` bytes; 0 or a negative errno. Synchronous, as in the reference.
  virtual int truncate(BlockDriverState& bs, std::int64_t offset);
  virtual std::int64_t getlength(const BlockDriverState& bs) const = 0;
  // What the driver's bdrv_open sets on its node once its children are
  // attached: the request flags it takes (supported_write_flags,
  // supported_zero_flags). None by default.
  virtual void configure_node(BlockDriverState& bs) const { (void)bs; }

  // Byte-based. flags holds only bs.supported_write_flags.
  virtual sim::Task<int> co_preadv(BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes, IoVector& qiov,
                                   unsigned flags);
  virtual sim::Task<int> co_pwritev(BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes, IoVector& qiov,
                                    unsigned flags);
  // Sector-based.
  virtual sim::Task<int> co_readv(BlockDriverState& bs, std::int64_t sector_num, int nb_sectors, IoVector& qiov);
  virtual sim::Task<int> co_writev(BlockDriverState& bs, std::int64_t sector_num, int nb_sectors, IoVector& qiov);
  virtual sim::Task<int> co_writev_flags(BlockDriverState& bs, std::int64_t sector_num, int nb_sectors, IoVector& qiov,
                                         unsigned flags);
  // Callback-based: return nullptr to fail at once (the engine reports -EIO, or
  // -ENOTSUP for ioctl), else call `done` exactly once, later.
  virtual BlockAIOCB* aio_readv(BlockDriverState& bs, std::int64_t sector_num, IoVector& qiov, int nb_sectors,
                                BlockCompletion done);
  virtual BlockAIOCB* aio_writev(BlockDriverState& bs, std::int64_t sector_num, IoVector& qiov, int nb_sectors,
                                 BlockCompletion done);
  virtual BlockAIOCB* aio_flush(BlockDriverState& bs, BlockCompletion done);
  virtual BlockAIOCB* aio_pdiscard(BlockDriverState& bs, std::int64_t offset, int bytes, BlockCompletion done);
  virtual BlockAIOCB* aio_ioctl(BlockDriverState& bs, unsigned long request, void* buf, BlockCompletion done);

  // Optional operations.
  virtual sim::Task<int> co_pwrite_zeroes(BlockDriverState& bs, std::int64_t offset, int bytes, unsigned flags);
  virtual sim::Task<int> co_pdiscard(BlockDriverState& bs, std::int64_t offset, int bytes);
  virtual sim::Task<int> co_flush(BlockDriverState& bs);
  virtual sim::Task<int> co_flush_to_os(BlockDriverState& bs);
  virtual sim::Task<int> co_flush_to_disk(BlockDriverState& bs);
  // Sector-based block status (the reference's bdrv_co_get_block_status).
  virtual sim::Task<std::int64_t> co_get_block_status(BlockDriverState& bs, std::int64_t sector_num, int nb_sectors,
                                                      int* pnum, BlockDriverState** file);
  virtual sim::Task<void> co_drain(BlockDriverState& bs);
  virtual void refresh_limits(BlockDriverState& bs);
  virtual sim::Task<int> co_pwritev_compressed(BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                               IoVector& qiov);
  virtual sim::Task<int> save_vmstate(BlockDriverState& bs, IoVector& qiov, std::int64_t pos);
  virtual sim::Task<int> load_vmstate(BlockDriverState& bs, IoVector& qiov, std::int64_t pos);
  virtual void io_plug(BlockDriverState& bs);
  virtual void io_unplug(BlockDriverState& bs);
  virtual sim::Task<int> co_ioctl(BlockDriverState& bs, unsigned long request, void* buf);
  virtual int get_info(BlockDriverState& bs, BlockDriverInfo* bdi);
  // blkdebug's hook: may hold the calling request (a breakpoint) before returning.
  virtual sim::Task<void> debug_event(BlockDriverState& bs, BlkdebugEvent event);
};

}  // namespace engine
