// Seeded random workloads: a job may give an operation mix and size and
// alignment distributions instead of a list of commands; the commands are drawn
// from the run's seed (stream "workload:JOB") when the run starts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <absl/status/status.h>
#include <toml++/toml.h>

#include "scenarios/qemu_io.h"
#include "sim/rng.h"

namespace scenarios {

class Reader;

inline constexpr std::uint32_t kMaxRandomOps = 20000;

struct RandomWorkload {
  std::uint32_t ops = 100;
  // Relative weights of each operation.
  std::uint32_t read = 50;
  std::uint32_t write = 40;
  std::uint32_t zero = 0;
  std::uint32_t discard = 0;
  std::uint32_t flush = 10;
  std::uint32_t fua_percent = 0;  // of writes and zero writes
  std::uint64_t min_bytes = 512;
  std::uint64_t max_bytes = 65536;
  std::uint64_t align = 512;  // offsets and sizes are multiples of this
  std::uint64_t from = 0;     // the range requests fall in
  std::uint64_t to = 0;       // 0: the node's end
  bool log_sizes = false;     // sizes log-uniform (many small, some large) rather than uniform

  std::uint32_t total_weight() const { return read + write + zero + discard + flush; }
};

// Reads a job's `random = { ... }` table; `node_size` bounds the range.
absl::Status parse_random_workload(const Reader& r, const toml::node& node, std::uint64_t node_size,
                                   RandomWorkload& out);

// The commands of one run, all asynchronous (aio_*) so the queue depth applies.
std::vector<Command> generate_workload(const RandomWorkload& w, std::uint64_t node_size, sim::Rng& rng);

}  // namespace scenarios
