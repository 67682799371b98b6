// The runner wires a World, the scenario's nodes and jobs, runs them with the
// scenario's events, and applies the oracles the scenario selects.
#include "scenarios/runner.h"

#include <functional>
#include <chrono>
#include <cstdio>

#include "drivers/null_driver.h"
#include "drivers/quorum_filter.h"
#include "sim/probe.h"
#include "drivers/raw_format.h"
#include "drivers/top_filter.h"
#include "engine/errors.h"
#include "engine/io.h"
#include "scenarios/known_defects.h"
#include "scenarios/scenario_run.h"
#include "sim/frame_pool.h"
#include "sim/invariant.h"
#include "sim/str.h"

namespace scenarios {
namespace {


// A guest request arrives through an external source (named `job_label` in
// the trace): while the context's external sources are disabled (drained), it
// waits. `submission` is the wait's interned description; `quiesced_by` names
// the scenario's drained section over the job's node, if one is open: the wait
// is then drawn as the parent quiesced rather than an ordinary submission.
// `handler`, if any, runs in the kick's callback before the job goes on: what
// a device's queue handler does there happens in one dispatch, no other event
// between its steps.
sim::Task<void> guest_kick(std::uint32_t job_label, std::string_view submission, std::string_view quiesced_by,
                           absl::AnyInvocable<void()> handler = {}) {
  sim::World& world = sim::World::current();
  sim::Coroutine* self = world.current_coroutine();
  world.current_context().external_schedule_labelled(job_label, [&world, self, &handler] {
    if (handler) handler();
    world.wake(*self);
  });
  const sim::WaitInfo info = quiesced_by.empty() ? sim::WaitInfo{"external", 0, 0, submission, 0}
                                                 : sim::WaitInfo{"parent quiesced", 0, 0, quiesced_by, 0};
  co_await world.suspend(info);
}

// Commands the write history records: writes and discards of the disk (the VM
// state is an area of its own, judged only by the scenario's expectations).
bool writes_data(const Command& c) {
  return (c.op == Command::Op::kWrite || c.op == Command::Op::kDiscard || c.op == Command::Op::kMakeZero) && !c.vmstate;
}

}  // namespace

engine::IoVector request_vector(const Command& cmd, IoBuffer& buffer) {
  if (!cmd.vectored()) return engine::IoVector(absl::MakeSpan(buffer));
  engine::IoVector qiov;
  std::size_t at = 0;
  for (std::uint64_t part : cmd.parts) {
    qiov.add(absl::MakeSpan(buffer.data() + at, static_cast<std::size_t>(part)));
    at += static_cast<std::size_t>(part);
  }
  SIM_ASSERT(at == buffer.size(), "readv/writev lengths add up to the command's bytes");
  return qiov;
}


ScenarioRun::ScenarioRun(const Scenario& scenario, const RunOptions& options)
    : scenario_(scenario),
      options_(options),
      world_(make_config(scenario, options)),
      drain_probe_([this](engine::BlockDriverState& bs, engine::DrainPoint point) {
        const Node& node = node_of(bs);
        if (point == engine::DrainPoint::kCoDrainedBegin) {
          check_drained(sim::cat("bdrv_co_drained_begin(", node.spec->name, ")'s bottom half"), node.subtree);
        } else {
          check_drained(drain_what_.empty() ? sim::cat("bdrv_drain(", node.spec->name, ")") : drain_what_, node.subtree);
        }
      }),
      inspects_reads_(checking(Oracle::kData) || options.record_outcomes),
      records_writes_(checking(Oracle::kData) || checking(Oracle::kDurability) || checking(Oracle::kFlushOrder) ||
                      checking(Oracle::kDirtyBitmaps)) {}

ScenarioRun::~ScenarioRun() {
  // Coroutine frames refer to nodes; a parent's edges refer to its children.
  world_.destroy_coroutines();
  jobs_.clear();
  backups_.clear();  // their BlockBackends hold root edges into the graph
  // Parents before children, by the graph as it is now (a graph change may
  // have moved an edge to a node the scenario's order puts before its new
  // parent): a node goes once no other node holds an edge to it, and its
  // edges leave their children's parent lists as it goes.
  const std::vector<std::size_t> order = children_first(scenario_.nodes);
  for (std::size_t round = 0; round <= nodes_.size(); ++round) {
    bool progress = false;
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      if (*it >= nodes_.size() || nodes_[*it] == nullptr || nodes_[*it]->bs == nullptr) continue;
      const std::vector<engine::BdrvChild*>& held_by = nodes_[*it]->bs->parents;
      if (std::any_of(held_by.begin(), held_by.end(), [](const engine::BdrvChild* c) { return c->parent != nullptr; })) {
        continue;
      }
      nodes_[*it].reset();
      progress = true;
    }
    if (!progress) break;
  }
  // A cycle of edges cannot be built; should one be, it goes in the old order.
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    if (*it < nodes_.size()) nodes_[*it].reset();
  }
}

sim::WorldConfig ScenarioRun::make_config(const Scenario& s, const RunOptions& o) {
  sim::WorldConfig c;
  c.seed = o.seed;
  c.strategy = o.strategy.value_or(s.strategy);
  c.tape = o.tape;
  c.step_budget = s.step_budget;
  c.time_budget_ns = s.time_budget_ns;
  c.alloc_limit_bytes = s.memory_limit;
  c.trace_all = o.trace_all;
  if (o.wall_budget_s > 0) {
    using Clock = std::chrono::steady_clock;
    const Clock::time_point deadline =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.wall_budget_s));
    char budget[32];
    std::snprintf(budget, sizeof budget, "%g", o.wall_budget_s);
    c.watchdog = [deadline, text = std::string(budget)]() -> std::string {
      if (Clock::now() < deadline) return {};
      return sim::cat("wall-clock budget of ", text, " s exceeded");
    };
  }
  return c;
}

sim::AioContext& ScenarioRun::context_for(const NodeSpec& spec) {
  if (spec.iothread.empty()) return world_.main_context();
  auto it = iothreads_.find(spec.iothread);
  if (it == iothreads_.end()) it = iothreads_.emplace(spec.iothread, &world_.new_context(spec.iothread)).first;
  return *it->second;
}

void ScenarioRun::build() {
  nodes_.resize(scenario_.nodes.size());
  drained_.assign(scenario_.nodes.size(), 0);
  media_.assign(scenario_.nodes.size(), MediumState{});
  copy_on_read_.assign(scenario_.nodes.size(), 0);
  grown_.assign(scenario_.nodes.size(), 0);
  grown_at_.assign(scenario_.nodes.size(), 0);
  copy_on_read_refused_.assign(scenario_.nodes.size(), 0);
  resizes_.assign(scenario_.nodes.size(), 0);
  no_flush_.assign(scenario_.nodes.size(), false);
  for (std::size_t i = 0; i < scenario_.nodes.size(); ++i) no_flush_[i] = scenario_.nodes[i].no_flush;
  // Children before parents: a node's limits and images need its file and backing.
  for (std::size_t i : children_first(scenario_.nodes)) {
    const NodeSpec& spec = scenario_.nodes[i];
    auto node = std::make_unique<Node>();
    node->index = i;
    node->spec = &spec;
    node->subtree.push_back(i);
    switch (spec.driver) {
      case NodeSpec::Driver::kMem: {
        // The medium holds the node's capacity; the file starts at its size.
        auto mem = std::make_unique<drivers::MemDriver>(scenario_.node_capacity(spec), spec.mem, world_.rng("latency"));
        mem->set_length(spec.size);
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
      case NodeSpec::Driver::kTop:
        node->driver = std::make_unique<drivers::TopFilter>();
        break;
      case NodeSpec::Driver::kQuorum:
        // Every child must succeed (the parser allows no other threshold).
        node->driver = std::make_unique<drivers::QuorumFilter>(static_cast<int>(spec.children.size()));
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
    node->bs = std::make_unique<engine::BlockDriverState>(spec.name, context_for(spec), *node->driver,
                                                          static_cast<std::int64_t>(scenario_.node_size(spec)));
    for (std::size_t j = 0; j < scenario_.nodes.size(); ++j) {
      const bool file = !spec.file.empty() && scenario_.nodes[j].name == spec.file;
      const bool backing = !spec.backing.empty() && scenario_.nodes[j].name == spec.backing;
      const bool data = !spec.data_file.empty() && scenario_.nodes[j].name == spec.data_file;
      if (!file && !backing && !data) continue;
      node->bs->attach_child(file ? "file" : backing ? "backing" : "data-file", *nodes_[j]->bs,
                             file ? engine::ChildRole::kFile : backing ? engine::ChildRole::kBacking : engine::ChildRole::kData);
      for (std::size_t k : nodes_[j]->subtree) {
        if (std::find(node->subtree.begin(), node->subtree.end(), k) == node->subtree.end()) node->subtree.push_back(k);
      }
    }
    // quorum_open opens children.0, children.1, ... in order.
    for (std::size_t c = 0; c < spec.children.size(); ++c) {
      // Built before this node (children first), like the edges above.
      const auto at = std::find_if(scenario_.nodes.begin(), scenario_.nodes.end(),
                                   [&](const NodeSpec& s) { return s.name == spec.children[c]; });
      Node& child = *nodes_[static_cast<std::size_t>(at - scenario_.nodes.begin())];
      engine::BdrvChild& edge = node->bs->attach_child(sim::cat("children.", c), *child.bs, engine::ChildRole::kChild);
      static_cast<drivers::QuorumFilter&>(*node->driver).add_child(edge);
      for (std::size_t k : child.subtree) {
        if (std::find(node->subtree.begin(), node->subtree.end(), k) == node->subtree.end()) node->subtree.push_back(k);
      }
    }
    node->driver->configure_node(*node->bs);
    if (spec.unmap) node->bs->open_flags |= engine::BDRV_O_UNMAP;
    if (spec.no_flush) node->bs->open_flags |= engine::BDRV_O_NO_FLUSH;
    node->bs->detect_zeroes = spec.detect_zeroes;
    engine::bdrv_refresh_limits(*node->bs);
    node->root = std::make_unique<engine::BdrvChild>("root", *node->bs, nullptr, engine::ChildRole::kRoot);
    if (node->mem != nullptr && spec.image_bytes != nullptr) {
      // The parser read the image and checked its size.
      absl::Status loaded = node->mem->load(*spec.image_bytes);
      SIM_ASSERT(loaded.ok(), sim::cat("node '", spec.name, "': ", loaded.message()));
    }
    // Owned by the run from here: creating an image polls, and a failure
    // there unwinds to run() with the node's coroutines still alive.
    nodes_[i] = std::move(node);
    Node& built = *nodes_[i];
    if (built.cow != nullptr) {
      // Creating the image polls the node's loop: from the main loop, as QEMU's
      // qemu-img would, before any blkdebug rule is in place (fault nodes
      // below are paused: an injected error here would judge the set-up).
      pause_faults(true);
      const int ret = built.cow->create(*built.bs);
      pause_faults(false);
      if (ret != 0) {
        world_.record_failure(sim::Verdict{sim::Verdict::Kind::kOracle,
                                           sim::cat("creating cow image '", spec.name, "' failed with ", engine::errno_name(ret)),
                                           "",
                                           {}});
      }
    }
  }
  for (const JobSpec& spec : scenario_.jobs) {
    auto job = std::make_unique<Job>();
    job->spec = &spec;
    job->node = &node_named(spec.node);
    job->history = data_home(*job->node).index;
    if (spec.backend) {
      job->backend = std::make_unique<BlockBackend>(spec.name, *job->node->bs, *spec.backend);
      Job* device = job.get();
      job->backend->set_device_drain_hook([this, device](bool begin) { device_drain_callback(*device, begin); });
    }
    const std::uint64_t size = scenario_.node_size(*job->node->spec);
    if (spec.random) {
      job->generated = generate_workload(*spec.random, size, world_.rng(sim::cat("workload:", spec.name)));
      job->commands = &job->generated;
    } else {
      job->commands = &spec.commands;
    }
    auto checked = checked_.find(job->history);
    if (checked == checked_.end()) {
      const std::uint64_t home_size = scenario_.node_capacity(*nodes_[job->history]->spec);
      checked = checked_.emplace(job->history, CheckedNode{WriteHistory::zeroes(home_size), 0}).first;
      const NodeSpec& home = *nodes_[job->history]->spec;
      checked->second.stores = home.driver != NodeSpec::Driver::kNull;
      checked->second.content_known = checked->second.stores || home.null.read_zeroes;
      // A cow discard unallocates clusters: they read from the backing again.
      checked->second.history.set_discard_reveals_initial(nodes_[job->history]->spec->driver == NodeSpec::Driver::kCow);
    }
    job->checked = &checked->second;
    jobs_.push_back(std::move(job));
  }
}

const Node& ScenarioRun::node_named_const(std::string_view name) const {
  for (const auto& n : nodes_) {
    if (n->spec->name == name) return *n;
  }
  SIM_ASSERT(false, sim::cat("no node named ", name, " (the parser checks references)"));
  return *nodes_.front();
}

Node& ScenarioRun::node_named(std::string_view name) {
  for (auto& n : nodes_) {
    if (n->spec->name == name) return *n;
  }
  SIM_ASSERT(false, sim::cat("no node named ", name, " (the parser checks references)"));
  return *nodes_.front();
}

const Node& ScenarioRun::node_of(const engine::BlockDriverState& bs) const {
  for (const auto& n : nodes_) {
    if (n->bs.get() == &bs) return *n;
  }
  SIM_ASSERT(false, sim::cat("node '", bs.node_name(), "' is no scenario node"));
  return *nodes_.front();
}

drivers::FaultDriver& ScenarioRun::fault_below(Node& node) {
  Node* n = &node;
  while (n->fault == nullptr) {
    SIM_ASSERT(!n->spec->data_child().empty(), "no fault node below " + node.spec->name);
    n = &node_named(n->spec->data_child());
  }
  return *n->fault;
}

bool ScenarioRun::has_image_below(const NodeSpec& spec) const {
  if (spec.has_initial_content()) return true;
  for (const auto& [key, edge] : spec.edges()) {
    const NodeSpec* child = edge->empty() ? nullptr : scenario_.find_node(*edge);
    if (child != nullptr && has_image_below(*child)) return true;
  }
  return false;
}

void ScenarioRun::notify_progress() { progress_.restart_all(); }

// The engine call of a command, returned as the engine's own task rather than
// awaited in a coroutine of its own: `buffer` and `qiov` belong to the caller's
// frame, and a request in flight keeps one runner frame, not two.
sim::Task<int> ScenarioRun::start_command(Job& job, const Command& cmd, IoBuffer& buffer,
                                          engine::IoVector& qiov) {
  engine::BdrvChild& child = *job.node->root;
  const unsigned flags = cmd.engine_flags();
  if (cmd.op == Command::Op::kAlloc || cmd.op == Command::Op::kMap) return query_command(job, cmd);
  if (cmd.op == Command::Op::kIoctl) return ioctl_command(job, cmd);
  if (cmd.op == Command::Op::kAioCancel) return cancel_command(job, cmd);
  if (cmd.op == Command::Op::kTruncate) return truncate_command(job, cmd);
  if (job.spec->sync_wrappers() && !cmd.async && (cmd.op <= Command::Op::kFlush || cmd.op == Command::Op::kMakeZero)) {
    return job.spec->from_main_loop() ? sync_command(job, cmd, buffer, qiov)
                                      : sync_command_in_coroutine(job, cmd, buffer, qiov);
  }
  if (cmd.vmstate) {
    // The coroutine behind bdrv_save_vmstate / bdrv_load_vmstate.
    prepare_buffer(cmd, buffer);
    qiov = request_vector(cmd, buffer);
    return engine::bdrv_co_rw_vmstate(*child.bs, qiov, static_cast<std::int64_t>(cmd.offset),
                                      cmd.op == Command::Op::kRead);
  }
  if (job.backend != nullptr && cmd.op <= Command::Op::kFlush) {  // alloc and map returned above
    return backend_command(*job.backend, cmd, buffer, qiov);
  }
  if (job.spec->api == JobSpec::Api::kCoSectors && !cmd.async &&
      (cmd.op == Command::Op::kRead || cmd.op == Command::Op::kWrite)) {
    // Whole sectors (the parser checked): bdrv_co_readv / bdrv_co_writev.
    prepare_buffer(cmd, buffer);
    qiov = request_vector(cmd, buffer);
    const auto sector = static_cast<std::int64_t>(cmd.offset / engine::BDRV_SECTOR_SIZE);
    const auto sectors = static_cast<int>(cmd.bytes / engine::BDRV_SECTOR_SIZE);
    return cmd.op == Command::Op::kRead ? engine::bdrv_co_readv(child, sector, sectors, qiov)
                                        : engine::bdrv_co_writev(child, sector, sectors, qiov);
  }
  switch (cmd.op) {
    case Command::Op::kWrite: {
      if (cmd.zeroes) {
        return engine::bdrv_co_pwrite_zeroes(child, static_cast<std::int64_t>(cmd.offset), static_cast<int>(cmd.bytes),
                                             flags & ~unsigned{engine::BDRV_REQ_ZERO_WRITE});
      }
      prepare_buffer(cmd, buffer);
      qiov = request_vector(cmd, buffer);
      return engine::bdrv_co_pwritev(child, static_cast<std::int64_t>(cmd.offset), cmd.bytes, &qiov, flags);
    }
    case Command::Op::kDiscard:
      return engine::bdrv_co_pdiscard(*child.bs, static_cast<std::int64_t>(cmd.offset), static_cast<int>(cmd.bytes));
    case Command::Op::kRead:
      prepare_buffer(cmd, buffer);
      qiov = request_vector(cmd, buffer);
      return engine::bdrv_co_preadv(child, static_cast<std::int64_t>(cmd.offset), cmd.bytes, qiov, flags);
    case Command::Op::kFlush:
      return engine::bdrv_co_flush(*job.node->bs);
    case Command::Op::kAlloc:
    case Command::Op::kMap:
    case Command::Op::kAioFlush:
    case Command::Op::kIoctl:
    case Command::Op::kAioCancel:
    case Command::Op::kMakeZero:
    case Command::Op::kTruncate:
    case Command::Op::kSleep:
    case Command::Op::kBreak:
    case Command::Op::kRemoveBreak:
    case Command::Op::kResume:
    case Command::Op::kWaitBreak:
      break;
  }
  return control_command(job, cmd);
}

// A device's request through its BlockBackend: blk_co_preadv, blk_co_pwritev
// (zero writes as blk_co_pwrite_zeroes: no buffer), blk_co_pdiscard, blk_co_flush.
sim::Task<int> ScenarioRun::backend_command(BlockBackend& blk, const Command& cmd, IoBuffer& buffer,
                                            engine::IoVector& qiov) {
  const auto offset = static_cast<std::int64_t>(cmd.offset);
  const unsigned flags = cmd.engine_flags();
  switch (cmd.op) {
    case Command::Op::kRead:
      prepare_buffer(cmd, buffer);
      qiov = request_vector(cmd, buffer);
      return blk.co_preadv(offset, cmd.bytes, qiov, flags);
    case Command::Op::kWrite:
      if (cmd.zeroes) return blk.co_pwritev(offset, cmd.bytes, nullptr, flags);
      prepare_buffer(cmd, buffer);
      qiov = request_vector(cmd, buffer);
      return blk.co_pwritev(offset, cmd.bytes, &qiov, flags);
    case Command::Op::kDiscard:
      return blk.co_pdiscard(offset, static_cast<int>(cmd.bytes));
    case Command::Op::kFlush:
      return blk.co_flush();
    default:
      SIM_ASSERT(false, "only reads, writes, discards and flushes go through a backend");
      return blk.co_flush();
  }
}

bool ScenarioRun::fix_on(engine::Fix fix) const {
  const auto has = [fix](const std::vector<engine::Fix>& fixes) {
    return std::find(fixes.begin(), fixes.end(), fix) != fixes.end();
  };
  return has(scenario_.fixes) || has(options_.fixes);
}

void ScenarioRun::prepare_buffer(const Command& cmd, IoBuffer& buffer) const {
  if (cmd.op != Command::Op::kRead && cmd.source_bytes != nullptr) {
    // qemu_io_alloc_from_file: the file's bytes, repeated to the length.
    const std::vector<std::uint8_t>& src = *cmd.source_bytes;
    buffer.resize(cmd.bytes);
    for (std::size_t i = 0; i < buffer.size(); ++i) buffer[i] = src[i % src.size()];
  } else if (cmd.op != Command::Op::kRead) {
    buffer.assign(cmd.bytes, cmd.pattern.value_or(kDefaultWritePattern));
  } else if (inspects_reads_) {
    buffer.assign(cmd.bytes, 0xa5);
  } else {
    buffer.resize(cmd.bytes);
  }
}

// Commands that issue no request: aio_flush (job_main waits for the job's
// requests before it), sleep, and the blkdebug breakpoint commands.
sim::Task<int> ScenarioRun::control_command(Job& job, const Command& cmd) {
  if (cmd.op == Command::Op::kAioFlush) co_return 0;
  if (cmd.op == Command::Op::kSleep) {
    co_await sim::co_sleep_ns(cmd.sleep_ms * 1'000'000, "sleep");
    co_return 0;
  }
  drivers::Breakpoints& bp = fault_below(*job.node).breakpoints();
  if (cmd.op == Command::Op::kBreak) {
    engine::BlkdebugEvent ev;
    engine::blkdebug_event_from_name(cmd.event, &ev);
    // The job that arms a breakpoint is the one expected to resume it.
    bp.add(ev, cmd.tag, world_.current_coroutine()->id());
  } else if (cmd.op == Command::Op::kWaitBreak) {
    co_await bp.wait_held(cmd.tag);
  } else if (cmd.op == Command::Op::kResume ? !bp.suspended(cmd.tag) : !bp.remove(cmd.tag)) {
    // The script's own expectation: it resumes (or removes) what it armed.
    world_.fail(sim::Verdict{sim::Verdict::Kind::kOracle,
                             sim::cat("job '", job.spec->name, "' command '", cmd.text, "' (", scenario_.path, ":",
                                      cmd.line, "): no ", cmd.op == Command::Op::kResume ? "request held" : "breakpoint",
                                      " with tag '", cmd.tag, "'"),
                             "",
                             {},
                             std::string(oracle_name(Oracle::kExpect)),
                             cmd.op == Command::Op::kResume ? "resume: no request held" : "remove_break: no breakpoint"});
  } else if (cmd.op == Command::Op::kResume) {
    bp.resume(cmd.tag);
  }
  co_return 0;
}

// One command with the oracles' bookkeeping around it. The bookkeeping lives
// in plain functions and the command's state in one struct: the coroutine's
// frame stays allocated while the command is in flight, so it holds only that.
sim::Task<void> ScenarioRun::execute(Job& job, const Command& cmd) {
  CommandState state;
  state.cmd = &cmd;
  state.job = &job;
  begin_command(state);
  const int ret = co_await start_command(job, cmd, state.data, state.qiov);
  end_command(state, ret);
}

void ScenarioRun::begin_command(CommandState& state) {
  const Command& cmd = *state.cmd;
  Job& job = *state.job;
  sim::Coroutine& self = *world_.current_coroutine();
  SIM_ASSERT(self.annotation() == nullptr, "one command at a time per coroutine");
  self.set_annotation(&state);

  state.began = ++clock_;
  state.medium_changes = medium_changes(*job.node);
  state.crashes = crashes_;
  state.resizes = resizes_[data_home(*job.node).index];
  // Copy-on-read as the engine decides it at bdrv_co_preadv: the request's
  // flag, or the node's switch unless the read must not serialise.
  state.cor_changes = cor_changes_;
  // (With the fix of cor-inactive nothing is copied while the nodes are inactive.)
  state.copies_on_read =
      cmd.op == Command::Op::kRead && !cmd.vmstate && !(inactive_ && fix_on(engine::Fix::kCorInactive)) &&
      ((cmd.request_flags & engine::BDRV_REQ_COPY_ON_READ) != 0 ||
       (copy_on_read_[job.node->index] > 0 && (cmd.request_flags & engine::BDRV_REQ_NO_SERIALISING) == 0));
  // A write past the device's end is refused by its backend: nothing can land.
  const bool within = cmd.offset <= job.checked->history.size() && cmd.bytes <= job.checked->history.size() - cmd.offset;
  if (records_writes_ && writes_data(cmd) && within && job.checked->stores) {
    state.recorded = true;
    WriteRecord w;
    // bdrv_make_zero: zeroes over the whole node, wherever it does not read as zeroes already.
    const bool whole = cmd.op == Command::Op::kMakeZero;
    w.offset = whole ? 0 : cmd.offset;
    w.bytes = whole ? job.checked->history.size() : cmd.bytes;
    w.skips_zeroes = whole;
    w.discard = cmd.op == Command::Op::kDiscard;
    // A zero write stores zeroes whether or not it carries a buffer.
    w.value = (w.discard || cmd.writes_zeroes()) ? 0 : cmd.pattern.value_or(kDefaultWritePattern);
    if (!w.discard && !cmd.writes_zeroes()) w.data = cmd.source_bytes;
    // A backend without a write cache makes every write FUA (cache=writethrough).
    w.fua = ((cmd.engine_flags() & engine::BDRV_REQ_FUA) != 0 ||
             (job.spec->backend && !job.spec->backend->write_cache && cmd.op == Command::Op::kWrite)) &&
            !flush_may_skip_disk(*job.node);
    // detect-zeroes on the way down turns a write of zeroes into a zero write.
    w.zeroes = cmd.writes_zeroes() || (w.value == 0 && cmd.op == Command::Op::kWrite && detects_zeroes(*job.node));
    w.issued = state.began;
    state.record = job.checked->history.issue(w);
  }
  // Data buffers are recycled within the job: a job never has more of them
  // out than its queue depth.
  if (!job.spare_buffers.empty()) {
    state.data = std::move(job.spare_buffers.back());
    job.spare_buffers.pop_back();
  }
}

void ScenarioRun::end_command(CommandState& state, int ret) {
  const Command& cmd = *state.cmd;
  Job& job = *state.job;
  CheckedNode& checked = *job.checked;
  world_.current_coroutine()->set_annotation(nullptr);
  // Outcomes are the job's commands' (a device callback's requests are not among them).
  const auto listed = [&] {
    const Command* first = job.commands->data();
    return std::greater_equal<const Command*>()(&cmd, first) && std::less<const Command*>()(&cmd, first + job.commands->size());
  };
  if (options_.record_outcomes && listed()) {
    const auto index = static_cast<std::size_t>(&cmd - job.commands->data());
    outcomes_.push_back(CommandOutcome{job.spec->name, index, ret < 0 ? ret : 0,
                                       cmd.op == Command::Op::kRead ? std::vector<std::uint8_t>(state.data.begin(), state.data.end())
                                                                    : std::vector<std::uint8_t>{}});
  }
  const std::uint64_t ended = ++clock_;
  // A command of several requests (bdrv_make_zero's zero writes,
  // bdrv_pwrite_sync's write and flush) that a crash came in the middle of
  // may have lost some of them: judged as a failed write, in part or not at all.
  const bool composite = cmd.op == Command::Op::kMakeZero || cmd.write_sync;
  const bool straddled = composite && crashes_ != state.crashes;
  // FUA emulated by a flush promises nothing where cache.no-flush keeps a
  // flush from the disk (at issue or now: a reopen may change it meanwhile);
  // the driver-calls oracle checks that FUA reaches drivers that take it.
  if (state.recorded && flush_may_skip_disk(*job.node)) checked.history.drop_fua(state.record);
  if (state.recorded) checked.history.complete(state.record, ended, ret >= 0 && !straddled);
  if (state.recorded && cmd.op == Command::Op::kDiscard && ret >= 0 && crashes_ == state.crashes) {
    keep_discard_if_carried_out(job, cmd, state);
  }
  // A read is judged against the history it read from. A crash drains every
  // request before it cuts, so a read that began before one read its data
  // before it too; when its command ends only after (a sync wrapper still
  // polling when the crash ran), that history has been folded into the new
  // content: such a read cannot be judged.
  // Nor can a read that a quorum served from a replica once a crash may
  // have parted the replicas (its fifo read fell back past the first child).
  if (cmd.op == Command::Op::kRead && ret >= 0 && crashes_ == state.crashes && !read_from_diverged_replica(job, state)) {
    check_read(job, cmd, state.began, state.data);
  }
  // Kept only when no copy_on_read event ran meanwhile (the model knows the
  // switch as it was when the read began), nor a crash (its copy, unflushed,
  // may be gone: the rebased model forgets what was copied before).
  if (state.copies_on_read && ret >= 0 && cor_changes_ == state.cor_changes && crashes_ == state.crashes &&
      cmd.bytes > 0) {
    checked.copied.push_back(CopiedRange{cmd.offset, cmd.bytes, state.began, ended});
  }
  if ((cmd.op == Command::Op::kAlloc || cmd.op == Command::Op::kMap) && ret >= 0) check_allocation(job, cmd, state);
  // A flush of a node without a medium or read-only returns 0 without
  // flushing (the reference's early exit): it makes nothing durable.
  const bool flushes = !subtree_ejected(*job.node) && !subtree_read_only(*job.node) && !flush_may_skip_disk(*job.node) &&
                       medium_changes(*job.node) == state.medium_changes;
  // bdrv_pwrite_sync ends with a flush of the node: what completed before the command began is durable too.
  const bool flushed = cmd.op == Command::Op::kFlush || cmd.write_sync;
  if (flushed && ret >= 0 && flush_may_skip_disk(*job.node)) checked.flushed_under_no_flush = true;
  if (flushed && ret >= 0 && flushes) {
    // bdrv_pwrite_sync flushed after its own write: durable too, unless a
    // crash came between them (the write lost, the flush after the restart).
    if (cmd.write_sync && state.recorded && crashes_ == state.crashes) checked.history.settle_durable(state.record);
    checked.flushed(state.began);
    check_flush_order(sim::cat("job '", job.spec->name, "' flush of '", job.node->spec->name, "'"), state.began,
                      {job.history});
  }
  if (state.data.capacity() > 0) job.spare_buffers.push_back(std::move(state.data));
  judge_errors(job, cmd, ret, state);
  note_growth(job, cmd, ret);
  judge_driver_calls(job, cmd, ret, state);
  check_expected_outcome(job, cmd, ret);
  ++completed_;
  ++commands_done_;
  notify_progress();
}

sim::Task<void> ScenarioRun::job_main(Job& job) {
  const JobSpec& spec = *job.spec;
  if (spec.start_ns > 0) co_await sim::co_sleep_ns(spec.start_ns, "job start");
  const std::string_view outstanding = world_.intern(sim::cat("outstanding aio of ", spec.name));
  const std::string_view free_slot = world_.intern(sim::cat("a free slot of ", spec.name));
  const std::string_view command_family = world_.intern(sim::cat(spec.name, ".cmd"));
  const std::string_view submission = world_.intern(sim::cat("guest submission of ", spec.name));
  const std::uint32_t job_label = world_.trace().intern(spec.name);
  const std::vector<Command>& commands = *job.commands;
  std::size_t index = 0;
  while (index < commands.size()) {
    const Command& cmd = commands[index];
    std::string_view quiesced_by;
    for (std::size_t i : job.node->subtree) {
      if (const Node* d = drained_over(*nodes_[i])) quiesced_by = world_.intern(sim::cat("drained section on ", d->spec->name));
    }
    if (batched(spec, cmd)) {
      // A virtqueue's worth: as many as the queue has room for, submitted by
      // one kick between bdrv_io_plug and bdrv_io_unplug, each request entered
      // at once (nothing else runs in between, as in virtio-blk's handler).
      while (job.in_flight >= spec.queue_depth) {
        co_await job.slot_free.wait(nullptr, sim::WaitInfo{"queue depth", 0, 0, free_slot, 0});
      }
      std::size_t submitted = 0;
      co_await guest_kick(job_label, submission, quiesced_by,
                          [&] { submitted = submit_batch(job, index, command_family); });
      // The device's own requests (its drained-end callback's) may have
      // filled the queue while the kick waited for a drained section to end:
      // that kick found no room, and the job waits for a slot again.
      index += submitted;
      continue;
    }
    co_await guest_kick(job_label, submission, quiesced_by);
    check_guest_entry(job, cmd);
    if (cmd.op == Command::Op::kAioFlush) {
      while (job.in_flight > 0) {
        co_await job.slot_free.wait(nullptr, sim::WaitInfo{"aio_flush", 0, 0, outstanding, 0});
      }
      // A command too, though no request: after_requests counts it.
      ++commands_done_;
      notify_progress();
    } else if (cmd.async) {
      while (job.in_flight >= spec.queue_depth) {
        co_await job.slot_free.wait(nullptr, sim::WaitInfo{"queue depth", 0, 0, free_slot, 0});
      }
      issue_aio(job, cmd, index, command_family);
    } else {
      co_await execute(job, cmd);
    }
    ++index;
  }
  while (job.in_flight > 0) {
    co_await job.slot_free.wait(nullptr, sim::WaitInfo{"job end", 0, 0, outstanding, 0});
  }
  job.finished = true;
  notify_progress();
}

// The oracle's baseline: what each checked node holds before any job runs.
// Fresh nodes read as zeroes; only nodes over an initial image are read, as the
// read takes virtual time and latency draws.
void ScenarioRun::read_initial_content() {
  world_.trace().mute(true);
  // The harness's reads, not the guest's: no memory limit, and no fault rule
  // answers them or counts them (a rule's `after` and `every` are the guest's).
  prepare_for_checks(true);
  for (auto& [index, checked] : checked_) {
    if (!world_.verdict().ok()) break;
    if (!has_image_below(*nodes_[index]->spec)) continue;
    IoBuffer content(checked.history.size());  // aligned as a guest's buffer: the heap's placement must not matter
    const int ret = engine::bdrv_pread(*nodes_[index]->root, 0, content.data(), static_cast<int>(content.size()));
    if (ret < 0) {
      world_.record_failure(sim::Verdict{sim::Verdict::Kind::kOracle,
                                         sim::cat("reading the initial content of node '", nodes_[index]->spec->name,
                                                  "' failed with ", engine::errno_name(ret)),
                                         "",
                                         {}});
    }
    checked.history.set_initial(std::vector<std::uint8_t>(content.begin(), content.end()));
  }
  prepare_for_checks(false);
  world_.trace().mute(false);
}

RunResult ScenarioRun::run() {
  const std::uint64_t frames_before = sim::FramePool::live_frames();
  if (options_.trace_stream != nullptr) world_.trace().stream_to(options_.trace_stream);
  for (const auto& observer : options_.observers) world_.trace().add_observer(observer);
  world_.trace().log_fingerprints(kCheckpointEvents, kMaxDigestEvents);
  in_flight_.set_chained_below([this](std::uint32_t upper, std::uint32_t lower) { return chained_below(upper, lower); });
  world_.trace().add_observer([this](const sim::Trace&, const sim::TraceEvent& e) { observe(e); },
                              sim::Trace::kind_bit(sim::EventKind::kDriverIssue) |
                                  sim::Trace::kind_bit(sim::EventKind::kDriverComplete) |
                                  sim::Trace::kind_bit(sim::EventKind::kFaultFired) |
                                  (checking(Oracle::kSerialisation) || checking(Oracle::kDrain) ? InFlightModel::kinds()
                                                                                                 : 0u));
  try {
    build();
    read_initial_content();
  } catch (const sim::RunAborted&) {
    // Setting up polls too (a format creating its image): a failure there is
    // the run's verdict, already recorded, and nothing else runs.
  }
  if (world_.verdict().ok()) {
    for (auto& job : jobs_) {
      world_.spawn(job->node->bs->aio_context(), job->spec->name, job_main(*job));
    }
    for (const EventSpec& event : scenario_.events) {
      world_.spawn(world_.main_context(), sim::cat("event ", event.name), event_main(event));
    }
    world_.run();
  }
  run_over_ = true;
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
  r.crashes = crashes_;
  r.checkpoints = world_.trace().checkpoints();
  r.digests = world_.trace().digests();
  r.max_poll_depth = world_.max_poll_depth();
  const std::vector<std::uint64_t> hits = world_.probe_hits();  // a copy: the checks below add to the world's
  for (std::size_t i = 0; i < hits.size(); ++i) {
    if (hits[i] != 0) r.probes[std::string(sim::Probe::all()[i]->name())] = hits[i];
  }
  r.outcomes = std::move(outcomes_);

  if (ran_clean) {
    world_.trace().mute(true);
    prepare_for_checks(true);
    // The checks read through the engine, which polls: a failure inside
    // those reads (an invariant a driver checks) ends them with the verdict
    // recorded, as inside the run.
    try {
      check_hygiene(frames_before);
      if (world_.verdict().ok() && checking(Oracle::kDrain)) check_drains_ended();
      if (world_.verdict().ok() && checking(Oracle::kDirtyBitmaps)) check_dirty_bitmaps();
      if (world_.verdict().ok()) check_final_images();
      if (world_.verdict().ok() && checking(Oracle::kData)) check_backups();
    } catch (const sim::RunAborted&) {
      SIM_ASSERT(!world_.verdict().ok(), "a check after the run aborted without a verdict");
    }
    const std::vector<std::uint64_t>& after = world_.probe_hits();
    for (std::size_t i = 0; i < after.size(); ++i) {
      const std::uint64_t before = i < hits.size() ? hits[i] : 0;
      if (after[i] > before) r.probes_in_checks[std::string(sim::Probe::all()[i]->name())] = after[i] - before;
    }
    world_.destroy_coroutines();
  }
  r.verdict = world_.verdict();
  if (!options_.export_dir.empty()) {
    for (const auto& node : nodes_) {
      if (node == nullptr || node->mem == nullptr) continue;  // (a failed setup leaves nodes unbuilt)
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

RunResult run_scenario(const Scenario& scenario, const RunOptions& options) {
  engine::clear_mutants();
  engine::clear_fixes();
  for (engine::Mutant m : options.mutants) engine::set_mutant(m, true);
  for (engine::Fix f : scenario.fixes) engine::set_fix(f, true);
  for (engine::Fix f : options.fixes) engine::set_fix(f, true);
  RunResult result;
  {
    ScenarioRun run(scenario, options);
    result = run.run();
  }
  engine::clear_mutants();
  engine::clear_fixes();
  if (!result.verdict.ok()) {
    std::vector<engine::Fix> on = scenario.fixes;
    on.insert(on.end(), options.fixes.begin(), options.fixes.end());
    std::map<std::string, std::uint64_t> met = result.probes;
    met.insert(result.probes_in_checks.begin(), result.probes_in_checks.end());
    if (const KnownDefect* d = known_defect_for(sim::failure_signature(result.verdict), on, met)) {
      result.known_defect = std::string(d->name);
    }
  }
  return result;
}

}  // namespace scenarios
