// AioContext: one event loop. Bottom halves, timers, external sources and
// coroutine wake-ups become ready events here; World::poll dispatches them.
//
// Each context belongs to a thread (the main loop is thread 0; an IOThread has its
// own). The simulator runs one thing at a time, but while one thread is blocked in
// a nested aio_poll, contexts of other idle threads keep running, as they would on
// their own threads.
#pragma once

#include <cstdint>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/functional/any_invocable.h>

#include "sim/ring_queue.h"

namespace sim {

class Coroutine;
class World;

using TimerId = std::uint64_t;

enum class ReadyKind : std::uint8_t { kResume, kBh, kTimer, kExternal };

struct ReadyEvent {
  std::uint64_t seq = 0;
  std::uint64_t actor = 0;
  ReadyKind kind = ReadyKind::kBh;
  std::uint32_t label = 0;
  Coroutine* co = nullptr;  // kResume only
  absl::AnyInvocable<void()> fn;
};

class AioContext {
 public:
  AioContext(World& world, std::uint32_t id, std::string name, std::uint32_t thread);
  AioContext(const AioContext&) = delete;
  AioContext& operator=(const AioContext&) = delete;

  std::uint32_t id() const { return id_; }
  const std::string& name() const { return name_; }
  std::uint32_t thread() const { return thread_; }
  World& world() const { return world_; }

  // aio_bh_schedule_oneshot: run `fn` once from this context's loop.
  void bh_schedule(std::string_view name, absl::AnyInvocable<void()> fn);

  // An external source (a guest request arriving) became ready. It is dispatched
  // only while external sources are enabled (see disable_external).
  void external_schedule(std::string_view name, absl::AnyInvocable<void()> fn);
  // The same with the name already interned in the trace (hot callers).
  void external_schedule_labelled(std::uint32_t label, absl::AnyInvocable<void()> fn);
  // aio_disable_external / aio_enable_external: a counter, as in QEMU.
  void disable_external();
  void enable_external();
  bool external_disabled() const { return external_disable_count_ > 0; }
  int external_disable_count() const { return external_disable_count_; }

  // A one-shot timer at an absolute virtual time; cancel before it fires with timer_cancel.
  TimerId timer_add(std::uint64_t deadline_ns, std::string_view name, absl::AnyInvocable<void()> fn);
  TimerId timer_add_labelled(std::uint64_t deadline_ns, std::uint32_t label, absl::AnyInvocable<void()> fn);
  bool timer_cancel(TimerId id);
  bool has_timers() const { return !timers_.empty(); }

  int poll_depth() const { return poll_depth_; }
  std::size_t ready_count() const;

 private:
  friend class World;
  struct TimerEntry {
    std::uint64_t deadline;
    TimerId id;
    bool operator>(const TimerEntry& o) const { return deadline != o.deadline ? deadline > o.deadline : id > o.id; }
  };
  struct PendingTimer {
    std::uint32_t label;
    std::uint64_t actor;
    absl::AnyInvocable<void()> fn;
  };

  void schedule_callback(ReadyKind kind, std::uint32_t label, absl::AnyInvocable<void()> fn);
  // Earliest live timer deadline, dropping cancelled heap entries on the way.
  bool next_deadline(std::uint64_t& deadline);
  // Turn every timer due at or before `now` into a ready event, in deadline order.
  void promote_due_timers(std::uint64_t now);

  World& world_;
  std::uint32_t id_;
  std::string name_;
  std::uint32_t thread_;
  int external_disable_count_ = 0;
  int poll_depth_ = 0;
  RingQueue<ReadyEvent> ready_;     // bottom halves, timers and wake-ups, oldest first
  RingQueue<ReadyEvent> external_;  // external sources, oldest first
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timer_heap_;
  // Live timers by id (ids are creation order). Looked up, never iterated: the
  // heap gives the order.
  absl::flat_hash_map<TimerId, PendingTimer> timers_;
};

}  // namespace sim
