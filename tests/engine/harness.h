// One mem-backed node with a root child, for engine tests that need no graph.
#pragma once

#include "graph.h"

namespace testing {

struct NodeHarness : Graph {
  NodeHarness(std::uint64_t size, std::uint32_t align, std::uint32_t max_transfer, std::uint64_t seed = 0,
              const char* strategy = "fifo", drivers::LatencyRange latency = {100, 1000})
      : NodeHarness(size, config_of(align, max_transfer, latency), seed, strategy) {}

  NodeHarness(std::uint64_t size, drivers::MemConfig config, std::uint64_t seed = 0, const char* strategy = "fifo")
      : Graph(seed, strategy), bs(mem("disk0", size, config)), child(root(bs)), driver(mem_driver()) {}

  static drivers::MemConfig config_of(std::uint32_t align, std::uint32_t max_transfer, drivers::LatencyRange latency) {
    drivers::MemConfig c;
    c.limits.request_alignment = align;
    c.limits.max_transfer = max_transfer;
    c.latency = latency;
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
  bool idle() const { return Graph::idle(bs); }

  engine::BlockDriverState& bs;
  engine::BdrvChild& child;
  drivers::MemDriver& driver;
};

}  // namespace testing
