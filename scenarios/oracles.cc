#include "scenarios/oracles.h"

namespace scenarios {

const std::vector<OracleInfo>& all_oracles() {
  static const std::vector<OracleInfo> kAll = {
      {Oracle::kData, "data",
       "every byte a read returns (and the final image) was written by the last write to complete before the "
       "read began or by one concurrent with it",
       false},
      {Oracle::kDurability, "durability",
       "after a crash, every write completed before a successful flush began, and every completed FUA write, "
       "survives unless overwritten",
       false},
      {Oracle::kFlushOrder, "flush-order",
       "when a flush succeeds, no write that completed before it began is still only in a volatile cache below",
       false},
      {Oracle::kSerialisation, "serialisation",
       "while a serialising request is past its wait, no overlapping request issues driver I/O on its node, and no write "
       "enters below it (through filters) inside its range", false},
      {Oracle::kDrain, "drain",
       "when drained_begin returns the subtree has nothing in flight, and no guest request enters until drained_end",
       false},
      {Oracle::kHygiene, "hygiene", "at the end: no tracked request, in_flight, serialising_in_flight or leaked frame",
       false},
      {Oracle::kErrors, "errors",
       "every driver error where it arose meets the error table (blksim list error-table): passed up, the command "
       "fails with that errno; fallen back from or ignored, it must not fail it; a command fails only with a driver "
       "error below it",
       false},
      {Oracle::kAllocation, "allocation",
       "alloc and map answers tile the range asked; bytes a settled data write put in a node since its known "
       "content, and bytes a read copied on read, are allocated in it; what map calls unallocated in the whole "
       "chain may read as zeroes",
       false},
      {Oracle::kDirtyBitmaps, "dirty-bitmaps",
       "every write (and zero write) that succeeded, issued after a dirty bitmap of its node was enabled and "
       "completed before it was disabled, left each chunk it covers dirty in that bitmap",
       false},
      {Oracle::kDriverCalls, "driver-calls",
       "on the nodes a write or discard passes through (its node and the filters below it), every driver write "
       "lies in the request widened to the alignments above it (a discard: in the request itself), a successful "
       "write's range is written, and FUA and MAY_UNMAP reach every driver that declares them",
       false},
      {Oracle::kParents, "parents",
       "after a truncate resized a node, every device whose data lives on it was told (a resize callback) and sees "
       "the new length",
       false},
      {Oracle::kExpect, "expect",
       "each command's outcome is the one the scenario states: read -P's pattern, and \"=> ok\" or \"=> EIO\" "
       "after a command",
       true},
      {Oracle::kLiveness, "liveness", "every job finishes: deadlocks with their wait cycle, step and time budgets",
       true},
      {Oracle::kInvariants, "invariants", "the engine's and runtime's checked assertions", true},
  };
  return kAll;
}

std::string_view oracle_name(Oracle o) {
  for (const OracleInfo& info : all_oracles()) {
    if (info.oracle == o) return info.name;
  }
  return "?";
}

std::optional<Oracle> oracle_from_name(std::string_view name) {
  for (const OracleInfo& info : all_oracles()) {
    if (info.name == name) return info.oracle;
  }
  return std::nullopt;
}

}  // namespace scenarios
