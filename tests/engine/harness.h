// A world with one mem-backed node, for engine tests.
#pragma once

#include <string>
#include <vector>

#include "drivers/mem_driver.h"
#include "engine/io.h"
#include "sim/world.h"

namespace testing {

struct DriverOp {
  std::string op;
  std::uint64_t offset;
  std::uint64_t bytes;
};

struct NodeHarness {
  NodeHarness(std::uint64_t size, std::uint32_t align, std::uint32_t max_transfer, std::uint64_t seed = 0,
              const char* strategy = "fifo", drivers::LatencyRange latency = {100, 1000})
      : NodeHarness(size, config_of(align, max_transfer, latency), seed, strategy) {}

  NodeHarness(std::uint64_t size, drivers::MemConfig config, std::uint64_t seed = 0, const char* strategy = "fifo")
      : world(make_config(seed, strategy)),
        driver(size, config, world.rng("latency")),
        bs("disk0", world.main_context(), driver, static_cast<std::int64_t>(size)),
        child("root", bs, nullptr, engine::ChildRole::kRoot) {
    driver.configure_node(bs);
    engine::bdrv_refresh_limits(bs);
    world.trace().add_observer([this](const sim::Trace& t, const sim::TraceEvent& e) {
      if (e.kind == sim::EventKind::kDriverIssue) ops.push_back(DriverOp{std::string(t.text(e.label)), e.b, e.c});
      if (e.kind == sim::EventKind::kWaitBegin) waits.push_back(std::string(t.text(e.label)));
    });
  }

  static drivers::MemConfig config_of(std::uint32_t align, std::uint32_t max_transfer, drivers::LatencyRange latency) {
    drivers::MemConfig c;
    c.limits.request_alignment = align;
    c.limits.max_transfer = max_transfer;
    c.latency = latency;
    return c;
  }

  static sim::WorldConfig make_config(std::uint64_t seed, const char* strategy) {
    sim::WorldConfig c;
    c.seed = seed;
    c.strategy = *sim::StrategySpec::parse(strategy);
    return c;
  }

  // The sync wrapper's result: the byte count on success, as the reference.
  int write(std::int64_t offset, std::size_t bytes, std::uint8_t pattern, unsigned flags = 0) {
    std::vector<std::uint8_t> buf(bytes, pattern);
    engine::IoVector qiov(absl::MakeSpan(buf));
    return engine::bdrv_pwritev(child, offset, qiov, flags);
  }
  std::vector<std::uint8_t> read(std::int64_t offset, std::size_t bytes, int* ret_out = nullptr) {
    std::vector<std::uint8_t> buf(bytes, 0xa5);
    engine::IoVector qiov(absl::MakeSpan(buf));
    int ret = engine::bdrv_preadv(child, offset, qiov);
    if (ret_out != nullptr) *ret_out = ret;
    return buf;
  }
  std::size_t count_ops(const std::string& op) const {
    std::size_t n = 0;
    for (const DriverOp& o : ops) n += o.op == op ? 1 : 0;
    return n;
  }
  std::size_t count_waits(const std::string& reason) const {
    std::size_t n = 0;
    for (const std::string& w : waits) n += w == reason ? 1 : 0;
    return n;
  }
  // Nothing left in flight or tracked: the node is idle.
  bool idle() const {
    return bs.in_flight == 0 && bs.tracked_requests.empty() && bs.serialising_in_flight == 0 && !bs.active_flush_req;
  }

  sim::World world;
  drivers::MemDriver driver;
  engine::BlockDriverState bs;
  engine::BdrvChild child;
  std::vector<DriverOp> ops;
  std::vector<std::string> waits;
};

inline bool all_equal(const std::vector<std::uint8_t>& v, std::size_t from, std::size_t to, std::uint8_t value) {
  for (std::size_t i = from; i < to; ++i) {
    if (v[i] != value) return false;
  }
  return true;
}

}  // namespace testing
