// CoMutex: a coroutine mutex with QEMU's semantics. Waiters queue in FIFO order
// and unlock hands the mutex straight to the first waiter, so a newcomer cannot
// overtake a woken waiter. Only the holder may unlock.
#pragma once

#include <coroutine>
#include <cstdint>
#include <string>

#include "sim/coroutine.h"
#include "sim/waiter_list.h"

namespace sim {

class CoMutex {
 public:
  explicit CoMutex(std::string name = "CoMutex");
  CoMutex(const CoMutex&) = delete;
  CoMutex& operator=(const CoMutex&) = delete;

  struct LockAwaiter {
    CoMutex* mutex;
    bool suspended = false;
    bool await_ready();
    void await_suspend(std::coroutine_handle<> h);
    void await_resume();
  };
  // co_await mutex.lock();
  LockAwaiter lock() { return LockAwaiter{this}; }
  void unlock();

  bool locked() const { return holder_ != 0; }
  CoroutineId holder() const { return holder_; }
  std::size_t waiters() const { return waiters_.size(); }
  std::uint64_t id() const { return id_; }
  const std::string& name() const { return name_; }

 private:
  std::uint64_t id_;
  std::string name_;
  CoroutineId holder_ = 0;
  WaiterList waiters_;
};

}  // namespace sim
