// Later fixes of the reference's defects, each behind a switch. The engine is
// the reference, defects included (docs/reference-defects.md); a scenario that
// must check past a known defect switches on the fix QEMU made later (or, where
// QEMU has not fixed it, the fix proposed with the report), so the defect does
// not hide what comes after it. Off by default; `fixes = [...]` in a scenario
// and `--fix NAME` switch them on for one run.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace engine {

enum class Fix : unsigned char {
  kFuaCleanNode,          // emulated FUA counts its write before flushing
  kDiscardSerialised,     // discard waits for serialising requests
  kCopyOnReadMaxTransfer, // copy-on-read works in pieces of at most max_transfer
  kPaddedMaxIov,          // padding an unaligned request keeps its vector within max_iov
  kDrainWalkGraphChange,  // bdrv_drain_recurse's walk of the children survives a graph change
  kNoFlushGen,            // a flush that cache.no-flush kept from the disk records no generation
  kCorInactive,           // copy-on-read writes nothing back to an inactive node
  kPaddingWaitsOnce,      // a padded write waits once, before reading both head and tail
  kLateWaitUnasserted,    // a serialising write may wait again before its driver write (no assertion)
  kTruncateFilterStale,   // a filter's truncate refreshes its length, bitmaps and parents as a native one
  kResizeBelowFilter,     // a resize of a filter's child refreshes the filter and tells its parents
  kFlushAllChildren,      // a flush reaches every child the node writes to, not only its file
  kMaxLength,             // requests whose end passes BDRV_MAX_LENGTH fail with -EIO
  kIovLengthAlignment,    // bdrv_qiov_is_aligned checks lengths against request_alignment
  kSyncWrapperKick,       // a sync wrapper's coroutine kicks the main loop after setting its result
  kNestedPollWaiters,     // BDRV_POLL_WHILE from the main loop counts its waiters (AioWait): they may nest
  kDrainAllDeletedNode,   // a node deleted inside a drain_all section ends that section's share of it first
  kNestedDrainParents,    // every drained_begin/end tells the node's parents, not only the outermost
  kDrainAllGraphChange,   // drain_all ends exactly the parent edges it began, whatever moved in between
  kBackupCopySerialising, // backup's background copy reads without waiting for serialising requests
  kNoSerialisingWaits,    // a BDRV_REQ_NO_SERIALISING read waits for other coroutines' serialising requests
  kZeroFallbackRealigns,  // after a zero write's fallback stopped short of an alignment boundary, the next piece is a head
  kCount,
};

struct FixInfo {
  Fix fix;
  std::string_view name;    // the known defect's name, as in docs/reference-defects.md
  std::string_view defect;  // what the reference does
  std::string_view change;  // what the fix changes, and where it comes from
};

const std::vector<FixInfo>& all_fixes();
std::optional<Fix> fix_from_name(std::string_view name);
std::string_view fix_name(Fix f);

// Whether `f` is switched on. Cheap: one load and a test.
bool fixed(Fix f);
void set_fix(Fix f, bool on);
void clear_fixes();

// Switches a fix on for one scope (tests).
class ScopedFix {
 public:
  explicit ScopedFix(Fix f) : f_(f) { set_fix(f_, true); }
  ~ScopedFix() { set_fix(f_, false); }
  ScopedFix(const ScopedFix&) = delete;
  ScopedFix& operator=(const ScopedFix&) = delete;

 private:
  Fix f_;
};

}  // namespace engine
