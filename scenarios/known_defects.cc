#include "scenarios/known_defects.h"

#include <algorithm>

namespace scenarios {

std::span<const KnownDefect> known_defects() {
  static const std::vector<KnownDefect> kAll = {
      {"fua-clean-node", engine::Fix::kFuaCleanNode, "oracle:durability [after crash: ", {" -f)"},
       "a completed FUA write is lost in a crash: its emulated flush skipped the disk", "driver.fua_emulated"},
      {"discard-unserialised", engine::Fix::kDiscardSerialised, "oracle:serialisation [pdiscard overlaps serialising ",
       {},
       "a discard issues driver I/O inside a serialising request past its wait", "discard.past_serialising"},
      {"cor-max-transfer", engine::Fix::kCopyOnReadMaxTransfer, "invariant:driver.max_transfer", {},
       "copy-on-read sends the driver a request larger than max_transfer", "read.copy_on_read_over_max_transfer"},
      {"padded-max-iov", engine::Fix::kPaddedMaxIov, "invariant:driver.max_iov", {},
       "padding an unaligned request sends the driver up to max_iov + 2 buffers", "request.padded_past_max_iov"},
      {"drain-walk-graph-change", engine::Fix::kDrainWalkGraphChange, "invariant:drain_recurse.next_child_attached", {},
       "a drain's walk of the children follows an edge detached by a graph change its polling ran",
       "drain.walk_graph_changed"},
      {"no-flush-gen", engine::Fix::kNoFlushGen, "oracle:", {"after a flush under cache.no-flush"},
       "a flush skipped for cache.no-flush counts as done: once no-flush is off, the next flush skips the disk",
       "flush.ended_under_no_flush"},
      {"cor-inactive", engine::Fix::kCorInactive, "invariant:driver.write_on_inactive", {},
       "copy-on-read writes back into an inactive node", "read.copy_on_read_inactive"},
      {"padded-write-waits-twice", engine::Fix::kPaddingWaitsOnce, "invariant:co_pwritev.tail_wait_before_head_read", {},
       "an unaligned write's tail read-modify-write waits after its head read (assert: QEMU aborts)",
       "write.tail_wait_after_head_read"},
      {"late-serialising-wait", engine::Fix::kLateWaitUnasserted, "invariant:aligned_pwritev.no_late_serialising_wait",
       {}, "a serialising write waits again after its read-modify-write reads (assert: QEMU aborts)",
       "write.late_serialising_wait"},
      {"truncate-filter-stale", engine::Fix::kTruncateFilterStale, "oracle:parents [resize: ", {"(through a filter)"},
       "a truncate through a filter leaves the filter's length and its parents as they were",
       "truncate.filter_passthrough"},
      {"resize-below-filter", engine::Fix::kResizeBelowFilter, "oracle:parents [resize: ", {"(resized below it)"},
       "a node resized below a filter: the filter and the device above it are not told", "resize.below_filter"},
      {"flush-misses-data-file", engine::Fix::kFlushAllChildren, "oracle:durability [after crash: ", {" in a data file"},
       "a flush reaches a format's file but not its data file: flushed data is lost in a crash",
       "flush.child_besides_file_left"},
      {"request-end-overflow", engine::Fix::kMaxLength, "oracle:serialisation [", {"past INT64_MAX"},
       "a request whose range passes INT64_MAX overlaps nothing: requests in the last aligned block below 2^63 run "
       "unserialised",
       "request.end_past_max_length"},
      {"request-end-overflow", engine::Fix::kMaxLength, "invariant:aligned_pwritev.within_overlap_", {".wrapped"},
       "a zero write past INT64_MAX writes its tail at a wrapped, negative offset (assert: QEMU aborts)",
       "request.end_past_max_length"},
      {"sync-wrapper-no-kick", engine::Fix::kSyncWrapperKick, "deadlock [no cycle; blocked: ", {"@main loop"},
       "a synchronous wrapper called from the main loop for a node in an IOThread never wakes the main loop",
       "sync_wrapper.result_unkicked"},
      {"nested-poll-waiters", engine::Fix::kNestedPollWaiters, "invariant:poll_while.one_waiter", {},
       "a second BDRV_POLL_WHILE on an IOThread's node nested in the first from the main loop (assert: QEMU aborts)"},
      // Its deadlocks have a shape others may share (a guest waiting on a
      // disabled context); the suite runs its scenarios again with the fix
      // and the hunter checks each label on its run (consequence.h).
      {"drain-all-deleted-node", engine::Fix::kDrainAllDeletedNode, "deadlock [no cycle; blocked: ",
       {"@parent quiesced"}, "a node deleted inside drain_all leaves its AioContext's external events disabled: the guest hangs",
       "graph.deleted_in_drain_all"},
      {"drain-all-deleted-node", engine::Fix::kDrainAllDeletedNode, "deadlock [no cycle; blocked: ", {"@external"},
       "a node deleted inside drain_all leaves its AioContext's external events disabled: the guest hangs",
       "graph.deleted_in_drain_all"},
      {"drain-all-deleted-node", engine::Fix::kDrainAllDeletedNode, "oracle:drain [external events left disabled", {},
       "a node deleted inside drain_all leaves its AioContext's external events disabled after the run",
       "graph.deleted_in_drain_all"},
      {"nested-drain-parents", engine::Fix::kNestedDrainParents, "oracle:drain [in flight after drained_begin]", {},
       "a nested drained_begin does not drain the node's parents: their requests reach the node inside the section",
       "drain.nested_begin"},
      {"drain-all-graph-change", engine::Fix::kDrainAllGraphChange, "invariant:drained_end.balanced", {},
       "an edge attached inside drain_all is ended by drain_all_end without having begun: bdrv_drained_end asserts",
       "drain_all.edge_moved_inside"},
      {"backup-copy-serialising", engine::Fix::kBackupCopySerialising, "deadlock [cycle ", {"@serialising", "@backup copy"},
       "backup's background copy waits for a serialising guest write whose before-write notifier waits for that copy",
       "backup.notifier_inside_request"},
      {"iov-length-alignment", engine::Fix::kIovLengthAlignment, "invariant:driver.direct_buffer_length.memory_aligned",
       {}, "a direct-I/O vector with parts shorter than a logical block is not bounced: O_DIRECT answers -EINVAL",
       "driver.iov_part_below_request_alignment"},
      // After the others that start so: a request past INT64_MAX or a discard
      // overlaps a serialising one without any read's help.
      {"serialising-wait-reopened", engine::Fix::kNoSerialisingWaits, "oracle:serialisation [", {},
       "a BDRV_REQ_NO_SERIALISING read makes a serialising request past its wait wait again, and others go past it",
       "read.no_serialising_past_serialising"},
      {"zero-fallback-unaligned", engine::Fix::kZeroFallbackRealigns, "invariant:driver.zero_alignment", {},
       "after a zero write's fallback stopped at max_transfer inside an aligned piece, the rest goes to the driver "
       "unaligned",
       "zero.fallback_left_unaligned"},
      {"zero-fallback-unaligned", engine::Fix::kZeroFallbackRealigns, "invariant:blkdebug.zero_aligned", {},
       "after a zero write's fallback stopped at max_transfer inside an aligned piece, the rest goes to the driver "
       "unaligned",
       "zero.fallback_left_unaligned"},
  };
  return kAll;
}

const KnownDefect* known_defect_named(std::string_view name) {
  for (const KnownDefect& d : known_defects()) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

const KnownDefect* known_defect_for(std::string_view signature, const std::vector<engine::Fix>& fixes_on,
                                    const std::map<std::string, std::uint64_t>& probes) {
  for (const KnownDefect& d : known_defects()) {
    if (std::find(fixes_on.begin(), fixes_on.end(), d.fix) != fixes_on.end()) continue;
    if (!signature.starts_with(d.prefix)) continue;
    if (!d.trigger_probe.empty() && !probes.contains(std::string(d.trigger_probe))) continue;
    bool all = true;
    for (std::string_view part : d.contains) all = all && signature.find(part) != std::string_view::npos;
    if (all) return &d;
  }
  return nullptr;
}

}  // namespace scenarios
