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
    // The simulator cannot go on, not the engine: a poll nested above another
    // thread's code that thread would go on running first (World::poll).
    kSimLimit,
  };
  Kind kind = Kind::kPass;
  std::string message;
  std::string location;              // source location for invariants, else empty
  std::vector<std::string> details;  // e.g. each blocked coroutine of a deadlock
  std::string id;                    // the invariant's or oracle's stable id, if it has one
  // What identifies this failure beyond kind and id, stable across seeds and
  // shrinking: a deadlock's wait cycle as (coroutine family @ wait reason), the
  // kind of wrong content a data oracle saw, the kinds of two overlapping
  // requests. Empty when kind and id say it all.
  std::string shape;
  std::uint64_t event_index = 0;     // trace events recorded when the verdict was reached
  std::uint64_t time_ns = 0;         // virtual time then

  bool ok() const { return kind == Kind::kPass; }
};

std::string_view verdict_kind_name(Verdict::Kind kind);

// A failure's signature: "KIND[:ID][ [SHAPE]]", one line. Two failures with the
// same signature are taken to be the same defect: the shrinker keeps it, sweeps
// group by it, known defects are recognised by it.
std::string failure_signature(std::string_view kind, std::string_view id, std::string_view shape);
std::string failure_signature(const Verdict& verdict);

// Thrown (never caught by engine code) to unwind a run once a verdict is final.
// Deliberately not a std::exception, so a generic catch cannot swallow it.
struct RunAborted {};

}  // namespace sim
