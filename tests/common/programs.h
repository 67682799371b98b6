// Small coroutine programs shared by tests of several layers.
#pragma once

#include "sim/co_mutex.h"
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

}  // namespace testing
