#include "sim/scheduler.h"

#include <algorithm>
#include <charconv>

#include "sim/str.h"


#include "sim/invariant.h"

namespace sim {

std::string ChoiceTape::to_string() const {
  std::string out;
  for (const Choice& c : choices) {
    if (!out.empty()) out += ' ';
    out += cat(c.candidates, ":", c.chosen);
  }
  return out;
}

absl::StatusOr<ChoiceTape> ChoiceTape::parse(std::string_view text) {
  ChoiceTape tape;
  std::size_t index = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == ' ' || text[pos] == '\n' || text[pos] == '\t') {
      ++pos;
      continue;
    }
    std::size_t stop = text.find_first_of(" \n\t", pos);
    if (stop == std::string_view::npos) stop = text.size();
    std::string_view item = text.substr(pos, stop - pos);
    pos = stop;
    ++index;
    std::size_t colon = item.find(':');
    Choice c{};
    auto parse_u32 = [](std::string_view s, std::uint32_t& out) {
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      return ec == std::errc() && end == s.data() + s.size();
    };
    if (colon == std::string_view::npos || !parse_u32(item.substr(0, colon), c.candidates) ||
        !parse_u32(item.substr(colon + 1), c.chosen) || c.candidates < 2 || c.chosen >= c.candidates) {
      return absl::InvalidArgumentError(cat("choice tape entry ", index, " '", item,
                                                     "': expected N:K with N >= 2 and K < N"));
    }
    tape.choices.push_back(c);
  }
  return tape;
}

std::size_t FifoStrategy::choose(absl::Span<const Candidate> ready, std::uint64_t) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < ready.size(); ++i) {
    if (ready[i].seq < ready[best].seq) best = i;
  }
  return best;
}

std::size_t RandomStrategy::choose(absl::Span<const Candidate> ready, std::uint64_t) {
  return static_cast<std::size_t>(rng_.below(ready.size()));
}

PctStrategy::PctStrategy(Rng& rng, std::uint32_t depth, std::uint64_t expected_steps)
    : rng_(rng), depth_(depth) {
  SIM_ASSERT(depth >= 1 && depth <= kMaxPctDepth, "PCT depth out of range");
  SIM_ASSERT(expected_steps >= 1, "PCT needs a positive step estimate");
  for (std::uint32_t i = 1; i < depth; ++i) change_points_.push_back(rng_.between(1, expected_steps));
  std::sort(change_points_.begin(), change_points_.end());
}

std::uint64_t PctStrategy::priority_of(std::uint64_t actor) {
  auto it = std::lower_bound(priorities_.begin(), priorities_.end(), actor,
                             [](const auto& entry, std::uint64_t key) { return entry.first < key; });
  if (it == priorities_.end() || it->first != actor) {
    // Initial priorities sit above every change-point priority (which are < depth).
    std::uint64_t priority = depth_ + rng_.below(UINT64_MAX - depth_);
    it = priorities_.insert(it, {actor, priority});
  }
  return it->second;
}

std::size_t PctStrategy::choose(absl::Span<const Candidate> ready, std::uint64_t step) {
  std::size_t best = 0;
  std::uint64_t best_priority = priority_of(ready[0].actor);
  for (std::size_t i = 1; i < ready.size(); ++i) {
    std::uint64_t p = priority_of(ready[i].actor);
    // Ties (events of one actor) go to the oldest, as in program order.
    if (p > best_priority || (p == best_priority && ready[i].seq < ready[best].seq)) {
      best = i;
      best_priority = p;
    }
  }
  while (next_change_ < change_points_.size() && change_points_[next_change_] <= step) {
    // Change point i lowers the running actor to priority d - 1 - i: later change
    // points push below earlier ones, all below every initial priority.
    std::uint64_t lowered = depth_ - 1 - next_change_;
    ++next_change_;
    for (auto& entry : priorities_) {
      if (entry.first == ready[best].actor) entry.second = lowered;
    }
  }
  return best;
}

std::size_t ReplayStrategy::choose(absl::Span<const Candidate> ready, std::uint64_t step) {
  if (!divergence_) {
    if (position_ >= tape_.choices.size()) {
      divergence_ = cat("the run needed more choices than the tape holds (", tape_.choices.size(),
                                 ") at step ", step);
    } else {
      const Choice& c = tape_.choices[position_];
      if (c.candidates != ready.size()) {
        divergence_ = cat("choice ", position_, " at step ", step, ": tape has ", c.candidates,
                                   " candidates, run has ", ready.size());
      } else {
        ++position_;
        return c.chosen;
      }
    }
  }
  return fallback_.choose(ready, step);
}

std::string StrategySpec::to_string() const {
  switch (kind) {
    case Kind::kFifo: return "fifo";
    case Kind::kRandom: return "random";
    case Kind::kPct: return cat("pct:", pct_depth);
    case Kind::kReplay: return "replay";
  }
  return "?";
}

absl::StatusOr<StrategySpec> StrategySpec::parse(std::string_view text) {
  StrategySpec spec;
  if (text == "fifo") {
    spec.kind = Kind::kFifo;
  } else if (text == "random") {
    spec.kind = Kind::kRandom;
  } else if (text == "replay") {
    spec.kind = Kind::kReplay;
  } else if (text == "pct" || text.starts_with("pct:")) {
    spec.kind = Kind::kPct;
    if (text.size() > 3) {
      std::string_view digits = text.substr(4);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), spec.pct_depth);
      if (ec != std::errc() || end != digits.data() + digits.size() || spec.pct_depth < 1 ||
          spec.pct_depth > kMaxPctDepth) {
        return absl::InvalidArgumentError(
            cat("strategy '", text, "': expected pct:D with D from 1 to ", kMaxPctDepth));
      }
    }
  } else {
    return absl::InvalidArgumentError(
        cat("unknown strategy '", text, "': expected fifo, random, pct, pct:D or replay"));
  }
  return spec;
}

}  // namespace sim
