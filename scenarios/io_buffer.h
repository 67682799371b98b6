// A command's data buffer, allocated as qemu-io allocates its buffers
// (qemu_io_alloc -> blk_blockalign): aligned. So whatever bdrv_qiov_is_aligned
// answers about a command's vector (a direct-I/O driver asks) depends on the
// lengths of its parts only, never on where the heap put it: runs stay
// deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

#include "scenarios/scenario.h"

namespace scenarios {

// Above every memory alignment a node may ask (min_mem_alignment and
// opt_mem_alignment are at most kMaxAlignment).
inline constexpr std::size_t kIoBufferAlignment = kMaxAlignment;

template <class T>
struct IoBufferAllocator {
  using value_type = T;
  IoBufferAllocator() = default;
  template <class U>
  explicit IoBufferAllocator(const IoBufferAllocator<U>&) {}
  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{kIoBufferAlignment}));
  }
  void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t{kIoBufferAlignment}); }
  friend bool operator==(const IoBufferAllocator&, const IoBufferAllocator&) { return true; }
};

using IoBuffer = std::vector<std::uint8_t, IoBufferAllocator<std::uint8_t>>;

}  // namespace scenarios
