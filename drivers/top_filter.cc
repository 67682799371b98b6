#include "drivers/top_filter.h"

#include "drivers/driver_contract.h"
#include "engine/io.h"
#include "sim/invariant.h"

namespace drivers {

namespace {
engine::BdrvChild& backing_of(engine::BlockDriverState& bs) {
  SIM_ASSERT(bs.backing != nullptr, "a top filter without its backing child");
  return *bs.backing;
}
}  // namespace

std::uint32_t TopFilter::ops() const {
  return engine::kCoPreadv | engine::kCoPwritev | engine::kCoPwriteZeroes | engine::kCoPdiscard | engine::kCoFlush |
         engine::kCoGetBlockStatus;
}

std::int64_t TopFilter::getlength(const engine::BlockDriverState& bs) const {
  SIM_ASSERT(bs.backing != nullptr, "a top filter without its backing child");
  return bs.backing->bs->total_sectors * engine::BDRV_SECTOR_SIZE;
}

sim::Task<int> TopFilter::co_preadv(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                    engine::IoVector& qiov, unsigned flags) {
  check_request_limits(bs, RequestKind::kRead, offset, bytes, &qiov);
  co_return co_await engine::bdrv_co_preadv(backing_of(bs), static_cast<std::int64_t>(offset), bytes, qiov, flags);
}

sim::Task<int> TopFilter::co_pwritev(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                     engine::IoVector& qiov, unsigned flags) {
  check_request_limits(bs, RequestKind::kWrite, offset, bytes, &qiov);
  check_request_flags(bs, RequestKind::kWrite, flags);
  check_node_writable(bs, RequestKind::kWrite);
  co_return co_await engine::bdrv_co_pwritev(backing_of(bs), static_cast<std::int64_t>(offset), bytes, &qiov, flags);
}

sim::Task<int> TopFilter::co_pwrite_zeroes(engine::BlockDriverState& bs, std::int64_t offset, int bytes,
                                           unsigned flags) {
  check_request_limits(bs, RequestKind::kZero, static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(bytes));
  check_request_flags(bs, RequestKind::kZero, flags);
  check_node_writable(bs, RequestKind::kZero);
  co_return co_await engine::bdrv_co_pwrite_zeroes(backing_of(bs), offset, bytes, flags);
}

sim::Task<int> TopFilter::co_pdiscard(engine::BlockDriverState& bs, std::int64_t offset, int bytes) {
  check_request_limits(bs, RequestKind::kDiscard, static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(bytes));
  check_node_writable(bs, RequestKind::kDiscard);
  co_return co_await engine::bdrv_co_pdiscard(*backing_of(bs).bs, offset, bytes);
}

sim::Task<int> TopFilter::co_flush(engine::BlockDriverState& bs) {
  co_return co_await engine::bdrv_co_flush(*backing_of(bs).bs);
}

sim::Task<std::int64_t> TopFilter::co_get_block_status(engine::BlockDriverState& bs, std::int64_t sector_num,
                                                       int nb_sectors, int* pnum, engine::BlockDriverState** file) {
  check_block_status_call(bs, sector_num, nb_sectors);
  co_return engine::bdrv_co_get_block_status_from_backing(bs, sector_num, nb_sectors, pnum, file);
}

}  // namespace drivers
