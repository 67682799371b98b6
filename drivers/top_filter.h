// top: a filter whose one child is its backing, as the top nodes mirror and
// commit insert above the node they copy (mirror.c's bdrv_mirror_top,
// commit.c's bdrv_commit_top of the reference's time). Every request goes to
// the backing child at the same offsets; block status answers with
// bdrv_co_get_block_status_from_backing, so the engine asks the backing. It
// declares no request flags (FUA is emulated above it, MAY_UNMAP dropped) and
// flushes with one bdrv_co_flush of its backing.
#pragma once

#include "engine/block_driver.h"

namespace drivers {

class TopFilter final : public engine::BlockDriver {
 public:
  std::string_view format_name() const override { return "mirror_top"; }
  std::uint32_t ops() const override;
  std::int64_t getlength(const engine::BlockDriverState& bs) const override;
  // mirror_top / commit_top are filters, but on a backing child: bdrv_truncate finds no file to pass to.
  bool is_filter() const override { return true; }
  sim::Task<int> co_preadv(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                           engine::IoVector& qiov, unsigned flags) override;
  sim::Task<int> co_pwritev(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                            engine::IoVector& qiov, unsigned flags) override;
  sim::Task<int> co_pwrite_zeroes(engine::BlockDriverState& bs, std::int64_t offset, int bytes,
                                  unsigned flags) override;
  sim::Task<int> co_pdiscard(engine::BlockDriverState& bs, std::int64_t offset, int bytes) override;
  sim::Task<int> co_flush(engine::BlockDriverState& bs) override;
  sim::Task<std::int64_t> co_get_block_status(engine::BlockDriverState& bs, std::int64_t sector_num, int nb_sectors,
                                              int* pnum, engine::BlockDriverState** file) override;
};

}  // namespace drivers
