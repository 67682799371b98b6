#include "sim/frame_pool.h"

#include <array>

namespace sim {
namespace {

struct FreeFrame {
  FreeFrame* next;
};

// Constant-initialised at namespace scope: no guard to test on every frame.
// Never destroyed: frames freed during static destruction still have a list
// to go to, and the free lists stay reachable (not leaks) until exit.
struct PoolState {
  std::array<FreeFrame*, FramePool::kClasses> free_lists{};
  std::uint64_t live = 0;
  std::uint64_t recycled = 0;
};

constinit PoolState g_pool;

PoolState& state() { return g_pool; }

std::size_t class_of(std::size_t bytes) { return (bytes + FramePool::kGranule - 1) / FramePool::kGranule - 1; }

}  // namespace

void* FramePool::allocate(std::size_t bytes) {
  PoolState& pool = state();
  ++pool.live;
  if (bytes == 0 || bytes > kMaxPooledBytes) {
    return ::operator new(bytes);
  }
  std::size_t cls = class_of(bytes);
  if (FreeFrame* frame = pool.free_lists[cls]) {
    pool.free_lists[cls] = frame->next;
    ++pool.recycled;
    return frame;
  }
  return ::operator new((cls + 1) * kGranule);
}

void FramePool::deallocate(void* frame, std::size_t bytes) noexcept {
  PoolState& pool = state();
  --pool.live;
  if (bytes == 0 || bytes > kMaxPooledBytes) {
    ::operator delete(frame);
    return;
  }
  std::size_t cls = class_of(bytes);
  auto* node = static_cast<FreeFrame*>(frame);
  node->next = pool.free_lists[cls];
  pool.free_lists[cls] = node;
}

std::uint64_t FramePool::live_frames() noexcept { return state().live; }
std::uint64_t FramePool::recycled_frames() noexcept { return state().recycled; }

}  // namespace sim
