// A simulated coroutine: the unit QEMU calls a Coroutine.
//
// In QEMU a coroutine is a whole stack; here it is a root Task<void> and the chain
// of tasks it awaits. The innermost suspended frame is the resume point. Each
// coroutine has a stable id (its creation order), an owning AioContext, and, when
// blocked, a record of what it waits for; the deadlock detector and the wait graph
// read that record.
#pragma once

#include <coroutine>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include <absl/functional/any_invocable.h>

#include "sim/task.h"

namespace sim {

class AioContext;
class World;

using CoroutineId = std::uint64_t;

// Why a coroutine is blocked and on whom. `reason` names the mechanism in the
// language of the engine ("serialising", "flush queue", "CoMutex", ...).
//
// Trivially destructible on purpose: the views point at string literals or at
// strings interned in the trace (World::intern), never at temporaries. g++ 12
// mishandles non-trivially-destructible temporaries inside co_await expressions
// (it may destroy them twice), so waits are described without any.
struct WaitInfo {
  std::string_view reason;
  CoroutineId holder = 0;    // the coroutine that must act first, 0 if unknown
  std::uint64_t object = 0;  // the object waited on (request id, mutex id), 0 if none
  std::string_view what;     // a description of that object
  std::uint64_t since_ns = 0;
};
static_assert(std::is_trivially_destructible_v<WaitInfo>);

enum class CoState : std::uint8_t { kReady, kRunning, kBlocked, kFinished };

class Coroutine {
 public:
  CoroutineId id() const { return id_; }
  // Its name: the spawn's name, or a numbered family's name and number.
  std::string name() const;
  // The name without its number: what a numbered family's members share.
  std::string_view family() const { return family_; }
  AioContext& context() const { return *ctx_; }
  CoState state() const { return state_; }
  // Valid while state() == kBlocked.
  const WaitInfo& wait() const { return wait_; }
  std::string describe() const;
  // A pointer the harness may attach to the coroutine while it runs (the
  // scenario runner's state of the command it executes): per-coroutine
  // bookkeeping without a map lookup on the hot path. Unused by the runtime.
  void* annotation() const { return annotation_; }
  void set_annotation(void* annotation) { annotation_ = annotation; }

 private:
  friend class World;
  friend class WaiterList;
  Coroutine(CoroutineId id, std::string_view family, std::uint64_t number, AioContext& ctx, Task<void> root,
            absl::AnyInvocable<void()> on_done)
      : id_(id), family_(family), number_(number), ctx_(&ctx), root_(std::move(root)), on_done_(std::move(on_done)) {}

  CoroutineId id_;
  std::string_view family_;  // interned in the trace: lives as long as the World
  std::uint64_t number_;     // 0: the name is family_; else family_ + (number_ - 1)
  AioContext* ctx_;
  Task<void> root_;
  absl::AnyInvocable<void()> on_done_;
  std::coroutine_handle<> resume_point_;
  CoState state_ = CoState::kReady;
  bool wake_queued_ = false;  // a resume event is pending: waking again is a bug
  bool queued_ = false;       // on a WaiterList (CoQueue, CoMutex)
  Coroutine* waiter_next_ = nullptr;
  // The World's live coroutines, a list in id (creation) order.
  Coroutine* live_prev_ = nullptr;
  Coroutine* live_next_ = nullptr;
  WaitInfo wait_;
  std::uint32_t wait_labels_[2] = {0, 0};  // wait_.reason and wait_.what interned, for wait_end
  void* annotation_ = nullptr;
};

}  // namespace sim
