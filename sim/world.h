// World: the whole simulated machine. One virtual clock, the scheduler, the RNG
// streams, the trace, every event loop and every coroutine.
//
// Single-threaded, no wall clock: a run is a pure function of its configuration
// (seed, strategy, tape) and the program driving it. Exactly one World is alive at
// a time; engine code reaches it through World::current(), as QEMU code reaches
// its globals (qemu_coroutine_self, qemu_get_aio_context, ...).
#pragma once

#include <coroutine>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <absl/functional/any_invocable.h>
#include <absl/functional/function_ref.h>

#include "sim/aio_context.h"
#include "sim/coroutine.h"
#include "sim/rng.h"
#include "sim/scheduler.h"
#include "sim/task.h"
#include "sim/trace.h"
#include "sim/verdict.h"

namespace sim {

struct WorldConfig {
  std::uint64_t seed = 0;
  StrategySpec strategy;
  ChoiceTape tape;  // used by the replay strategy
  std::uint64_t step_budget = 50'000'000;
  std::uint64_t time_budget_ns = 3'600'000'000'000ULL;  // one virtual hour
  std::uint64_t pct_expected_steps = kDefaultPctExpectedSteps;
  std::size_t trace_ring = Trace::kDefaultRingCapacity;
  bool trace_all = false;
  // Polled once kWatchdogEvents trace events have been recorded since the last
  // poll, at the next dispatch or I/O issue; a non-empty answer ends the run
  // with a wall-budget verdict carrying it. The only way real time may
  // reach a run, and only to end it: a run the watchdog leaves alone is
  // unchanged by it.
  std::function<std::string()> watchdog;
  // The largest single buffer the engine may allocate: above it
  // qemu_try_blockalign fails (as qemu_try_memalign does on a host short of
  // memory) and qemu_blockalign aborts. 0: no limit.
  std::uint64_t alloc_limit_bytes = 0;
};

inline constexpr std::uint64_t kWatchdogEvents = 4096;

class World {
 public:
  explicit World(WorldConfig config = {});
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // The live world. Asserts that there is one.
  static World& current();
  static bool exists();

  const WorldConfig& config() const { return config_; }
  // The harness lifts the allocation limit while it reads nodes for its own
  // checks (a direct-I/O driver bounces through qemu_try_blockalign), and
  // restores it after.
  void set_alloc_limit(std::uint64_t bytes) { config_.alloc_limit_bytes = bytes; }
  std::uint64_t now_ns() const { return now_ns_; }
  Trace& trace() { return trace_; }
  Rng& rng(std::string_view stream) { return rng_.stream(stream); }
  std::uint64_t next_object_id() { return ++last_object_id_; }
  // A view of `text` that lives as long as the World (for WaitInfo and labels).
  std::string_view intern(std::string_view text) { return trace_.text(trace_.intern(text)); }

  // --- event loops ---
  AioContext& main_context() { return *contexts_.front(); }
  // A new event loop; with `own_thread` it belongs to a new IOThread.
  AioContext& new_context(std::string name, bool own_thread = true);
  const std::vector<std::unique_ptr<AioContext>>& contexts() const { return contexts_; }
  // The context whose event is being dispatched (main context outside any).
  AioContext& current_context();

  // --- coroutines ---
  // Create a coroutine in `ctx` and schedule its first resume there.
  Coroutine& spawn(AioContext& ctx, std::string name, Task<void> body, absl::AnyInvocable<void()> on_done = {});
  // One of a numbered family ("job.cmd" 17 is "job.cmd17"): the trace records
  // the family once and the number per coroutine, so a run of a million
  // requests does not intern a million names.
  Coroutine& spawn_numbered(AioContext& ctx, std::string_view family, std::uint64_t number, Task<void> body,
                            absl::AnyInvocable<void()> on_done = {});
  // aio_co_enter of a new coroutine of a numbered family: from a callback of
  // `ctx`'s own loop (outside any coroutine) it runs at once, up to its first
  // yield, before the caller goes on, as blk_aio_prwv enters its request;
  // elsewhere it is scheduled as spawn_numbered does. It may have finished
  // (and be gone) when this returns: nothing to hold on to.
  void enter_numbered(AioContext& ctx, std::string_view family, std::uint64_t number, Task<void> body,
                      absl::AnyInvocable<void()> on_done = {});
  Coroutine* current_coroutine() const { return current_; }
  bool in_coroutine() const { return current_ != nullptr; }
  // While a SpawnAnnotation lives, every coroutine spawned outside any
  // coroutine by its own caller starts with its annotation: a sync wrapper's
  // request coroutines (pwrite_sync's write and flush, make_zero's queries and
  // zero writes) are its command's, so observers can attribute their events.
  // Callbacks dispatched meanwhile (a nested poll's bottom halves and timers)
  // spawn without it: what they start is not the caller's.
  class SpawnAnnotation {
   public:
    SpawnAnnotation(World& world, void* annotation)
        : slot_(world.spawn_annotation_), saved_(std::exchange(world.spawn_annotation_, annotation)) {}
    ~SpawnAnnotation() { slot_ = saved_; }
    SpawnAnnotation(const SpawnAnnotation&) = delete;
    SpawnAnnotation& operator=(const SpawnAnnotation&) = delete;

   private:
    void*& slot_;
    void* saved_;
  };
  // aio_co_wake: from inside a coroutine or from another context the wake-up is
  // queued as a ready event; from a callback of the coroutine's own context it
  // enters the coroutine at once, as QEMU does.
  void wake(Coroutine& co);
  // aio_co_schedule: resume `co` from `ctx`'s loop (it moves to `ctx`).
  void schedule(AioContext& ctx, Coroutine& co);

  // Awaitable that blocks the current coroutine until someone wakes it. A non-empty
  // reason records a wait (trace wait_begin / wait_end, deadlock report, wait graph).
  struct SuspendAwaiter {
    World* world;
    WaitInfo info;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { world->block_current(h, info); }
    void await_resume() { world->unblock_current(); }
  };
  SuspendAwaiter suspend(WaitInfo info) { return SuspendAwaiter{this, std::move(info)}; }
  // The primitive under every blocking awaitable: record the resume point and the
  // wait, and (on resume) close the wait.
  void block_current(std::coroutine_handle<> h, const WaitInfo& info);
  void unblock_current();

  // --- polling ---
  // aio_poll: dispatch ready events until one of `ctx` itself has run (events of
  // idle other threads run meanwhile, as those threads would). With `blocking`,
  // advances virtual time to the next timer while nothing is ready, and waits
  // until `ctx` makes progress (a deadlock verdict if it never can); without, it
  // returns once nothing is ready. Re-entrant; calling it from a coroutine is a
  // bug. Returns whether `ctx` made progress.
  //
  // `waiting_while` is what the caller polls for (BDRV_POLL_WHILE's
  // condition). While it holds, the calling thread is idle in this poll, as a
  // real thread blocked in ppoll is: when another thread's nested poll higher
  // up the native stack waits for it, that poll runs `ctx`'s events for it (a
  // real thread would run them concurrently), and this poll returns, as
  // aio_poll does after progress, once the stack unwinds to it. Without it the
  // calling thread counts as busy until the poll returns.
  bool poll(AioContext& ctx, bool blocking, std::optional<absl::FunctionRef<bool()>> waiting_while = std::nullopt);
  // BDRV_POLL_WHILE: poll `ctx` until `cond()` is false. Returns whether it waited.
  template <typename Cond>
  bool poll_while(AioContext& ctx, Cond&& cond) {
    bool waited = false;
    while (cond()) {
      poll(ctx, true, absl::FunctionRef<bool()>(cond));
      waited = true;
    }
    return waited;
  }
  int poll_depth() const { return poll_depth_; }
  int max_poll_depth() const { return max_poll_depth_; }
  // Code probes (sim/probe.h): hits of this run, by probe index.
  void probe_hit(std::uint32_t index) {
    if (index >= probe_hits_.size()) probe_hits_.resize(index + 1, 0);
    ++probe_hits_[index];
  }
  const std::vector<std::uint64_t>& probe_hits() const { return probe_hits_; }

  // Run every context until nothing is ready and no timer is armed, or a verdict
  // ends the run. Never throws for a failed run: read verdict().
  void run();
  // Like run(), but stops early (with a passing verdict so far) once `done()` holds.
  void run_until(absl::AnyInvocable<bool()> done);

  // --- results ---
  const Verdict& verdict() const { return verdict_; }
  bool aborted() const { return !verdict_.ok(); }
  // Record a failing verdict (the first one wins) and unwind the run.
  [[noreturn]] void fail(Verdict verdict);
  // Record a failing verdict without unwinding (for checks after the run).
  void record_failure(Verdict verdict);

  std::uint64_t steps() const { return steps_; }
  const ChoiceTape& tape() const { return tape_; }
  const Strategy& strategy() const { return *strategy_; }
  std::size_t live_coroutines() const { return live_count_; }
  // Live coroutines in id order.
  std::vector<const Coroutine*> coroutines() const;
  const Coroutine* find_coroutine(CoroutineId id) const;

  // Destroy every live coroutine frame (at the end of a run, before the objects
  // their frames refer to go away).
  void destroy_coroutines();

  // Trace helpers: fill in time and context.
  void emit(EventKind kind, std::uint64_t co = 0, std::uint64_t a = 0, std::uint64_t b = 0, std::uint64_t c = 0,
            std::int64_t d = 0, std::string_view label = {}, std::string_view label2 = {});
  void emit_ids(EventKind kind, std::uint64_t co, std::uint64_t a, std::uint64_t b, std::uint64_t c, std::int64_t d,
                std::uint32_t label, std::uint32_t label2);

 private:
  friend class AioContext;
  struct Selection {
    AioContext* ctx = nullptr;
    bool external = false;
    std::size_t index = 0;
  };

  std::uint64_t next_seq() { return ++last_seq_; }
  std::uint64_t current_actor() const;
  void enqueue(AioContext& ctx, ReadyEvent event);
  void resume(Coroutine& co);
  void finish(Coroutine& co);

  // Is `ctx` allowed to run in a poll of `polled` (nullptr: the top-level loop)?
  bool eligible(const AioContext& ctx, const AioContext* polled) const;
  bool select(const AioContext* polled, Selection& out);
  bool advance_time(const AioContext* polled);
  void dispatch(const Selection& selection);
  [[noreturn]] void deadlock(std::string message);
  std::string deadlock_shape(const std::vector<CoroutineId>& cycle) const;
  void check_not_aborted() const;
  // spawn's body: `number` is the co_create event's a (0, or the number + 1).
  // Creates the coroutine; schedules its first resume unless `enter_now`
  // (the caller resumes it at once).
  Coroutine& spawn_labelled(AioContext& ctx, std::uint32_t label, std::uint64_t number, Task<void> body,
                            absl::AnyInvocable<void()> on_done, bool enter_now = false);
  // Unlink a live coroutine and destroy it (and its frames).
  void destroy(Coroutine& co);
  // Asks config_.watchdog, if kWatchdogEvents events passed since it last did;
  // ends the run with wall-budget on an answer.
  void poll_watchdog();

  WorldConfig config_;
  std::uint64_t now_ns_ = 0;
  RngStreams rng_;
  Trace trace_;
  std::unique_ptr<Strategy> strategy_;
  ChoiceTape tape_;
  std::vector<std::unique_ptr<AioContext>> contexts_;
  std::vector<int> busy_threads_;  // dispatch frames on the native stack, per thread
  // A poll on the native stack, whose thread waits in it (World::poll).
  struct PollFrame {
    AioContext* ctx = nullptr;
    std::optional<absl::FunctionRef<bool()>> waiting_while;
    bool progressed = false;  // an event of `ctx` ran for it from a poll further up
  };
  // A thread other than `caller` whose code lies below on the native stack
  // and would run now (not waiting in a poll whose condition holds).
  std::optional<std::uint32_t> thread_held_below(std::uint32_t caller) const;
  // Per thread: the poll its innermost native frame waits in, or nullptr
  // while it runs code (a dispatched event) or nothing of it is on the stack.
  std::vector<PollFrame*> waiting_in_;
  // Sets a thread's waiting_in_ slot for a scope and puts the old one back.
  struct WaitingIn {
    WaitingIn(PollFrame*& s, PollFrame* now) : slot(s), saved(std::exchange(s, now)) {}
    ~WaitingIn() { slot = saved; }
    WaitingIn(const WaitingIn&) = delete;
    WaitingIn& operator=(const WaitingIn&) = delete;
    PollFrame*& slot;
    PollFrame* saved;
  };
  std::uint32_t thread_count_ = 1;
  // Live coroutines, owned, linked oldest (lowest id) first: spawning appends,
  // so the list stays in id order without a map.
  Coroutine* live_head_ = nullptr;
  Coroutine* live_tail_ = nullptr;
  std::size_t live_count_ = 0;
  CoroutineId last_coroutine_id_ = 0;
  std::uint64_t last_object_id_ = 0;
  std::uint64_t last_seq_ = 0;
  Coroutine* current_ = nullptr;
  void* spawn_annotation_ = nullptr;
  AioContext* current_ctx_ = nullptr;
  std::uint64_t current_event_actor_ = 0;
  int poll_depth_ = 0;
  int max_poll_depth_ = 0;
  std::vector<std::uint64_t> probe_hits_;
  std::uint64_t steps_ = 0;
  std::uint64_t watchdog_polled_at_ = 0;  // trace_.count() at the last watchdog poll
  Verdict verdict_;
  std::vector<Candidate> candidates_;  // scratch for choice points
  std::uint32_t label_resume_ = 0;
};

// qemu_coroutine_yield with a recorded reason: block until woken.
inline World::SuspendAwaiter co_suspend(WaitInfo info) { return World::current().suspend(std::move(info)); }
// co_sleep_ns: block the current coroutine for `ns` of virtual time.
// `reason` must outlive the sleep: a literal or a World::intern view.
// An awaitable rather than a Task: a sleeping request (every driver latency)
// keeps no frame of its own.
struct SleepAwaiter {
  std::uint64_t ns;
  std::string_view reason;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h);
  void await_resume() { World::current().unblock_current(); }
};
inline SleepAwaiter co_sleep_ns(std::uint64_t ns, std::string_view reason = "sleep") { return SleepAwaiter{ns, reason}; }

// co_delay_ns: a driver's latency. Like co_sleep_ns for ns > 0; with ns == 0
// the caller goes on at once, without suspending (co_sleep_ns(0) yields).
struct DelayAwaiter {
  SleepAwaiter sleep;
  bool await_ready() const noexcept { return sleep.ns == 0; }
  void await_suspend(std::coroutine_handle<> h) { sleep.await_suspend(h); }
  void await_resume() {
    if (sleep.ns != 0) sleep.await_resume();
  }
};
inline DelayAwaiter co_delay_ns(std::uint64_t ns, std::string_view reason) { return DelayAwaiter{{ns, reason}}; }

}  // namespace sim
