// Flush with write generations: at most one flush is active per node, later ones
// queue behind it in order; a flush that finds nothing new since the last
// successful one skips the disk; flush_to_os comes before flush_to_disk, and
// BDRV_O_NO_FLUSH (cache=unsafe) skips the disk; a driver with no flush at all
// succeeds; and a node's file child is flushed after it.
#include "engine/driver_calls.h"
#include "engine/fixes.h"
#include "engine/io.h"
#include "engine/mutations.h"
#include "sim/invariant.h"
#include "sim/probe.h"
#include "sim/str.h"
#include "sim/world.h"

namespace engine {

namespace {
// Code probes (sim/probe.h).
const sim::Probe kProbeFlushQueued("flush.queued", "a flush waited behind the node's active flush");
const sim::Probe kProbeFlushSkippedDisk("flush.disk_skipped", "a flush skipped the disk: cache.no-flush, or nothing written since the last one");
const sim::Probe kProbeFlushWhole("flush.driver_whole", "a driver flushed every layer itself (co_flush)");
const sim::Probe kProbeFlushToOsFailed("flush.to_os_failed", "a flush failed writing back to the OS");
const sim::Probe kProbeFlushCleanNode("flush.clean_node", "a flush found nothing written since the last successful one");
const sim::Probe kProbeFlushAio("flush.callback", "a flush to the disk through a callback driver (aio_flush)");
const sim::Probe kProbeFlushTrusted("flush.driver_cannot", "a driver with no way to flush: the flush counted as done");
const sim::Probe kProbeFlushFailed("flush.failed", "a flush failed: the node stays dirty");
const sim::Probe kProbeFlushUnderNoFlush("flush.ended_under_no_flush",
                                         "a flush of a node with cache.no-flush ended (no-flush-gen's site)");
const sim::Probe kProbeFlushChildLeft("flush.child_besides_file_left",
                                      "a flush went to bs->file only, past another child the node writes to (flush-misses-data-file's site)");
const sim::Probe kProbeFlushNothing("flush.not_inserted_or_read_only", "a flush of an ejected or read-only node did nothing");
}  // namespace

namespace {

// The body of a flush once this flush is the active one.
sim::Task<int> flush_layers(BlockDriverState& bs, unsigned current_gen) {
  BlockDriver& drv = *bs.drv();
  // One driver function writes back every layer.
  if (drv.implements(kCoFlush)) {
    kProbeFlushWhole.hit();
    static sim::TraceLabel kFlushOp("flush");
    const DriverOpTrace t = trace_driver_issue(bs, kFlushOp, 0, 0);
    const int ret = co_await drv.co_flush(bs);
    trace_driver_complete(bs, t, ret);
    co_return ret;
  }

  // Write back cached data to the OS, even with cache=unsafe.
  co_await bdrv_debug_event(bs.file, BlkdebugEvent::kFlushToOs);
  if (drv.implements(kCoFlushToOs)) {
    static sim::TraceLabel kFlushToOsOp("flush_to_os");
    const DriverOpTrace t = trace_driver_issue(bs, kFlushToOsOp, 0, 0);
    const int ret = co_await drv.co_flush_to_os(bs);
    trace_driver_complete(bs, t, ret);
    if (ret < 0) {
      kProbeFlushToOsFailed.hit();
      co_return ret;
    }
  }
  // But do not force it to the disk with cache=unsafe, nor when nothing was
  // written since the last successful flush.
  if ((bs.open_flags & BDRV_O_NO_FLUSH) || bs.flushed_gen == current_gen) kProbeFlushSkippedDisk.hit();
  if (bs.flushed_gen == current_gen) kProbeFlushCleanNode.hit();
  if (!(bs.open_flags & BDRV_O_NO_FLUSH) && bs.flushed_gen != current_gen) {
    co_await bdrv_debug_event(bs.file, BlkdebugEvent::kFlushToDisk);
    int ret;
    if (mutated(Mutant::kSkipFlushToDisk)) {
      ret = 0;
    } else if (drv.implements(kCoFlushToDisk)) {
      static sim::TraceLabel kFlushToDiskOp("flush_to_disk");
      const DriverOpTrace t = trace_driver_issue(bs, kFlushToDiskOp, 0, 0);
      ret = co_await drv.co_flush_to_disk(bs);
      trace_driver_complete(bs, t, ret);
    } else if (drv.implements(kAioFlush)) {
      kProbeFlushAio.hit();
      static sim::TraceLabel kAioFlushOp("aio_flush");
      const DriverOpTrace t = trace_driver_issue(bs, kAioFlushOp, 0, 0);
      CoroutineIOCompletion co;
      BlockAIOCB* acb = drv.aio_flush(bs, co.callback());
      ret = co_await co.wait(acb, -EIO);
      trace_driver_complete(bs, t, ret);
    } else {
      // Drivers that always run writethrough or unsafe cannot flush; failing
      // would break guests that are fine. Trust the user.
      kProbeFlushTrusted.hit();
      ret = 0;
    }
    if (ret < 0) co_return ret;
  }
  // Then the protocol below (it has BDRV_O_NO_FLUSH too under cache=unsafe):
  // the reference flushes bs->file only, so a second child a format writes
  // to (a data file) is never flushed (known defect flush-misses-data-file).
  // QEMU 5.2 flushes every child written to (883833e29c).
  if (fixed(Fix::kFlushAllChildren)) {
    int ret = 0;
    const std::vector<BdrvChild*> children = bs.children;
    for (BdrvChild* child : children) {
      if (child->kind == ChildRole::kBacking || child->bs == nullptr) continue;  // no write permission on a backing
      const int this_child = co_await bdrv_co_flush(*child->bs);
      if (ret == 0) ret = this_child;
    }
    co_return ret;
  }
  for (const BdrvChild* child : bs.children) {
    if (child != bs.file && child->kind != ChildRole::kBacking && child->bs != nullptr) kProbeFlushChildLeft.hit();
  }
  // (No co_await inside ?: here: g++ 12 miscompiles it.)
  if (bs.file == nullptr) co_return 0;
  co_return co_await bdrv_co_flush(*bs.file->bs);
}

}  // namespace

sim::Task<int> bdrv_co_flush(BlockDriverState& bs) {
  sim::World& world = sim::World::current();
  bdrv_inc_in_flight(bs);
  if (!bdrv_is_inserted(bs) || bs.read_only) {
    kProbeFlushNothing.hit();
    bdrv_dec_in_flight(bs);
    co_return 0;
  }
  const std::uint64_t flush_id = world.next_object_id();
  const sim::CoroutineId self = world.current_coroutine()->id();
  world.emit_ids(sim::EventKind::kRequestBegin, self, flush_id, 0, 0, 0, world.trace().intern("bdrv_co_flush"),
                 bs.trace_label());

  co_await bs.reqs_lock.lock();
  const unsigned current_gen = bs.write_gen;
  // Wait until earlier flushes are done: flushes reach the driver in
  // nondecreasing current_gen order.
  const std::string_view queue_name = world.intern(sim::cat("active flush @", bs.node_name()));
  while (bs.active_flush_req) {
    kProbeFlushQueued.hit();
    const sim::WaitInfo info{"flush queue", bs.active_flush_co, 0, queue_name, 0};
    co_await bs.flush_queue.wait(&bs.reqs_lock, info);
  }
  bs.active_flush_req = true;
  bs.active_flush_co = self;
  bs.reqs_lock.unlock();

  const int ret = co_await flush_layers(bs, current_gen);

  const unsigned flushed_before = bs.flushed_gen;
  // Only a successful flush makes its generation stable.
  if (ret == 0) bs.flushed_gen = current_gen;
  if (ret != 0) kProbeFlushFailed.hit();
  // The fix of no-flush-gen: cache.no-flush kept this flush from the disk.
  if (bs.open_flags & BDRV_O_NO_FLUSH) kProbeFlushUnderNoFlush.hit();
  if (fixed(Fix::kNoFlushGen) && (bs.open_flags & BDRV_O_NO_FLUSH)) bs.flushed_gen = flushed_before;
  co_await bs.reqs_lock.lock();
  bs.active_flush_req = false;
  bs.active_flush_co = 0;
  bs.flush_queue.next();  // nobody waiting is fine
  bs.reqs_lock.unlock();

  world.emit_ids(sim::EventKind::kRequestEnd, self, flush_id, 0, 0, ret, world.trace().intern("flush"),
                 bs.trace_label());
  bdrv_dec_in_flight(bs);
  co_return ret;
}

}  // namespace engine
