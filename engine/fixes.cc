#include "engine/fixes.h"

namespace engine {
namespace {
unsigned g_fixes = 0;  // one bit per Fix
static_assert(static_cast<unsigned>(Fix::kCount) <= 8 * sizeof(unsigned));
}  // namespace

const std::vector<FixInfo>& all_fixes() {
  static const std::vector<FixInfo> kAll = {
      {Fix::kFuaCleanNode, "fua-clean-node",
       "emulated FUA flushes before write_gen counts the write, so on a clean node the flush skips the disk",
       "count the write in write_gen before the emulated flush (the fix proposed with the 2022 report; QEMU's "
       "bdrv_driver_pwritev still flushes first)"},
      {Fix::kDiscardSerialised, "discard-unserialised",
       "discard never waits for serialising requests (RMW, copy-on-read) past their wait",
       "wait_serialising_requests after tracked_request_begin, as QEMU 3.0's common write request preparation does "
       "(00695c27a0, \"block: Use common req handling for discard\")"},
      {Fix::kCopyOnReadMaxTransfer, "cor-max-transfer",
       "copy-on-read reads and writes back whole clusters in one driver request, past max_transfer",
       "copy-on-read loops over pieces of at most max_transfer, each checked for allocation (QEMU 2.11, cb2e28780c, "
       "\"block: Perform copy-on-read in loop\")"},
      {Fix::kPaddedMaxIov, "padded-max-iov",
       "padding an unaligned request adds a head and a tail buffer to the caller's vector, so a driver can receive "
       "max_iov + 2 buffers",
       "collapse the leading buffers of the caller's vector into one bounce buffer when padding would pass the limit "
       "(QEMU 8.1, 18743311b8, \"block: Collapse padded I/O vecs exceeding IOV_MAX\"; here against the node's "
       "max_iov, of which IOV_MAX is the default)"},
      {Fix::kDrainWalkGraphChange, "drain-walk-graph-change",
       "bdrv_drain_recurse walks the children with QLIST_FOREACH_SAFE while each child's drain polls; a bottom half "
       "run by that polling (a block job's completion) that detaches the next child leaves the walk on a freed edge",
       "look the next child up again after each child's drain (a freed edge is never followed); QEMU 2.12 removed "
       "the walk altogether (d30b8e64b7, \"block: Remove bdrv_drain_recurse()\"), after 178bd438af had protected "
       "only the child nodes"},
      {Fix::kNoFlushGen, "no-flush-gen",
       "a flush that cache.no-flush keeps from the disk still records its write generation as flushed, so once "
       "no-flush is off again the next flush skips the disk until something new is written: data written under "
       "no-flush stays volatile while the guest's flush succeeds",
       "leave flushed_gen as it was when the node's flush skipped the disk for cache.no-flush (blksim's fix; QEMU's "
       "bdrv_co_flush still records it, as of 2025-08, fc8b078e14)"},
      {Fix::kCorInactive, "cor-inactive",
       "copy-on-read writes the clusters it read back into the node even when the node is inactive (after "
       "bdrv_inactivate_all, when another QEMU owns the image)",
       "treat the range as allocated on an inactive node, so nothing is written (QEMU 4.2, 8644476e51, \"block: "
       "Skip COR for inactive nodes\")"},
      {Fix::kPaddingWaitsOnce, "padded-write-waits-twice",
       "an unaligned write waits for serialising requests before its head read-modify-write and again before its "
       "tail one; a serialising write that passed a waiting one (wait_serialising_requests skips requests that "
       "wait) can make the second wait wait, and the reference asserts it does not "
       "(assert(!waited || !use_local_qiov)): QEMU aborts",
       "mark the request serialising and wait once before reading both head and tail (QEMU 4.2, 7a3f542fbd, "
       "\"block/io: refactor padding\")"},
      {Fix::kLateWaitUnasserted, "late-serialising-wait",
       "a serialising write waits for serialising requests once more before its driver write, and the reference "
       "asserts that this wait does not wait (assert(!waited || !req->serialising)); a serialising write that "
       "passed it while it waited for another breaks that: QEMU aborts",
       "wait without the assertion where the request was not flagged BDRV_REQ_SERIALISING (QEMU 5.0, 18fbd0dec7, "
       "\"block/io: wait for serialising requests when a request becomes serialising\")"},
      {Fix::kTruncateFilterStale, "truncate-filter-stale",
       "bdrv_truncate of a filter without its own truncate (blkdebug) passes it to the file and returns: the "
       "filter keeps its old length (reads past it read zeroes although the file holds data), its dirty bitmaps "
       "keep their size and its parents (a device) are never told",
       "go on after the file's truncate as after a native one: refresh the length, truncate the bitmaps, tell the "
       "parents, count a write (QEMU 4.2, 6b7e8f8b1c, \"block: Handle filter truncation like native impl.\")"},
      {Fix::kResizeBelowFilter, "resize-below-filter",
       "a node resized below a filter (raw, blkdebug) tells only its own parents, and block.c's child roles have no "
       "resize callback: the filter keeps its length (blkdebug's reads past it read zeroes) and the device above it "
       "is never told of the new size",
       "a child role's resize refreshes a parent whose length is that child's and tells the parent's parents "
       "(QEMU 10.2, cbadaf57a7, \"block: implement 'resize' callback for child_of_bds class\")"},
      {Fix::kFlushAllChildren, "flush-misses-data-file",
       "bdrv_co_flush of a node whose driver does not flush itself flushes bs->file only: a format that writes its "
       "data to a second child (an external data file) has that child's cache never flushed, so data the guest "
       "flushed is lost in a crash",
       "flush every child the node may write to (QEMU 5.2, 883833e29c, \"block: Flush all children in generic "
       "code\")"},
      {Fix::kMaxLength, "request-end-overflow",
       "bdrv_check_byte_request checks only that the offset is not negative, so a request may end past INT64_MAX; "
       "its end, rounded up to an alignment, wraps (QEMU builds with -fwrapv) and tracked_request_overlaps, which "
       "compares against that end, finds no overlap: read-modify-writes in the last aligned block below 2^63 run "
       "unserialised",
       "refuse with -EIO every request whose end passes BDRV_MAX_LENGTH, INT64_MAX aligned down to 2^30, the "
       "largest alignment (QEMU 6.0, 8b1170012b, \"block: introduce BDRV_MAX_LENGTH\")"},
      {Fix::kIovLengthAlignment, "iov-length-alignment",
       "bdrv_qiov_is_aligned checks every buffer's length against the memory alignment (min_mem_alignment), but "
       "O_DIRECT needs lengths in whole logical blocks (request_alignment): on a 4 KiB-block disk whose buffers "
       "need only 512-byte alignment, a vector of 2 KiB buffers (a guest's, or the padding's head and tail) goes "
       "to the disk unbounced and the kernel answers -EINVAL",
       "check lengths against request_alignment (QEMU 7.2, 25474d90aa, \"block: use the request length for iov "
       "alignment\")"},
      {Fix::kSyncWrapperKick, "sync-wrapper-no-kick",
       "a synchronous wrapper (bdrv_pread, bdrv_flush, bdrv_is_allocated, ...) called from the main loop for a node in "
       "an IOThread runs its coroutine there and sleeps in the main loop until bdrv_wakeup kicks it; but the last kick "
       "comes from bdrv_dec_in_flight, before the coroutine stores its result, and a wrapper that returns early (no "
       "medium, read-only, nothing to do) never kicks at all: the main loop sleeps forever",
       "kick the main loop after storing the result (QEMU 4.0, 4720cbeea1, \"block: Fix hangs in synchronous APIs "
       "with iothreads\")"},
      {Fix::kNestedPollWaiters, "nested-poll-waiters",
       "BDRV_POLL_WHILE from the main loop for a node in an IOThread asserts that nobody else waits on the node "
       "(bs->wakeup is one flag): a second synchronous wait nested in the first one's main-loop poll (a drain or a "
       "sync wrapper run by an event while a job's sync wrapper waits) aborts QEMU",
       "count the waiters instead of one flag (QEMU 2.12, 7719f3c968, \"block: extract AIO_WAIT_WHILE() from "
       "BlockDriverState\", whose AioWait counts num_waiters)"},
      {Fix::kDrainAllDeletedNode, "drain-all-deleted-node",
       "bdrv_drain_all_begin disables the external events of each node's AioContext and bdrv_drain_all_end enables "
       "them again for each node that exists by then: a node deleted inside the section (blockdev-del, a job's "
       "completion) leaves its context's external events disabled for good, and the device's next request on that "
       "context never runs: the guest hangs",
       "bdrv_close ends every drain_all section the node is still in (QEMU 5.2, 1a6d3bd229, \"block: End quiescent "
       "sections when a BDS is deleted\", Red Hat bug 1874441)"},
      {Fix::kNestedDrainParents, "nested-drain-parents",
       "bdrv_drained_begin tells the node's parents (and so drains them) only when its quiesce counter goes from 0 to "
       "1: a nested drained_begin, run while the outer one still polls (a coroutine's drain from another thread, or "
       "one nested in the outer's poll), waits only for the node's own requests and returns while its parents still "
       "have requests in flight that reach the node within the section",
       "every drained_begin and drained_end tells the parents, and an edge joining or leaving a quiesced node is told "
       "once per section of the node (QEMU 2.12, 0152bf400f, \"block: Don't notify parents in drain call chain\"; "
       "89bd030533 then also polls the parents' requests)"},
      {Fix::kDrainAllGraphChange, "drain-all-graph-change",
       "bdrv_drain_all_begin tells the parents each node has when it begins and bdrv_drain_all_end the parents each "
       "node has when it ends: an edge that moved in between (a job's completion or a device's drain callback "
       "changing a backing file) is ended without having begun (bdrv_drained_end asserts) or begun and never ended "
       "(the parent stays quiesced: its device hangs)",
       "each parent edge is told once per drain_all section and ended once: an edge leaving a node inside the "
       "section is ended as it leaves, one joining is begun as it joins (the effect of QEMU 3.0's 0f12264e7a, "
       "\"block: Allow graph changes in bdrv_drain_all_begin/end sections\", which counts drain_all in every "
       "node's quiesce_counter and compensates edges on a graph change)"},
      {Fix::kBackupCopySerialising, "backup-copy-serialising",
       "backup's background copy (block/backup.c's backup_do_cow from the job's loop) reads the source without "
       "BDRV_REQ_NO_SERIALISING: it waits for a guest write that is serialising (a read-modify-write on a node "
       "with a larger request_alignment), whose before-write notifier waits for that very copy of the cluster: "
       "the guest and the job hang",
       "the before-write notifiers run before the write's or discard's request exists on the node, and the copy "
       "they make reads as the background one does (QEMU 4.2, 00e30f05de: backup's backup-top filter above the "
       "source copies the old data out before the guest's request reaches the source)"},
      {Fix::kNoSerialisingWaits, "serialising-wait-reopened",
       "a read flagged BDRV_REQ_NO_SERIALISING (backup's before-write notifier) does not wait for a serialising "
       "request past its wait, so that request waits for the read at its next wait (its tail's, or the one before "
       "its driver write); wait_serialising_requests goes past every request that waits, so meanwhile an "
       "overlapping write lands between the read-modify-write's read and its write, and is lost when the padding "
       "read before it is written back",
       "such a read waits for the serialising requests of other coroutines, as backup's copies do since QEMU 4.2 "
       "moved them out of the guest's write (00e30f05de, backup-top); 5.0 then removed the flag (c53cb42769)"},
      {Fix::kZeroFallbackRealigns, "zero-fallback-unaligned",
       "bdrv_co_do_pwrite_zeroes computes the request's head once: when the driver refuses an aligned piece "
       "(-ENOTSUP) and the fallback writes only max_transfer bytes of it, the next piece starts off "
       "pwrite_zeroes_alignment and is sent whole, so the driver gets the unaligned bulk its contract rules out "
       "(blkdebug asserts; still in QEMU in 2025)",
       "after a fallback that stopped short of an alignment boundary, the rest's head is recomputed, so the next "
       "piece goes up to the boundary alone (the fix proposed with the report)"},
  };
  return kAll;
}

std::optional<Fix> fix_from_name(std::string_view name) {
  for (const FixInfo& f : all_fixes()) {
    if (f.name == name) return f.fix;
  }
  return std::nullopt;
}

std::string_view fix_name(Fix f) {
  for (const FixInfo& info : all_fixes()) {
    if (info.fix == f) return info.name;
  }
  return "?";
}

bool fixed(Fix f) { return (g_fixes >> static_cast<unsigned>(f)) & 1u; }

void set_fix(Fix f, bool on) {
  const unsigned bit = 1u << static_cast<unsigned>(f);
  g_fixes = on ? (g_fixes | bit) : (g_fixes & ~bit);
}

void clear_fixes() { g_fixes = 0; }

}  // namespace engine
