#include "sim/aio_context.h"

#include "sim/invariant.h"
#include "sim/world.h"

namespace sim {

AioContext::AioContext(World& world, std::uint32_t id, std::string name, std::uint32_t thread)
    : world_(world), id_(id), name_(std::move(name)), thread_(thread) {}

void AioContext::schedule_callback(ReadyKind kind, std::uint32_t label, absl::AnyInvocable<void()> fn) {
  ReadyEvent event;
  event.kind = kind;
  event.label = label;
  event.fn = std::move(fn);
  world_.enqueue(*this, std::move(event));
}

void AioContext::bh_schedule(std::string_view name, absl::AnyInvocable<void()> fn) {
  schedule_callback(ReadyKind::kBh, world_.trace().intern(name), std::move(fn));
}

void AioContext::external_schedule(std::string_view name, absl::AnyInvocable<void()> fn) {
  schedule_callback(ReadyKind::kExternal, world_.trace().intern(name), std::move(fn));
}

void AioContext::external_schedule_labelled(std::uint32_t label, absl::AnyInvocable<void()> fn) {
  schedule_callback(ReadyKind::kExternal, label, std::move(fn));
}

void AioContext::disable_external() { ++external_disable_count_; }

void AioContext::enable_external() {
  SIM_ASSERT(external_disable_count_ > 0, "aio_enable_external without a matching aio_disable_external on " + name_);
  --external_disable_count_;
}

TimerId AioContext::timer_add(std::uint64_t deadline_ns, std::string_view name, absl::AnyInvocable<void()> fn) {
  return timer_add_labelled(deadline_ns, world_.trace().intern(name), std::move(fn));
}

TimerId AioContext::timer_add_labelled(std::uint64_t deadline_ns, std::uint32_t label, absl::AnyInvocable<void()> fn) {
  SIM_ASSERT(deadline_ns >= world_.now_ns(), "timer armed in the past on " + name_);
  TimerId id = world_.next_seq();
  timers_.emplace(id, PendingTimer{label, world_.current_actor(), std::move(fn)});
  timer_heap_.push(TimerEntry{deadline_ns, id});
  return id;
}

bool AioContext::timer_cancel(TimerId id) { return timers_.erase(id) > 0; }

std::size_t AioContext::ready_count() const {
  return ready_.size() + (external_disabled() ? 0 : external_.size());
}

bool AioContext::next_deadline(std::uint64_t& deadline) {
  while (!timer_heap_.empty()) {
    const TimerEntry& top = timer_heap_.top();
    if (timers_.count(top.id) != 0) {
      deadline = top.deadline;
      return true;
    }
    timer_heap_.pop();  // cancelled
  }
  return false;
}

void AioContext::promote_due_timers(std::uint64_t now) {
  std::uint64_t deadline = 0;
  while (next_deadline(deadline) && deadline <= now) {
    TimerId id = timer_heap_.top().id;
    timer_heap_.pop();
    auto it = timers_.find(id);
    ReadyEvent event;
    event.kind = ReadyKind::kTimer;
    event.label = it->second.label;
    event.actor = it->second.actor;
    event.fn = std::move(it->second.fn);
    timers_.erase(it);
    event.seq = world_.next_seq();
    ready_.push_back(std::move(event));
  }
}

}  // namespace sim
