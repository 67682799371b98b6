// quorum (block/quorum.c of the reference's time), as far as the request
// layer meets it: a filter over several children that each hold the whole
// image. Writes go to every child at once (a coroutine each, as
// quorum_co_pwritev enters them) and fail when fewer than the vote threshold
// succeeded, with the most common error (quorum_vote_error); reads take the
// children in order until one succeeds (read-pattern=fifo); a flush flushes
// every child in turn (quorum_co_flush is the driver's flush_to_disk, so the
// engine's no-flush and clean-generation skips apply to it). No zero writes,
// discards or block status of its own, as then: the engine falls back to
// writing zeroes, ignores the discard's -ENOTSUP and reports data.
#pragma once

#include <vector>

#include "engine/block_driver.h"
#include "sim/co_queue.h"

namespace drivers {

class QuorumFilter final : public engine::BlockDriver {
 public:
  explicit QuorumFilter(int threshold) : threshold_(threshold) {}
  std::string_view format_name() const override { return "quorum"; }
  std::uint32_t ops() const override;
  // quorum_getlength: every child must have the first one's length (-EIO).
  std::int64_t getlength(const engine::BlockDriverState& bs) const override;
  // The children, in the order quorum_open opened them (children.0, ...).
  void add_child(engine::BdrvChild& child) { children_.push_back(&child); }
  const std::vector<engine::BdrvChild*>& children() const { return children_; }
  sim::Task<int> co_preadv(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                           engine::IoVector& qiov, unsigned flags) override;
  sim::Task<int> co_pwritev(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                            engine::IoVector& qiov, unsigned flags) override;
  sim::Task<int> co_flush_to_disk(engine::BlockDriverState& bs) override;

 private:
  // One write of every child (QuorumAIOCB): shared by the caller and the
  // children's coroutines, which the caller outlives.
  struct Write {
    std::uint64_t offset = 0;
    std::uint64_t bytes = 0;
    engine::IoVector* qiov = nullptr;
    std::vector<int> ret;  // per child
    int count = 0;
    int success_count = 0;
    sim::CoQueue done;
  };
  static sim::Task<void> write_child(engine::BdrvChild& child, Write& w, std::size_t i);
  // quorum_vote_error: the error most children returned (the first such, in
  // child order, on a tie), 0 if none failed.
  static int vote_error(const std::vector<int>& rets);

  int threshold_;
  std::vector<engine::BdrvChild*> children_;
};

}  // namespace drivers
