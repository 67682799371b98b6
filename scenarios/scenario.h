// A scenario: the node graph and its limits, the jobs that drive it, and how many
// seeds to explore by default. Read from a TOML file; every error names the file,
// the line and what was expected.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "engine/fixes.h"
#include "scenarios/block_backend.h"
#include "scenarios/event_spec.h"
#include "scenarios/node_spec.h"
#include "scenarios/oracles.h"
#include "scenarios/image_store.h"
#include "scenarios/qemu_io.h"
#include "scenarios/workload.h"
#include "sim/scheduler.h"

namespace scenarios {

// Bounds a scenario may not exceed.
inline constexpr std::uint32_t kMaxNodes = 64;
inline constexpr std::uint32_t kMaxJobs = 256;
inline constexpr std::uint32_t kMaxCommandsPerJob = 100000;
inline constexpr std::uint32_t kMaxQueueDepth = 1024;
inline constexpr std::uint32_t kMaxSeeds = 1000000;
inline constexpr std::uint32_t kMaxAlignment = 1 << 16;
inline constexpr std::uint64_t kMaxStepBudget = 1ULL << 40;
// A memory limit below the largest alignment would make every padded request abort.
inline constexpr std::uint64_t kMinMemoryLimit = kMaxAlignment;
// Nodes that jobs write to: the final-image oracle keeps a few bytes per byte.
inline constexpr std::uint64_t kMaxCheckedNodeBytes = 256ULL << 20;

struct JobSpec {
  // How the job calls the engine for its synchronous commands (aio commands
  // are always a coroutine of their own, as blk_aio_* makes them).
  enum class Api : std::uint8_t {
    kCoroutine,  // "co": bdrv_co_* from the job's coroutine (a device or block job)
    kSync,       // "sync": the sync wrappers (bdrv_pread, bdrv_pwrite, ...) from the
                 // main loop, outside any coroutine, polling until done (qemu-io's way)
    kSyncInCoroutine,  // "sync-in-coroutine": the same wrappers from the job's
                       // coroutine (their fast path: no new coroutine, no poll)
    kSectors,    // "sectors": as "sync", but reads and writes with the sector-based
                 // bdrv_read / bdrv_write (as vvfat and qcow call their file)
    kCoSectors,  // "co-sectors": as "co", but reads and writes with
                 // bdrv_co_readv / bdrv_co_writev (as most formats of the time)
  };
  // Whether the job's synchronous commands go through the sync wrappers.
  bool sync_wrappers() const { return api == Api::kSync || api == Api::kSyncInCoroutine || api == Api::kSectors; }
  bool sector_api() const { return api == Api::kSectors || api == Api::kCoSectors; }
  // Whether they are called from the main loop, outside any coroutine.
  bool from_main_loop() const { return api == Api::kSync || api == Api::kSectors; }
  std::string name;
  std::string node;
  Api api = Api::kCoroutine;
  // `backend = { ... }`: the job is a device behind a BlockBackend-like root
  // parent (scenarios/block_backend.h) rather than a bare root child.
  std::optional<BackendOptions> backend;
  std::uint32_t queue_depth = 1;
  std::uint64_t start_ns = 0;
  // Each run of aio commands (as many as the queue has room for) is one batch
  // between bdrv_io_plug and bdrv_io_unplug of the job's node, submitted in
  // one guest kick as virtio-blk's handler submits a virtqueue.
  bool plug = false;
  std::vector<Command> commands;
  std::optional<RandomWorkload> random;  // instead of commands: drawn from the seed
  int line = 0;
};

struct Scenario {
  std::string path;
  std::string name;
  std::string description;
  std::uint32_t seeds = 20;
  sim::StrategySpec strategy{sim::StrategySpec::Kind::kRandom, 3};
  std::uint64_t step_budget = 10'000'000;
  std::uint64_t time_budget_ns = 60'000'000'000ULL;
  // The largest buffer the engine may allocate at once (qemu_try_blockalign
  // fails above it: -ENOMEM from copy-on-read and the zero-write fallback;
  // qemu_blockalign aborts); 0: no limit.
  std::uint64_t memory_limit = 0;
  OracleSet oracles = OracleSet::all();
  // An expected-fail scenario documents a known bad behaviour (a deadlock the
  // graph shows): the suite counts it as held when every seed fails.
  bool expect_fail = false;
  // Later fixes of known defects of the reference to run with (engine/fixes.h).
  std::vector<engine::Fix> fixes;
  std::vector<NodeSpec> nodes;
  std::vector<JobSpec> jobs;
  std::vector<EventSpec> events;

  const NodeSpec* find_node(std::string_view name) const;
  // The node that stores what is written to `node`: itself, or below its
  // filters (raw, fault, top) their data child.
  const NodeSpec& data_home(const NodeSpec& node) const;
  // Writes to `node` land nowhere: its data home is a null node.
  bool stores_nothing(const NodeSpec& node) const { return data_home(node).driver == NodeSpec::Driver::kNull; }
  // The size a node presents to its users (filters present their file's).
  std::uint64_t node_size(const NodeSpec& node) const;
  // The most a node may hold during the run: its size, or more where a
  // truncate grows the mem node below it.
  std::uint64_t node_capacity(const NodeSpec& node) const;
  // The mem node a truncate of `node` resizes (through raw's and fault's
  // files), or nullptr where the truncate fails (cow, top, null).
  const NodeSpec* truncate_home(const NodeSpec& node) const;
  // The most buffers a request to `node` may carry: its max_iov as the engine's
  // bdrv_refresh_limits derives it (a protocol node's IOV_MAX unless its limits
  // say less, a format node's the least of its children's). A caller keeps to
  // it, as QEMU's devices do; the engine's own padding may not exceed it either.
  std::uint32_t max_iov(const NodeSpec& node) const;
  // A node's request_alignment as its driver sets it: a mem node's limits, a
  // fault node's `align`, otherwise 1 (byte-based drivers).
  std::uint32_t request_alignment(const NodeSpec& node) const;
  // The request flags a node's driver takes (supported_write_flags, or for
  // zero writes supported_zero_flags): a mem node's by its `fua` option and
  // style, raw's and fault's what their file takes (raw_open and
  // blkdebug_open), nothing for the others.
  unsigned declared_flags(const NodeSpec& node, bool zero_write) const;
};

// `images`: the image files by name, when they come with the text (a repro
// file); otherwise they are read relative to `path`.
absl::StatusOr<Scenario> parse_scenario(std::string_view text, const std::string& path,
                                        const ImageStore* images = nullptr);
absl::StatusOr<Scenario> load_scenario(const std::string& path);
// The images a parsed scenario read, by the names it gives them: parsing its
// text again (or a variant of it) with these reads no file.
ImageStore image_store_of(const Scenario& s);

}  // namespace scenarios
