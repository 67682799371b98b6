#include "drivers/raw_format.h"

#include "drivers/driver_contract.h"
#include "engine/io.h"
#include "sim/invariant.h"

namespace drivers {

std::uint32_t RawFormat::ops() const {
  return engine::kCoPreadv | engine::kCoPwritev | engine::kCoPwriteZeroes | engine::kCoPdiscard |
         engine::kCoGetBlockStatus | engine::kGetInfo | engine::kCoIoctl | engine::kTruncate;
}

std::int64_t RawFormat::getlength(const engine::BlockDriverState& bs) const {
  SIM_ASSERT(bs.file != nullptr, "raw format without a file child");
  return bs.file->bs->total_sectors * engine::BDRV_SECTOR_SIZE;
}

int RawFormat::truncate(engine::BlockDriverState& bs, std::int64_t offset) {
  check_node_has_driver(bs, "truncate");
  return engine::bdrv_truncate(*bs.file, offset);
}

void RawFormat::configure_node(engine::BlockDriverState& bs) const { engine::inherit_request_flags(bs); }

sim::Task<int> RawFormat::co_preadv(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                    engine::IoVector& qiov, unsigned flags) {
  check_request_limits(bs, RequestKind::kRead, offset, bytes, &qiov);
  co_return co_await engine::bdrv_co_preadv(*bs.file, static_cast<std::int64_t>(offset), bytes, qiov, flags);
}

sim::Task<int> RawFormat::co_pwritev(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                     engine::IoVector& qiov, unsigned flags) {
  check_request_limits(bs, RequestKind::kWrite, offset, bytes, &qiov);
  check_request_flags(bs, RequestKind::kWrite, flags);
  check_node_writable(bs, RequestKind::kWrite);
  co_return co_await engine::bdrv_co_pwritev(*bs.file, static_cast<std::int64_t>(offset), bytes, &qiov, flags);
}

sim::Task<int> RawFormat::co_pwrite_zeroes(engine::BlockDriverState& bs, std::int64_t offset, int bytes,
                                           unsigned flags) {
  check_request_limits(bs, RequestKind::kZero, static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(bytes));
  check_request_flags(bs, RequestKind::kZero, flags);
  check_node_writable(bs, RequestKind::kZero);
  co_return co_await engine::bdrv_co_pwrite_zeroes(*bs.file, offset, bytes, flags);
}

sim::Task<int> RawFormat::co_pdiscard(engine::BlockDriverState& bs, std::int64_t offset, int bytes) {
  check_request_limits(bs, RequestKind::kDiscard, static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(bytes));
  check_node_writable(bs, RequestKind::kDiscard);
  co_return co_await engine::bdrv_co_pdiscard(*bs.file->bs, offset, bytes);
}

sim::Task<int> RawFormat::co_ioctl(engine::BlockDriverState& bs, unsigned long request, void* buf) {
  co_return co_await engine::bdrv_co_ioctl(*bs.file->bs, request, buf);
}

sim::Task<std::int64_t> RawFormat::co_get_block_status(engine::BlockDriverState& bs, std::int64_t sector_num,
                                                       int nb_sectors, int* pnum, engine::BlockDriverState** file) {
  check_block_status_call(bs, sector_num, nb_sectors);
  co_return engine::bdrv_co_get_block_status_from_file(bs, sector_num, nb_sectors, pnum, file);
}

int RawFormat::get_info(engine::BlockDriverState& bs, engine::BlockDriverInfo* bdi) {
  return engine::bdrv_get_info(*bs.file->bs, bdi);
}

}  // namespace drivers
