// The engine's calls into a driver: trace each one and emulate FUA by a flush
// where the driver does not support it.
#include "engine/io.h"
#include "sim/invariant.h"
#include "sim/world.h"

namespace engine {
namespace {

struct DriverOpTrace {
  std::uint64_t op_id;
  std::uint32_t label;
  std::uint64_t co;
};

DriverOpTrace trace_issue(BlockDriverState& bs, std::string_view op, std::uint64_t offset, std::uint64_t bytes) {
  sim::World& world = sim::World::current();
  sim::Coroutine* self = world.current_coroutine();
  DriverOpTrace t{world.next_object_id(), world.trace().intern(op), self ? self->id() : 0};
  world.emit_ids(sim::EventKind::kDriverIssue, t.co, t.op_id, offset, bytes, 0, t.label, bs.trace_label());
  return t;
}

void trace_complete(BlockDriverState& bs, const DriverOpTrace& t, int ret) {
  sim::World::current().emit_ids(sim::EventKind::kDriverComplete, t.co, t.op_id, 0, 0, ret, t.label,
                                 bs.trace_label());
}

}  // namespace

sim::Task<int> bdrv_driver_preadv(BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes, IoVector& qiov,
                                  unsigned flags) {
  SIM_ASSERT((flags & ~BDRV_REQ_MASK) == 0, "unknown request flags");
  SIM_ASSERT(qiov.size() == bytes, "read vector size differs from the request");
  DriverOpTrace t = trace_issue(bs, "preadv", offset, bytes);
  int ret = co_await bs.drv()->co_preadv(bs, offset, bytes, qiov, flags);
  trace_complete(bs, t, ret);
  co_return ret;
}

sim::Task<int> bdrv_driver_pwritev(BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes, IoVector& qiov,
                                   unsigned flags) {
  SIM_ASSERT((flags & ~BDRV_REQ_MASK) == 0, "unknown request flags");
  SIM_ASSERT(qiov.size() == bytes, "write vector size differs from the request");
  DriverOpTrace t = trace_issue(bs, "pwritev", offset, bytes);
  int ret = co_await bs.drv()->co_pwritev(bs, offset, bytes, qiov, flags & bs.supported_write_flags);
  trace_complete(bs, t, ret);
  unsigned emulated = flags & ~bs.supported_write_flags;
  if (ret == 0 && (emulated & BDRV_REQ_FUA)) ret = co_await bdrv_co_flush(bs);
  co_return ret;
}

}  // namespace engine
