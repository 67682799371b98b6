// One run of a scenario (internal to the runner): the world, the node graph,
// the jobs and events that drive it, and the oracles' bookkeeping.
//   runner.cc      building the graph, jobs and commands, the run itself
//   run_events.cc  scenario events (drain, crash, flush_all, ...)
//   run_checks.cc  the oracles
//   run_callbacks.cc  devices' scripted drain callbacks
#pragma once

#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "drivers/cow_format.h"
#include "drivers/fault_driver.h"
#include "drivers/mem_driver.h"
#include "drivers/quorum_filter.h"
#include "engine/block_driver_state.h"
#include "engine/block_job.h"
#include "engine/drain.h"
#include "scenarios/io_buffer.h"
#include "scenarios/error_table.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"
#include "scenarios/in_flight_model.h"
#include "scenarios/write_history.h"
#include "sim/co_queue.h"
#include "sim/world.h"

namespace scenarios {

struct Node {
  std::size_t index = 0;
  const NodeSpec* spec = nullptr;
  std::unique_ptr<engine::BlockDriver> driver;
  drivers::MemDriver* mem = nullptr;
  drivers::CowFormat* cow = nullptr;
  drivers::FaultDriver* fault = nullptr;
  std::unique_ptr<engine::BlockDriverState> bs;
  std::unique_ptr<engine::BdrvChild> root;  // the jobs' way in, as a BlockBackend's root child
  std::vector<std::size_t> subtree;         // this node and every node below it (file, backing)
  bool deleted = false;                     // a blockdev_del event closed it: no driver, no children
};

// A node jobs write to: what it may hold, and up to when it is known durable.
// A read that copied on read: [offset, +bytes) holds data in the node from
// when it completed (the allocation oracle's model).
struct CopiedRange {
  std::uint64_t offset = 0;
  std::uint64_t bytes = 0;
  std::uint64_t issued = 0;
  std::uint64_t completed = 0;
};

struct CheckedNode {
  WriteHistory history;
  std::uint64_t durable_cutoff = 0;  // clock at the start of the last successful flush of it
  // Rebased after a crash that left running a disk of it whose cache held
  // writes: the content it was rebased on holds them, so what a later
  // crash keeps of it is not judged until a flush that began after the crash
  // succeeds (`rebased_at`: the clock then).
  bool volatile_base = false;
  std::uint64_t rebased_at = 0;
  // A flush of it that began at `began` succeeded.
  void flushed(std::uint64_t began) {
    durable_cutoff = std::max(durable_cutoff, began);
    if (volatile_base && began >= rebased_at) volatile_base = false;
  }
  // A null node stores nothing: writes are not recorded (it stays zeroes), and
  // what it reads is judged only where it reads zeroes (read_zeroes).
  bool stores = true;
  bool content_known = true;
  // A crash hit it or one of its quorum replicas: they may differ from then on
  // (unflushed writes survive on some), so the replicas' final images are
  // not compared with its history.
  bool replicas_diverged = false;
  std::vector<CopiedRange> copied;   // reads that copied on read, since the start
  // A flush succeeded while cache.no-flush kept it from the disk: failures to
  // keep flushed data then name it (known defect no-flush-gen).
  bool flushed_under_no_flush = false;
};

struct Job {
  const JobSpec* spec = nullptr;
  Node* node = nullptr;
  std::unique_ptr<BlockBackend> backend;  // with `backend = {...}`: the job's way in
  std::size_t history = 0;  // index of data_home(*node): the key of its write history
  CheckedNode* checked = nullptr;  // checked_[history]
  std::vector<Command> generated;  // a random workload's commands for this seed
  const std::vector<Command>* commands = nullptr;
  std::uint32_t in_flight = 0;
  bool finished = false;
  sim::CoQueue slot_free;  // woken as aio requests complete
  // The control block of each aio command issued so far, in order (as
  // blk_aio_prwv returns them); nullptr once its completion ran.
  std::vector<engine::BlockAIOCB*> aio;
  ~Job();
  std::vector<IoBuffer> spare_buffers;  // data buffers of finished commands, for reuse
};

// A command while it runs (its coroutine's annotation): its buffers, its place
// in the write history, and the driver errors seen in its coroutine.
// One answer of an allocation query: [offset, offset + bytes) is allocated or not.
struct AllocationAnswer {
  std::uint64_t offset = 0;
  std::uint64_t bytes = 0;
  bool allocated = false;
};

// An error a driver returned to a command (or an allocation that failed), as
// the trace showed it: the errno, the driver operation and the node.
struct DriverError {
  int error = 0;
  std::uint32_t op = 0;    // trace label of the driver operation
  std::uint32_t node = 0;  // trace label of the node
  // It came back up as -ENOTSUP from a driver's zero write above it (a
  // filter's, which asks its child to write zeroes), and that zero write's
  // layer fell back to writing a zeroed buffer, whatever the error below was.
  bool fallen_back_above = false;
};

// A driver call a command made, as the trace showed it (driver_issue).
struct DriverCall {
  std::uint32_t op = 0;    // trace label of the driver operation
  std::uint32_t node = 0;  // trace label of the node
  std::uint64_t offset = 0;
  std::uint64_t bytes = 0;
  unsigned flags = 0;      // request flags the driver was given
};

struct CommandState {
  const Command* cmd = nullptr;
  Job* job = nullptr;
  std::uint64_t began = 0;  // logical clock at issue
  std::size_t record = 0;   // its write record, for commands that write data
  bool recorded = false;    // whether it has one (a backend refuses writes past the end unrecorded)
  IoBuffer data;
  engine::IoVector qiov;
  std::vector<DriverError> driver_errors;
  std::vector<DriverCall> driver_calls;  // driver-calls oracle
  std::vector<AllocationAnswer> answers;  // alloc and map
  // The range alloc or map asked about, as it began (map's end is the
  // node's length then: a truncate may change it while the map runs).
  std::uint64_t asked_begin = 0;
  std::uint64_t asked_end = 0;
  std::uint64_t medium_changes = 0;       // the job's subtree's medium changes when it began
  std::uint64_t cor_changes = 0;          // copy_on_read events so far when it began
  bool copies_on_read = false;            // the model: this read copies on read
  std::uint64_t crashes = 0;              // crash events so far when it began
  std::uint64_t resizes = 0;              // truncates that resized the job's data home when it began
};

// A dirty bitmap a scenario created, and the spans of the logical clock while
// it was enabled ([from, to), `to` kNeverSettles while still enabled).
// A backup event's job: its source and target, the clusters copied, the copies
// in flight (each a byte range), and when it started on the logical clock.
struct BackupJob {
  const EventSpec* spec = nullptr;
  Node* source = nullptr;
  Node* target = nullptr;
  // The job's BlockBackends (block_job_create's on the source, whose device
  // drain callbacks pause and resume the job; backup's own on the target) and
  // the engine's job, which drain_all pauses too.
  std::unique_ptr<engine::BlockJob> block_job;
  std::unique_ptr<BlockBackend> source_blk;
  std::unique_ptr<BlockBackend> target_blk;
  std::uint64_t length = 0;
  std::vector<bool> done;  // backup's done_bitmap, a bit per cluster
  struct Copy {
    std::uint64_t begin = 0, end = 0;
    sim::CoroutineId owner = 0;  // who copies it: the holder of a wait for it
  };
  std::list<Copy> copying;
  sim::CoQueue copy_done;
  std::uint64_t started = 0;
  std::uint64_t crashes = 0;  // crash events before it started
  std::uint64_t failed_copies = 0;
};

struct BitmapWatch {
  std::string name;
  std::size_t node = 0;
  engine::BdrvDirtyBitmap* bitmap = nullptr;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> enabled;
};

// What the scenario's events did to a node's medium: ejected (the driver gone,
// -ENOMEDIUM), read-only (writes -EPERM), and how often either changed.
struct MediumState {
  bool ejected = false;
  bool read_only = false;
  std::uint64_t changes = 0;
};

// qemu-io fills a write without -P with 0xcd.
inline constexpr std::uint8_t kDefaultWritePattern = 0xcd;

// The caller's vector: one buffer, or readv/writev's one per length, all cut
// from `buffer` in order.
engine::IoVector request_vector(const Command& cmd, IoBuffer& buffer);

// "job 'J' command 'C' (file:line)", for reports.
std::string command_where(const Scenario& s, const Job& job, const Command& cmd);

// A command's verb and flags without its numbers ("aio_write -f"), for signatures.
std::string command_verb(const Command& cmd);
// "ok" or the errno's name.
std::string expect_name(int ret);
// "read: stale (expected write -f)": where the wrong content was seen, what
// kind of wrong it is, and the kind of write that should have been there.
std::string content_shape(std::string_view seen_in, const Diagnosis& d);

class ScenarioRun {
 public:
  ScenarioRun(const Scenario& scenario, const RunOptions& options);
  ~ScenarioRun();
  ScenarioRun(const ScenarioRun&) = delete;
  ScenarioRun& operator=(const ScenarioRun&) = delete;

  RunResult run();

 private:
  static sim::WorldConfig make_config(const Scenario& s, const RunOptions& o);

  // runner.cc
  void build();
  sim::AioContext& context_for(const NodeSpec& spec);
  sim::Task<void> job_main(Job& job);
  sim::Task<void> execute(Job& job, const Command& cmd);
  void begin_command(CommandState& state);
  void end_command(CommandState& state, int ret);
  sim::Task<int> start_command(Job& job, const Command& cmd, IoBuffer& buffer, engine::IoVector& qiov);
  sim::Task<int> control_command(Job& job, const Command& cmd);
  // ioctl / aio_ioctl, aio_cancel (run_aio.cc).
  sim::Task<int> ioctl_command(Job& job, const Command& cmd);
  sim::Task<int> cancel_command(Job& job, const Command& cmd);
  // What an ioctl of the job must answer, from the graph (0 or -errno).
  int ioctl_answer(const Job& job) const;
  // Issues an aio command as blk_aio_prwv does: a control block, the request
  // in a coroutine of its own, the completion dropping the block.
  // `enter`: the request runs at once up to its first yield (a batch's
  // requests, from the kick's callback); else it is scheduled.
  void issue_aio(Job& job, const Command& cmd, std::size_t index, std::string_view family, bool enter = false);
  // A plugged job's aio commands from `first` on, as many as are batched and
  // fit the queue, between bdrv_io_plug and bdrv_io_unplug: how many it issued.
  std::size_t submit_batch(Job& job, std::size_t first, std::string_view family);
  // Whether the job submits `cmd` in a plugged batch.
  static bool batched(const JobSpec& spec, const Command& cmd);
  // run_sync.cc: synchronous commands of jobs whose api is a sync wrapper.
  sim::Task<int> sync_command(Job& job, const Command& cmd, IoBuffer& buffer, engine::IoVector& qiov);
  int call_sync_wrapper(Job& job, const Command& cmd, IoBuffer& buffer, engine::IoVector& qiov);
  sim::Task<int> sync_command_in_coroutine(Job& job, const Command& cmd, IoBuffer& buffer,
                                           engine::IoVector& qiov);
  // A read's buffer (poisoned when reads are inspected, so bytes the engine
  // failed to fill cannot pass for data) or a write's (its pattern).
  void prepare_buffer(const Command& cmd, IoBuffer& buffer) const;
  sim::Task<int> backend_command(BlockBackend& blk, const Command& cmd, IoBuffer& buffer,
                                 engine::IoVector& qiov);
  Node& node_named(std::string_view name);
  const Node& node_named_const(std::string_view name) const;
  // truncate (run_truncate.cc): the command, the answer the graph gives, and
  // the model's update with the parents oracle's judgement.
  sim::Task<int> truncate_command(Job& job, const Command& cmd);
  void block_resize(const EventSpec& e);
  // bdrv_set_backing_hd of `node` (optionally inside a drained section of it).
  void change_backing(Node& node, const std::string& backing, bool drained, const std::string& what);
  int truncate_answer(const Node& target, bool through_backend, std::uint64_t length) const;
  std::vector<std::uint64_t> resize_callbacks() const;
  void resized(const Node& target, bool through_backend, std::uint64_t length, int ret,
               const std::vector<std::uint64_t>& told, const std::string& where);
  const Node& node_of(const engine::BlockDriverState& bs) const;
  // The run has the later fix `fix` (from the scenario or the command line):
  // the model follows what the fixed engine promises.
  bool fix_on(engine::Fix fix) const;
  drivers::FaultDriver& fault_below(Node& node);
  bool has_image_below(const NodeSpec& spec) const;
  void read_initial_content();
  void notify_progress();

  // run_events.cc
  sim::Task<void> event_main(const EventSpec& event);
  sim::Task<void> wait_trigger(const EventSpec& event);
  // power_loss: the crash itself, which does not wait for a crash in progress.
  sim::Task<void> in_main_loop(std::string_view what, absl::AnyInvocable<void()> fn, bool power_loss = false);
  sim::Task<void> drained_section(const EventSpec& event);
  void crash(const EventSpec& event);
  void set_backing(const EventSpec& event);
  void blockdev_del(const EventSpec& event);
  void replace_node(const EventSpec& event);
  // Node::subtree again from the engine's graph, after a graph change.
  void recompute_subtrees();
  void mark_drained(const std::vector<std::size_t>& nodes, int delta);
  // A node with an open drained section whose subtree holds `node`, or nullptr.
  const Node* drained_over(const Node& node) const;

  // run_callbacks.cc: devices' scripted drain callbacks (scriptable parents).
  void device_drain_callback(Job& job, bool begin);
  void submit_callback_request(Job& job, const Command& cmd);
  sim::Task<void> callback_request(Job& job, const Command& cmd);

  // run_checks.cc
  bool checking(Oracle o) const { return scenario_.oracles.has(o); }
  // `shape` identifies the failure in its signature (sim::Verdict::shape).
  void violation(Oracle o, std::string shape, std::string message, std::vector<std::string> details = {});
  void observe(const sim::TraceEvent& e);
  void check_read(const Job& job, const Command& cmd, std::uint64_t began, absl::Span<const std::uint8_t> data);
  void check_expected_outcome(const Job& job, const Command& cmd, int ret);
  void judge_errors(const Job& job, const Command& cmd, int ret, const CommandState& state);
  void observe_driver_ops(const sim::TraceEvent& e);
  void judge_driver_calls(const Job& job, const Command& cmd, int ret, const CommandState& state);
  // A write that succeeded past its node's end grew the node and the filters
  // below it that pass it on 1:1 (raw, fault, top).
  void note_growth(const Job& job, const Command& cmd, int ret);
  void keep_discard_if_carried_out(const Job& job, const Command& cmd, const CommandState& state);
  // Where a driver error of a job's command was made, for the error table.
  ErrorSite error_site(const Job& job, std::uint32_t node_label) const;
  // run_events.cc: the medium events and what they mean for the oracles.
  void change_medium(const EventSpec& e);
  std::uint64_t medium_changes(const Node& node) const;
  bool subtree_ejected(const Node& node) const;
  bool subtree_read_only(const Node& node) const;
  // A job still running reads with per-request copy-on-read through `node`'s
  // data path: it holds write permission there (see run_events.cc).
  bool copy_on_read_writer_over(const Node& node) const;
  // A flush of `node` may leave its data volatile because of cache.no-flush
  // below it (the model then counts it as making nothing durable).
  bool flush_may_skip_disk(const Node& node) const;
  // A node at or below `node` has detect-zeroes on.
  bool detects_zeroes(const Node& node) const;
  void reopen(const EventSpec& event);
  // Migration's hand-over: stop (drain and flush all), bdrv_inactivate_all;
  // and back: bdrv_invalidate_cache_all.
  void inactivate_all(const EventSpec& event);
  void flush_all(const EventSpec& event);
  // The member that carries out an action run in a main-loop bottom half.
  using MainLoopAction = void (ScenarioRun::*)(const EventSpec&);
  static MainLoopAction main_loop_action(EventSpec::Action action);
  void activate_all(const EventSpec& event);
  // For the checks that read whole nodes (true) and back (false): every
  // ejected medium put back, and copy-on-read off (the oracles' reads are not
  // a guest's: they must change nothing, nor fail to allocate a bounce buffer).
  void prepare_for_checks(bool in);
  std::vector<int> copy_on_read_saved_;  // the nodes' copy_on_read counts while checks read
  void dirty_bitmap_event(const EventSpec& e);
  // backup events (run_backup.cc).
  sim::Task<void> backup_event(const EventSpec& e);
  void create_backup_job(BackupJob& job, Node& source, const EventSpec& e);
  sim::Task<void> backup_run(BackupJob& job);  // the job's coroutine: the background copy
  sim::Task<int> backup_do_cow(BackupJob& job, std::uint64_t offset, std::uint64_t bytes, bool is_write_notifier);
  void check_backups();
  void check_dirty_bitmaps();
  // run_queries.cc: qemu-io's alloc and map, and the allocation oracle.
  sim::Task<int> query_command(Job& job, const Command& cmd);
  void check_allocation(const Job& job, const Command& cmd, const CommandState& state);
  // At the end of a run every drained section has ended: the backends' drain
  // callbacks balanced, no node's quiesce counter raised, no AioContext's
  // external events disabled.
  void check_drains_ended();
  void check_flush_order(std::string_view what, std::uint64_t began, const std::vector<std::size_t>& covered);
  // The node whose bytes `node` shows 1:1: follow raw and fault nodes down
  // their file. Jobs on any node of such a chain share one write history.
  const Node& data_home(const Node& node) const;
  // The child a filter passes requests to, as the graph is now.
  const Node& data_child(const Node& filter) const;
  // The checked node `home` first, then the data homes of the other children
  // of every quorum whose first child stores its data there: each holds the
  // same image.
  std::vector<std::size_t> with_replicas(std::size_t home) const;
  // The command read from a quorum replica of its data home (a driver read
  // there) after a crash may have made the replicas differ.
  bool read_from_diverged_replica(const Job& job, const CommandState& state) const;
  // data_home() when it is a mem node (its medium can be read directly).
  const Node* identity_mem(const Node& node) const;
  // The serialisation oracle's question (InFlightModel::ChainedBelow), by trace labels.
  bool chained_below(std::uint32_t upper, std::uint32_t lower) const;
  void check_drained(std::string_view what, const std::vector<std::size_t>& nodes);
  void check_guest_entry(const Job& job, const Command& cmd);
  // Actions of the main loop wait while a crash is being done and judged,
  // and a crash waits for the main loop's actions in progress (run_events.cc).
  sim::Task<void> after_power_loss();
  sim::Task<void> before_power_loss();
  void wake_power_loss_waiters();
  // Monitor commands (graph changes, media, flush_all, reopen, ...) one at a
  // time, never nested in each other's polls.
  sim::Task<void> monitor_turn();
  void end_monitor_turn();
  void insert_medium(Node& node);  // an ejected medium back, with its limits
  void pause_faults(bool paused);  // the harness's own reads: no fault rule answers them
  bool monitor_busy_ = false;
  std::vector<sim::Coroutine*> monitor_waiters_;
  // drain_all sections from their begin to their end's return: the reference
  // forbids creating block jobs inside one, so a backup waits them out.
  int drain_all_open_ = 0;
  // replace_node events that moved the data: a command in flight across one
  // wrote the old node, and the copy carried it (driver-calls oracle).
  struct Replacement {
    std::uint32_t from_label = 0;
    const Node* to = nullptr;
    std::uint64_t at = 0;  // logical clock
  };
  std::vector<Replacement> replacements_;
  sim::CoQueue drain_all_closed_;
  bool crashing_ = false;
  int main_loop_actions_ = 0;
  std::vector<sim::Coroutine*> power_loss_waiters_;
  void check_durability(const std::vector<bool>& crashed);
  bool checks_in_progress_ = false;  // between prepare_for_checks(true) and (false)
  void check_power_cut(const EventSpec& event);
  void check_final_images();
  void check_hygiene(std::uint64_t frames_before);

  const Scenario& scenario_;
  const RunOptions& options_;
  std::vector<CommandOutcome> outcomes_;
  sim::World world_;
  std::map<std::string, sim::AioContext*> iothreads_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Job>> jobs_;
  std::map<std::size_t, CheckedNode> checked_;  // by node index
  std::vector<int> drained_;                        // by node index: scenario drained sections open on it
  std::vector<MediumState> media_;                  // by node index: eject, insert, read_only events
  std::deque<BackupJob> backups_;                   // backup events that started (stable addresses)
  std::vector<BitmapWatch> bitmaps_;                // dirty_bitmap events, in creation order
  std::vector<int> copy_on_read_;                   // by node index: copy_on_read events' count
  std::vector<int> copy_on_read_refused_;           // by node index: enables refused (read-only node)
  std::vector<bool> no_flush_;                      // by node index: cache.no-flush, as opened or reopened
  bool inactive_ = false;                           // between inactivate and activate events
  // By node: the length a write past its end grew it to (bdrv_aligned_pwritev
  // raises total_sectors to the write's end sector), and when; 0: never.
  std::vector<std::uint64_t> grown_;
  std::vector<std::uint64_t> grown_at_;
  std::vector<std::uint64_t> resizes_;              // by node: truncates that resized it
  std::uint64_t cor_changes_ = 0;                   // copy_on_read events so far
  std::uint64_t clock_ = 0;                         // logical clock of issues, completions and flushes
  std::uint64_t completed_ = 0;                     // commands completed that issued a request (or ran a control command)
  std::uint64_t commands_done_ = 0;                 // every command completed, aio_flush too: after_requests counts these
  std::uint64_t crashes_ = 0;
  std::uint64_t power_cuts_ = 0;
  int callback_depth_ = 0;  // device drain callbacks running, nested
  bool run_over_ = false;  // the world has stopped: oracles record, not abort
  sim::CoQueue progress_;  // woken when a command completes or a job ends (event triggers)
  InFlightModel in_flight_;  // the oracles' own model of what is in flight (serialisation, drain)
  // Driver operations in progress, by coroutine, innermost last: whether one
  // made below them failed (their own error is then that one carried up).
  struct OpenDriverOp {
    std::uint64_t op_id = 0;
    bool below_failed = false;
    std::size_t errors_before = 0;  // the command's driver errors when it was issued
  };
  std::unordered_map<std::uint64_t, std::vector<OpenDriverOp>> open_driver_ops_;
  // Read buffers are poisoned first when an oracle or the caller looks at them.
  // bdrv_drain's quiescent point: check_drained of the node's subtree, named
  // drain_what_ when a device callback drains ("" for an event's drain).
  std::string drain_what_;
  engine::DrainProbeGuard drain_probe_;
  const bool inspects_reads_;
  // The write history is kept when an oracle reads it (data, durability, flush order).
  const bool records_writes_;
};

}  // namespace scenarios
