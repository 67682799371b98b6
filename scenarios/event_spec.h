// Scenario events: an action on the node graph at a virtual time or when a
// condition holds. Written as [[event]] tables:
//   trigger: at_ns = T | after_job = "JOB" | after_requests = N | on_break = "TAG"
//   action:  drain | drained | drain_all | flush_all | crash | copy_on_read | set_state | resume
//            | eject | insert | read_only | dirty_bitmap | power_cut | set_backing | reopen
//            | inactivate | activate | backup | block_resize | blockdev_del | replace_node
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/status.h>
#include <toml++/toml.h>

#include "drivers/media.h"

namespace scenarios {

class Reader;
struct Scenario;

// Bounds.
inline constexpr std::uint32_t kMaxEvents = 256;
inline constexpr std::uint64_t kMaxEventDelayNs = 1ULL << 50;
// Crash events read the whole of each node jobs write to (the durability check).
inline constexpr std::uint64_t kMaxCrashCheckedBytes = 64ULL << 20;
// A backup copies at most this much at once (backup's cluster).
inline constexpr std::uint64_t kMaxBackupCluster = 1 << 20;
// A power_cut event judges at most this many moments.
inline constexpr std::uint32_t kMaxPowerCuts = 1000;

// A set_backing (an event's, or a device callback's) is sound for the oracles:
// on a cow node, to a node in its AioContext that is not above it, and the old
// and new backings read as zeroes for the whole run. `what` names the caller
// in errors, at `at_node` / `at_backing`.
absl::Status check_set_backing(const Reader& r, const toml::source_region& at_node, const toml::source_region& at_backing,
                               std::string_view what, const Scenario& s, const std::string& node,
                               const std::string& backing);

struct EventSpec {
  enum class Trigger : std::uint8_t { kAt, kAfterJob, kAfterRequests, kOnBreak };
  enum class Action : std::uint8_t {
    kDrain, kDrained, kDrainAll, kFlushAll, kCrash, kCopyOnRead, kSetState, kResume, kEject, kInsert, kReadOnly,
    kDirtyBitmap, kPowerCut, kSetBacking, kReopen, kInactivate, kActivate, kBackup, kBlockResize, kBlockdevDel,
    kReplaceNode
  };
  enum class BackupSync : std::uint8_t { kFull, kNone };

  std::string name;
  Trigger trigger = Trigger::kAt;
  std::uint64_t at_ns = 0;
  std::string after_job;
  std::uint64_t after_requests = 0;
  std::string on_break;  // a breakpoint tag on the fault node at or below `node`

  Action action = Action::kDrain;
  std::string node;               // "" for drain_all, flush_all, and a crash of every mem node
  std::uint64_t duration_ns = 0;  // drained, drain_all: how long the section lasts
  bool in_coroutine = false;      // drain, drained: from a coroutine rather than the main loop
  drivers::CrashMode mode = drivers::CrashMode::kDropAll;
  bool enabled = true;  // copy_on_read, read_only, dirty_bitmap
  std::string bitmap;   // dirty_bitmap: its name (created the first time)
  std::uint32_t granularity = 65536;  // dirty_bitmap
  std::string backing;          // set_backing: the new backing node ("": none)
  bool drained = false;         // set_backing: inside a drained section of the node
  bool no_flush = false;        // reopen: cache.no-flush of the node and the nodes below
  std::uint32_t count = 1;      // power_cut: how many moments are judged
  std::uint64_t every_ns = 0;   // power_cut: virtual time between them
  std::string target;           // backup: the node the point-in-time copy goes to; replace_node: the new node
  BackupSync sync = BackupSync::kFull;  // backup: copy everything, or only what is about to be overwritten
  std::uint32_t cluster_size = 65536;   // backup: the unit it copies
  std::uint64_t size = 0;               // block_resize: the new length
  int state = 1;        // set_state
  std::string tag;      // resume
  int line = 0;

  std::string describe() const;
};

std::string_view event_action_name(EventSpec::Action action);
// Every action an [[event]] may take, in the registry's order.
std::vector<std::string_view> event_action_names();

// Parses every [[event]] of `root` into `s.events`; nodes and jobs must be read.
absl::Status read_events(const Reader& r, const toml::table& root, Scenario& s);

}  // namespace scenarios
