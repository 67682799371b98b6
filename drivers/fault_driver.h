// fault: a filter in front of its file child that speaks blkdebug's language.
//
// Rules act on events: the reference's debug events raised by the engine on this
// node (pwritev, pwritev_rmw_head, flush_to_disk, ...), events raised by a format
// above on its file (read_aio, write_aio, cluster_alloc, ...), and read_aio /
// write_aio / flush_to_disk raised by fault itself for each of its requests.
// - inject-error: when its event fires (in its state), the rule becomes active;
//   the next request that matches its range and kind fails with its errno,
//   after the request's latency or, with `immediately`, at once; `once` removes
//   it after firing. Extensions: probability, after N matches, every N matches,
//   operation kind.
// - set-state: when its event fires (in its state), the state becomes new_state.
// - break / resume: hold a request at an event (see breakpoints.h).
// Latency per operation kind (fixed, uniform, exponential, Pareto) is drawn
// from a stream of its own, so a rule or latency on one kind never shifts
// another kind's numbers. Limit overrides are applied as blkdebug's
// align / max-transfer / opt-write-zero / max-write-zero / opt-discard / max-discard.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "drivers/breakpoints.h"
#include "engine/block_driver.h"
#include "sim/rng.h"

namespace drivers {

// kBlockStatus is matched only by rules and latencies that name it: `any`
// means the data operations, as blkdebug's rules know no block-status queries.
enum class IoKind : std::uint8_t { kAny, kRead, kWrite, kZero, kDiscard, kFlush, kBlockStatus };
constexpr int kIoKindCount = static_cast<int>(IoKind::kBlockStatus) + 1;
std::string_view io_kind_name(IoKind kind);
std::optional<IoKind> io_kind_from_name(std::string_view name);

struct FaultRule {
  enum class Action : std::uint8_t { kInjectError, kSetState };
  Action action = Action::kInjectError;
  engine::BlkdebugEvent event = engine::BlkdebugEvent::kPwritev;
  // An inject-error rule without an event is active from the start and stays
  // in the active set whatever events fire (block-status queries raise none).
  bool from_start = false;
  int state = 0;  // only in this state (0: any)
  // inject-error
  int error = EIO;           // positive errno
  std::int64_t offset = -1;  // the request must cover this byte (-1: any)
  bool once = false;
  bool immediately = false;
  std::uint32_t probability_ppm = 1'000'000;  // chance per matching request, in parts per million
  std::uint64_t after = 0;                    // skip the first N matching requests
  std::uint64_t every = 0;                    // then fire on every Nth (0: each)
  IoKind kind = IoKind::kAny;
  // set-state
  int new_state = 0;

  std::string describe() const;
};

struct LatencyModel {
  enum class Kind : std::uint8_t { kNone, kFixed, kUniform, kExponential, kPareto };
  Kind kind = Kind::kNone;
  std::uint64_t a_ns = 0;  // fixed value / uniform min / exponential mean / Pareto scale
  std::uint64_t b_ns = 0;  // uniform max / Pareto cap
  double shape = 2.0;      // Pareto shape (alpha > 1 has a mean)
  std::uint64_t draw(sim::Rng& rng) const;
};

struct FaultConfig {
  std::vector<FaultRule> rules;
  LatencyModel latency[kIoKindCount];  // by IoKind (kAny: added to every data kind)
  // blkdebug's limit overrides (0: keep the file's).
  std::uint32_t align = 0;
  std::uint32_t max_transfer = 0;
  std::uint32_t opt_write_zero = 0;
  std::int32_t max_write_zero = 0;
  std::uint32_t opt_discard = 0;
  std::int32_t max_discard = 0;
};

class FaultDriver final : public engine::BlockDriver {
 public:
  explicit FaultDriver(FaultConfig config);

  std::string_view format_name() const override { return "fault"; }
  std::uint32_t ops() const override;
  std::int64_t getlength(const engine::BlockDriverState& bs) const override;
  // blkdebug_open: FUA, and for zero writes FUA and MAY_UNMAP, as far as the file takes them.
  void configure_node(engine::BlockDriverState& bs) const override;
  // blkdebug of the time: a filter without a truncate of its own (bdrv_truncate passes it to the file).
  bool is_filter() const override { return true; }
  sim::Task<int> co_preadv(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                           engine::IoVector& qiov, unsigned flags) override;
  sim::Task<int> co_pwritev(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                            engine::IoVector& qiov, unsigned flags) override;
  sim::Task<int> co_pwrite_zeroes(engine::BlockDriverState& bs, std::int64_t offset, int bytes,
                                  unsigned flags) override;
  sim::Task<int> co_pdiscard(engine::BlockDriverState& bs, std::int64_t offset, int bytes) override;
  sim::Task<int> co_flush_to_disk(engine::BlockDriverState& bs) override;
  sim::Task<std::int64_t> co_get_block_status(engine::BlockDriverState& bs, std::int64_t sector_num, int nb_sectors,
                                              int* pnum, engine::BlockDriverState** file) override;
  void refresh_limits(engine::BlockDriverState& bs) override;
  sim::Task<void> debug_event(engine::BlockDriverState& bs, engine::BlkdebugEvent event) override;

  Breakpoints& breakpoints() { return breakpoints_; }
  // Drops every rule and latency (an oracle reading the result must not be hit).
  void disarm();
  int state() const { return state_; }
  // blkdebug's state, as a set-state rule would leave it.
  void set_state(int state) { state_ = state; }
  // While paused the node passes everything through untouched: no events, rules,
  // breakpoints or latency (an oracle reading back must not be hit, and must not
  // change what the run does afterwards).
  void set_paused(bool paused) { paused_ = paused; }
  std::uint64_t faults_fired() const { return fired_; }
  std::size_t rules_left() const { return rules_.size(); }

 private:
  struct LiveRule {
    FaultRule rule;
    std::uint64_t id;
    std::uint64_t matches = 0;
  };
  // Latency of one operation, then the rule check; returns 0 or -errno.
  // The event fault raises for its own request, its breakpoints, then before_io.
  sim::Task<int> begin_request(engine::BlockDriverState& bs, engine::BlkdebugEvent event, IoKind kind,
                               std::int64_t offset, std::int64_t bytes);
  sim::Task<int> before_io(engine::BlockDriverState& bs, IoKind kind, std::int64_t offset, std::int64_t bytes);
  sim::Task<int> rule_check(engine::BlockDriverState& bs, IoKind kind, std::int64_t offset, std::int64_t bytes);
  sim::Task<void> process_event(engine::BlockDriverState& bs, engine::BlkdebugEvent event);
  sim::Rng& stream(engine::BlockDriverState& bs, std::string_view what, IoKind kind);
  bool is_from_start(std::uint64_t id) const;

  FaultConfig config_;
  std::vector<LiveRule> rules_;         // in the order given
  std::vector<std::uint64_t> active_;   // ids of active inject-error rules, newest first
  int state_ = 1;                       // blkdebug's states start at 1
  bool paused_ = false;
  std::uint64_t fired_ = 0;
  Breakpoints breakpoints_;
};

}  // namespace drivers
