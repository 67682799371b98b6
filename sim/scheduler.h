// Scheduling strategies: who runs next when several events are ready at once.
//
// The World asks the strategy only at a real choice point (two or more candidates
// ready at the same virtual time). Every answer is appended to the choice tape, so
// any run can be replayed from the tape alone, without its seed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <absl/status/statusor.h>
#include <absl/types/span.h>

#include "sim/rng.h"

namespace sim {

// What a strategy may know about a ready event.
struct Candidate {
  std::uint64_t seq;    // order of becoming ready: lower is older
  std::uint64_t actor;  // the coroutine it resumes or that caused it (0: none)
};

struct Choice {
  std::uint32_t candidates;
  std::uint32_t chosen;
  bool operator==(const Choice&) const = default;
};

// The recorded choices of one run, in order. Text form: "n:k n:k ...".
struct ChoiceTape {
  std::vector<Choice> choices;
  std::string to_string() const;
  static absl::StatusOr<ChoiceTape> parse(std::string_view text);
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  // Index into `ready` (size >= 2) of the event to run. `step` counts dispatched events.
  virtual std::size_t choose(absl::Span<const Candidate> ready, std::uint64_t step) = 0;
  virtual std::string name() const = 0;
  // For replay: the first choice point where the run left the tape, if any.
  virtual std::optional<std::string> divergence() const { return std::nullopt; }
};

// Oldest first: QEMU's own order (bottom halves and wake-ups in scheduling order).
class FifoStrategy final : public Strategy {
 public:
  std::size_t choose(absl::Span<const Candidate> ready, std::uint64_t step) override;
  std::string name() const override { return "fifo"; }
};

// Uniformly random among the ready events.
class RandomStrategy final : public Strategy {
 public:
  explicit RandomStrategy(Rng& rng) : rng_(rng) {}
  std::size_t choose(absl::Span<const Candidate> ready, std::uint64_t step) override;
  std::string name() const override { return "random"; }

 private:
  Rng& rng_;
};

// Probabilistic Concurrency Testing (Burckhardt et al., ASPLOS 2010) with bug depth
// D: actors get random distinct priorities; the highest-priority ready actor runs;
// at D-1 change points drawn from [1, expected_steps] the running actor drops to a
// priority below every initial one. Finds a depth-D bug with probability at least
// 1/(n * k^(D-1)).
class PctStrategy final : public Strategy {
 public:
  PctStrategy(Rng& rng, std::uint32_t depth, std::uint64_t expected_steps);
  std::size_t choose(absl::Span<const Candidate> ready, std::uint64_t step) override;
  std::string name() const override { return "pct:" + std::to_string(depth_); }

 private:
  std::uint64_t priority_of(std::uint64_t actor);
  Rng& rng_;
  std::uint32_t depth_;
  std::vector<std::uint64_t> change_points_;  // sorted ascending
  std::size_t next_change_ = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> priorities_;  // actor -> priority, sorted by actor
};

// Follows a recorded tape; where the run no longer matches it (a different number
// of candidates), it records the divergence and continues oldest-first.
class ReplayStrategy final : public Strategy {
 public:
  explicit ReplayStrategy(ChoiceTape tape) : tape_(std::move(tape)) {}
  std::size_t choose(absl::Span<const Candidate> ready, std::uint64_t step) override;
  std::string name() const override { return "replay"; }
  std::optional<std::string> divergence() const override { return divergence_; }

 private:
  ChoiceTape tape_;
  std::size_t position_ = 0;
  std::optional<std::string> divergence_;
  FifoStrategy fallback_;
};

// The strategies a user can name: "fifo", "random", "pct" (depth 3), "pct:D",
// "replay" (needs a tape).
struct StrategySpec {
  enum class Kind { kFifo, kRandom, kPct, kReplay } kind = Kind::kFifo;
  std::uint32_t pct_depth = 3;
  std::string to_string() const;
  static absl::StatusOr<StrategySpec> parse(std::string_view text);
};

// Bounds on a strategy's parameters.
inline constexpr std::uint32_t kMaxPctDepth = 64;
inline constexpr std::uint64_t kDefaultPctExpectedSteps = 20000;

}  // namespace sim
