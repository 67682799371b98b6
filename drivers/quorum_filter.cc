#include "drivers/quorum_filter.h"

#include <utility>

#include "drivers/driver_contract.h"
#include "engine/io.h"
#include "sim/invariant.h"
#include "sim/probe.h"
#include "sim/world.h"

namespace drivers {

namespace {
// Code probes (sim/probe.h).
const sim::Probe kProbeQuorumReadFellOver("quorum.read_next_child", "a quorum read failed on a child and tried the next");
const sim::Probe kProbeQuorumWriteOutvoted("quorum.write_failed", "too few children wrote: the quorum write failed");
const sim::Probe kProbeQuorumWriteTolerated("quorum.write_child_failed_tolerated", "a child failed a write the quorum still counted as done");
const sim::Probe kProbeQuorumFlushFailed("quorum.flush_failed", "too few children flushed: the quorum flush failed");
}  // namespace

std::uint32_t QuorumFilter::ops() const { return engine::kCoPreadv | engine::kCoPwritev | engine::kCoFlushToDisk; }

std::int64_t QuorumFilter::getlength(const engine::BlockDriverState&) const {
  SIM_ASSERT(!children_.empty(), "quorum without children");
  const std::int64_t first = engine::bdrv_getlength(*children_.front()->bs);
  if (first < 0) return first;
  for (std::size_t i = 1; i < children_.size(); ++i) {
    const std::int64_t length = engine::bdrv_getlength(*children_[i]->bs);
    if (length < 0) return length;
    if (length != first) return -EIO;
  }
  return first;
}

int QuorumFilter::vote_error(const std::vector<int>& rets) {
  // quorum_count_vote puts each new value at the head of the list, and
  // quorum_get_vote_winner takes the first with the most votes: on a tie the
  // value that appeared last wins.
  std::vector<std::pair<int, int>> votes;  // value, count; in order of first appearance
  for (const int r : rets) {
    if (r == 0) continue;
    auto it = votes.begin();
    while (it != votes.end() && it->first != r) ++it;
    if (it == votes.end()) {
      votes.emplace_back(r, 1);
    } else {
      ++it->second;
    }
  }
  int winner = 0;
  int most = 0;
  for (auto it = votes.rbegin(); it != votes.rend(); ++it) {
    if (it->second > most) {
      most = it->second;
      winner = it->first;
    }
  }
  return winner;
}

// read_fifo_child: the children in order until one read succeeds.
sim::Task<int> QuorumFilter::co_preadv(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                       engine::IoVector& qiov, unsigned) {
  check_request_limits(bs, RequestKind::kRead, offset, bytes, &qiov);
  int ret = 0;
  std::size_t n = 0;
  do {
    if (n > 0) kProbeQuorumReadFellOver.hit();
    ret = co_await engine::bdrv_co_preadv(*children_[n++], static_cast<std::int64_t>(offset), bytes, qiov, 0);
  } while (ret < 0 && n < children_.size());
  co_return ret;
}

// write_quorum_entry: one child's write, counted; the last one wakes the caller.
sim::Task<void> QuorumFilter::write_child(engine::BdrvChild& child, Write& w, std::size_t i) {
  w.ret[i] = co_await engine::bdrv_co_pwritev(child, static_cast<std::int64_t>(w.offset), w.bytes, w.qiov, 0);
  if (w.ret[i] == 0) ++w.success_count;
  ++w.count;
  SIM_ASSERT(w.count <= static_cast<int>(w.ret.size()), "quorum counted more writes than children");
  if (w.count == static_cast<int>(w.ret.size())) w.done.restart_all();
}

sim::Task<int> QuorumFilter::co_pwritev(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                        engine::IoVector& qiov, unsigned flags) {
  check_request_limits(bs, RequestKind::kWrite, offset, bytes, &qiov);
  check_request_flags(bs, RequestKind::kWrite, flags);
  check_node_writable(bs, RequestKind::kWrite);
  Write w;
  w.offset = offset;
  w.bytes = bytes;
  w.qiov = &qiov;
  w.ret.assign(children_.size(), 0);
  sim::World& world = sim::World::current();
  sim::Coroutine* self = world.current_coroutine();
  for (std::size_t i = 0; i < children_.size(); ++i) {
    // The children's writes are the caller's request: errors they meet are
    // told to whoever watches the caller's coroutine.
    sim::Coroutine& co = world.spawn_numbered(bs.aio_context(), "quorum write", i, write_child(*children_[i], w, i));
    if (self != nullptr) co.set_annotation(self->annotation());
  }
  while (w.count < static_cast<int>(children_.size())) {
    co_await w.done.wait(nullptr, sim::WaitInfo{"quorum children's writes", 0, 0, bs.node_name(), world.now_ns()});
  }
  // quorum_has_too_much_io_failed.
  if (w.success_count < threshold_) kProbeQuorumWriteOutvoted.hit();
  if (w.success_count >= threshold_ && w.success_count < static_cast<int>(children_.size())) kProbeQuorumWriteTolerated.hit();
  co_return w.success_count < threshold_ ? vote_error(w.ret) : 0;
}

// quorum_co_flush: every child in turn; an error when fewer than the
// threshold succeeded.
sim::Task<int> QuorumFilter::co_flush_to_disk(engine::BlockDriverState&) {
  std::vector<int> rets;
  int success_count = 0;
  for (engine::BdrvChild* child : children_) {
    const int ret = co_await engine::bdrv_co_flush(*child->bs);
    rets.push_back(ret);
    if (ret == 0) ++success_count;
  }
  if (success_count < threshold_) kProbeQuorumFlushFailed.hit();
  co_return success_count >= threshold_ ? 0 : vote_error(rets);
}

}  // namespace drivers
