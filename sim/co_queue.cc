#include "sim/co_queue.h"

#include "sim/invariant.h"
#include "sim/world.h"

namespace sim {

Task<void> CoQueue::wait(CoMutex* lock, WaitInfo info) {
  World& world = World::current();
  Coroutine* self = world.current_coroutine();
  SIM_ASSERT(self != nullptr, "CoQueue::wait outside a coroutine");
  waiters_.push_back(*self);
  if (lock != nullptr) lock->unlock();
  co_await world.suspend(info);
  if (lock != nullptr) co_await lock->lock();
}

bool CoQueue::next() {
  Coroutine* co = waiters_.pop_front();
  if (co == nullptr) return false;
  World::current().wake(*co);
  return true;
}

void CoQueue::restart_all() {
  // Take the list first: a waiter entered at once may wait on this queue again.
  WaiterList woken(std::move(waiters_));
  while (Coroutine* co = woken.pop_front()) World::current().wake(*co);
}

}  // namespace sim
