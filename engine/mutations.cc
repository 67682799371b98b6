#include "engine/mutations.h"

namespace engine {
namespace {
unsigned g_mutants = 0;  // one bit per Mutant
static_assert(static_cast<unsigned>(Mutant::kCount) <= 8 * sizeof(unsigned));
}  // namespace

const std::vector<MutantInfo>& all_mutants() {
  static const std::vector<MutantInfo> kAll = {
      {Mutant::kSkipSerialisingWait, "skip-serialising-wait",
       "serialising requests (RMW, copy-on-read) never wait for overlapping ones", "serialisation"},
      {Mutant::kSkipFlushToDisk, "skip-flush-to-disk", "flushes never reach the driver's flush_to_disk",
       "flush-order"},
      {Mutant::kDrainNoWait, "drain-no-wait", "drained_begin returns with requests still in flight", "drain"},
      {Mutant::kSwallowWriteError, "swallow-write-error", "a failed driver write is reported as a success",
       "errors"},
      {Mutant::kNoZeroFallback, "no-zero-fallback", "-ENOTSUP from write_zeroes reaches the caller instead of the fallback",
       "errors"},
      {Mutant::kLeakSerialisingCount, "leak-serialising-count",
       "serialising_in_flight is never decremented", "hygiene"},
      {Mutant::kOverlapStartOnly, "overlap-start-only",
       "tracked_request_overlaps counts only a range that starts inside the request, missing one that starts before "
       "it and reaches into it", "serialisation"},
      {Mutant::kParentDrainSkipped, "parent-drain-skipped",
       "bdrv_drained_begin does not call the parents' drained_begin: a backend above a drained node is never quiesced",
       "drain"},
      {Mutant::kFlattenWriteErrno, "flatten-write-errno",
       "a failed write reports -EIO whatever its driver answered (ENOSPC, EINVAL, ...)", "errors"},
      {Mutant::kRefinementErrorPassed, "refinement-error-passed",
       "block status fails when the query of the file below a format, which only refines its answer, fails", "errors"},
      {Mutant::kFuaNotPassed, "fua-not-passed",
       "a write's FUA is emulated with a flush even where the driver takes FUA: the data is right, the disk is asked "
       "for more than the guest did", "driver-calls"},
      {Mutant::kDiscardNoWriteGen, "discard-no-write-gen",
       "a discard does not advance write_gen: a flush of a node clean before it skips the disk, and the zeroes the "
       "disk was asked for stay volatile", "flush-order"},
      {Mutant::kNestedDrainedEndUncounted, "nested-drained-end-uncounted",
       "bdrv_drained_end of a nested section returns without counting it down: the node's quiesce counter stays "
       "raised and its parents are never told the outer section ended", "drain"},
      {Mutant::kTruncateNoRefresh, "truncate-no-refresh",
       "bdrv_truncate does not refresh the node's length after its driver resized it: the device is told, but sees "
       "the old length", "parents"},
      {Mutant::kCorEnomemSuccess, "cor-enomem-success",
       "copy-on-read whose bounce buffer cannot be allocated answers success without reading: the caller's buffer "
       "keeps what it held", "data"},
      {Mutant::kRmwHeadUnserialised, "rmw-head-unserialised",
       "a padded write reads its head block without waiting for serialising requests (no explicit wait, the read "
       "told not to serialise): it may read a block another write is changing and write the stale bytes back "
       "(the fix of padded-write-waits-twice rewrites this code: hunt it with the unmutated engine at hand)",
       "data"},
  };
  return kAll;
}

std::optional<Mutant> mutant_from_name(std::string_view name) {
  for (const MutantInfo& m : all_mutants()) {
    if (m.name == name) return m.mutant;
  }
  return std::nullopt;
}

std::string_view mutant_name(Mutant m) {
  for (const MutantInfo& info : all_mutants()) {
    if (info.mutant == m) return info.name;
  }
  return "?";
}

bool mutated(Mutant m) { return (g_mutants >> static_cast<unsigned>(m)) & 1u; }

void set_mutant(Mutant m, bool on) {
  const unsigned bit = 1u << static_cast<unsigned>(m);
  g_mutants = on ? (g_mutants | bit) : (g_mutants & ~bit);
}

void clear_mutants() { g_mutants = 0; }

}  // namespace engine
