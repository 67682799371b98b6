#include "scenarios/in_flight_model.h"

#include <algorithm>

#include "sim/invariant.h"
#include "sim/str.h"

namespace scenarios {
namespace {

// "bdrv_co_pwritev" -> "pwritev": signatures speak of the kind of request.
std::string_view short_name(std::string_view name) {
  constexpr std::string_view kPrefix = "bdrv_co_";
  return name.starts_with(kPrefix) ? name.substr(kPrefix.size()) : name;
}

}  // namespace

std::uint32_t InFlightModel::kinds() {
  using K = sim::EventKind;
  return sim::Trace::kind_bit(K::kRequestBegin) | sim::Trace::kind_bit(K::kRequestEnd) |
         sim::Trace::kind_bit(K::kSerialising) | sim::Trace::kind_bit(K::kSerialisingPastWait) |
         sim::Trace::kind_bit(K::kNoSerialising) |
         sim::Trace::kind_bit(K::kDriverIssue) | sim::Trace::kind_bit(K::kDriverComplete);
}

std::optional<InFlightModel::Violation> InFlightModel::observe(const sim::Trace& trace,
                                                                         const sim::TraceEvent& e) {
  switch (e.kind) {
    case sim::EventKind::kRequestBegin: {
      Request r;
      r.node = e.label2;
      r.name = e.label;
      r.co = e.co;
      r.offset = e.b;
      r.bytes = e.c;
      r.begin = e.b;
      r.end = e.b + e.c;
      SIM_ASSERT(requests_.emplace(e.a, r).second, sim::cat("request ", e.a, " began twice"));
      return std::nullopt;
    }
    case sim::EventKind::kRequestEnd:
      requests_.erase(e.a);
      return std::nullopt;
    case sim::EventKind::kSerialising: {
      auto it = requests_.find(e.a);
      SIM_ASSERT(it != requests_.end(), sim::cat("request ", e.a, " made serialising before it began"));
      Request& r = it->second;
      const std::uint64_t align = e.b;
      SIM_ASSERT(align > 0, "a serialising alignment of zero");
      // Widened to whole units of the alignment, and never narrowed again.
      const std::uint64_t begin = r.offset / align * align;
      const std::uint64_t end = (r.offset + r.bytes + align - 1) / align * align;
      r.begin = r.serialising ? std::min(r.begin, begin) : begin;
      r.end = r.serialising ? std::max(r.end, end) : end;
      r.serialising = true;
      return std::nullopt;
    }
    case sim::EventKind::kSerialisingPastWait: {
      auto it = requests_.find(e.a);
      SIM_ASSERT(it != requests_.end(), sim::cat("request ", e.a, " passed its wait before it began"));
      it->second.past_wait = true;
      for (const auto& [op_id, op] : driver_ops_) {
        if (writes_below(it->second, op)) return writer_below(trace, e.a, it->second, op, false);
      }
      return std::nullopt;
    }
    case sim::EventKind::kNoSerialising: {
      const auto it = requests_.find(e.a);
      SIM_ASSERT(it != requests_.end(), sim::cat("request ", e.a, " skipped its wait before it began"));
      it->second.no_serialising = true;
      return std::nullopt;
    }
    case sim::EventKind::kDriverComplete:
      driver_ops_.erase(e.a);
      return std::nullopt;
    case sim::EventKind::kDriverIssue: {
      const std::string_view op_name = trace.text(e.label);
      const std::uint64_t begin = e.b;
      const std::uint64_t end = e.b + e.c;
      const DriverOp op{e.label2, e.label, e.co, begin, end,
                        op_name == "pwritev" || op_name == "pwritev_compressed" || op_name == "pwrite_zeroes" ||
                            op_name == "pdiscard"};
      driver_ops_[e.a] = op;
      if (e.c == 0) return std::nullopt;  // a flush touches no range
      // A block-status query reads no data: the reference does not serialise it.
      if (op_name == "block_status") return std::nullopt;
      for (const auto& [id, r] : requests_) {
        if (!r.serialising || !r.past_wait || r.node != e.label2 || r.co == e.co) continue;
        if (end <= r.begin || r.end <= begin) continue;
        // BDRV_REQ_NO_SERIALISING: the reference lets such a read past
        // serialising requests by design (backup reads from inside a write).
        if (exempt(e.co, e.label2, begin, end)) continue;
        Violation v;
        // An end past INT64_MAX (the serialising request's, or the issuing
        // one's) wraps in the reference's int64_t arithmetic.
        v.shape = sim::cat(trace.text(e.label), " overlaps serialising ", short_name(trace.text(r.name)),
                           passes_int64(r) || issuer_passes_int64(e.co, e.label2) ? " past INT64_MAX" : "");
        v.message = sim::cat("driver ", trace.text(e.label), " of ", begin, "+", e.c, " on '", trace.text(e.label2),
                             "' (coroutine ", e.co, ") overlaps serialising request ", trace.text(r.name), " ", r.offset,
                             "+", r.bytes, " (req#", id, ", widened to ", r.begin, "..", r.end, "), which is past its wait");
        return v;
      }
      for (const auto& [id, r] : requests_) {
        if (r.serialising && r.past_wait && writes_below(r, op)) return writer_below(trace, id, r, op, true);
      }
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

bool InFlightModel::writes_below(const Request& r, const DriverOp& op) const {
  if (!chained_below_ || !op.writes || op.node == r.node || op.co == r.co) return false;
  if (op.end <= r.begin || r.end <= op.begin) return false;
  // A write of a request that entered above, on r's node, is the same-node
  // rule's (it should have waited there).
  for (const auto& [id, other] : requests_) {
    if (other.co == op.co && other.node == r.node) return false;
  }
  return chained_below_(r.node, op.node);
}

std::optional<InFlightModel::Violation> InFlightModel::writer_below(const sim::Trace& trace, std::uint64_t id,
                                                                    const Request& r, const DriverOp& op,
                                                                    bool issued_after) const {
  Violation v;
  v.shape = std::string(kWriterBelowShape);
  v.message = sim::cat("driver ", trace.text(op.op), " of ", op.begin, "+", op.end - op.begin, " on '",
                       trace.text(op.node), "' (coroutine ", op.co, ") ", issued_after ? "lands inside" : "is in flight under",
                       " serialising request ", trace.text(r.name), " ", r.offset, "+", r.bytes, " (req#", id,
                       ", widened to ", r.begin, "..", r.end, ") on '", trace.text(r.node), "' above it, ",
                       issued_after ? "which is past its wait" : "as it passes its wait",
                       ": a write that enters below the node that serialises waits for nothing there");
  return v;
}

bool InFlightModel::passes_int64(const Request& r) {
  constexpr auto kMax = static_cast<std::uint64_t>(INT64_MAX);
  return r.offset + r.bytes > kMax || (r.serialising && r.end > kMax);
}

bool InFlightModel::issuer_passes_int64(std::uint64_t co, std::uint32_t node) const {
  for (const auto& [id, r] : requests_) {
    if (r.co == co && r.node == node && passes_int64(r)) return true;
  }
  return false;
}

bool InFlightModel::exempt(std::uint64_t co, std::uint32_t node, std::uint64_t begin, std::uint64_t end) const {
  for (const auto& [id, r] : requests_) {
    if (r.no_serialising && r.co == co && r.node == node && r.offset < end && begin < r.offset + r.bytes) return true;
  }
  return false;
}

bool InFlightModel::request_ends_past(std::uint32_t node, std::uint64_t length) const {
  for (const auto& [id, r] : requests_) {
    if (r.node == node && (r.offset > length || r.bytes > length - r.offset)) return true;
  }
  return false;
}

std::size_t InFlightModel::requests_on(std::uint32_t node) const {
  std::size_t n = 0;
  for (const auto& [id, r] : requests_) n += r.node == node ? 1 : 0;
  return n;
}

std::size_t InFlightModel::driver_ops_on(std::uint32_t node) const {
  std::size_t n = 0;
  for (const auto& [id, op] : driver_ops_) n += op.node == node ? 1 : 0;
  return n;
}

}  // namespace scenarios
