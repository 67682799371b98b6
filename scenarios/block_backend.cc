#include "scenarios/block_backend.h"

#include <climits>

#include "engine/drain.h"
#include "engine/io.h"
#include "sim/invariant.h"
#include "sim/str.h"
#include "sim/world.h"

namespace scenarios {

const engine::BdrvChildRole BlockBackend::kRole{&BlockBackend::drained_begin, &BlockBackend::drained_end,
                                                &BlockBackend::resize};

namespace {
// The backend whose root child this is: the child is the backend's member.
BlockBackend& backend_of(engine::BdrvChild& child) {
  SIM_ASSERT(child.kind == engine::ChildRole::kRoot, "the backend role on a non-root child");
  return *static_cast<BlockBackend*>(child.opaque);
}
}  // namespace

BlockBackend::BlockBackend(std::string name, engine::BlockDriverState& root_bs, BackendOptions options)
    : name_(std::move(name)), options_(options), root_(name_, root_bs, nullptr, engine::ChildRole::kRoot, &kRole) {
  root_.opaque = this;
  // bdrv_replace_child_noperm: a parent joining a drained node is drained too
  // (a block job's backend created inside a transaction's drained section).
  engine::drained_edge_joined(root_);
  engine::drain_all_edge_joined(root_);
}

void BlockBackend::drained_begin(engine::BdrvChild& child) {
  BlockBackend& blk = backend_of(child);
  ++blk.drained_begins_;
  if (++blk.quiesce_counter_ == 1 && blk.device_hook_) blk.device_hook_(true);
}

void BlockBackend::resize(engine::BdrvChild& child) {
  // blk_root_resize: the device is told (a guest would see a capacity change).
  ++backend_of(child).resizes_;
}

int BlockBackend::truncate(std::int64_t offset) {
  // blk_truncate: no medium, no resize.
  if (!engine::bdrv_is_inserted(*root_.bs)) return -ENOMEDIUM;
  return engine::bdrv_truncate(root_, offset);
}

void BlockBackend::drained_end(engine::BdrvChild& child) {
  BlockBackend& blk = backend_of(child);
  ++blk.drained_ends_;
  if (blk.quiesce_counter_ == 0) {
    blk.unbalanced_ = true;  // the drain oracle reports it
    return;
  }
  if (--blk.quiesce_counter_ == 0) {
    blk.queued_requests_.restart_all();
    if (blk.device_hook_) blk.device_hook_(false);
  }
}

int BlockBackend::check_byte_request(std::int64_t offset, std::uint64_t bytes) const {
  if (bytes > INT_MAX) return -EIO;
  if (!engine::bdrv_is_inserted(*root_.bs)) return -ENOMEDIUM;
  if (offset < 0) return -EIO;
  const std::int64_t len = engine::bdrv_getlength(*root_.bs);
  if (len < 0) return static_cast<int>(len);
  if (offset > len || static_cast<std::uint64_t>(len - offset) < bytes) return -EIO;
  return 0;
}

sim::Task<void> BlockBackend::wait_while_drained() {
  if (!options_.queue_while_drained) co_return;
  while (quiesce_counter_ > 0) {
    // Not counted in flight while it waits, or the drain would wait for it.
    engine::bdrv_dec_in_flight(*root_.bs);
    co_await queued_requests_.wait(nullptr, sim::WaitInfo{"parent quiesced", 0, 0, name_, 0});
    engine::bdrv_inc_in_flight(*root_.bs);
  }
}

sim::Task<int> BlockBackend::co_preadv(std::int64_t offset, std::uint64_t bytes, engine::IoVector& qiov,
                                       unsigned flags) {
  const int checked = check_byte_request(offset, bytes);
  if (checked < 0) co_return checked;
  engine::bdrv_inc_in_flight(*root_.bs);
  co_await wait_while_drained();
  const int ret = co_await engine::bdrv_co_preadv(root_, offset, bytes, qiov, flags);
  engine::bdrv_dec_in_flight(*root_.bs);
  co_return ret;
}

sim::Task<int> BlockBackend::co_pwritev(std::int64_t offset, std::uint64_t bytes, engine::IoVector* qiov,
                                        unsigned flags) {
  const int checked = check_byte_request(offset, bytes);
  if (checked < 0) co_return checked;
  engine::bdrv_inc_in_flight(*root_.bs);
  co_await wait_while_drained();
  if (!options_.write_cache) flags |= engine::BDRV_REQ_FUA;
  const int ret = co_await engine::bdrv_co_pwritev(root_, offset, bytes, qiov, flags);
  engine::bdrv_dec_in_flight(*root_.bs);
  co_return ret;
}

sim::Task<int> BlockBackend::co_pdiscard(std::int64_t offset, int bytes) {
  const int checked = check_byte_request(offset, static_cast<std::uint64_t>(bytes));
  if (checked < 0) co_return checked;
  co_return co_await engine::bdrv_co_pdiscard(*root_.bs, offset, bytes);
}

sim::Task<int> BlockBackend::co_flush() {
  if (!engine::bdrv_is_inserted(*root_.bs)) co_return -ENOMEDIUM;
  co_return co_await engine::bdrv_co_flush(*root_.bs);
}

sim::Task<int> BlockBackend::co_ioctl(unsigned long request, void* buf) {
  if (!engine::bdrv_is_inserted(*root_.bs)) co_return -ENOMEDIUM;
  co_return co_await engine::bdrv_co_ioctl(*root_.bs, request, buf);
}

}  // namespace scenarios
