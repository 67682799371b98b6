// Recycling allocator for coroutine frames.
//
// Every Task<T> frame is allocated here. Frames are bucketed by size class and
// kept on free lists, so a coroutine call in the steady state costs no malloc.
// The pool is single-threaded by design: a simulated run never uses threads.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sim {

class FramePool {
 public:
  // Frames larger than this go straight to the global allocator.
  static constexpr std::size_t kMaxPooledBytes = 4096;
  static constexpr std::size_t kGranule = 16;  // frames are rounded up to this: little waste
  static constexpr std::size_t kClasses = kMaxPooledBytes / kGranule;

  static void* allocate(std::size_t bytes);
  static void deallocate(void* frame, std::size_t bytes) noexcept;

  // Frames allocated and not yet freed (a leak check for hygiene oracles).
  static std::uint64_t live_frames() noexcept;
  // Frames served from a free list rather than the global allocator.
  static std::uint64_t recycled_frames() noexcept;
};

}  // namespace sim
