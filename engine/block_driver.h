// The interface every block driver implements (QEMU's BlockDriver).
//
// The engine never names a concrete driver. Optional operations come in pairs:
// has_X() says whether the driver implements X, as a NULL function pointer does
// in QEMU, and the engine's fallback paths depend on that.
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/iovec.h"
#include "sim/task.h"

namespace engine {

class BlockDriverState;

class BlockDriver {
 public:
  virtual ~BlockDriver() = default;
  virtual std::string_view format_name() const = 0;

  // Aligned, fragmented I/O: offset and bytes are multiples of request_alignment and
  // bytes <= max_transfer. Returns 0 or a negative errno.
  virtual sim::Task<int> co_preadv(BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes, IoVector& qiov,
                                   unsigned flags) = 0;
  // `flags` holds only flags in bs.supported_write_flags; the engine emulates the rest.
  virtual sim::Task<int> co_pwritev(BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes, IoVector& qiov,
                                    unsigned flags) = 0;

  // Flushing: a driver offers one whole-stack flush, or flush_to_os and/or
  // flush_to_disk, which the engine combines with flushing bs->file.
  virtual bool has_co_flush() const { return false; }
  virtual sim::Task<int> co_flush(BlockDriverState& bs);
  virtual bool has_flush_to_os() const { return false; }
  virtual sim::Task<int> co_flush_to_os(BlockDriverState& bs);
  virtual bool has_flush_to_disk() const { return false; }
  virtual sim::Task<int> co_flush_to_disk(BlockDriverState& bs);

  // Image length in bytes, or a negative errno.
  virtual std::int64_t getlength(const BlockDriverState& bs) const = 0;
};

}  // namespace engine
