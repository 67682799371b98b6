// Flush with write generations: at most one flush is active per node, later ones
// queue behind it in order; a flush that finds nothing new since the last
// successful one skips the driver; and a node's file child is flushed after it.
#include "engine/io.h"
#include "sim/invariant.h"
#include "sim/str.h"
#include "sim/world.h"

namespace engine {

sim::Task<int> bdrv_co_flush(BlockDriverState& bs) {
  sim::World& world = sim::World::current();
  int ret = 0;
  bdrv_inc_in_flight(bs);
  if (bs.drv() == nullptr || bs.read_only) {
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
    const sim::WaitInfo info{"flush queue", bs.active_flush_co, 0, queue_name, 0};
    co_await bs.flush_queue.wait(&bs.reqs_lock, info);
  }
  bs.active_flush_req = true;
  bs.active_flush_co = self;
  bs.reqs_lock.unlock();

  BlockDriver& drv = *bs.drv();
  if (drv.has_co_flush()) {
    ret = co_await drv.co_flush(bs);
  } else {
    bool flush_file = true;
    if (drv.has_flush_to_os()) {
      ret = co_await drv.co_flush_to_os(bs);
      if (ret < 0) flush_file = false;
    }
    // cache=unsafe (BDRV_O_NO_FLUSH) skips the disk; so does a flush with
    // nothing written since the last successful one.
    if (flush_file && !(bs.open_flags & BDRV_O_NO_FLUSH) && bs.flushed_gen != current_gen) {
      if (drv.has_flush_to_disk()) {
        ret = co_await drv.co_flush_to_disk(bs);
      } else {
        // Drivers without a flush operate write-through or unsafe; nothing to do.
        ret = 0;
      }
      if (ret < 0) flush_file = false;
    }
    if (flush_file) ret = bs.file != nullptr ? co_await bdrv_co_flush(*bs.file->bs) : 0;
  }

  // Only a successful flush makes its generation stable.
  if (ret == 0) bs.flushed_gen = current_gen;
  co_await bs.reqs_lock.lock();
  bs.active_flush_req = false;
  bs.active_flush_co = 0;
  bs.flush_queue.next();
  bs.reqs_lock.unlock();

  world.emit_ids(sim::EventKind::kRequestEnd, self, flush_id, 0, 0, ret, world.trace().intern("flush"),
                 bs.trace_label());
  bdrv_dec_in_flight(bs);
  co_return ret;
}

}  // namespace engine
