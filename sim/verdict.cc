#include "sim/verdict.h"

#include "sim/str.h"

namespace sim {

std::string_view verdict_kind_name(Verdict::Kind kind) {
  switch (kind) {
    case Verdict::Kind::kPass: return "pass";
    case Verdict::Kind::kInvariant: return "invariant";
    case Verdict::Kind::kDeadlock: return "deadlock";
    case Verdict::Kind::kStepBudget: return "step-budget";
    case Verdict::Kind::kTimeBudget: return "time-budget";
    case Verdict::Kind::kWallBudget: return "wall-budget";
    case Verdict::Kind::kOracle: return "oracle";
    case Verdict::Kind::kSimLimit: return "sim-limit";
  }
  return "?";
}

std::string failure_signature(std::string_view kind, std::string_view id, std::string_view shape) {
  std::string out(kind);
  if (!id.empty()) out += cat(":", id);
  if (!shape.empty()) out += cat(" [", shape, "]");
  // One line whatever the names inside it hold (names are printable, but a
  // message-derived shape must not break a table).
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return out;
}

std::string failure_signature(const Verdict& verdict) {
  if (verdict.ok()) return "pass";
  // A runtime assertion without a stable id is known by where it is.
  const std::string_view shape = verdict.shape.empty() && verdict.id.empty() ? verdict.location : verdict.shape;
  return failure_signature(verdict_kind_name(verdict.kind), verdict.id, shape);
}

}  // namespace sim
