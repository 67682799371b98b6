// CoQueue: coroutines waiting for a condition, QEMU's semantics. wait() enqueues
// the caller, releases the given mutex while it sleeps and takes it again before
// returning; next() wakes the oldest waiter; restart_all() wakes every waiter.
#pragma once

#include "sim/co_mutex.h"
#include "sim/coroutine.h"
#include "sim/task.h"
#include "sim/waiter_list.h"

namespace sim {

class CoQueue {
 public:
  CoQueue() = default;
  CoQueue(const CoQueue&) = delete;
  CoQueue& operator=(const CoQueue&) = delete;

  // qemu_co_queue_wait. `info` says what the waiter waits for (wait graph, deadlocks).
  Task<void> wait(CoMutex* lock, WaitInfo info = WaitInfo{"CoQueue", 0, 0, {}, 0});
  // qemu_co_queue_next: wake the oldest waiter; false if there was none.
  bool next();
  // qemu_co_queue_restart_all.
  void restart_all();
  bool empty() const { return waiters_.empty(); }
  std::size_t size() const { return waiters_.size(); }

 private:
  WaiterList waiters_;
};

}  // namespace sim
