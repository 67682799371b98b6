// raw: a format layer that passes everything to its file child, as QEMU's
// raw-format driver does. Block status answers BDRV_BLOCK_RAW, so the engine asks
// the file. It has no flush of its own: the engine flushes its file after it.
// ioctls go to the file, as raw_co_ioctl's do.
#pragma once

#include "engine/block_driver.h"
#include "engine/block_driver_state.h"

namespace drivers {

class RawFormat final : public engine::BlockDriver {
 public:
  std::string_view format_name() const override { return "raw"; }
  std::uint32_t ops() const override;
  std::int64_t getlength(const engine::BlockDriverState& bs) const override;
  // raw_open: FUA, and for zero writes FUA and MAY_UNMAP, as far as the file takes them.
  void configure_node(engine::BlockDriverState& bs) const override;
  // raw-format's has_variable_length: its length is its file's, read each time.
  bool has_variable_length() const override { return true; }
  // raw without offset or size options: its file is its filtered child.
  bool filters_child(const engine::BlockDriverState& bs, const engine::BdrvChild& child) const override {
    return bs.file == &child;
  }
  // raw_truncate: resize the file (no offset or size options here).
  int truncate(engine::BlockDriverState& bs, std::int64_t offset) override;
  sim::Task<int> co_preadv(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                           engine::IoVector& qiov, unsigned flags) override;
  sim::Task<int> co_pwritev(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                            engine::IoVector& qiov, unsigned flags) override;
  sim::Task<int> co_pwrite_zeroes(engine::BlockDriverState& bs, std::int64_t offset, int bytes,
                                  unsigned flags) override;
  sim::Task<int> co_pdiscard(engine::BlockDriverState& bs, std::int64_t offset, int bytes) override;
  sim::Task<std::int64_t> co_get_block_status(engine::BlockDriverState& bs, std::int64_t sector_num, int nb_sectors,
                                              int* pnum, engine::BlockDriverState** file) override;
  sim::Task<int> co_ioctl(engine::BlockDriverState& bs, unsigned long request, void* buf) override;
  int get_info(engine::BlockDriverState& bs, engine::BlockDriverInfo* bdi) override;
};

}  // namespace drivers
