// Sync wrappers: run a request as a coroutine and poll its node's context until
// it ends, as QEMU's bdrv_prwv_co and bdrv_flush do outside coroutine context.
#include "engine/io.h"
#include "sim/invariant.h"
#include "sim/world.h"

namespace engine {
namespace {

constexpr int kNotDone = 0x7fffffff;

template <typename MakeTask>
int run_sync(BlockDriverState& bs, const char* name, MakeTask&& make_task) {
  sim::World& world = sim::World::current();
  SIM_ASSERT(!world.in_coroutine(), std::string(name) + " called from a coroutine: use the bdrv_co_ function");
  int ret = kNotDone;
  auto body = [](MakeTask& make, int& out) -> sim::Task<void> { out = co_await make(); };
  world.spawn(bs.aio_context(), name, body(make_task, ret));
  world.poll_while(bs.aio_context(), [&] { return ret == kNotDone; });
  return ret;
}

}  // namespace

int bdrv_preadv(BdrvChild& child, std::int64_t offset, IoVector& qiov) {
  return run_sync(*child.bs, "bdrv_preadv", [&] { return bdrv_co_preadv(child, offset, qiov.size(), qiov, 0); });
}

int bdrv_pwritev(BdrvChild& child, std::int64_t offset, IoVector& qiov, unsigned flags) {
  return run_sync(*child.bs, "bdrv_pwritev",
                  [&] { return bdrv_co_pwritev(child, offset, qiov.size(), qiov, flags); });
}

int bdrv_flush(BlockDriverState& bs) {
  return run_sync(bs, "bdrv_flush", [&] { return bdrv_co_flush(bs); });
}

}  // namespace engine
