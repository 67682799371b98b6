// Graph changes of block.c that the request layer meets while it runs:
// replacing a node's backing child, with requests in flight or during a drain,
// and deleting a node nothing uses any more.
#include <algorithm>

#include "engine/block_driver_state.h"
#include "engine/drain.h"
#include "engine/io.h"
#include "sim/invariant.h"
#include "sim/probe.h"

namespace engine {

namespace {
// Code probes (sim/probe.h).
const sim::Probe kProbeParentLeftDrained("graph.parent_left_drained", "a parent moved off a drained node and was told its section ended");
const sim::Probe kProbeParentJoinedDrained("graph.parent_joined_drained", "a parent moved onto a drained node and was told to quiesce");
const sim::Probe kProbeReplaceKept("graph.replace_kept_parent", "bdrv_replace_node left one parent on the old node");
const sim::Probe kProbeDeletedInDrainAll("graph.deleted_in_drain_all", "a node was deleted inside a drain_all section that counted it");
const sim::Probe kProbeBackingReplaced("graph.backing_replaced", "a node's backing file was replaced or removed");
}  // namespace

void bdrv_set_backing_hd(BlockDriverState& bs, BlockDriverState* backing) {
  SIM_CHECK("set_backing_hd.not_self", backing != &bs, "a node cannot back itself: " + bs.node_name());
  if (backing != nullptr) bdrv_ref(*backing);
  if (bs.backing != nullptr) {
    kProbeBackingReplaced.hit();
    // bdrv_unref_child: detach, then drop the reference the edge held.
    BlockDriverState& old = *bs.backing->bs;
    bs.detach_child(*bs.backing);
    bdrv_unref(old);
  }
  if (backing != nullptr) bs.attach_child("backing", *backing, ChildRole::kBacking);
  bdrv_refresh_limits(bs);
}

void bdrv_replace_child(BdrvChild& child, BlockDriverState& to) {
  BlockDriverState& from = *child.bs;
  SIM_CHECK("replace_child.same_context", &from.aio_context() == &to.aio_context(),
            "a child moves to a node of another AioContext: " + from.node_name() + " -> " + to.node_name());
  // A parent leaving a drained node is told its section ended, and one
  // joining a drained node that one began.
  if (drained_edge_leaving(child)) kProbeParentLeftDrained.hit();
  drain_all_edge_leaving(child);
  from.parents.erase(std::remove(from.parents.begin(), from.parents.end(), &child), from.parents.end());
  child.bs = &to;
  to.parents.insert(to.parents.begin(), &child);  // QLIST_INSERT_HEAD
  if (drained_edge_joined(child)) kProbeParentJoinedDrained.hit();
  drain_all_edge_joined(child);
}

void bdrv_replace_node(BlockDriverState& from, BlockDriverState& to, const BdrvChild* keep) {
  SIM_CHECK("replace_node.from_idle", from.in_flight == 0, "bdrv_replace_node with requests in flight on " + from.node_name());
  SIM_CHECK("replace_node.to_idle", to.in_flight == 0, "bdrv_replace_node with requests in flight on " + to.node_name());
  bdrv_ref(from);  // @from stays until every parent is on @to
  // The parents into a list with g_slist_prepend (the last one first), then
  // each moved (should_update_child: no parent here is in @to's backing chain).
  std::vector<BdrvChild*> list;
  for (BdrvChild* c : from.parents) {
    if (c == keep) kProbeReplaceKept.hit();
    if (c != keep) list.insert(list.begin(), c);
  }
  for (BdrvChild* c : list) {
    bdrv_ref(to);
    bdrv_replace_child(*c, to);
    bdrv_unref(from);
  }
  bdrv_unref(from);
}

void bdrv_close(BlockDriverState& bs) {
  bdrv_drained_begin(bs);  // complete I/O
  bdrv_flush(bs);          // its result is not looked at, as then
  bdrv_drain(bs);          // in case the flush left pending I/O
  if (bs.drv() != nullptr) {
    // No driver here has a close callback; the node loses its driver.
    bs.eject();
    bdrv_set_backing_hd(bs, nullptr);
    if (bs.file != nullptr) {
      BlockDriverState& file = *bs.file->bs;
      bs.detach_child(*bs.file);  // bdrv_unref_child
      bdrv_unref(file);
    }
    // QLIST_FOREACH_SAFE over what is left (a data file, quorum's children).
    const std::vector<BdrvChild*> rest = bs.children;
    for (BdrvChild* child : rest) bs.detach_child(*child);
    bs.copy_on_read = 0;
    bs.total_sectors = 0;
  }
  bs.dirty_bitmaps.clear();  // bdrv_release_named_dirty_bitmaps
  bdrv_drained_end(bs);
  // drain-all-deleted-node: the reference leaves the drain_all sections the
  // node is in to bdrv_drain_all_end, which will not find it any more.
  if (bs.drain_all_sections > 0) kProbeDeletedInDrainAll.hit();
  if (fixed(Fix::kDrainAllDeletedNode)) {
    while (bs.drain_all_sections > 0) {
      --bs.drain_all_sections;
      bs.aio_context().enable_external();
      drain_all_tell_parents_end(bs);
    }
  }
}

void bdrv_delete(BlockDriverState& bs) {
  bdrv_close(bs);
  // Off the list of every node (all_bdrv_states): drain_all and flush_all no
  // longer see it. The object itself stays with its owner.
  bdrv_forget(bs);
}

}  // namespace engine
