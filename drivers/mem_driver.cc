#include "drivers/mem_driver.h"

#include <algorithm>

#include "engine/block_driver_state.h"
#include "sim/invariant.h"
#include "sim/str.h"
#include "sim/world.h"

namespace drivers {

MemDriver::MemDriver(std::uint64_t size_bytes, LatencyRange latency, sim::Rng& latency_rng)
    : data_(size_bytes, 0), latency_(latency), rng_(latency_rng) {
  SIM_ASSERT(size_bytes <= kMaxSizeBytes, "mem driver size above its limit");
  SIM_ASSERT(latency.min_ns <= latency.max_ns && latency.max_ns <= kMaxLatencyNs, "mem driver latency out of range");
}

sim::Task<void> MemDriver::latency(std::string_view op) {
  std::uint64_t ns = rng_.between(latency_.min_ns, latency_.max_ns);
  if (ns > 0) {
    std::string_view reason = sim::World::current().intern(sim::cat("driver ", op));
    co_await sim::co_sleep_ns(ns, reason);
  }
}

sim::Task<int> MemDriver::co_preadv(engine::BlockDriverState&, std::uint64_t offset, std::uint64_t bytes,
                                    engine::IoVector& qiov, unsigned) {
  co_await latency("preadv");
  ++reads_;
  // Past the end of the medium reads as zeroes.
  std::uint64_t avail = offset < data_.size() ? std::min<std::uint64_t>(bytes, data_.size() - offset) : 0;
  if (avail > 0) qiov.copy_from(0, data_.data() + offset, avail);
  if (avail < bytes) qiov.memset(avail, 0, bytes - avail);
  co_return 0;
}

sim::Task<int> MemDriver::co_pwritev(engine::BlockDriverState&, std::uint64_t offset, std::uint64_t bytes,
                                     engine::IoVector& qiov, unsigned) {
  co_await latency("pwritev");
  ++writes_;
  if (offset + bytes > data_.size()) co_return -ENOSPC;
  qiov.copy_to(0, data_.data() + offset, bytes);
  co_return 0;
}

sim::Task<int> MemDriver::co_flush_to_disk(engine::BlockDriverState&) {
  co_await latency("flush");
  ++flushes_;
  co_return 0;
}

std::int64_t MemDriver::getlength(const engine::BlockDriverState&) const {
  return static_cast<std::int64_t>(data_.size());
}

}  // namespace drivers
