// null: a driver that completes at once (or after a fixed latency) without
// storing anything, for benchmarks of the request layer itself. Reads leave the
// buffer as it is unless read_zeroes is set (QEMU's null-co read-zeroes).
#pragma once

#include <cstdint>

#include "engine/block_driver.h"
#include "sim/world.h"

namespace drivers {

struct NullConfig {
  std::uint64_t size = 1ULL << 30;
  std::uint64_t latency_ns = 0;
  bool read_zeroes = false;
};

class NullDriver final : public engine::BlockDriver {
 public:
  // The largest length bdrv_getlength can report (total_sectors * 512 within
  // int64_t): 2^63 - 512. A null node stores nothing, so it may be that large.
  static constexpr std::uint64_t kMaxSizeBytes = static_cast<std::uint64_t>(INT64_MAX) / 512 * 512;
  explicit NullDriver(NullConfig config) : config_(config) {}
  std::string_view format_name() const override { return "null"; }
  std::string_view protocol_name() const override { return "null"; }
  std::uint32_t ops() const override { return engine::kCoPreadv | engine::kCoPwritev | engine::kCoFlushToDisk; }
  std::int64_t getlength(const engine::BlockDriverState&) const override {
    return static_cast<std::int64_t>(config_.size);
  }
  sim::Task<int> co_preadv(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                           engine::IoVector& qiov, unsigned flags) override;
  sim::Task<int> co_pwritev(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                            engine::IoVector& qiov, unsigned flags) override;
  sim::Task<int> co_flush_to_disk(engine::BlockDriverState& bs) override;
  std::uint64_t requests() const { return requests_; }

 private:
  // The configured latency, if any: an awaitable, so a request in flight
  // keeps no frame for it.
  sim::DelayAwaiter wait();
  NullConfig config_;
  std::uint64_t requests_ = 0;
};

}  // namespace drivers
