// The runner wires a World, the scenario's nodes and jobs, runs them, and applies
// the oracles this stage of blksim has: qemu-io pattern checks on reads, the
// final-image check, and hygiene (nothing left in flight or tracked, no leaked
// coroutine frame).
#include "scenarios/runner.h"

#include <map>
#include <memory>
#include <array>
#include <bitset>

#include "drivers/cow_format.h"
#include "drivers/fault_driver.h"
#include "drivers/mem_driver.h"
#include "drivers/null_driver.h"
#include "drivers/raw_format.h"
#include "engine/errors.h"
#include "engine/io.h"
#include "sim/co_queue.h"
#include "sim/frame_pool.h"
#include "sim/invariant.h"
#include "sim/str.h"
#include "sim/world.h"

namespace scenarios {
namespace {

// qemu-io fills a write without -P with 0xcd.
constexpr std::uint8_t kDefaultWritePattern = 0xcd;

struct Node {
  std::size_t index;
  const NodeSpec* spec;
  std::unique_ptr<engine::BlockDriver> driver;
  drivers::MemDriver* mem = nullptr;
  drivers::CowFormat* cow = nullptr;
  drivers::FaultDriver* fault = nullptr;
  std::unique_ptr<engine::BlockDriverState> bs;
  std::unique_ptr<engine::BdrvChild> root;  // the jobs' way in, as a BlockBackend's root child
};

struct Job {
  const JobSpec* spec;
  Node* node;
  std::uint32_t in_flight = 0;
  sim::CoQueue slot_free;  // woken as aio requests complete
};

// The patterns that may end up in one byte: up to kExact of them exactly; past
// that, any pattern ever written to the node (still sound, less precise).
struct BytePatterns {
  static constexpr std::uint8_t kExact = 3;
  static constexpr std::uint8_t kMany = 0xff;
  std::uint8_t count = 0;  // 0: never written, must read as zero
  std::array<std::uint8_t, kExact> values{};

  void add(std::uint8_t pattern) {
    if (count == kMany) return;
    for (std::uint8_t i = 0; i < count; ++i) {
      if (values[i] == pattern) return;
    }
    if (count == kExact) {
      count = kMany;
    } else {
      values[count++] = pattern;
    }
  }
};

// Byte-wise record of which patterns may end up in each byte of each node.
struct WrittenPatterns {
  std::vector<BytePatterns> bytes;
  std::bitset<256> any;               // every pattern written to the node
  std::vector<std::uint8_t> initial;  // the content before any job ran

  bool allows(std::size_t i, std::uint8_t value) const {
    const BytePatterns& b = bytes[i];
    if (b.count == 0) return value == initial[i];
    if (b.count == BytePatterns::kMany) return any.test(value);
    for (std::uint8_t k = 0; k < b.count; ++k) {
      if (b.values[k] == value) return true;
    }
    return false;
  }
  std::string describe(std::size_t i) const {
    const BytePatterns& b = bytes[i];
    if (b.count == BytePatterns::kMany) return "more than three patterns";
    std::string out;
    for (std::uint8_t k = 0; k < b.count; ++k) out += sim::cat(out.empty() ? "" : " or ", sim::hex(b.values[k]));
    return out;
  }
};

class ScenarioRun {
 public:
  ScenarioRun(const Scenario& scenario, const RunOptions& options)
      : scenario_(scenario), options_(options), world_(make_config(scenario, options)) {}
  ~ScenarioRun() {
    // Coroutine frames refer to nodes; a parent's edges refer to its children.
    world_.destroy_coroutines();
    jobs_.clear();
    const std::vector<std::size_t> order = children_first(scenario_.nodes);
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      if (*it < nodes_.size()) nodes_[*it].reset();
    }
  }
  ScenarioRun(const ScenarioRun&) = delete;
  ScenarioRun& operator=(const ScenarioRun&) = delete;

  RunResult run();

 private:
  static sim::WorldConfig make_config(const Scenario& s, const RunOptions& o) {
    sim::WorldConfig c;
    c.seed = o.seed;
    c.strategy = o.strategy.value_or(s.strategy);
    c.tape = o.tape;
    c.step_budget = s.step_budget;
    c.time_budget_ns = s.time_budget_ns;
    c.trace_all = o.trace_all;
    return c;
  }

  void build();
  sim::Task<void> job_main(Job& job);
  sim::Task<void> submit(Job& job, const Command& cmd);
  sim::Task<void> do_command(Job& job, const Command& cmd);
  void record_write(const Job& job, const Command& cmd);
  // The fault driver at or below `node` (the scenario checked there is one).
  drivers::FaultDriver& fault_below(Node& node);
  bool has_image_below(const NodeSpec& spec) const;
  void check_final_images();
  void check_hygiene(std::uint64_t frames_before);

  const Scenario& scenario_;
  const RunOptions& options_;
  sim::World world_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Job>> jobs_;
  std::map<std::size_t, WrittenPatterns> written_;  // by node index, for nodes jobs write to
  std::uint64_t completed_ = 0;
};

void ScenarioRun::build() {
  nodes_.resize(scenario_.nodes.size());
  // Children before parents: a node's limits and images need its file and backing.
  for (std::size_t i : children_first(scenario_.nodes)) {
    const NodeSpec& spec = scenario_.nodes[i];
    auto node = std::make_unique<Node>();
    node->index = i;
    node->spec = &spec;
    switch (spec.driver) {
      case NodeSpec::Driver::kMem: {
        auto mem = std::make_unique<drivers::MemDriver>(spec.size, spec.mem, world_.rng("latency"));
        node->mem = mem.get();
        node->driver = std::move(mem);
        break;
      }
      case NodeSpec::Driver::kNull:
        node->driver = std::make_unique<drivers::NullDriver>(spec.null);
        break;
      case NodeSpec::Driver::kRaw:
        node->driver = std::make_unique<drivers::RawFormat>();
        break;
      case NodeSpec::Driver::kCow: {
        auto cow = std::make_unique<drivers::CowFormat>(spec.cow);
        node->cow = cow.get();
        node->driver = std::move(cow);
        break;
      }
      case NodeSpec::Driver::kFault: {
        auto fault = std::make_unique<drivers::FaultDriver>(spec.fault);
        node->fault = fault.get();
        node->driver = std::move(fault);
        break;
      }
    }
    node->bs = std::make_unique<engine::BlockDriverState>(spec.name, world_.main_context(), *node->driver,
                                                          static_cast<std::int64_t>(scenario_.node_size(spec)));
    for (std::size_t j = 0; j < scenario_.nodes.size(); ++j) {
      if (!spec.file.empty() && scenario_.nodes[j].name == spec.file) {
        node->bs->attach_child("file", *nodes_[j]->bs, engine::ChildRole::kFile);
      }
      if (!spec.backing.empty() && scenario_.nodes[j].name == spec.backing) {
        node->bs->attach_child("backing", *nodes_[j]->bs, engine::ChildRole::kBacking);
      }
    }
    if (node->mem != nullptr) node->mem->configure_node(*node->bs);
    if (spec.unmap) node->bs->open_flags |= engine::BDRV_O_UNMAP;
    engine::bdrv_refresh_limits(*node->bs);
    node->root = std::make_unique<engine::BdrvChild>("root", *node->bs, nullptr, engine::ChildRole::kRoot);
    if (node->mem != nullptr && !spec.image.empty()) {
      absl::Status loaded = node->mem->load_raw(spec.image);
      if (!loaded.ok()) {
        world_.record_failure(sim::Verdict{sim::Verdict::Kind::kOracle, std::string(loaded.message()), "", {}});
      }
    }
    if (node->cow != nullptr) {
      const int ret = node->cow->create(*node->bs);
      if (ret != 0) {
        world_.record_failure(sim::Verdict{sim::Verdict::Kind::kOracle,
                                           sim::cat("creating cow image '", spec.name, "' failed with ", engine::errno_name(ret)),
                                           "",
                                           {}});
      }
    }
    nodes_[i] = std::move(node);
  }
  for (const JobSpec& spec : scenario_.jobs) {
    auto job = std::make_unique<Job>();
    job->spec = &spec;
    for (auto& n : nodes_) {
      if (n->spec->name == spec.node) job->node = n.get();
    }
    SIM_ASSERT(job->node != nullptr, "job " + spec.name + " names an unknown node");
    if (written_.count(job->node->index) == 0) {
      const std::uint64_t size = scenario_.node_size(*job->node->spec);
      written_.emplace(job->node->index, WrittenPatterns{std::vector<BytePatterns>(size), {}, std::vector<std::uint8_t>(size, 0)});
    }
    jobs_.push_back(std::move(job));
  }
}

// A guest request arrives through an external source: while the context's
// external sources are disabled (drained), it waits.
sim::Task<void> guest_kick(std::string_view job_name) {
  sim::World& world = sim::World::current();
  sim::Coroutine* self = world.current_coroutine();
  world.current_context().external_schedule(job_name, [&world, self] { world.wake(*self); });
  const sim::WaitInfo info{"external", 0, 0, world.intern(sim::cat("guest submission of ", job_name)), 0};
  co_await world.suspend(info);
}

sim::Task<void> ScenarioRun::do_command(Job& job, const Command& cmd) {
  engine::BdrvChild& child = *job.node->root;
  int ret = 0;
  switch (cmd.op) {
    case Command::Op::kWrite: {
      unsigned flags = cmd.fua ? unsigned{engine::BDRV_REQ_FUA} : 0u;
      if (cmd.zeroes) {
        if (cmd.unmap) flags |= engine::BDRV_REQ_MAY_UNMAP;
        ret = co_await engine::bdrv_co_pwrite_zeroes(child, static_cast<std::int64_t>(cmd.offset),
                                                     static_cast<int>(cmd.bytes), flags);
        break;
      }
      if (cmd.compressed) flags |= engine::BDRV_REQ_WRITE_COMPRESSED;
      std::vector<std::uint8_t> buf(cmd.bytes, cmd.pattern.value_or(kDefaultWritePattern));
      engine::IoVector qiov(absl::MakeSpan(buf));
      ret = co_await engine::bdrv_co_pwritev(child, static_cast<std::int64_t>(cmd.offset), cmd.bytes, &qiov, flags);
      break;
    }
    case Command::Op::kDiscard:
      ret = co_await engine::bdrv_co_pdiscard(*child.bs, static_cast<std::int64_t>(cmd.offset), static_cast<int>(cmd.bytes));
      break;
    case Command::Op::kRead: {
      std::vector<std::uint8_t> buf(cmd.bytes, 0xa5);
      engine::IoVector qiov(absl::MakeSpan(buf));
      ret = co_await engine::bdrv_co_preadv(child, static_cast<std::int64_t>(cmd.offset), cmd.bytes, qiov, 0);
      if (ret == 0 && cmd.pattern) {
        for (std::size_t i = 0; i < buf.size(); ++i) {
          if (buf[i] != *cmd.pattern) {
            world_.fail(sim::Verdict{
                sim::Verdict::Kind::kOracle,
                sim::cat("read -P: job '", job.spec->name, "' command '", cmd.text, "' (", scenario_.path, ":",
                         cmd.line, ") read ", sim::hex(buf[i]), " at offset ",
                         cmd.offset + i,  ", expected pattern ", sim::hex(*cmd.pattern)),
                "",
                {}});
          }
        }
      }
      break;
    }
    case Command::Op::kFlush:
      ret = co_await engine::bdrv_co_flush(*job.node->bs);
      break;
    case Command::Op::kAioFlush:
      break;
    case Command::Op::kBreak:
    case Command::Op::kRemoveBreak:
    case Command::Op::kResume:
    case Command::Op::kWaitBreak: {
      drivers::Breakpoints& bp = fault_below(*job.node).breakpoints();
      if (cmd.op == Command::Op::kBreak) {
        engine::BlkdebugEvent ev;
        engine::blkdebug_event_from_name(cmd.event, &ev);
        bp.add(ev, cmd.tag);
      } else if (cmd.op == Command::Op::kWaitBreak) {
        co_await bp.wait_held(cmd.tag);
      } else if (cmd.op == Command::Op::kResume ? !bp.suspended(cmd.tag) : !bp.remove(cmd.tag)) {
        world_.fail(sim::Verdict{sim::Verdict::Kind::kOracle,
                                 sim::cat("job '", job.spec->name, "' command '", cmd.text, "' (", scenario_.path, ":",
                                          cmd.line, "): no ", cmd.op == Command::Op::kResume ? "request held" : "breakpoint",
                                          " with tag '", cmd.tag, "'"),
                                 "",
                                 {}});
      } else if (cmd.op == Command::Op::kResume) {
        bp.resume(cmd.tag);
      }
      break;
    }
  }
  if (ret < 0) {
    world_.fail(sim::Verdict{sim::Verdict::Kind::kOracle,
                             sim::cat("job '", job.spec->name, "' command '", cmd.text, "' (", scenario_.path, ":",
                                      cmd.line, ") failed with ", engine::errno_name(ret),
                                      ", and no fault was injected"),
                             "",
                             {}});
  }
  ++completed_;
}

sim::Task<void> ScenarioRun::submit(Job& job, const Command& cmd) {
  co_await do_command(job, cmd);
}

bool ScenarioRun::has_image_below(const NodeSpec& spec) const {
  if (!spec.image.empty()) return true;
  for (const std::string* edge : {&spec.file, &spec.backing}) {
    const NodeSpec* child = edge->empty() ? nullptr : scenario_.find_node(*edge);
    if (child != nullptr && has_image_below(*child)) return true;
  }
  return false;
}

drivers::FaultDriver& ScenarioRun::fault_below(Node& node) {
  Node* n = &node;
  while (n->fault == nullptr) {
    SIM_ASSERT(n->bs->file != nullptr, "no fault node below " + node.spec->name);
    const std::string& file = n->bs->file->bs->node_name();
    for (auto& other : nodes_) {
      if (other->spec->name == file) n = other.get();
    }
  }
  return *n->fault;
}

// Record which pattern a write may leave in each byte it covers (concurrent writes
// may land in any order, so every covering pattern is allowed).
void ScenarioRun::record_write(const Job& job, const Command& cmd) {
  if (cmd.op != Command::Op::kWrite && cmd.op != Command::Op::kDiscard) return;
  WrittenPatterns& written = written_.at(job.node->index);
  const std::uint8_t pattern = cmd.zeroes ? 0 : cmd.pattern.value_or(kDefaultWritePattern);
  const bool discard = cmd.op == Command::Op::kDiscard;
  written.any.set(discard ? 0 : pattern);
  for (std::uint64_t i = cmd.offset; i < cmd.offset + cmd.bytes; ++i) {
    if (discard) {
      // A discarded byte reads as what it held or as zero.
      if (written.bytes[i].count == 0) {
        written.bytes[i].add(written.initial[i]);
        written.any.set(written.initial[i]);
      }
      written.bytes[i].add(0);
    } else {
      written.bytes[i].add(pattern);
    }
  }
}

sim::Task<void> ScenarioRun::job_main(Job& job) {
  const JobSpec& spec = *job.spec;
  if (spec.start_ns > 0) co_await sim::co_sleep_ns(spec.start_ns, "job start");
  const std::string_view outstanding = world_.intern(sim::cat("outstanding aio of ", spec.name));
  const std::string_view free_slot = world_.intern(sim::cat("a free slot of ", spec.name));
  std::size_t index = 0;
  for (const Command& cmd : spec.commands) {
    co_await guest_kick(spec.name);
    if (cmd.op == Command::Op::kAioFlush) {
      while (job.in_flight > 0) {
        co_await job.slot_free.wait(nullptr, sim::WaitInfo{"aio_flush", 0, 0, outstanding, 0});
      }
    } else if (cmd.async) {
      while (job.in_flight >= spec.queue_depth) {
        co_await job.slot_free.wait(nullptr, sim::WaitInfo{"queue depth", 0, 0, free_slot, 0});
      }
      ++job.in_flight;
      record_write(job, cmd);
      std::string name = sim::cat(spec.name, ".cmd", index);
      world_.spawn(job.node->bs->aio_context(), std::move(name), submit(job, cmd), [&job] {
        --job.in_flight;
        job.slot_free.restart_all();
      });
    } else {
      record_write(job, cmd);
      co_await do_command(job, cmd);
    }
    ++index;
  }
  while (job.in_flight > 0) {
    co_await job.slot_free.wait(nullptr, sim::WaitInfo{"job end", 0, 0, outstanding, 0});
  }
}

void ScenarioRun::check_final_images() {
  // Read what the guest would see, through the engine, with faults disarmed.
  for (auto& n : nodes_) {
    if (n->fault != nullptr) n->fault->disarm();
  }
  for (const auto& [index, written] : written_) {
    Node& node = *nodes_[index];
    std::vector<std::uint8_t> data(written.bytes.size());
    const int ret = engine::bdrv_pread(*node.root, 0, data.data(), static_cast<int>(data.size()));
    if (ret < 0) {
      world_.record_failure(sim::Verdict{sim::Verdict::Kind::kOracle,
                                         sim::cat("final image of node '", node.spec->name, "' could not be read: ",
                                                  engine::errno_name(ret)),
                                         "",
                                         {}});
      return;
    }
    for (std::size_t i = 0; i < data.size(); ++i) {
      if (!written.allows(i, data[i])) {
        const bool never = written.bytes[i].count == 0;
        world_.record_failure(sim::Verdict{
            sim::Verdict::Kind::kOracle,
            sim::cat("final image of node '", node.spec->name, "': byte ", i, " is ", sim::hex(data[i]), ", but ",
                     never ? "no write covered it (expected its initial " + sim::hex(written.initial[i]) + ")"
                           : "only writes of " + written.describe(i) + " covered it (a lost write)"),
            "",
            {}});
        return;
      }
    }
  }
}

void ScenarioRun::check_hygiene(std::uint64_t frames_before) {
  for (const auto& node : nodes_) {
    const engine::BlockDriverState& bs = *node->bs;
    if (!bs.tracked_requests.empty() || bs.in_flight != 0 || bs.serialising_in_flight != 0 || bs.active_flush_req) {
      world_.record_failure(sim::Verdict{
          sim::Verdict::Kind::kOracle,
          sim::cat("hygiene: node '", bs.node_name(), "' ends with ", bs.tracked_requests.size(),
                   " tracked requests, in_flight ", bs.in_flight, ", serialising_in_flight ",
                   bs.serialising_in_flight, bs.active_flush_req ? ", an active flush" : ""),
          "",
          {}});
      return;
    }
  }
  if (sim::FramePool::live_frames() != frames_before) {
    world_.record_failure(sim::Verdict{
        sim::Verdict::Kind::kOracle,
        sim::cat("hygiene: ", sim::FramePool::live_frames() - frames_before, " coroutine frames leaked"), "", {}});
  }
}

RunResult ScenarioRun::run() {
  const std::uint64_t frames_before = sim::FramePool::live_frames();
  if (options_.trace_stream != nullptr) world_.trace().stream_to(options_.trace_stream);
  for (const auto& observer : options_.observers) world_.trace().add_observer(observer);
  build();
  // The oracle's baseline: what each checked node holds before any job runs.
  // Fresh nodes read as zeroes; only nodes over an initial image are read, as
  // the read takes virtual time and latency draws.
  world_.trace().mute(true);
  for (auto& [index, written] : written_) {
    if (!world_.verdict().ok()) break;
    if (!has_image_below(*nodes_[index]->spec)) continue;
    const int ret = engine::bdrv_pread(*nodes_[index]->root, 0, written.initial.data(), static_cast<int>(written.initial.size()));
    if (ret < 0) {
      world_.record_failure(sim::Verdict{sim::Verdict::Kind::kOracle,
                                         sim::cat("reading the initial content of node '", nodes_[index]->spec->name,
                                                  "' failed with ", engine::errno_name(ret)),
                                         "",
                                         {}});
    }
  }
  world_.trace().mute(false);
  for (auto& job : jobs_) {
    world_.spawn(job->node->bs->aio_context(), job->spec->name, job_main(*job));
  }
  if (world_.verdict().ok()) world_.run();
  const bool ran_clean = world_.verdict().ok();
  world_.destroy_coroutines();

  // The run's identity is taken before the oracles read anything back.
  RunResult r;
  r.strategy = world_.strategy().name();
  r.seed = options_.seed;
  r.events = world_.trace().count();
  r.steps = world_.steps();
  r.virtual_ns = world_.now_ns();
  r.fingerprint = world_.trace().fingerprint();
  r.tape = world_.tape();
  r.divergence = world_.strategy().divergence();
  r.requests = completed_;
  r.max_poll_depth = world_.max_poll_depth();

  if (ran_clean) {
    world_.trace().mute(true);
    check_hygiene(frames_before);
    if (world_.verdict().ok()) check_final_images();
    world_.destroy_coroutines();
  }
  r.verdict = world_.verdict();
  if (!options_.export_dir.empty()) {
    for (const auto& node : nodes_) {
      if (node->mem == nullptr) continue;
      for (const bool durable : {false, true}) {
        const std::string path = sim::cat(options_.export_dir, "/", node->spec->name, durable ? ".durable.raw" : ".visible.raw");
        absl::Status s = durable ? node->mem->export_durable(path) : node->mem->export_visible(path);
        if (!s.ok()) {
          r.export_error = std::string(s.message());
          return r;
        }
        r.exported.push_back(path);
      }
    }
  }
  return r;
}

}  // namespace

RunResult run_scenario(const Scenario& scenario, const RunOptions& options) {
  ScenarioRun run(scenario, options);
  return run.run();
}

}  // namespace scenarios
