// Draining: quiesce a node's subtree (or every node) so that nothing is in
// flight and no new external request enters until the drained section ends.
#pragma once

#include <absl/functional/any_invocable.h>

#include "engine/block_driver_state.h"
#include "sim/task.h"

namespace engine {

// Tell the node's parents (their role callbacks) that it is being drained.
void bdrv_parent_drained_begin(BlockDriverState& bs);
void bdrv_parent_drained_end(BlockDriverState& bs);
// Is anything in flight in bs or below it?
bool bdrv_requests_pending(const BlockDriverState& bs);

// BDRV_POLL_WHILE(bs, cond): poll the node's context (or, from the main loop for
// a node in an IOThread, the main context while that thread runs) until !cond.
template <typename Cond>
bool bdrv_poll_while(BlockDriverState& bs, Cond&& cond);

// From outside a coroutine these poll; from inside one, drained_begin hands over
// to a bottom half and yields until it has run.
void bdrv_drained_begin(BlockDriverState& bs);
void bdrv_drained_end(BlockDriverState& bs);
void bdrv_drain(BlockDriverState& bs);
sim::Task<void> bdrv_co_drained_begin(BlockDriverState& bs);
sim::Task<void> bdrv_co_drain(BlockDriverState& bs);

// An observation point where a drained_begin of bdrv_drain or of
// bdrv_co_drained_begin has returned, and the reference has nothing: a
// harness checks there that the subtree is quiescent. For a coroutine's drain
// that is in the bottom half, not where the coroutine resumes later: requests
// other callers begin in between (a main-loop caller is not held back by a
// drained section) are not the drain's. It may look, never change state. Set
// for the life of the guard; none by default.
enum class DrainPoint : std::uint8_t {
  kDrain,           // bdrv_drain, between its drained_begin and drained_end
  kCoDrainedBegin,  // bdrv_co_drained_begin's bottom half (bdrv_co_drain's too)
};
using DrainProbe = absl::AnyInvocable<void(BlockDriverState&, DrainPoint)>;
class DrainProbeGuard {
 public:
  explicit DrainProbeGuard(DrainProbe probe);
  ~DrainProbeGuard();
  DrainProbeGuard(const DrainProbeGuard&) = delete;
  DrainProbeGuard& operator=(const DrainProbeGuard&) = delete;

 private:
  DrainProbe previous_;
};
void bdrv_drain_all_begin();
void bdrv_drain_all_end();
void bdrv_drain_all();

// drain_all's share of telling a node's parents, for a node whose
// drain_all_sections just went up (begin) or down (end). The reference tells
// every parent the node has at that moment; with the drain-all-graph-change
// fix each edge is told once per section and ended once, whatever moved.
void drain_all_tell_parents_begin(BlockDriverState& bs);
void drain_all_tell_parents_end(BlockDriverState& bs);
// With that fix, an edge joining a node inside drain_all sections is told
// they began, and one leaving it that they ended for it (the graph change
// functions call these; without the fix they do nothing).
void drain_all_edge_joined(BdrvChild& edge);
void drain_all_edge_leaving(BdrvChild& edge);

// bdrv_replace_child_noperm's share of drained sections: an edge joining a
// quiesced node is told a section began, one leaving it that one ended. Once
// in the reference, whose nested sections tell the parents once; with
// nested-drain-parents' fix, which tells them every section, once per
// section of the node (the same commit, 0152bf400f, counts here too).
// Return whether the edge was told.
bool drained_edge_joined(BdrvChild& edge);
bool drained_edge_leaving(BdrvChild& edge);

}  // namespace engine

#include "engine/drain_poll.h"
