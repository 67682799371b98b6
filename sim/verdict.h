// The outcome of a run.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sim {

struct Verdict {
  enum class Kind {
    kPass,
    kInvariant,    // a checked invariant of the engine or runtime failed
    kDeadlock,     // nothing can run while coroutines are blocked
    kStepBudget,   // too many dispatched events: a livelock or a runaway job
    kTimeBudget,   // virtual time ran past its budget
    kWallBudget,   // the run took longer in real time than its watchdog allows
    kOracle,       // an oracle found wrong behaviour (data, durability, ...)
  };
  Kind kind = Kind::kPass;
  std::string message;
  std::string location;              // source location for invariants, else empty
  std::vector<std::string> details;  // e.g. each blocked coroutine of a deadlock
  std::string id;                    // the invariant's stable id, if it has one
  std::uint64_t event_index = 0;     // trace events recorded when the verdict was reached
  std::uint64_t time_ns = 0;         // virtual time then

  bool ok() const { return kind == Kind::kPass; }
};

std::string_view verdict_kind_name(Verdict::Kind kind);

// Thrown (never caught by engine code) to unwind a run once a verdict is final.
// Deliberately not a std::exception, so a generic catch cannot swallow it.
struct RunAborted {};

}  // namespace sim
