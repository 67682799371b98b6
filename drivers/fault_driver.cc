#include "drivers/fault_driver.h"

#include <algorithm>
#include <cmath>

#include "drivers/driver_contract.h"
#include "engine/block_driver_state.h"
#include "engine/errors.h"
#include "engine/io.h"
#include "sim/invariant.h"
#include "sim/probe.h"
#include "sim/str.h"
#include "sim/world.h"

namespace drivers {

namespace {
// Code probes (sim/probe.h).
const sim::Probe kProbeFaultImmediate("fault.fired_immediately", "a fault rule failed a request without a trip through the loop");
const sim::Probe kProbeFaultOnce("fault.once_removed", "a one-shot fault rule fired and went away");
const sim::Probe kProbeFaultEventReset("fault.event_reset_rules", "a blkdebug event replaced the active rules");
const sim::Probe kProbeFaultState("fault.state_set", "a blkdebug event moved the rule state");
const sim::Probe kProbeFaultSmallZero("fault.small_zero_enotsup", "a zero write below the alignment answered -ENOTSUP (as blkdebug)");
const sim::Probe kProbeFaultSmallDiscard("fault.small_discard_enotsup", "a discard below request_alignment answered -ENOTSUP (as blkdebug)");
}  // namespace

using engine::BlkdebugEvent;

namespace {
constexpr std::string_view kIoKindNames[kIoKindCount] = {"any", "read", "write", "zero", "discard", "flush", "block_status"};

// One probe per kind of request a rule failed, from read on: "any" is a
// rule's kind, never a request's.
const sim::Probe kProbeFired[kIoKindCount - 1] = {
    {"fault.fired.read", "a fault rule failed a read"},
    {"fault.fired.write", "a fault rule failed a write"},
    {"fault.fired.zero", "a fault rule failed a zero write"},
    {"fault.fired.discard", "a fault rule failed a discard"},
    {"fault.fired.flush", "a fault rule failed a flush"},
    {"fault.fired.block_status", "a fault rule failed a block-status query"},
};
}  // namespace

std::string_view io_kind_name(IoKind kind) { return kIoKindNames[static_cast<int>(kind)]; }

std::optional<IoKind> io_kind_from_name(std::string_view name) {
  for (int i = 0; i < kIoKindCount; ++i) {
    if (kIoKindNames[i] == name) return static_cast<IoKind>(i);
  }
  return std::nullopt;
}

std::string FaultRule::describe() const {
  if (action == Action::kSetState) {
    return sim::cat("set-state event=", engine::blkdebug_event_name(event), " state=", state, " new_state=", new_state);
  }
  std::string out = sim::cat("inject-error event=", from_start ? std::string_view("(start)") : engine::blkdebug_event_name(event),
                             " errno=", engine::errno_name(-error));
  if (state != 0) out += sim::cat(" state=", state);
  if (offset >= 0) out += sim::cat(" offset=", offset);
  if (kind != IoKind::kAny) out += sim::cat(" kind=", io_kind_name(kind));
  if (once) out += " once";
  if (immediately) out += " immediately";
  return out;
}

std::uint64_t LatencyModel::draw(sim::Rng& rng) const {
  switch (kind) {
    case Kind::kNone: return 0;
    case Kind::kFixed: return a_ns;
    case Kind::kUniform: return rng.between(a_ns, b_ns);
    case Kind::kExponential: {
      // Inverse CDF on a 53-bit uniform in (0, 1].
      const double u = static_cast<double>((rng.next() >> 11) + 1) / 9007199254740992.0;
      return static_cast<std::uint64_t>(-std::log(u) * static_cast<double>(a_ns));
    }
    case Kind::kPareto: {
      // Heavy tail: scale / U^(1/shape), capped so one request cannot stall a run forever.
      const double u = static_cast<double>((rng.next() >> 11) + 1) / 9007199254740992.0;
      const double x = static_cast<double>(a_ns) / std::pow(u, 1.0 / shape);
      return std::min<std::uint64_t>(b_ns, static_cast<std::uint64_t>(std::min(x, 1e18)));
    }
  }
  return 0;
}

FaultDriver::FaultDriver(FaultConfig config) : config_(std::move(config)) {
  std::uint64_t id = 0;
  for (const FaultRule& r : config_.rules) {
    SIM_ASSERT(r.error > 0, "fault rule errno must be positive: " + r.describe());
    rules_.push_back(LiveRule{r, ++id, 0});
    if (r.from_start) active_.insert(active_.begin(), id);
  }
}

std::uint32_t FaultDriver::ops() const {
  return engine::kCoPreadv | engine::kCoPwritev | engine::kCoPwriteZeroes | engine::kCoPdiscard |
         engine::kCoFlushToDisk | engine::kCoGetBlockStatus | engine::kRefreshLimits |
         engine::kDebugEvent;
}

std::int64_t FaultDriver::getlength(const engine::BlockDriverState& bs) const {
  return bs.file->bs->total_sectors * engine::BDRV_SECTOR_SIZE;
}

void FaultDriver::configure_node(engine::BlockDriverState& bs) const { engine::inherit_request_flags(bs); }

void FaultDriver::refresh_limits(engine::BlockDriverState& bs) {
  if (config_.align != 0) bs.bl.request_alignment = config_.align;
  if (config_.max_transfer != 0) bs.bl.max_transfer = config_.max_transfer;
  if (config_.opt_write_zero != 0) bs.bl.pwrite_zeroes_alignment = config_.opt_write_zero;
  if (config_.max_write_zero != 0) bs.bl.max_pwrite_zeroes = config_.max_write_zero;
  if (config_.opt_discard != 0) bs.bl.pdiscard_alignment = config_.opt_discard;
  if (config_.max_discard != 0) bs.bl.max_pdiscard = config_.max_discard;
}

bool FaultDriver::is_from_start(std::uint64_t id) const {
  const auto it = std::find_if(rules_.begin(), rules_.end(), [&](const LiveRule& l) { return l.id == id; });
  return it != rules_.end() && it->rule.from_start;
}

void FaultDriver::disarm() {
  rules_.clear();
  active_.clear();
  for (LatencyModel& m : config_.latency) m = LatencyModel{};
}

sim::Rng& FaultDriver::stream(engine::BlockDriverState& bs, std::string_view what, IoKind kind) {
  // One stream per node and operation kind: rules and latencies of one kind
  // never shift another kind's draws.
  return sim::World::current().rng(sim::cat(what, ":", bs.node_name(), ":", io_kind_name(kind)));
}

sim::Task<void> FaultDriver::process_event(engine::BlockDriverState&, BlkdebugEvent event) {
  int new_state = state_;
  bool reset = false;
  for (LiveRule& live : rules_) {
    const FaultRule& r = live.rule;
    if (r.from_start || r.event != event || (r.state != 0 && r.state != state_)) continue;
    if (r.action == FaultRule::Action::kSetState) {
      kProbeFaultState.hit();
      new_state = r.new_state;
    } else {
      // An event with inject-error rules replaces the set of active rules.
      if (!reset) {
        kProbeFaultEventReset.hit();
        std::erase_if(active_, [&](std::uint64_t id) { return !is_from_start(id); });
        reset = true;
      }
      active_.insert(active_.begin(), live.id);
    }
  }
  state_ = new_state;
  co_return;
}

sim::Task<void> FaultDriver::debug_event(engine::BlockDriverState& bs, BlkdebugEvent event) {
  if (paused_) co_return;
  co_await process_event(bs, event);
  co_await breakpoints_.hit(event);
}

sim::Task<int> FaultDriver::rule_check(engine::BlockDriverState& bs, IoKind kind, std::int64_t offset,
                                       std::int64_t bytes) {
  for (std::size_t i = 0; i < active_.size(); ++i) {
    auto it = std::find_if(rules_.begin(), rules_.end(), [&](const LiveRule& l) { return l.id == active_[i]; });
    if (it == rules_.end()) continue;
    LiveRule& live = *it;
    const FaultRule& r = live.rule;
    if (r.kind != kind && (r.kind != IoKind::kAny || kind == IoKind::kBlockStatus)) continue;
    const bool covers = r.offset < 0 || (bytes > 0 && r.offset >= offset && r.offset < offset + bytes);
    if (!covers) continue;
    ++live.matches;
    if (live.matches <= r.after) co_return 0;
    if (r.every > 1 && (live.matches - r.after - 1) % r.every != 0) co_return 0;
    if (r.probability_ppm < 1'000'000 && !stream(bs, "faults", kind).chance(r.probability_ppm, 1'000'000)) co_return 0;

    const int error = r.error;
    const bool immediately = r.immediately;
    sim::World& world = sim::World::current();
    sim::Coroutine* self = world.current_coroutine();
    ++fired_;
    SIM_ASSERT(kind != IoKind::kAny, "a request of no kind");
    kProbeFired[static_cast<int>(kind) - 1].hit();
    if (immediately) kProbeFaultImmediate.hit();
    world.emit_ids(sim::EventKind::kFaultFired, self != nullptr ? self->id() : 0, live.id,
                   static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(bytes), -error,
                   world.trace().intern(r.describe()), bs.trace_label());
    if (r.once) {
      kProbeFaultOnce.hit();
      active_.erase(active_.begin() + static_cast<std::ptrdiff_t>(i));
      rules_.erase(it);
    }
    if (!immediately) {
      // Fail after a trip through the loop, like a completion.
      world.schedule(world.current_context(), *self);
      co_await world.suspend(sim::WaitInfo{"fault completion", 0, 0, {}, 0});
    }
    co_return -error;
  }
  co_return 0;
}

sim::Task<int> FaultDriver::before_io(engine::BlockDriverState& bs, IoKind kind, std::int64_t offset,
                                      std::int64_t bytes) {
  if (paused_) co_return 0;
  const LatencyModel& any = config_.latency[static_cast<int>(IoKind::kAny)];
  const std::uint64_t ns = (kind == IoKind::kBlockStatus ? 0 : any.draw(stream(bs, "latency", IoKind::kAny))) +
                           config_.latency[static_cast<int>(kind)].draw(stream(bs, "latency", kind));
  if (ns > 0) co_await sim::co_sleep_ns(ns, "fault latency");
  co_return co_await rule_check(bs, kind, offset, bytes);
}

sim::Task<int> FaultDriver::begin_request(engine::BlockDriverState& bs, BlkdebugEvent event, IoKind kind,
                                          std::int64_t offset, std::int64_t bytes) {
  if (paused_) co_return 0;
  co_await process_event(bs, event);
  co_await breakpoints_.hit(event);
  co_return co_await before_io(bs, kind, offset, bytes);
}

sim::Task<int> FaultDriver::co_preadv(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                      engine::IoVector& qiov, unsigned flags) {
  check_request_limits(bs, RequestKind::kRead, offset, bytes, &qiov);
  const int ret = co_await begin_request(bs, BlkdebugEvent::kReadAio, IoKind::kRead, static_cast<std::int64_t>(offset),
                                         static_cast<std::int64_t>(bytes));
  if (ret < 0) co_return ret;
  co_return co_await engine::bdrv_co_preadv(*bs.file, static_cast<std::int64_t>(offset), bytes, qiov, flags);
}

sim::Task<int> FaultDriver::co_pwritev(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                       engine::IoVector& qiov, unsigned flags) {
  check_request_limits(bs, RequestKind::kWrite, offset, bytes, &qiov);
  const int ret = co_await begin_request(bs, BlkdebugEvent::kWriteAio, IoKind::kWrite, static_cast<std::int64_t>(offset),
                                         static_cast<std::int64_t>(bytes));
  if (ret < 0) co_return ret;
  co_return co_await engine::bdrv_co_pwritev(*bs.file, static_cast<std::int64_t>(offset), bytes, &qiov, flags);
}

sim::Task<int> FaultDriver::co_pwrite_zeroes(engine::BlockDriverState& bs, std::int64_t offset, int bytes,
                                             unsigned flags) {
  // As blkdebug: pass through only zero writes of at least the preferred
  // alignment (the smaller ones answer -ENOTSUP, so the engine's fallback to
  // writing zeroes gets exercised), and check the engine never hands over a
  // small one that crosses an alignment boundary, or a large unaligned one.
  const std::int64_t align = std::max<std::int64_t>(bs.bl.request_alignment, bs.bl.pwrite_zeroes_alignment);
  if (bytes < align) {
    SIM_CHECK("blkdebug.zero_within_alignment",
              offset % align == 0 || (offset + bytes) % align == 0 ||
                  (offset + align - 1) / align == (offset + bytes + align - 1) / align,
              sim::cat("node ", bs.node_name(), ": a small zero write [", offset, ", +", bytes,
                       ") crosses an alignment boundary of ", align));
    kProbeFaultSmallZero.hit();
    co_return -ENOTSUP;
  }
  SIM_CHECK("blkdebug.zero_aligned", offset % align == 0 && bytes % align == 0,
            sim::cat("node ", bs.node_name(), ": zero write [", offset, ", +", bytes, ") not aligned to ", align));
  check_request_limits(bs, RequestKind::kZero, static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(bytes));
  const int ret = co_await before_io(bs, IoKind::kZero, offset, bytes);
  if (ret < 0) co_return ret;
  co_return co_await engine::bdrv_co_pwrite_zeroes(*bs.file, offset, bytes, flags);
}

sim::Task<int> FaultDriver::co_pdiscard(engine::BlockDriverState& bs, std::int64_t offset, int bytes) {
  // As blkdebug: discards smaller than request_alignment answer -ENOTSUP
  // (discard is advisory); the others must be aligned to it, and to the
  // discard alignment when they are at least that long.
  const std::int64_t align = bs.bl.pdiscard_alignment;
  if (bytes < static_cast<std::int64_t>(bs.bl.request_alignment)) {
    SIM_CHECK("blkdebug.discard_within_alignment",
              align == 0 || offset % align == 0 || (offset + bytes) % align == 0 ||
                  (offset + align - 1) / align == (offset + bytes + align - 1) / align,
              sim::cat("node ", bs.node_name(), ": a small discard [", offset, ", +", bytes,
                       ") crosses an alignment boundary of ", align));
    kProbeFaultSmallDiscard.hit();
    co_return -ENOTSUP;
  }
  SIM_CHECK("blkdebug.discard_aligned",
            offset % bs.bl.request_alignment == 0 && bytes % bs.bl.request_alignment == 0 &&
                (align == 0 || bytes < align || (offset % align == 0 && bytes % align == 0)),
            sim::cat("node ", bs.node_name(), ": discard [", offset, ", +", bytes, ") not aligned"));
  check_request_limits(bs, RequestKind::kDiscard, static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(bytes));
  const int ret = co_await before_io(bs, IoKind::kDiscard, offset, bytes);
  if (ret < 0) co_return ret;
  co_return co_await engine::bdrv_co_pdiscard(*bs.file->bs, offset, bytes);
}

sim::Task<int> FaultDriver::co_flush_to_disk(engine::BlockDriverState& bs) {
  const int ret = co_await begin_request(bs, BlkdebugEvent::kFlushToDisk, IoKind::kFlush, -1, 0);
  if (ret < 0) co_return ret;
  co_return co_await engine::bdrv_co_flush(*bs.file->bs);
}

sim::Task<std::int64_t> FaultDriver::co_get_block_status(engine::BlockDriverState& bs, std::int64_t sector_num,
                                                         int nb_sectors, int* pnum, engine::BlockDriverState** file) {
  check_block_status_call(bs, sector_num, nb_sectors);
  const int ret = co_await before_io(bs, IoKind::kBlockStatus, sector_num << engine::BDRV_SECTOR_BITS,
                                     static_cast<std::int64_t>(nb_sectors) << engine::BDRV_SECTOR_BITS);
  if (ret < 0) co_return ret;
  co_return engine::bdrv_co_get_block_status_from_file(bs, sector_num, nb_sectors, pnum, file);
}

}  // namespace drivers
