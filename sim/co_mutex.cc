#include "sim/co_mutex.h"

#include "sim/invariant.h"
#include "sim/world.h"

namespace sim {

CoMutex::CoMutex(std::string name) : id_(World::current().next_object_id()), name_(std::move(name)) {}

bool CoMutex::LockAwaiter::await_ready() {
  World& world = World::current();
  Coroutine* self = world.current_coroutine();
  SIM_ASSERT(self != nullptr, "CoMutex::lock outside a coroutine");
  SIM_ASSERT(mutex->holder_ != self->id(), "CoMutex " + mutex->name_ + " locked twice by " + self->describe());
  if (mutex->holder_ == 0) {
    mutex->holder_ = self->id();
    return true;
  }
  return false;
}

void CoMutex::LockAwaiter::await_suspend(std::coroutine_handle<> h) {
  World& world = World::current();
  mutex->waiters_.push_back(*world.current_coroutine());
  suspended = true;
  world.block_current(h, WaitInfo{"CoMutex", mutex->holder_, mutex->id_, mutex->name_, 0});
}

void CoMutex::LockAwaiter::await_resume() {
  World& world = World::current();
  if (suspended) world.unblock_current();
  SIM_ASSERT(mutex->holder_ == world.current_coroutine()->id(), "CoMutex " + mutex->name_ + " handed to someone else");
}

void CoMutex::unlock() {
  World& world = World::current();
  Coroutine* self = world.current_coroutine();
  SIM_ASSERT(self != nullptr, "CoMutex::unlock outside a coroutine");
  SIM_ASSERT(holder_ == self->id(), "CoMutex " + name_ + " unlocked by " + self->describe() + ", not its holder");
  Coroutine* next = waiters_.pop_front();
  if (next == nullptr) {
    holder_ = 0;
    return;
  }
  holder_ = next->id();
  world.wake(*next);
}

}  // namespace sim
