// Code probes, as FoundationDB's: named points at decisions of interest in
// engine/ and drivers/ (a request waited for a serialising one, a
// read-modify-write of a head, a fallback taken, a flush skipped). Each probe
// is an object at namespace scope, so every probe is known at start-up whether
// or not a run reaches it; a hit is counted in the live World for that run
// and changes nothing else (no trace event, no choice): fingerprints are
// those of a build without probes. `blksim run --probes` prints a run's hits.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace sim {

class Probe {
 public:
  // `name` as "area.decision"; `what` says what reaching it means.
  Probe(std::string_view name, std::string_view what);
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  // Counted in World::current(), if a World is live (outside a run: nothing).
  void hit() const;

  std::string_view name() const { return name_; }
  std::string_view what() const { return what_; }
  std::uint32_t index() const { return index_; }

  // Every probe of the program, in registration order (not stable across
  // builds: sort by name for output).
  static const std::vector<const Probe*>& all();

 private:
  std::string_view name_;
  std::string_view what_;
  std::uint32_t index_;
};

}  // namespace sim
