// The engine's calls into a driver, in whichever style it offers: byte-based
// coroutines, sector-based coroutines, or callbacks whose completion wakes the
// request. Every call is traced (driver_issue / driver_complete), and FUA that
// the driver does not support is emulated by a flush.
#include "engine/driver_calls.h"

#include "engine/fixes.h"

#include "engine/io.h"
#include "engine/mutations.h"
#include "sim/invariant.h"
#include "sim/probe.h"
#include "sim/world.h"

namespace engine {

namespace {
// Code probes (sim/probe.h).
const sim::Probe kProbeReadSectors("driver.read_sectors", "a read through a sector-based driver (co_readv)");
const sim::Probe kProbeReadCallbacks("driver.read_callbacks", "a read through a callback driver (aio_readv)");
const sim::Probe kProbeWriteSectorsFlags("driver.write_sectors_flags", "a write through a sector-based driver that takes flags (co_writev_flags)");
const sim::Probe kProbeWriteSectors("driver.write_sectors", "a write through a sector-based driver without flags (co_writev)");
const sim::Probe kProbeWriteCallbacks("driver.write_callbacks", "a write through a callback driver (aio_writev)");
const sim::Probe kProbeFuaEmulated("driver.fua_emulated", "a FUA write the driver cannot do with FUA, followed by a flush");
const sim::Probe kProbeAioRefused("driver.aio_refused", "a callback driver refused a request (no AIOCB)");
}  // namespace
DriverOpTrace trace_driver_issue(BlockDriverState& bs, sim::TraceLabel& op, std::uint64_t offset,
                                 std::uint64_t bytes, unsigned flags) {
  sim::World& world = sim::World::current();
  sim::Coroutine* self = world.current_coroutine();
  DriverOpTrace t{world.next_object_id(), op.id(world.trace()), self ? self->id() : 0};
  world.emit_ids(sim::EventKind::kDriverIssue, t.co, t.op_id, offset, bytes, flags, t.label, bs.trace_label());
  return t;
}

void trace_driver_complete(BlockDriverState& bs, const DriverOpTrace& t, int ret) {
  sim::World::current().emit_ids(sim::EventKind::kDriverComplete, t.co, t.op_id, 0, 0, ret, t.label,
                                 bs.trace_label());
}

BlockCompletion CoroutineIOCompletion::callback() {
  return [this](int result) {
    SIM_CHECK("aio.completed_once", !done, "a driver completed a callback request twice");
    ret = result;
    done = true;
    // A callback called before the request yielded would re-enter it: QEMU
    // aborts with "Co-routine re-entered recursively".
    SIM_CHECK("aio.completion_after_yield", co->state() == sim::CoState::kBlocked,
              "a driver called its completion before the request waited for it");
    sim::World::current().wake(*co);
  };
}

sim::Task<int> CoroutineIOCompletion::wait(BlockAIOCB* acb, int error_if_null) {
  if (acb == nullptr) {
    kProbeAioRefused.hit();
    co_return error_if_null;
  }
  if (!done) co_await sim::World::current().suspend(sim::WaitInfo{"driver aio", 0, 0, {}, 0});
  co_return ret;
}

CoroutineIOCompletion::CoroutineIOCompletion() : co(sim::World::current().current_coroutine()) {
  SIM_CHECK("aio.in_coroutine", co != nullptr, "a callback request outside a coroutine");
}

namespace {

// A read from a driver without byte-based coroutines: sectors, or callbacks.
// Out of line so that the common byte-based call keeps a small frame (it stays
// allocated while the request is in flight).
sim::Task<int> driver_preadv_by_sectors(BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                        IoVector& qiov) {
  BlockDriver& drv = *bs.drv();
  const auto sector_num = static_cast<std::int64_t>(offset >> BDRV_SECTOR_BITS);
  const auto nb_sectors = static_cast<int>(bytes >> BDRV_SECTOR_BITS);
  SIM_CHECK("driver_preadv.sector_offset", (offset & (BDRV_SECTOR_SIZE - 1)) == 0,
            "sector-based driver asked for an unaligned offset");
  SIM_CHECK("driver_preadv.sector_bytes", (bytes & (BDRV_SECTOR_SIZE - 1)) == 0,
            "sector-based driver asked for an unaligned length");
  SIM_CHECK("driver_preadv.max_sectors", static_cast<std::int64_t>(bytes >> BDRV_SECTOR_BITS) <= BDRV_REQUEST_MAX_SECTORS,
            "request larger than BDRV_REQUEST_MAX_SECTORS");
  if (drv.implements(kCoReadv)) {
    kProbeReadSectors.hit();
    co_return co_await drv.co_readv(bs, sector_num, nb_sectors, qiov);
  }
  SIM_CHECK("driver.has_read", drv.implements(kAioReadv), "driver offers no way to read");
  kProbeReadCallbacks.hit();
  CoroutineIOCompletion co;
  BlockAIOCB* acb = drv.aio_readv(bs, sector_num, qiov, nb_sectors, co.callback());
  co_return co_await co.wait(acb, -EIO);
}

}  // namespace

sim::Task<int> bdrv_driver_preadv(BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes, IoVector& qiov,
                                  unsigned flags) {
  BlockDriver& drv = *bs.drv();
  SIM_CHECK("driver_preadv.flags", (flags & ~BDRV_REQ_MASK) == 0, "unknown request flags");
  SIM_CHECK("driver_preadv.qiov_size", qiov.size() == bytes, "read vector size differs from the request");
  static sim::TraceLabel kPreadvOp("preadv");
  const DriverOpTrace t = trace_driver_issue(bs, kPreadvOp, offset, bytes, drv.implements(kCoPreadv) ? flags : 0);
  const int ret = drv.implements(kCoPreadv) ? co_await drv.co_preadv(bs, offset, bytes, qiov, flags)
                                            : co_await driver_preadv_by_sectors(bs, offset, bytes, qiov);
  trace_driver_complete(bs, t, ret);
  co_return ret;
}

sim::Task<int> bdrv_driver_pwritev(BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes, IoVector& qiov,
                                   unsigned flags) {
  BlockDriver& drv = *bs.drv();
  SIM_CHECK("driver_pwritev.flags", (flags & ~BDRV_REQ_MASK) == 0, "unknown request flags");
  SIM_CHECK("driver_pwritev.qiov_size", qiov.size() == bytes, "write vector size differs from the request");
  static sim::TraceLabel kPwritevOp("pwritev");
  const bool takes_flags = drv.implements(kCoPwritev) || drv.implements(kCoWritevFlags);
  // The flags the driver takes itself; the others are emulated below.
  unsigned given = flags & bs.supported_write_flags;
  if (mutated(Mutant::kFuaNotPassed)) given &= ~BDRV_REQ_FUA;
  DriverOpTrace t = trace_driver_issue(bs, kPwritevOp, offset, bytes, takes_flags ? given : 0);
  int ret;
  if (drv.implements(kCoPwritev)) {
    ret = co_await drv.co_pwritev(bs, offset, bytes, qiov, given);
    flags &= ~given;
  } else {
    const auto sector_num = static_cast<std::int64_t>(offset >> BDRV_SECTOR_BITS);
    const auto nb_sectors = static_cast<int>(bytes >> BDRV_SECTOR_BITS);
    SIM_CHECK("driver_pwritev.sector_offset", (offset & (BDRV_SECTOR_SIZE - 1)) == 0,
              "sector-based driver asked for an unaligned offset");
    SIM_CHECK("driver_pwritev.sector_bytes", (bytes & (BDRV_SECTOR_SIZE - 1)) == 0,
              "sector-based driver asked for an unaligned length");
    SIM_CHECK("driver_pwritev.max_sectors", static_cast<std::int64_t>(bytes >> BDRV_SECTOR_BITS) <= BDRV_REQUEST_MAX_SECTORS,
              "request larger than BDRV_REQUEST_MAX_SECTORS");
    if (drv.implements(kCoWritevFlags)) {
      kProbeWriteSectorsFlags.hit();
      ret = co_await drv.co_writev_flags(bs, sector_num, nb_sectors, qiov, given);
      flags &= ~given;
    } else if (drv.implements(kCoWritev)) {
      kProbeWriteSectors.hit();
      SIM_CHECK("driver_pwritev.no_flags_without_writev_flags", bs.supported_write_flags == 0,
                "a driver without co_writev_flags cannot support write flags");
      ret = co_await drv.co_writev(bs, sector_num, nb_sectors, qiov);
    } else {
      SIM_CHECK("driver.has_write", drv.implements(kAioWritev), "driver offers no way to write");
      kProbeWriteCallbacks.hit();
      CoroutineIOCompletion co;
      BlockAIOCB* acb = drv.aio_writev(bs, sector_num, qiov, nb_sectors, co.callback());
      ret = co_await co.wait(acb, -EIO);
    }
  }
  trace_driver_complete(bs, t, ret);
  // Flags the driver did not take are emulated: FUA becomes a flush. The
  // reference flushes before write_gen counts this write (fua-clean-node).
  if (ret == 0 && (flags & BDRV_REQ_FUA)) {
    kProbeFuaEmulated.hit();
    if (fixed(Fix::kFuaCleanNode)) ++bs.write_gen;
    ret = co_await bdrv_co_flush(bs);
  }
  co_return ret;
}

sim::Task<int> bdrv_driver_pwritev_compressed(BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                              IoVector& qiov) {
  BlockDriver& drv = *bs.drv();
  if (!drv.implements(kPwritevCompressed)) co_return -ENOTSUP;
  static sim::TraceLabel kPwritevCompressedOp("pwritev_compressed");
  DriverOpTrace t = trace_driver_issue(bs, kPwritevCompressedOp, offset, bytes);
  int ret = co_await drv.co_pwritev_compressed(bs, offset, bytes, qiov);
  trace_driver_complete(bs, t, ret);
  co_return ret;
}

}  // namespace engine
