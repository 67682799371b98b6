// Seeded random numbers that mean the same thing everywhere.
//
// xoshiro256** seeded through splitmix64, with our own unbiased range mapping:
// std:: distributions differ between standard libraries, so they are never used
// inside a run. Each component draws from its own named stream (schedule,
// latency, faults, data), so adding a fault rule does not reshuffle the schedule.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace sim {

std::uint64_t splitmix64(std::uint64_t& state) noexcept;
// FNV-1a, used to turn stream names into seeds and labels into fingerprint input.
std::uint64_t hash_string(std::string_view text) noexcept;

class Rng {
 public:
  explicit Rng(std::uint64_t seed) noexcept;

  std::uint64_t next() noexcept;
  // Uniform in [0, bound), bound > 0, without modulo bias (rejection sampling).
  std::uint64_t below(std::uint64_t bound);
  // Uniform in [lo, hi], lo <= hi.
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi);
  // True with probability numerator/denominator.
  bool chance(std::uint64_t numerator, std::uint64_t denominator);

 private:
  std::uint64_t s_[4];
};

// Independent generators derived from one run seed, one per named component.
class RngStreams {
 public:
  explicit RngStreams(std::uint64_t seed) : seed_(seed) {}
  Rng& stream(std::string_view name);
  std::uint64_t seed() const { return seed_; }

 private:
  std::uint64_t seed_;
  std::map<std::string, Rng, std::less<>> streams_;  // ordered by name: deterministic
};

}  // namespace sim
