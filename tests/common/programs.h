// Small coroutine programs shared by tests of several layers.
#pragma once

#include "sim/co_mutex.h"
#include "sim/co_queue.h"
#include "sim/world.h"

namespace testing {

// Takes `first`, naps, then takes `second`: two of these in opposite lock order
// deadlock.
inline sim::Task<void> lock_two(sim::CoMutex& first, sim::CoMutex& second) {
  co_await first.lock();
  co_await sim::co_sleep_ns(100);
  co_await second.lock();
  second.unlock();
  first.unlock();
}

// Waits for `m` (held by someone else) and never gets it.
inline sim::Task<void> lock_one(sim::CoMutex& m) {
  co_await m.lock();
  m.unlock();
}

// Waits on `q`, which nobody restarts.
inline sim::Task<void> wait_forever(sim::CoQueue& q) { co_await q.wait(nullptr); }

}  // namespace testing
