#include "scenarios/hunt/choices.h"

#include <algorithm>

#include "sim/invariant.h"

namespace scenarios::hunt {

std::uint64_t Choices::below(std::uint64_t bound) {
  SIM_ASSERT(bound > 0, "a draw below 0");
  SIM_ASSERT(tape_.size() < kMaxDraws, "a generated scenario drew more than Choices::kMaxDraws values");
  const std::size_t i = tape_.size();
  const std::uint64_t value = i < replay_.size() ? replay_[i] % bound : rng_.below(bound);
  tape_.push_back(value);
  return value;
}

namespace {

// A value the parent drew, redrawn: any value (it wraps into its bound when
// replayed), or a neighbour, which keeps sizes and counts close.
void redraw(std::vector<std::uint64_t>& tape, std::size_t i, sim::Rng& rng) {
  switch (rng.below(3)) {
    case 0: tape[i] = rng.next(); break;
    case 1: tape[i] = tape[i] + 1; break;
    default: tape[i] = tape[i] == 0 ? rng.below(4) : tape[i] - 1; break;
  }
}

// Drops or repeats a list item, keeping its list's count draw in step.
bool drop_or_repeat(std::vector<std::uint64_t>& tape, const Span& s, bool drop) {
  if (s.end > tape.size() || s.begin >= s.end || s.count_at >= s.begin) return false;
  if (drop) {
    if (tape[s.count_at] == 0) return false;  // the list's least length: nothing to drop
    tape.erase(tape.begin() + s.begin, tape.begin() + s.end);
    --tape[s.count_at];
  } else {
    const std::vector<std::uint64_t> copy(tape.begin() + s.begin, tape.begin() + s.end);
    tape.insert(tape.begin() + s.end, copy.begin(), copy.end());
    ++tape[s.count_at];  // past the list's most length wraps: a shorter list, still valid
  }
  return true;
}

}  // namespace

Mutation mutate(const std::vector<std::uint64_t>& tape, const std::vector<Span>& spans, sim::Rng& rng) {
  Mutation m{tape, "redraw one value"};
  if (m.tape.empty()) return m;
  const std::uint64_t kind = rng.below(spans.empty() ? 2 : 5);
  switch (kind) {
    case 0:
      redraw(m.tape, rng.below(m.tape.size()), rng);
      break;
    case 1: {
      // Havoc: a few values at once.
      m.what = "redraw several values";
      const std::uint64_t n = rng.between(2, 6);
      for (std::uint64_t k = 0; k < n; ++k) redraw(m.tape, rng.below(m.tape.size()), rng);
      break;
    }
    case 2:
    case 3: {
      const Span& s = spans[rng.below(spans.size())];
      const bool drop = kind == 2;
      m.what = drop ? "drop a list item" : "repeat a list item";
      if (!drop_or_repeat(m.tape, s, drop)) {
        m.what = "redraw one value";
        redraw(m.tape, rng.below(m.tape.size()), rng);
      }
      break;
    }
    default: {
      // Redraw a list item whole: the same place in the scenario, new content.
      const Span& s = spans[rng.below(spans.size())];
      m.what = "redraw a list item";
      if (s.end <= m.tape.size()) {
        for (std::uint32_t i = s.begin; i < s.end; ++i) m.tape[i] = rng.next();
      }
      break;
    }
  }
  return m;
}

}  // namespace scenarios::hunt
