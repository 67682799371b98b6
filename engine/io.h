// The request layer's entry points (QEMU's block/io.c).
//
// Coroutine functions return Task<int>: 0 or a negative errno (block status:
// flags or a negative errno). The sync wrappers must be called from outside any
// coroutine: they run the request as a coroutine in the node's context and poll
// until it ends (BDRV_POLL_WHILE); inside a coroutine, their in_coroutine forms.
#pragma once

#include <cstdint>

#include "engine/block_driver_state.h"
#include "engine/iovec.h"
#include "engine/request_flags.h"
#include "sim/task.h"

namespace engine {

// --- reads and writes (read.cc, write.cc, zero_write.cc) ---
sim::Task<int> bdrv_co_preadv(BdrvChild& child, std::int64_t offset, std::uint64_t bytes, IoVector& qiov,
                              unsigned flags = 0);
sim::Task<int> bdrv_co_pwritev(BdrvChild& child, std::int64_t offset, std::uint64_t bytes, IoVector* qiov,
                               unsigned flags = 0);
sim::Task<int> bdrv_co_readv(BdrvChild& child, std::int64_t sector_num, int nb_sectors, IoVector& qiov);
sim::Task<int> bdrv_co_writev(BdrvChild& child, std::int64_t sector_num, int nb_sectors, IoVector& qiov);
// Zero writes; MAY_UNMAP is dropped unless the node was opened with BDRV_O_UNMAP.
sim::Task<int> bdrv_co_pwrite_zeroes(BdrvChild& child, std::int64_t offset, int bytes, unsigned flags = 0);

// --- discard (discard.cc), flush (flush.cc), ioctl, vmstate ---
sim::Task<int> bdrv_co_pdiscard(BlockDriverState& bs, std::int64_t offset, int bytes);
sim::Task<int> bdrv_co_flush(BlockDriverState& bs);
sim::Task<int> bdrv_co_ioctl(BlockDriverState& bs, unsigned long request, void* buf);
sim::Task<int> bdrv_co_rw_vmstate(BlockDriverState& bs, IoVector& qiov, std::int64_t pos, bool is_read);

// --- block status (block_status.cc) ---
// Sector-based, as the reference: flags | offset, or a negative errno; *pnum
// sectors share the answer; *file is where OFFSET_VALID points.
sim::Task<std::int64_t> bdrv_co_get_block_status(BlockDriverState& bs, std::int64_t sector_num, int nb_sectors,
                                                 int* pnum, BlockDriverState** file);
sim::Task<std::int64_t> bdrv_co_get_block_status_above(BlockDriverState& bs, BlockDriverState* base,
                                                       std::int64_t sector_num, int nb_sectors, int* pnum,
                                                       BlockDriverState** file);
// 1 if allocated in bs, 0 if not, or a negative errno; byte-based, sector-aligned.
sim::Task<int> bdrv_co_is_allocated(BlockDriverState& bs, std::int64_t offset, std::int64_t bytes, std::int64_t* pnum);
sim::Task<int> bdrv_co_is_allocated_above(BlockDriverState& top, BlockDriverState* base, std::int64_t offset,
                                          std::int64_t bytes, std::int64_t* pnum);
// Helpers for format drivers that pass block status through to a child.
// What raw_open and blkdebug_open of the time set: the node takes FUA, and for
// zero writes FUA and MAY_UNMAP, where its file does.
void inherit_request_flags(BlockDriverState& bs);

std::int64_t bdrv_co_get_block_status_from_file(BlockDriverState& bs, std::int64_t sector_num, int nb_sectors,
                                                int* pnum, BlockDriverState** file);
std::int64_t bdrv_co_get_block_status_from_backing(BlockDriverState& bs, std::int64_t sector_num, int nb_sectors,
                                                   int* pnum, BlockDriverState** file);

// --- tracked request helpers needing driver info ---
void bdrv_round_to_clusters(BlockDriverState& bs, std::int64_t offset, std::uint64_t bytes,
                            std::int64_t* cluster_offset, std::uint64_t* cluster_bytes);

// --- sync wrappers (sync_wrappers.cc), from outside any coroutine: each creates
// a coroutine in the node's context and polls until it ends. Byte counts on
// success where the reference returns them. ---
// bdrv_truncate (block.c): resize the node under `child` to `offset` bytes,
// from outside coroutines; 0 or a negative errno (engine/truncate.cc).
int bdrv_truncate(BdrvChild& child, std::int64_t offset);

int bdrv_read(BdrvChild& child, std::int64_t sector_num, std::uint8_t* buf, int nb_sectors);
int bdrv_write(BdrvChild& child, std::int64_t sector_num, const std::uint8_t* buf, int nb_sectors);
int bdrv_pread(BdrvChild& child, std::int64_t offset, void* buf, int bytes);
int bdrv_pwrite(BdrvChild& child, std::int64_t offset, const void* buf, int bytes);
int bdrv_preadv(BdrvChild& child, std::int64_t offset, IoVector& qiov);
int bdrv_pwritev(BdrvChild& child, std::int64_t offset, IoVector& qiov, unsigned flags = 0);
int bdrv_pwrite_sync(BdrvChild& child, std::int64_t offset, const void* buf, int bytes);
int bdrv_pwrite_zeroes(BdrvChild& child, std::int64_t offset, int bytes, unsigned flags = 0);
int bdrv_make_zero(BdrvChild& child, unsigned flags = 0);
int bdrv_flush(BlockDriverState& bs);
int bdrv_flush_all();
int bdrv_pdiscard(BlockDriverState& bs, std::int64_t offset, int bytes);
std::int64_t bdrv_get_block_status(BlockDriverState& bs, std::int64_t sector_num, int nb_sectors, int* pnum,
                                   BlockDriverState** file);
std::int64_t bdrv_get_block_status_above(BlockDriverState& bs, BlockDriverState* base, std::int64_t sector_num,
                                         int nb_sectors, int* pnum, BlockDriverState** file);
int bdrv_is_allocated(BlockDriverState& bs, std::int64_t offset, std::int64_t bytes, std::int64_t* pnum);
int bdrv_is_allocated_above(BlockDriverState& top, BlockDriverState* base, std::int64_t offset, std::int64_t bytes,
                            std::int64_t* pnum);
int bdrv_save_vmstate(BlockDriverState& bs, const std::uint8_t* buf, std::int64_t pos, int size);
int bdrv_load_vmstate(BlockDriverState& bs, std::uint8_t* buf, std::int64_t pos, int size);
int bdrv_writev_vmstate(BlockDriverState& bs, IoVector& qiov, std::int64_t pos);
int bdrv_readv_vmstate(BlockDriverState& bs, IoVector& qiov, std::int64_t pos);

// The same wrappers called from inside a coroutine: the reference's fast path,
// which calls the coroutine entry directly (same vectors, flags and return
// values as above, no new coroutine, no polling). co_await them.
namespace in_coroutine {
sim::Task<int> bdrv_read(BdrvChild& child, std::int64_t sector_num, std::uint8_t* buf, int nb_sectors);
sim::Task<int> bdrv_write(BdrvChild& child, std::int64_t sector_num, const std::uint8_t* buf, int nb_sectors);
sim::Task<int> bdrv_pread(BdrvChild& child, std::int64_t offset, void* buf, int bytes);
sim::Task<int> bdrv_pwrite(BdrvChild& child, std::int64_t offset, const void* buf, int bytes);
sim::Task<int> bdrv_preadv(BdrvChild& child, std::int64_t offset, IoVector& qiov);
sim::Task<int> bdrv_pwritev(BdrvChild& child, std::int64_t offset, IoVector& qiov, unsigned flags = 0);
sim::Task<int> bdrv_pwrite_sync(BdrvChild& child, std::int64_t offset, const void* buf, int bytes);
sim::Task<int> bdrv_pwrite_zeroes(BdrvChild& child, std::int64_t offset, int bytes, unsigned flags = 0);
sim::Task<int> bdrv_make_zero(BdrvChild& child, unsigned flags = 0);
sim::Task<int> bdrv_flush(BlockDriverState& bs);
sim::Task<int> bdrv_pdiscard(BlockDriverState& bs, std::int64_t offset, int bytes);
sim::Task<std::int64_t> bdrv_get_block_status(BlockDriverState& bs, std::int64_t sector_num, int nb_sectors,
                                              int* pnum, BlockDriverState** file);
sim::Task<std::int64_t> bdrv_get_block_status_above(BlockDriverState& bs, BlockDriverState* base,
                                                    std::int64_t sector_num, int nb_sectors, int* pnum,
                                                    BlockDriverState** file);
sim::Task<int> bdrv_is_allocated(BlockDriverState& bs, std::int64_t offset, std::int64_t bytes, std::int64_t* pnum);
sim::Task<int> bdrv_is_allocated_above(BlockDriverState& top, BlockDriverState* base, std::int64_t offset,
                                       std::int64_t bytes, std::int64_t* pnum);
sim::Task<int> bdrv_readv_vmstate(BlockDriverState& bs, IoVector& qiov, std::int64_t pos);
sim::Task<int> bdrv_writev_vmstate(BlockDriverState& bs, IoVector& qiov, std::int64_t pos);
}  // namespace in_coroutine

// --- cancelling callback requests (aio_cancel.cc) ---
// Waits (polling) until the request has completed; the completion still runs.
void bdrv_aio_cancel(BlockAIOCB* acb);
// Asks the request to finish early and returns; the completion still runs.
void bdrv_aio_cancel_async(BlockAIOCB* acb);

}  // namespace engine
