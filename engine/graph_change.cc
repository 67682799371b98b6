// Graph changes of block.c that the request layer meets while it runs:
// replacing a node's backing child, with requests in flight or during a drain.
#include "engine/block_driver_state.h"
#include "sim/invariant.h"

namespace engine {

void bdrv_set_backing_hd(BlockDriverState& bs, BlockDriverState* backing) {
  SIM_CHECK("set_backing_hd.not_self", backing != &bs, "a node cannot back itself: " + bs.node_name());
  if (backing != nullptr) bdrv_ref(*backing);
  if (bs.backing != nullptr) {
    // bdrv_unref_child: detach, then drop the reference the edge held.
    BlockDriverState& old = *bs.backing->bs;
    bs.detach_child(*bs.backing);
    bdrv_unref(old);
  }
  if (backing != nullptr) bs.attach_child("backing", *backing, ChildRole::kBacking);
  bdrv_refresh_limits(bs);
}

}  // namespace engine
