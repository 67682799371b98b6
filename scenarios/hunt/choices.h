// The draws a generated scenario is made of, as a tape (Hypothesis's choice
// sequence; Zest's parametric generators, Padhye et al., ISSTA 2019).
//
// The generator asks a Choices for every number it draws. A fresh Choices
// draws from a seeded Rng and records each value; a Choices built from a tape
// replays it (a value above its bound wraps into it) and draws freshly past
// its end. Mutating a tape and replaying it through the same generator gives a
// scenario that differs structurally from its parent (a command changed,
// dropped or repeated, a limit or a rule changed, a feature toggled) and is
// always one the generator could have drawn: never text the parser refuses.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/rng.h"

namespace scenarios::hunt {

// A list item the generator drew: its draws are tape[begin, end), and the draw
// that chose how many items the list has is tape[count_at] (so a mutation can
// drop or repeat the item and keep the count right).
struct Span {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  std::uint32_t count_at = 0;
};

class Choices {
 public:
  // At most this many draws per scenario: a bound, not a budget (a generated
  // scenario draws a few hundred).
  static constexpr std::size_t kMaxDraws = 1 << 16;

  explicit Choices(std::uint64_t seed) : rng_(seed) {}
  Choices(std::vector<std::uint64_t> tape, std::uint64_t seed) : rng_(seed), replay_(std::move(tape)) {}

  // Uniform in [0, bound), bound > 0.
  std::uint64_t below(std::uint64_t bound);
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) { return lo + below(hi - lo + 1); }
  bool chance(std::uint64_t numerator, std::uint64_t denominator) { return below(denominator) < numerator; }

  // The index the next draw records at (to open a span, or to name a count).
  std::uint32_t position() const { return static_cast<std::uint32_t>(tape_.size()); }
  void add_span(Span s) { spans_.push_back(s); }

  const std::vector<std::uint64_t>& tape() const { return tape_; }
  const std::vector<Span>& spans() const { return spans_; }

 private:
  sim::Rng rng_;
  std::vector<std::uint64_t> replay_;
  std::vector<std::uint64_t> tape_;  // the values drawn, each below its bound
  std::vector<Span> spans_;
};

// One mutation of a parent's tape, drawn from `rng`: a value changed, a list
// item dropped or repeated, a run of values redrawn, or several at once.
// `spans` are the parent's. Returns the child's tape and says what it did.
struct Mutation {
  std::vector<std::uint64_t> tape;
  const char* what = "";
};
Mutation mutate(const std::vector<std::uint64_t>& tape, const std::vector<Span>& spans, sim::Rng& rng);

}  // namespace scenarios::hunt
