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
  const std::string& name() const { return name_; }
  AioContext& context() const { return *ctx_; }
  CoState state() const { return state_; }
  // Valid while state() == kBlocked.
  const WaitInfo& wait() const { return wait_; }
  std::string describe() const;

 private:
  friend class World;
  Coroutine(CoroutineId id, std::string name, AioContext& ctx, Task<void> root,
            absl::AnyInvocable<void()> on_done)
      : id_(id), name_(std::move(name)), ctx_(&ctx), root_(std::move(root)), on_done_(std::move(on_done)) {}

  CoroutineId id_;
  std::string name_;
  AioContext* ctx_;
  Task<void> root_;
  absl::AnyInvocable<void()> on_done_;
  std::coroutine_handle<> resume_point_;
  CoState state_ = CoState::kReady;
  bool wake_queued_ = false;  // a resume event is pending: waking again is a bug
  WaitInfo wait_;
};

}  // namespace sim
