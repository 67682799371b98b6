// mem: a memory-backed block driver whose operations take a seeded random
// latency of virtual time. Data moves when an operation completes, so concurrent
// operations really race.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/block_driver.h"
#include "sim/rng.h"

namespace drivers {

struct LatencyRange {
  std::uint64_t min_ns = 0;
  std::uint64_t max_ns = 0;
};

class MemDriver final : public engine::BlockDriver {
 public:
  // Bounds on what a scenario may ask for.
  static constexpr std::uint64_t kMaxSizeBytes = 1ULL << 30;
  static constexpr std::uint64_t kMaxLatencyNs = 10'000'000'000ULL;

  MemDriver(std::uint64_t size_bytes, LatencyRange latency, sim::Rng& latency_rng);

  std::string_view format_name() const override { return "mem"; }
  sim::Task<int> co_preadv(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                           engine::IoVector& qiov, unsigned flags) override;
  sim::Task<int> co_pwritev(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                            engine::IoVector& qiov, unsigned flags) override;
  bool has_flush_to_disk() const override { return true; }
  sim::Task<int> co_flush_to_disk(engine::BlockDriverState& bs) override;
  std::int64_t getlength(const engine::BlockDriverState& bs) const override;

  const std::vector<std::uint8_t>& data() const { return data_; }
  std::uint64_t reads() const { return reads_; }
  std::uint64_t writes() const { return writes_; }
  std::uint64_t flushes() const { return flushes_; }

 private:
  sim::Task<void> latency(std::string_view op);

  std::vector<std::uint8_t> data_;
  LatencyRange latency_;
  sim::Rng& rng_;
  std::uint64_t reads_ = 0;
  std::uint64_t writes_ = 0;
  std::uint64_t flushes_ = 0;
};

}  // namespace drivers
