// Deliberate defects that can be switched on to prove the oracles bite: each
// mutant breaks one documented behaviour of the request layer, and a run with it
// must be caught by the oracle named beside it. Off by default; the CLI's
// --mutant and the tests switch them on for one run at a time.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace engine {

enum class Mutant : unsigned char {
  kSkipSerialisingWait,   // wait_serialising_requests never waits     (serialisation, data)
  kSkipFlushToDisk,       // flush skips the driver's flush_to_disk    (flush-order, durability)
  kDrainNoWait,           // drained_begin does not wait for requests  (drain)
  kSwallowWriteError,     // a failed driver write reports success     (errors)
  kNoZeroFallback,        // -ENOTSUP from write_zeroes reaches caller (errors)
  kLeakSerialisingCount,  // a serialising request's count never drops (hygiene)
  kOverlapStartOnly,      // overlap misses a range starting before the request (serialisation, from its own model)
  kParentDrainSkipped,    // drained_begin does not tell the node's parents (drain: a backend left unquiesced)
  kFlattenWriteErrno,     // a failed write reports -EIO whatever its driver said (errors)
  kRefinementErrorPassed, // block status fails when its refining query of the file fails (errors)
  kFuaNotPassed,          // FUA is emulated with a flush even where the driver takes it (driver-calls)
  kDiscardNoWriteGen,     // a discard does not count as a write: the next flush of a clean node skips it (flush-order)
  kTruncateNoRefresh,     // bdrv_truncate does not refresh the node's length (parents)
  kNestedDrainedEndUncounted,  // a nested drained_end returns without counting down (drain, at the end of a run)
  kCorEnomemSuccess,      // copy-on-read without a bounce buffer answers success, unread (data)
  kRmwHeadUnserialised,   // a padded write's head read waits for no serialising request (data)
  kCount,
};

struct MutantInfo {
  Mutant mutant;
  std::string_view name;
  std::string_view breaks;  // what it breaks
  std::string_view caught_by;  // the oracle that must catch it
};

const std::vector<MutantInfo>& all_mutants();
std::optional<Mutant> mutant_from_name(std::string_view name);
std::string_view mutant_name(Mutant m);

// Whether `m` is switched on. Cheap: one load and a test.
bool mutated(Mutant m);
void set_mutant(Mutant m, bool on);
void clear_mutants();

// Switches a mutant on for one scope (tests).
class ScopedMutant {
 public:
  explicit ScopedMutant(Mutant m) : m_(m) { set_mutant(m_, true); }
  ~ScopedMutant() { set_mutant(m_, false); }
  ScopedMutant(const ScopedMutant&) = delete;
  ScopedMutant& operator=(const ScopedMutant&) = delete;

 private:
  Mutant m_;
};

}  // namespace engine
