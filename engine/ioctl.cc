// ioctl passthrough: a coroutine or callback driver operation, -ENOTSUP otherwise.
#include "engine/driver_calls.h"
#include "engine/io.h"
#include "sim/invariant.h"
#include "sim/world.h"

namespace engine {

sim::Task<int> bdrv_co_ioctl(BlockDriverState& bs, unsigned long request, void* buf) {
  bdrv_inc_in_flight(bs);
  int ret;
  BlockDriver* drv = bs.drv();
  if (drv == nullptr || (!drv->implements(kAioIoctl) && !drv->implements(kCoIoctl))) {
    ret = -ENOTSUP;
  } else if (drv->implements(kCoIoctl)) {
    ret = co_await drv->co_ioctl(bs, request, buf);
  } else {
    CoroutineIOCompletion co;
    BlockAIOCB* acb = drv->aio_ioctl(bs, request, buf, co.callback());
    ret = co_await co.wait(acb, -ENOTSUP);
  }
  bdrv_dec_in_flight(bs);
  co_return ret;
}

}  // namespace engine
