// The driver-calls oracle: what a write or discard asks of the drivers on the
// nodes it passes through. Its own model of the path (the job's node, then the
// data child of each filter down to the node that stores the data), of each
// node's request_alignment and of the flags each driver declares comes from
// the scenario, not from the engine. Judged when the command completes, from
// the driver calls the trace showed in its coroutine.
//
// - Every driver write (pwritev, pwrite_zeroes, pwritev_compressed) on a path
//   node lies in the request widened to the largest request_alignment from the
//   job's node down to that node (the padding of bdrv_co_pwritev at each
//   level); every driver discard lies in the request itself (bdrv_co_pdiscard
//   trims, never widens).
// - A write (or zero write) that succeeded wrote every byte of its range at the
//   node storing the data.
// - FUA on a write, FUA and MAY_UNMAP on a zero write, reach the driver of
//   every path node whose driver and every driver above it declare the flag
//   (MAY_UNMAP also needs unmap = true on each of them: bdrv_co_pwrite_zeroes
//   drops it otherwise). Below a node whose zero write fell back to writing
//   zeroes (a pwritev for a zero command), a zero write comes from
//   detect-zeroes, not from the command: MAY_UNMAP is not owed there.
#include <algorithm>

#include "engine/request_flags.h"
#include "scenarios/scenario_run.h"
#include "sim/str.h"

namespace scenarios {
namespace {

struct Level {
  const Node* node = nullptr;
  std::uint32_t label = 0;
  std::uint64_t align = 1;       // the largest request_alignment from the job's node to here
  unsigned write_flags = 0;      // flags every driver down to here takes on writes
  unsigned zero_flags = 0;       // ... on zero writes (MAY_UNMAP only where unmap = true)
  bool detects_zeroes = false;   // a node down to here turns writes of zeroes into zero writes
  unsigned own_write_flags = 0;  // flags this node's driver takes on writes (else it emulates FUA)
};

std::uint64_t align_down(std::uint64_t v, std::uint64_t a) { return v - v % a; }
std::uint64_t align_up(std::uint64_t v, std::uint64_t a) {
  const std::uint64_t r = v % a;
  return r == 0 ? v : v + (a - r);
}

std::string flag_names(unsigned flags) {
  std::string out;
  for (const RequestFlagName& f : request_flag_names()) {
    if ((flags & f.flag) != 0) out += sim::cat(out.empty() ? "" : ",", f.name);
  }
  return out.empty() ? "none" : out;
}

}  // namespace

void ScenarioRun::judge_driver_calls(const Job& job, const Command& cmd, int ret, const CommandState& state) {
  if (!checking(Oracle::kDriverCalls)) return;
  const bool discard = cmd.op == Command::Op::kDiscard;
  if ((cmd.op != Command::Op::kWrite && !discard) || cmd.vmstate) return;

  // The path: bounded by the node count (the parser refused cycles).
  std::vector<Level> path;
  unsigned write_flags = engine::BDRV_REQ_FUA;
  unsigned zero_flags = engine::BDRV_REQ_FUA | engine::BDRV_REQ_MAY_UNMAP;
  std::uint64_t align = 1;
  bool detects = false;
  const Node* n = job.node;
  for (std::size_t depth = 0; n != nullptr && depth < nodes_.size(); ++depth) {
    const NodeSpec& spec = *n->spec;
    align = std::max<std::uint64_t>(align, scenario_.request_alignment(spec));
    write_flags &= scenario_.declared_flags(spec, false);
    zero_flags &= scenario_.declared_flags(spec, true);
    if (!spec.unmap) zero_flags &= ~engine::BDRV_REQ_MAY_UNMAP;
    detects = detects || spec.detect_zeroes != engine::DetectZeroes::kOff;
    path.push_back(Level{n, n->bs->trace_label(), align, write_flags, zero_flags, detects,
                         scenario_.declared_flags(spec, false)});
    if (!spec.is_filter()) break;
    n = &data_child(*n);
  }

  const sim::Trace& trace = world_.trace();
  const std::uint64_t begin = cmd.offset;
  const std::uint64_t end = cmd.offset + cmd.bytes;
  const unsigned asked = cmd.engine_flags();
  // Bytes written at the node storing the data, as [begin, end) pieces.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> stored;
  std::size_t fell_back_at = path.size();  // the highest level whose zero write became a write, or none
  // A node a replace_node put on the path after the command began stands for
  // the node it replaced: calls before the replacement went there.
  const auto on_level = [&](const Level& l, std::uint32_t label) {
    if (l.label == label) return true;
    return std::any_of(replacements_.begin(), replacements_.end(), [&](const Replacement& r) {
      return r.to == l.node && r.from_label == label && r.at > state.began;
    });
  };
  for (const DriverCall& call : state.driver_calls) {
    const auto level = std::find_if(path.begin(), path.end(), [&](const Level& l) { return on_level(l, call.node); });
    if (level == path.end()) continue;
    const std::string_view op = trace.text(call.op);
    const bool zero_op = op == "pwrite_zeroes";
    const bool write_op = op == "pwritev" || op == "pwritev_compressed" || zero_op;
    if (!write_op && op != "pdiscard") continue;
    const std::uint64_t lo = discard ? begin : align_down(begin, level->align);
    const std::uint64_t hi = discard ? end : align_up(end, level->align);
    const std::string where = sim::cat(command_where(scenario_, job, cmd), ": driver ", op, " of ", call.offset, "+",
                                       call.bytes, " on '", level->node->spec->name, "'");
    if (call.offset < lo || call.offset + call.bytes > hi) {
      violation(Oracle::kDriverCalls, sim::cat(command_verb(cmd), ": driver ", op, " outside the request"),
                sim::cat(where, " reaches outside ", lo, "..", hi, discard ? " (the discard's own range)"
                                : sim::cat(" (the request widened to the alignment ", level->align, ")")));
      return;
    }
    if (write_op && level + 1 == path.end()) stored.emplace_back(call.offset, call.offset + call.bytes);
    // Flags: FUA on writes, FUA and MAY_UNMAP on zero writes, where declared.
    const bool zero_cmd = cmd.writes_zeroes();
    const auto index = static_cast<std::size_t>(level - path.begin());
    if (zero_cmd && op == "pwritev") fell_back_at = std::min(fell_back_at, index);
    unsigned must = 0;
    if (zero_cmd && zero_op) must = asked & level->zero_flags;
    if (zero_cmd && zero_op && index > fell_back_at) {
      // Below the level where it became a write (a fallback, or a padded
      // head or tail's read-modify-write), it is a write: FUA goes on only
      // through drivers that take it on writes (one that does not emulates
      // it with a flush), and a zero write there is detect_zeroes's.
      unsigned carried = must & engine::BDRV_REQ_FUA;
      for (std::size_t k = fell_back_at; k < index; ++k) carried &= path[k].own_write_flags;
      must = carried;
    }
    if (!zero_cmd && op == "pwritev" && !level->detects_zeroes) must = asked & level->write_flags;
    if ((call.flags & must) != must) {
      violation(Oracle::kDriverCalls, sim::cat(command_verb(cmd), ": ", flag_names(must & ~call.flags), " dropped"),
                sim::cat(where, " carries flags ", flag_names(call.flags), ", but the command asked for ",
                         flag_names(asked), " and every driver down to '", level->node->spec->name, "' takes ",
                         flag_names(must)));
      return;
    }
  }

  // A write that succeeded stored its whole range.
  if (discard || ret < 0 || cmd.bytes == 0) return;
  std::sort(stored.begin(), stored.end());
  std::uint64_t covered = begin;
  for (const auto& [lo, hi] : stored) {
    if (lo > covered) break;
    covered = std::max(covered, hi);
  }
  if (covered < end) {
    violation(Oracle::kDriverCalls, sim::cat(command_verb(cmd), ": range not written"),
              sim::cat(command_where(scenario_, job, cmd), " succeeded, but no driver write on '",
                       path.back().node->spec->name, "' covers byte ", covered, " of its range ", begin, "..", end));
  }
}

}  // namespace scenarios
