// RingQueue<T>: a FIFO over one growable circular buffer, indexable oldest
// first. The ready queues of every event loop are these: a push and a pop per
// dispatched event, so they must not allocate in the steady state (a std::deque
// frees and allocates a block every few events as a short queue walks along it).
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include "sim/invariant.h"

namespace sim {

template <typename T>
class RingQueue {
 public:
  RingQueue() = default;
  RingQueue(const RingQueue&) = delete;
  RingQueue& operator=(const RingQueue&) = delete;
  ~RingQueue() { clear(); }

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }

  // The i-th oldest element.
  T& operator[](std::size_t i) { return slot(i); }
  const T& operator[](std::size_t i) const { return const_cast<RingQueue*>(this)->slot(i); }

  void push_back(T value) {
    if (size_ == capacity_) grow();
    new (&storage_[(head_ + size_) & (capacity_ - 1)]) T(std::move(value));
    ++size_;
  }

  // Remove and return the i-th oldest; younger elements keep their order.
  T take(std::size_t i) {
    SIM_ASSERT(i < size_, "RingQueue::take out of range");
    T out = std::move(slot(i));
    if (i == 0) {
      slot(0).~T();
      head_ = (head_ + 1) & (capacity_ - 1);
    } else {
      for (std::size_t j = i; j + 1 < size_; ++j) slot(j) = std::move(slot(j + 1));
      slot(size_ - 1).~T();
    }
    --size_;
    return out;
  }

  void clear() {
    while (size_ > 0) take(0);
    head_ = 0;
  }

 private:
  // Raw, suitably aligned storage: elements are constructed and destroyed by hand.
  struct alignas(T) Cell {
    unsigned char bytes[sizeof(T)];
  };

  T& slot(std::size_t i) {
    return *std::launder(reinterpret_cast<T*>(&storage_[(head_ + i) & (capacity_ - 1)]));
  }

  void grow() {
    const std::size_t capacity = capacity_ == 0 ? 16 : capacity_ * 2;  // a power of two: wrap by mask
    auto storage = std::make_unique<Cell[]>(capacity);
    for (std::size_t i = 0; i < size_; ++i) {
      new (&storage[i]) T(std::move(slot(i)));
      slot(i).~T();
    }
    storage_ = std::move(storage);
    capacity_ = capacity;
    head_ = 0;
  }

  std::unique_ptr<Cell[]> storage_;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace sim
