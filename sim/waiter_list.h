// WaiterList: coroutines queued on a CoQueue or a CoMutex, oldest first,
// linked through the coroutines themselves. A blocked coroutine waits on one
// thing at a time, so one link per coroutine suffices, and a queue costs two
// pointers and never allocates (every tracked request carries a CoQueue).
#pragma once

#include <cstddef>

#include "sim/coroutine.h"
#include "sim/invariant.h"

namespace sim {

class WaiterList {
 public:
  WaiterList() = default;
  WaiterList(const WaiterList&) = delete;
  WaiterList& operator=(const WaiterList&) = delete;
  WaiterList(WaiterList&& other) noexcept : head_(other.head_), tail_(other.tail_), size_(other.size_) {
    other.head_ = other.tail_ = nullptr;
    other.size_ = 0;
  }

  bool empty() const { return head_ == nullptr; }
  std::size_t size() const { return size_; }

  void push_back(Coroutine& co) {
    SIM_ASSERT(!co.queued_, "coroutine " + co.describe() + " queued on two waiter lists");
    co.queued_ = true;
    co.waiter_next_ = nullptr;
    if (tail_ != nullptr) {
      tail_->waiter_next_ = &co;
    } else {
      head_ = &co;
    }
    tail_ = &co;
    ++size_;
  }

  // The oldest waiter, unlinked; nullptr when empty.
  Coroutine* pop_front() {
    Coroutine* co = head_;
    if (co == nullptr) return nullptr;
    head_ = co->waiter_next_;
    if (head_ == nullptr) tail_ = nullptr;
    co->waiter_next_ = nullptr;
    co->queued_ = false;
    --size_;
    return co;
  }

 private:
  Coroutine* head_ = nullptr;
  Coroutine* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace sim
