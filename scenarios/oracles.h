// The properties a run is judged by. A scenario picks the ones it applies
// (default: all); liveness and the engine's invariants are always checked, as a
// run that cannot finish or has broken its own state has no other verdict.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace scenarios {

enum class Oracle : std::uint8_t {
  kData,           // reads and the final image hold only values the write history allows
  kDurability,     // after a crash, flushed (and FUA) writes survive
  kFlushOrder,     // a successful flush left nothing completed before it in the cache
  kSerialisation,  // no driver I/O overlaps a serialising request past its wait
  kDrain,          // drained nodes have nothing in flight and take no guest request
  kHygiene,        // nothing tracked or in flight at the end, no leaked frame
  kErrors,         // driver errors reach the caller, except where the reference absorbs them
  kAllocation,     // allocation queries agree with the writes and the chain
  kDirtyBitmaps,   // every range written while a dirty bitmap was enabled is dirty in it
  kDriverCalls,    // a command's driver writes land in its range, cover it, carry its flags
  kParents,        // every device whose data was resized is told and sees the new length
  kExpect,         // always on: the outcomes the scenario itself states (read -P, "=> EIO")
  kLiveness,       // always on: deadlock with its wait cycle, step and time budgets
  kInvariants,     // always on: the engine's checked assertions
  kCount,
};

struct OracleInfo {
  Oracle oracle;
  std::string_view name;
  std::string_view what;
  bool always_on;
};

const std::vector<OracleInfo>& all_oracles();
std::string_view oracle_name(Oracle o);
std::optional<Oracle> oracle_from_name(std::string_view name);

class OracleSet {
 public:
  static OracleSet all() {
    OracleSet s;
    s.bits_ = (1u << static_cast<unsigned>(Oracle::kCount)) - 1;
    return s;
  }
  static OracleSet none() {
    return OracleSet().with(Oracle::kExpect).with(Oracle::kLiveness).with(Oracle::kInvariants);
  }
  OracleSet with(Oracle o) const {
    OracleSet s = *this;
    s.bits_ |= 1u << static_cast<unsigned>(o);
    return s;
  }
  bool has(Oracle o) const { return (bits_ >> static_cast<unsigned>(o)) & 1u; }
  bool operator==(const OracleSet&) const = default;

 private:
  std::uint32_t bits_ = 0;
};

}  // namespace scenarios
