#include "sim/world.h"

#include <utility>

#include <algorithm>
#include <map>
#include <set>

#include "sim/str.h"

#include "sim/invariant.h"

namespace sim {
namespace {

World* g_current_world = nullptr;

// Restores the dispatch state when a dispatch ends, also by an exception.
class DispatchScope {
 public:
  DispatchScope(AioContext*& slot, AioContext* ctx, std::uint64_t& actor_slot, std::uint64_t actor, int& busy)
      : slot_(slot), saved_(slot), actor_slot_(actor_slot), saved_actor_(actor_slot), busy_(busy) {
    slot_ = ctx;
    actor_slot_ = actor;
    ++busy_;
  }
  ~DispatchScope() {
    slot_ = saved_;
    actor_slot_ = saved_actor_;
    --busy_;
  }
  DispatchScope(const DispatchScope&) = delete;
  DispatchScope& operator=(const DispatchScope&) = delete;

 private:
  AioContext*& slot_;
  AioContext* saved_;
  std::uint64_t& actor_slot_;
  std::uint64_t saved_actor_;
  int& busy_;
};

std::unique_ptr<Strategy> make_strategy(const WorldConfig& config, RngStreams& rng) {
  switch (config.strategy.kind) {
    case StrategySpec::Kind::kFifo: return std::make_unique<FifoStrategy>();
    case StrategySpec::Kind::kRandom: return std::make_unique<RandomStrategy>(rng.stream("schedule"));
    case StrategySpec::Kind::kPct:
      return std::make_unique<PctStrategy>(rng.stream("schedule"), config.strategy.pct_depth,
                                           config.pct_expected_steps);
    case StrategySpec::Kind::kReplay: return std::make_unique<ReplayStrategy>(config.tape);
  }
  return std::make_unique<FifoStrategy>();
}

}  // namespace

std::string Coroutine::name() const {
  return number_ == 0 ? std::string(family_) : cat(family_, number_ - 1);
}

std::string Coroutine::describe() const { return cat("co#", id_, " '", name(), "'"); }

World::World(WorldConfig config)
    : config_(std::move(config)), rng_(config_.seed), trace_(config_.trace_ring) {
  SIM_ASSERT(g_current_world == nullptr, "only one World may be alive at a time");
  SIM_ASSERT(config_.step_budget > 0 && config_.time_budget_ns > 0, "budgets must be positive");
  g_current_world = this;
  trace_.capture_all(config_.trace_all);
  strategy_ = make_strategy(config_, rng_);
  label_resume_ = trace_.intern("resume");
  contexts_.push_back(std::make_unique<AioContext>(*this, 0, "main", 0));
  busy_threads_.push_back(0);
  waiting_in_.push_back(nullptr);
}

World::~World() {
  destroy_coroutines();
  g_current_world = nullptr;
}

World& World::current() {
  SIM_ASSERT(g_current_world != nullptr, "no World is alive");
  return *g_current_world;
}

bool World::exists() { return g_current_world != nullptr; }

AioContext& World::new_context(std::string name, bool own_thread) {
  std::uint32_t thread = 0;
  if (own_thread) {
    thread = thread_count_++;
    busy_threads_.push_back(0);
    waiting_in_.push_back(nullptr);
  }
  auto id = static_cast<std::uint32_t>(contexts_.size());
  contexts_.push_back(std::make_unique<AioContext>(*this, id, std::move(name), thread));
  return *contexts_.back();
}

AioContext& World::current_context() { return current_ctx_ != nullptr ? *current_ctx_ : main_context(); }

std::uint64_t World::current_actor() const { return current_ != nullptr ? current_->id() : current_event_actor_; }

void World::enqueue(AioContext& ctx, ReadyEvent event) {
  event.seq = next_seq();
  if (event.actor == 0) event.actor = current_actor();
  if (event.kind == ReadyKind::kExternal) {
    ctx.external_.push_back(std::move(event));
  } else {
    ctx.ready_.push_back(std::move(event));
  }
}

Coroutine& World::spawn(AioContext& ctx, std::string name, Task<void> body, absl::AnyInvocable<void()> on_done) {
  return spawn_labelled(ctx, trace_.intern(name), 0, std::move(body), std::move(on_done));
}

Coroutine& World::spawn_numbered(AioContext& ctx, std::string_view family, std::uint64_t number, Task<void> body,
                                 absl::AnyInvocable<void()> on_done) {
  SIM_ASSERT(number < UINT64_MAX, "coroutine number out of range");
  return spawn_labelled(ctx, trace_.intern(family), number + 1, std::move(body), std::move(on_done));
}

void World::enter_numbered(AioContext& ctx, std::string_view family, std::uint64_t number, Task<void> body,
                           absl::AnyInvocable<void()> on_done) {
  SIM_ASSERT(number < UINT64_MAX, "coroutine number out of range");
  // wake()'s rule: at once only from a callback of the coroutine's own loop.
  const bool now = current_ == nullptr && (current_ctx_ == nullptr || current_ctx_ == &ctx);
  Coroutine& co = spawn_labelled(ctx, trace_.intern(family), number + 1, std::move(body), std::move(on_done), now);
  if (now) resume(co);
}

Coroutine& World::spawn_labelled(AioContext& ctx, std::uint32_t label, std::uint64_t number, Task<void> body,
                                 absl::AnyInvocable<void()> on_done, bool enter_now) {
  SIM_ASSERT(body.valid() && !body.done(), "spawn needs a fresh task");
  CoroutineId id = ++last_coroutine_id_;
  auto* co = new Coroutine(id, trace_.text(label), number, ctx, std::move(body), std::move(on_done));
  co->resume_point_ = co->root_.handle();
  if (current_ == nullptr && spawn_annotation_ != nullptr) {
    co->set_annotation(spawn_annotation_);
  }
  co->live_prev_ = live_tail_;
  if (live_tail_ != nullptr) {
    live_tail_->live_next_ = co;
  } else {
    live_head_ = co;
  }
  live_tail_ = co;
  ++live_count_;
  emit_ids(EventKind::kCoCreate, id, number, 0, 0, 0, label, 0);
  if (!enter_now) schedule(ctx, *co);
  return *co;
}

void World::destroy(Coroutine& co) {
  (co.live_prev_ != nullptr ? co.live_prev_->live_next_ : live_head_) = co.live_next_;
  (co.live_next_ != nullptr ? co.live_next_->live_prev_ : live_tail_) = co.live_prev_;
  --live_count_;
  delete &co;  // destroys its frames, which may refer to coroutines created before it
}

void World::schedule(AioContext& ctx, Coroutine& co) {
  SIM_ASSERT(co.state_ != CoState::kFinished, "scheduling a finished coroutine " + co.describe());
  SIM_ASSERT(!co.wake_queued_, "coroutine " + co.describe() + " woken twice before it ran");
  co.ctx_ = &ctx;
  co.wake_queued_ = true;
  ReadyEvent event;
  event.kind = ReadyKind::kResume;
  event.co = &co;
  event.actor = co.id();
  event.label = label_resume_;
  enqueue(ctx, std::move(event));
}

void World::wake(Coroutine& co) {
  SIM_ASSERT(co.state_ == CoState::kBlocked, "waking " + co.describe() + ", which is not blocked");
  bool same_context = current_ctx_ == nullptr || current_ctx_ == co.ctx_;
  if (current_ == nullptr && same_context && !co.wake_queued_) {
    resume(co);
  } else {
    schedule(*co.ctx_, co);
  }
}

void World::block_current(std::coroutine_handle<> h, const WaitInfo& info) {
  SIM_ASSERT(current_ != nullptr, "suspending outside a coroutine");
  Coroutine& co = *current_;
  co.resume_point_ = h;
  co.state_ = CoState::kBlocked;
  co.wait_ = info;
  co.wait_.since_ns = now_ns_;
  if (!co.wait_.reason.empty()) {
    co.wait_labels_[0] = trace_.intern(co.wait_.reason);
    co.wait_labels_[1] = co.wait_.what.empty() ? 0 : trace_.intern(co.wait_.what);
    emit_ids(EventKind::kWaitBegin, co.id(), co.wait_.holder, co.wait_.object, 0, 0, co.wait_labels_[0],
             co.wait_labels_[1]);
  }
}

void World::unblock_current() {
  Coroutine& co = *current_;
  if (!co.wait_.reason.empty()) {
    emit_ids(EventKind::kWaitEnd, co.id(), co.wait_.holder, co.wait_.object, 0, 0, co.wait_labels_[0],
             co.wait_labels_[1]);
  }
  co.wait_.reason = {};
}

void World::resume(Coroutine& co) {
  SIM_ASSERT(current_ == nullptr, "entering " + co.describe() + " from inside coroutine " +
                                      (current_ ? current_->describe() : std::string()));
  SIM_ASSERT(co.state_ == CoState::kReady || co.state_ == CoState::kBlocked,
             "resuming " + co.describe() + ", which is running or finished");
  std::coroutine_handle<> h = std::exchange(co.resume_point_, {});
  SIM_ASSERT(static_cast<bool>(h), "coroutine " + co.describe() + " has no resume point");
  co.wake_queued_ = false;
  co.state_ = CoState::kRunning;
  emit(EventKind::kCoResume, co.id());
  current_ = &co;
  h.resume();
  current_ = nullptr;
  if (co.root_.done()) {
    finish(co);
  } else {
    SIM_ASSERT(co.state_ == CoState::kBlocked, "coroutine " + co.describe() + " suspended without blocking");
    emit(EventKind::kCoYield, co.id());
  }
}

void World::finish(Coroutine& co) {
  co.state_ = CoState::kFinished;
  std::exception_ptr error = co.root_.handle().promise().exception;
  emit(EventKind::kCoFinish, co.id(), error ? 1 : 0);
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const InvariantViolation& e) {
      fail(Verdict{Verdict::Kind::kInvariant, e.what(), e.location(), {"in coroutine " + co.describe()}, e.id()});
    } catch (const std::exception& e) {
      fail(Verdict{Verdict::Kind::kInvariant, cat("uncaught exception: ", e.what()), "",
                   {"in coroutine " + co.describe()}, "uncaught-exception"});
    }
  }
  absl::AnyInvocable<void()> on_done = std::move(co.on_done_);
  destroy(co);
  if (on_done) on_done();
}

bool World::eligible(const AioContext& ctx, const AioContext* polled) const {
  if (polled == nullptr || &ctx == polled) return true;
  // Another thread's loop keeps running while this thread is blocked in a
  // nested poll: a thread with nothing on the stack, or one whose innermost
  // frame waits in a poll of this very context for a condition that still
  // holds (it would be in ppoll; once the condition is false it would return
  // to its caller's code, which cannot run before the stack unwinds to it).
  const std::uint32_t thread = ctx.thread();
  if (thread == polled->thread() || (current_ctx_ != nullptr && thread == current_ctx_->thread())) return false;
  if (busy_threads_[thread] == 0) return true;
  const PollFrame* waiting = waiting_in_[thread];
  return waiting != nullptr && waiting->ctx == &ctx && waiting->waiting_while.has_value() && (*waiting->waiting_while)();
}

bool World::select(const AioContext* polled, Selection& out) {
  std::size_t total = 0;
  AioContext* only = nullptr;
  for (const auto& ctx : contexts_) {
    if (!eligible(*ctx, polled)) continue;
    ctx->promote_due_timers(now_ns_);
    std::size_t n = ctx->ready_count();
    if (n > 0) {
      total += n;
      only = ctx.get();
    }
  }
  if (total == 0) return false;
  if (total == 1) {
    out = Selection{only, only->ready_.empty(), 0};
    return true;
  }
  // A choice point: flatten the candidates (contexts in id order, each oldest first).
  candidates_.clear();
  for (const auto& ctx : contexts_) {
    if (!eligible(*ctx, polled)) continue;
    for (std::size_t i = 0; i < ctx->ready_.size(); ++i) {
      candidates_.push_back(Candidate{ctx->ready_[i].seq, ctx->ready_[i].actor});
    }
    if (!ctx->external_disabled()) {
      for (std::size_t i = 0; i < ctx->external_.size(); ++i) {
        candidates_.push_back(Candidate{ctx->external_[i].seq, ctx->external_[i].actor});
      }
    }
  }
  SIM_ASSERT(candidates_.size() == total, "ready count and candidate list disagree");
  std::size_t chosen = strategy_->choose(candidates_, steps_);
  SIM_ASSERT(chosen < total, "strategy " + strategy_->name() + " chose out of range");
  tape_.choices.push_back(Choice{static_cast<std::uint32_t>(total), static_cast<std::uint32_t>(chosen)});
  emit(EventKind::kChoice, 0, total, chosen);
  for (const auto& ctx : contexts_) {
    if (!eligible(*ctx, polled)) continue;
    if (chosen < ctx->ready_.size()) {
      out = Selection{ctx.get(), false, chosen};
      return true;
    }
    chosen -= ctx->ready_.size();
    if (!ctx->external_disabled()) {
      if (chosen < ctx->external_.size()) {
        out = Selection{ctx.get(), true, chosen};
        return true;
      }
      chosen -= ctx->external_.size();
    }
  }
  SIM_ASSERT(false, "chosen candidate not found");
  return false;
}

bool World::advance_time(const AioContext* polled) {
  bool found = false;
  std::uint64_t earliest = 0;
  for (const auto& ctx : contexts_) {
    std::uint64_t deadline = 0;
    if (eligible(*ctx, polled) && ctx->next_deadline(deadline) && (!found || deadline < earliest)) {
      earliest = deadline;
      found = true;
    }
  }
  if (!found) return false;
  if (earliest > config_.time_budget_ns) {
    fail(Verdict{Verdict::Kind::kTimeBudget,
                 cat("virtual time budget of ", config_.time_budget_ns, " ns exceeded (next timer at ",
                              earliest, " ns)"),
                 "",
                 {}});
  }
  now_ns_ = std::max(now_ns_, earliest);
  return true;
}

void World::dispatch(const Selection& selection) {
  AioContext& ctx = *selection.ctx;
  RingQueue<ReadyEvent>& queue = selection.external ? ctx.external_ : ctx.ready_;
  ReadyEvent event = queue.take(selection.index);

  if (++steps_ > config_.step_budget) {
    fail(Verdict{Verdict::Kind::kStepBudget,
                 cat("step budget of ", config_.step_budget, " dispatched events exceeded at ", now_ns_,
                              " ns"),
                 "",
                 {}});
  }
  poll_watchdog();
  DispatchScope scope(current_ctx_, &ctx, current_event_actor_, event.actor, busy_threads_[ctx.thread()]);
  const SpawnAnnotation unannotated(*this, nullptr);  // a dispatched callback is not its poller's caller
  // The event's thread runs code now, not its poll; a poll of this context
  // that the thread waits in has made progress.
  const WaitingIn running(waiting_in_[ctx.thread()], nullptr);
  if (running.saved != nullptr && running.saved->ctx == &ctx) running.saved->progressed = true;
  try {
    switch (event.kind) {
      case ReadyKind::kResume:
        resume(*event.co);
        break;
      case ReadyKind::kBh:
        emit_ids(EventKind::kBhRun, 0, 0, 0, 0, 0, event.label, 0);
        event.fn();
        break;
      case ReadyKind::kTimer:
        emit_ids(EventKind::kTimerFire, 0, 0, 0, 0, 0, event.label, 0);
        event.fn();
        break;
      case ReadyKind::kExternal:
        emit_ids(EventKind::kExternalRun, 0, 0, 0, 0, 0, event.label, 0);
        event.fn();
        break;
    }
  } catch (const InvariantViolation& e) {
    fail(Verdict{Verdict::Kind::kInvariant, e.what(), e.location(), {}, e.id()});
  } catch (const std::exception& e) {
    fail(Verdict{Verdict::Kind::kInvariant, cat("uncaught exception: ", e.what()), "", {}, "uncaught-exception"});
  }
}

void World::check_not_aborted() const {
  if (aborted()) throw RunAborted{};
}

bool World::poll(AioContext& ctx, bool blocking, std::optional<absl::FunctionRef<bool()>> waiting_while) {
  SIM_ASSERT(current_ == nullptr, "aio_poll(" + ctx.name() + ") called from coroutine " + current_->describe());
  check_not_aborted();
  PollFrame frame{&ctx, waiting_while};
  const std::uint32_t caller = current_context().thread();
  const WaitingIn waiting(waiting_in_[caller], &frame);
  struct DepthGuard {
    int& world_depth;
    int& ctx_depth;
    ~DepthGuard() {
      --world_depth;
      --ctx_depth;
    }
  } guard{++poll_depth_, ++ctx.poll_depth_};
  max_poll_depth_ = std::max(max_poll_depth_, poll_depth_);
  for (;;) {
    Selection selection;
    if (select(&ctx, selection)) {
      const bool own = selection.ctx == &ctx;
      dispatch(selection);
      // QEMU's aio_poll(ctx) returns once ctx itself made progress. An event
      // of another thread ran concurrently (interleaved here): the caller keeps
      // waiting, and only a kick into ctx (a bottom half such as bdrv_wakeup's,
      // a coroutine woken into ctx) ends its wait; or an event of ctx that a
      // poll nested in that event ran for this one (frame.progressed).
      if (own || frame.progressed) return true;
      continue;
    }
    if (!blocking) return false;
    if (!advance_time(&ctx)) {
      if (const std::optional<std::uint32_t> held = thread_held_below(caller)) {
        // A real thread would go on: the wait may end. One native stack
        // cannot run that thread's code before this poll returns.
        std::string thread_name = cat("thread ", *held);
        for (const auto& c : contexts_) {
          if (c->thread() == *held) {
            thread_name = c->name();
            break;
          }
        }
        fail(Verdict{Verdict::Kind::kSimLimit,
                     cat("aio_poll(", ctx.name(), ", blocking) waits above ", thread_name,
                         ", which would go on running its own code first (its poll's condition no longer holds); "
                         "the simulator's single stack cannot run it before this poll returns"),
                     "",
                     {}});
      }
      deadlock(cat("aio_poll(", ctx.name(), ", blocking) would wait forever: nothing is ready and no timer "
                            "is armed"));
    }
  }
}

std::optional<std::uint32_t> World::thread_held_below(std::uint32_t caller) const {
  for (std::uint32_t thread = 0; thread < busy_threads_.size(); ++thread) {
    if (thread == caller || busy_threads_[thread] == 0) continue;
    const PollFrame* waiting = waiting_in_[thread];
    if (waiting == nullptr || !waiting->waiting_while.has_value() || !(*waiting->waiting_while)()) return thread;
  }
  return std::nullopt;
}

void World::run() {
  run_until(nullptr);
}

void World::run_until(absl::AnyInvocable<bool()> done) {
  if (aborted()) return;
  try {
    for (;;) {
      if (done && done()) return;
      Selection selection;
      if (select(nullptr, selection)) {
        dispatch(selection);
        continue;
      }
      if (advance_time(nullptr)) continue;
      if (live_head_ != nullptr) deadlock("no event is ready and no timer is armed, but coroutines are blocked");
      return;
    }
  } catch (const RunAborted&) {
  }
}

// A deadlock's identity, independent of coroutine ids and numbers (which
// change with every edit of a scenario): its wait cycle as the sequence of
// (family @ reason), rotated to start at its smallest element; without a
// cycle, the sorted set of what the blocked coroutines wait for.
std::string World::deadlock_shape(const std::vector<CoroutineId>& cycle) const {
  const auto element = [](const Coroutine& co) { return cat(co.family(), "@", co.wait_.reason); };
  if (!cycle.empty()) {
    std::vector<std::string> ring;
    for (CoroutineId id : cycle) {
      const Coroutine* co = find_coroutine(id);
      ring.push_back(co != nullptr ? element(*co) : std::string("finished"));
    }
    std::vector<std::string> best;
    for (std::size_t k = 0; k < ring.size(); ++k) {
      std::vector<std::string> rotated(ring.begin() + static_cast<std::ptrdiff_t>(k), ring.end());
      rotated.insert(rotated.end(), ring.begin(), ring.begin() + static_cast<std::ptrdiff_t>(k));
      if (best.empty() || rotated < best) best = std::move(rotated);
    }
    std::string out = "cycle";
    for (const std::string& e : best) out += cat(" ", e, " ->");
    return out + " (again)";
  }
  std::set<std::string> blocked;
  for (const Coroutine* co = live_head_; co != nullptr; co = co->live_next_) {
    if (co->state_ == CoState::kBlocked) blocked.insert(element(*co));
  }
  std::string out = "no cycle; blocked:";
  for (const std::string& e : blocked) out += cat(" ", e);
  return out;
}

void World::deadlock(std::string message) {
  Verdict v{Verdict::Kind::kDeadlock, std::move(message), "", {}};
  // Each blocked coroutine with what it waits for, then a wait cycle if there is one.
  std::map<CoroutineId, CoroutineId> holder_of;
  for (const Coroutine* co = live_head_; co != nullptr; co = co->live_next_) {
    const CoroutineId id = co->id();
    if (co->state_ != CoState::kBlocked) continue;
    const WaitInfo& w = co->wait_;
    std::string line = cat(co->describe(), " in ", co->ctx_->name(), ": waits for ",
                                     w.reason.empty() ? "a wake-up (no reason recorded)" : w.reason);
    if (!w.what.empty()) line += cat(" on ", w.what);
    if (w.holder != 0) {
      const Coroutine* holder = find_coroutine(w.holder);
      line += cat(", held by ", holder ? holder->describe() : cat("co#", w.holder, " (finished)"));
      holder_of[id] = w.holder;
    }
    line += cat(", since ", w.since_ns, " ns");
    if (co->ctx_->external_disabled() && w.reason == "external") line += cat(" (external sources disabled)");
    v.details.push_back(std::move(line));
  }
  std::vector<CoroutineId> cycle;
  for (const auto& [start, unused] : holder_of) {
    std::vector<CoroutineId> path{start};
    CoroutineId at = start;
    bool closed = false;
    while (holder_of.count(at) != 0 && path.size() <= holder_of.size()) {
      at = holder_of[at];
      if (at == start) {
        closed = true;
        break;
      }
      path.push_back(at);
    }
    if (closed) {
      std::string line = "wait cycle:";
      for (CoroutineId id : path) line += cat(" co#", id, " ->");
      line += cat(" co#", start);
      v.details.push_back(std::move(line));
      cycle = std::move(path);
      break;
    }
  }
  v.shape = deadlock_shape(cycle);
  fail(std::move(v));
}

void World::fail(Verdict verdict) {
  record_failure(std::move(verdict));
  throw RunAborted{};
}

void World::record_failure(Verdict verdict) {
  SIM_ASSERT(!verdict.ok(), "record_failure needs a failing verdict");
  if (verdict_.ok()) {
    verdict_ = std::move(verdict);
    verdict_.event_index = trace_.count();
    verdict_.time_ns = now_ns_;
    emit(EventKind::kNote, 0, 0, 0, 0, 0, cat("verdict ", verdict_kind_name(verdict_.kind)));
  }
}

std::vector<const Coroutine*> World::coroutines() const {
  std::vector<const Coroutine*> out;
  out.reserve(live_count_);
  for (const Coroutine* co = live_head_; co != nullptr; co = co->live_next_) out.push_back(co);
  return out;
}

const Coroutine* World::find_coroutine(CoroutineId id) const {
  // A scan: only reports ask (deadlock details), never the hot path.
  for (const Coroutine* co = live_head_; co != nullptr; co = co->live_next_) {
    if (co->id() == id) return co;
  }
  return nullptr;
}

void World::destroy_coroutines() {
  // Newest first: a frame never outlives one created after it that may refer to it.
  while (live_tail_ != nullptr) destroy(*live_tail_);
  for (auto& ctx : contexts_) {
    ctx->ready_.clear();
    ctx->external_.clear();
    ctx->timers_.clear();
  }
}

void World::emit(EventKind kind, std::uint64_t co, std::uint64_t a, std::uint64_t b, std::uint64_t c, std::int64_t d,
                 std::string_view label, std::string_view label2) {
  emit_ids(kind, co, a, b, c, d, label.empty() ? 0 : trace_.intern(label), label2.empty() ? 0 : trace_.intern(label2));
}

void World::emit_ids(EventKind kind, std::uint64_t co, std::uint64_t a, std::uint64_t b, std::uint64_t c,
                     std::int64_t d, std::uint32_t label, std::uint32_t label2) {
  trace_.record(now_ns_, kind, current_ctx_ != nullptr ? current_ctx_->id() : 0, co, a, b, c, d, label, label2);
  // One step that issues I/O without end (a request split into millions of
  // fragments a synchronous driver completes at once) never returns to
  // dispatch; issuing is a point where ending the run is as safe as a failed
  // assertion there.
  if (kind == EventKind::kRequestBegin || kind == EventKind::kDriverIssue) poll_watchdog();
}

void World::poll_watchdog() {
  if (!config_.watchdog || trace_.count() - watchdog_polled_at_ < kWatchdogEvents) return;
  watchdog_polled_at_ = trace_.count();
  std::string overrun = config_.watchdog();
  if (overrun.empty()) return;
  fail(Verdict{Verdict::Kind::kWallBudget,
               cat(overrun, " after ", trace_.count(), " events (", steps_, " dispatched), at ", now_ns_,
                   " ns of virtual time"),
               "",
               {}});
}

void SleepAwaiter::await_suspend(std::coroutine_handle<> h) {
  World& world = World::current();
  Coroutine* self = world.current_coroutine();
  SIM_ASSERT(self != nullptr, "co_sleep_ns outside a coroutine");
  static TraceLabel kTimerName("co_sleep_ns");
  self->context().timer_add_labelled(world.now_ns() + ns, kTimerName.id(world.trace()),
                                     [&world, self] { world.wake(*self); });
  world.block_current(h, WaitInfo{reason, 0, 0, {}, 0});
}

}  // namespace sim
