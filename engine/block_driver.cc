#include "engine/block_driver.h"
#include "engine/block_driver_state.h"

#include "engine/errors.h"
#include "sim/invariant.h"

namespace engine {

void qemu_aio_ref(BlockAIOCB* acb) { ++acb->refcnt; }

void qemu_aio_unref(BlockAIOCB* acb) {
  SIM_CHECK("aiocb.refcnt_underflow", acb->refcnt > 0, "BlockAIOCB reference count underflow");
  if (--acb->refcnt == 0) delete acb;
}

// The engine calls an operation only when ops() lists it; reaching one of these
// defaults means a driver listed an operation it does not implement, or the
// engine called one that was not listed.
#define UNIMPLEMENTED(name) SIM_ASSERT(false, "driver " + std::string(format_name()) + " has no " name)

sim::Task<int> BlockDriver::co_preadv(BlockDriverState&, std::uint64_t, std::uint64_t, IoVector&, unsigned) {
  UNIMPLEMENTED("co_preadv");
  co_return -ENOTSUP;
}
sim::Task<int> BlockDriver::co_pwritev(BlockDriverState&, std::uint64_t, std::uint64_t, IoVector&, unsigned) {
  UNIMPLEMENTED("co_pwritev");
  co_return -ENOTSUP;
}
sim::Task<int> BlockDriver::co_readv(BlockDriverState&, std::int64_t, int, IoVector&) {
  UNIMPLEMENTED("co_readv");
  co_return -ENOTSUP;
}
sim::Task<int> BlockDriver::co_writev(BlockDriverState&, std::int64_t, int, IoVector&) {
  UNIMPLEMENTED("co_writev");
  co_return -ENOTSUP;
}
sim::Task<int> BlockDriver::co_writev_flags(BlockDriverState&, std::int64_t, int, IoVector&, unsigned) {
  UNIMPLEMENTED("co_writev_flags");
  co_return -ENOTSUP;
}
BlockAIOCB* BlockDriver::aio_readv(BlockDriverState&, std::int64_t, IoVector&, int, BlockCompletion) {
  UNIMPLEMENTED("aio_readv");
  return nullptr;
}
BlockAIOCB* BlockDriver::aio_writev(BlockDriverState&, std::int64_t, IoVector&, int, BlockCompletion) {
  UNIMPLEMENTED("aio_writev");
  return nullptr;
}
BlockAIOCB* BlockDriver::aio_flush(BlockDriverState&, BlockCompletion) {
  UNIMPLEMENTED("aio_flush");
  return nullptr;
}
BlockAIOCB* BlockDriver::aio_pdiscard(BlockDriverState&, std::int64_t, int, BlockCompletion) {
  UNIMPLEMENTED("aio_pdiscard");
  return nullptr;
}
BlockAIOCB* BlockDriver::aio_ioctl(BlockDriverState&, unsigned long, void*, BlockCompletion) {
  UNIMPLEMENTED("aio_ioctl");
  return nullptr;
}
sim::Task<int> BlockDriver::co_pwrite_zeroes(BlockDriverState&, std::int64_t, int, unsigned) {
  UNIMPLEMENTED("co_pwrite_zeroes");
  co_return -ENOTSUP;
}
sim::Task<int> BlockDriver::co_pdiscard(BlockDriverState&, std::int64_t, int) {
  UNIMPLEMENTED("co_pdiscard");
  co_return -ENOTSUP;
}
sim::Task<int> BlockDriver::co_flush(BlockDriverState&) {
  UNIMPLEMENTED("co_flush");
  co_return -ENOTSUP;
}
sim::Task<int> BlockDriver::co_flush_to_os(BlockDriverState&) {
  UNIMPLEMENTED("co_flush_to_os");
  co_return -ENOTSUP;
}
sim::Task<int> BlockDriver::co_flush_to_disk(BlockDriverState&) {
  UNIMPLEMENTED("co_flush_to_disk");
  co_return -ENOTSUP;
}
sim::Task<std::int64_t> BlockDriver::co_get_block_status(BlockDriverState&, std::int64_t, int, int*,
                                                         BlockDriverState**) {
  UNIMPLEMENTED("co_get_block_status");
  co_return -ENOTSUP;
}
sim::Task<void> BlockDriver::co_drain(BlockDriverState&) {
  UNIMPLEMENTED("co_drain");
  co_return;
}
void BlockDriver::refresh_limits(BlockDriverState&) { UNIMPLEMENTED("refresh_limits"); }
sim::Task<int> BlockDriver::co_pwritev_compressed(BlockDriverState&, std::uint64_t, std::uint64_t, IoVector&) {
  UNIMPLEMENTED("co_pwritev_compressed");
  co_return -ENOTSUP;
}
sim::Task<int> BlockDriver::save_vmstate(BlockDriverState&, IoVector&, std::int64_t) {
  UNIMPLEMENTED("save_vmstate");
  co_return -ENOTSUP;
}
sim::Task<int> BlockDriver::load_vmstate(BlockDriverState&, IoVector&, std::int64_t) {
  UNIMPLEMENTED("load_vmstate");
  co_return -ENOTSUP;
}
void BlockDriver::io_plug(BlockDriverState&) { UNIMPLEMENTED("io_plug"); }
void BlockDriver::io_unplug(BlockDriverState&) { UNIMPLEMENTED("io_unplug"); }
sim::Task<int> BlockDriver::co_ioctl(BlockDriverState&, unsigned long, void*) {
  UNIMPLEMENTED("co_ioctl");
  co_return -ENOTSUP;
}
int BlockDriver::truncate(BlockDriverState&, std::int64_t) { return -ENOTSUP; }

bool BlockDriver::filters_child(const BlockDriverState& bs, const BdrvChild& child) const {
  if (!is_filter()) return false;
  return bs.file != nullptr ? bs.file == &child : bs.backing == &child;
}

int BlockDriver::get_info(BlockDriverState&, BlockDriverInfo*) {
  UNIMPLEMENTED("get_info");
  return -ENOTSUP;
}
sim::Task<void> BlockDriver::debug_event(BlockDriverState&, BlkdebugEvent) {
  UNIMPLEMENTED("debug_event");
  co_return;
}

}  // namespace engine
