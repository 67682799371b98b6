// Cancelling callback requests: async asks, sync polls until the completion ran.
#include "engine/driver_calls.h"
#include "engine/io.h"
#include "sim/invariant.h"
#include "sim/world.h"

namespace engine {

void bdrv_aio_cancel_async(BlockAIOCB* acb) {
  if (acb->info != nullptr && acb->info->cancel_async != nullptr) acb->info->cancel_async(acb);
}

void bdrv_aio_cancel(BlockAIOCB* acb) {
  sim::World& world = sim::World::current();
  qemu_aio_ref(acb);
  bdrv_aio_cancel_async(acb);
  const auto pending = [acb] { return acb->refcnt > 1; };
  while (pending()) {
    if (acb->info != nullptr && acb->info->get_aio_context != nullptr) {
      world.poll(*acb->info->get_aio_context(acb), true, absl::FunctionRef<bool()>(pending));
    } else {
      SIM_CHECK("aio_cancel.has_node", acb->bs != nullptr, "cancelling a request that knows neither loop nor node");
      // Not thread-safe outside the main loop: the reference asserts the same.
      SIM_CHECK("aio_cancel.main_loop", &acb->bs->aio_context() == &world.main_context(),
                "bdrv_aio_cancel of a request in an IOThread: use bdrv_aio_cancel_async");
      world.poll(acb->bs->aio_context(), true, absl::FunctionRef<bool()>(pending));
    }
  }
  qemu_aio_unref(acb);
}

}  // namespace engine
