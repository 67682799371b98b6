// Whole scenarios drawn from a seed, for `blksim hunt`.
//
// A generated scenario is scenario-language text, parsed by the same parser as
// a hand-written one: what the hunter finds is a file that can go into the
// library as it is, and a generator that emits something the parser refuses
// is a bug of the generator (the hunter reports it as one), never a verdict.
//
// Swarm testing (Groce et al., ISSTA 2012): each scenario first draws which
// features it may use at all, so a rare combination (FUA writes under a
// zero-write limit with an error rule on discards) is not drowned by
// everything else happening at once.
#pragma once

#include <bitset>
#include <cstdint>
#include <string>
#include <vector>

#include "scenarios/hunt/choices.h"

namespace scenarios::hunt {

enum class Feature : std::uint8_t {
  kRead,
  kWrite,
  kZeroWrite,
  kDiscard,
  kFlush,
  kVectored,
  kFua,        // -f and -F fua on writes
  kUnaligned,  // byte offsets and lengths, not only the node's alignment
  kSyncApi,    // the sync wrappers (qemu-io's path), polling from the main loop
  kLimits,     // max_transfer, zero-write and discard limits on the disk
  kFaults,     // blkdebug-like rules answering errnos
  kFormat,     // a cow image on the disk, maybe with a backing file
  kFilters,    // raw and top filters in the path
  kQuorum,     // a quorum over several disks instead of one
  kBackend,    // jobs behind a BlockBackend-like root parent
  kDrains,     // drain, drained sections, drain_all events
  kCrash,      // flush_all and crash events
  kCopyOnRead, // copy-on-read per request and per node
  kBlockStatus,  // qemu-io's alloc and map
  kTruncate,     // a job ends by growing its node (qemu-io's truncate)
  kIothread,     // the whole graph and its jobs in an IOThread's AioContext
  kGraph,        // graph changes: set_backing, replace_node, blockdev_del, block_resize, reopen
  kMedia,        // eject and insert, read-only and back, inactivate and activate
  kPowerCut,     // power cuts judged at any moment, nothing drained
  kBitmaps,      // dirty bitmaps created, enabled and disabled
  kBackup,       // a backup job of the top node (before-write notifiers)
  kExtras,       // pwrite_sync, make_zero, sleep, aio_cancel, -F flags, empty requests, plugged batches
  kHuge,         // one disk of several GiB (mem) or up to 2^63 (null): requests near 2 GiB, 4 GiB and its end
  kCount,
};
inline constexpr std::size_t kFeatureCount = static_cast<std::size_t>(Feature::kCount);

std::string_view feature_name(Feature f);

struct Swarm {
  std::bitset<kFeatureCount> on;
  bool has(Feature f) const { return on.test(static_cast<std::size_t>(f)); }
  // "read,write,faults": the enabled features, in declaration order.
  std::string describe() const;
};

struct Generated {
  std::uint64_t seed = 0;
  Swarm swarm;
  std::string name;  // "hunt-SEED"
  std::string text;  // the scenario, TOML
  std::vector<std::uint64_t> tape;  // every draw, in order: generate_from_tape(tape) gives the same text
  std::vector<Span> spans;          // the list items among them
};

// Generation options; both default to what the hunter uses.
struct GenerateOptions {
  bool swarm = true;  // false: every feature on (the control of the swarm measurement)
  std::uint32_t run_seeds = 3;  // the scenario's `seeds`
  std::string mutated_from;     // for the text's first line: "mutated from hunt-12 (drop a list item)", or ""
  std::string name;             // the scenario's name; "" for hunt-SEED
};

// The same seed gives the same text on every build.
Generated generate(std::uint64_t seed, const GenerateOptions& options = {});

// The scenario a tape gives (a mutated one, Choices); past the tape's end the
// draws come from `seed`. Named hunt-SEED.
Generated generate_from_tape(std::vector<std::uint64_t> tape, std::uint64_t seed, const GenerateOptions& options = {});

}  // namespace scenarios::hunt
