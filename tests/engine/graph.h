// A small block graph for engine tests: mem protocol nodes, raw and cow formats,
// root children, all torn down in the right order.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "drivers/cow_format.h"
#include "drivers/fault_driver.h"
#include "drivers/mem_driver.h"
#include "drivers/raw_format.h"
#include "engine/io.h"
#include "sim/world.h"

namespace testing {

class Graph {
 public:
  explicit Graph(std::uint64_t seed = 0, const char* strategy = "fifo", std::uint64_t alloc_limit_bytes = 0)
      : world(make_config(seed, strategy, alloc_limit_bytes)) {
    world.trace().add_observer([this](const sim::Trace& t, const sim::TraceEvent& e) {
      if (e.kind == sim::EventKind::kDriverIssue) {
        ops.push_back(Op{std::string(t.text(e.label)), std::string(t.text(e.label2)), e.b, e.c});
      }
      if (e.kind == sim::EventKind::kWaitBegin) waits.emplace_back(t.text(e.label));
    });
  }
  ~Graph() {
    world.destroy_coroutines();  // frames may refer to nodes
    roots_.clear();
    while (!nodes_.empty()) nodes_.pop_back();  // parents (created later) first
  }

  static sim::WorldConfig make_config(std::uint64_t seed, const char* strategy, std::uint64_t alloc_limit_bytes) {
    sim::WorldConfig c;
    c.seed = seed;
    c.alloc_limit_bytes = alloc_limit_bytes;
    c.strategy = *sim::StrategySpec::parse(strategy);
    return c;
  }

  engine::BlockDriverState& mem(const std::string& name, std::uint64_t size, drivers::MemConfig config = fast()) {
    auto driver = std::make_unique<drivers::MemDriver>(size, config, world.rng("latency"));
    drivers::MemDriver* d = driver.get();
    engine::BlockDriverState& bs = add(name, std::move(driver), static_cast<std::int64_t>(size));
    d->configure_node(bs);
    engine::bdrv_refresh_limits(bs);
    mems_.push_back(d);
    return bs;
  }
  engine::BlockDriverState& raw(const std::string& name, engine::BlockDriverState& file) {
    engine::BlockDriverState& bs =
        add(name, std::make_unique<drivers::RawFormat>(), file.total_sectors * engine::BDRV_SECTOR_SIZE);
    bs.attach_child("file", file, engine::ChildRole::kFile);
    engine::bdrv_refresh_limits(bs);
    return bs;
  }
  // A freshly created cow image (header and empty table written to its file).
  engine::BlockDriverState& cow(const std::string& name, std::int64_t size, std::int64_t cluster,
                                engine::BlockDriverState& file, engine::BlockDriverState* backing = nullptr,
                                bool unsafe_metadata_order = false) {
    drivers::CowOptions options{size, cluster, unsafe_metadata_order, false};
    SIM_ASSERT(file.total_sectors * engine::BDRV_SECTOR_SIZE >= drivers::CowFormat::file_size_needed(options),
               "test graph: cow file " + file.node_name() + " too small");
    auto driver = std::make_unique<drivers::CowFormat>(options);
    drivers::CowFormat* cow_driver = driver.get();
    cows_.push_back(cow_driver);
    engine::BlockDriverState& bs = add(name, std::move(driver), size);
    bs.attach_child("file", file, engine::ChildRole::kFile);
    if (backing != nullptr) bs.attach_child("backing", *backing, engine::ChildRole::kBacking);
    engine::bdrv_refresh_limits(bs);
    SIM_ASSERT(cow_driver->create(bs) == 0, "test graph: creating cow image " + name + " failed");
    ops.clear();
    return bs;
  }
  engine::BlockDriverState& fault(const std::string& name, engine::BlockDriverState& file,
                                  drivers::FaultConfig config = {}) {
    auto driver = std::make_unique<drivers::FaultDriver>(std::move(config));
    faults_.push_back(driver.get());
    engine::BlockDriverState& bs = add(name, std::move(driver), file.total_sectors * engine::BDRV_SECTOR_SIZE);
    bs.attach_child("file", file, engine::ChildRole::kFile);
    engine::bdrv_refresh_limits(bs);
    return bs;
  }
  drivers::FaultDriver& fault_driver(std::size_t i = 0) { return *faults_.at(i); }
  engine::BdrvChild& root(engine::BlockDriverState& bs, const engine::BdrvChildRole* role = nullptr) {
    roots_.push_back(std::make_unique<engine::BdrvChild>("root", bs, nullptr, engine::ChildRole::kRoot, role));
    return *roots_.back();
  }
  drivers::MemDriver& mem_driver(std::size_t i = 0) { return *mems_.at(i); }
  drivers::CowFormat& cow_driver(std::size_t i = 0) { return *cows_.at(i); }

  // A mem configuration with small, fixed latency.
  static drivers::MemConfig fast() {
    drivers::MemConfig c;
    c.latency = {100, 100};
    return c;
  }

  // Sync helpers returning 0 / -errno.
  int write(engine::BdrvChild& c, std::int64_t offset, std::size_t bytes, std::uint8_t pattern, unsigned flags = 0) {
    std::vector<std::uint8_t> buf(bytes, pattern);
    engine::IoVector qiov(absl::MakeSpan(buf));
    int ret = engine::bdrv_pwritev(c, offset, qiov, flags);
    return ret < 0 ? ret : 0;
  }
  std::vector<std::uint8_t> read(engine::BdrvChild& c, std::int64_t offset, std::size_t bytes, int* ret_out = nullptr) {
    std::vector<std::uint8_t> buf(bytes, 0xa5);
    engine::IoVector qiov(absl::MakeSpan(buf));
    int ret = engine::bdrv_preadv(c, offset, qiov);
    if (ret_out != nullptr) *ret_out = ret < 0 ? ret : 0;
    return buf;
  }
  std::size_t count_ops(const std::string& op, const std::string& node = "") const {
    std::size_t n = 0;
    for (const Op& o : ops) n += (o.op == op && (node.empty() || o.node == node)) ? 1 : 0;
    return n;
  }
  std::size_t count_waits(const std::string& reason) const {
    std::size_t n = 0;
    for (const std::string& w : waits) n += w == reason ? 1 : 0;
    return n;
  }
  static bool idle(const engine::BlockDriverState& bs) {
    return bs.in_flight == 0 && bs.tracked_requests.empty() && bs.serialising_in_flight == 0 && !bs.active_flush_req;
  }

  struct Op {
    std::string op;
    std::string node;
    std::uint64_t offset;
    std::uint64_t bytes;
  };

  sim::World world;
  std::vector<Op> ops;
  std::vector<std::string> waits;

 private:
  engine::BlockDriverState& add(const std::string& name, std::unique_ptr<engine::BlockDriver> driver,
                                std::int64_t size) {
    drivers_.push_back(std::move(driver));
    nodes_.push_back(std::make_unique<engine::BlockDriverState>(name, world.main_context(), *drivers_.back(), size));
    return *nodes_.back();
  }

  std::vector<std::unique_ptr<engine::BlockDriver>> drivers_;
  std::vector<std::unique_ptr<engine::BlockDriverState>> nodes_;
  std::vector<std::unique_ptr<engine::BdrvChild>> roots_;
  std::vector<drivers::MemDriver*> mems_;
  std::vector<drivers::CowFormat*> cows_;
  std::vector<drivers::FaultDriver*> faults_;
};

inline bool all_equal(const std::vector<std::uint8_t>& v, std::size_t from, std::size_t to, std::uint8_t value) {
  for (std::size_t i = from; i < to; ++i) {
    if (v[i] != value) return false;
  }
  return true;
}

}  // namespace testing
