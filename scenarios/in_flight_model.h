// The oracles' own model of what is in flight, built from trace events alone:
// requests from request_begin / request_end, which of them are serialising and
// with what alignment from `serialising`, when each passed its wait from
// `serialising_past_wait`, driver operations from driver_issue /
// driver_complete. It widens ranges and decides overlap with its own
// arithmetic and shares no code or state with the engine's tracked requests or
// in_flight counters, so a defect in those (the overlap test, the widening,
// the list, the counting) is judged by something else than itself. The
// serialisation oracle asks it about overlap, the drain oracle about what is
// in flight on a drained node.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "sim/trace.h"

namespace scenarios {

class InFlightModel {
 public:
  struct Violation {
    std::string shape;    // "preadv overlaps serialising pwritev"
    std::string message;
  };

  // Feed every event of the kinds in `kinds()`; a driver issue that breaks
  // serialisation is returned (whether that is judged is the caller's choice).
  std::optional<Violation> observe(const sim::Trace& trace, const sim::TraceEvent& e);
  static std::uint32_t kinds();

  // Whether node `lower` holds node `upper`'s bytes at the same offsets and
  // requests of `upper` reach it in their own coroutine (a chain of raw,
  // fault and top filters, as the graph is at the call). With it the oracle
  // also judges writes that enter below a serialising request: one that lands
  // inside the request's range while it is past its wait (or is in flight
  // below when it passes it) can be overwritten by its write-back
  // (the writer-below class, docs/reference-defects.md).
  using ChainedBelow = std::function<bool(std::uint32_t upper, std::uint32_t lower)>;
  void set_chained_below(ChainedBelow f) { chained_below_ = std::move(f); }
  // The signature shape of those failures: one, whatever the requests.
  static constexpr std::string_view kWriterBelowShape = "write below a serialising request";

  std::size_t in_flight() const { return requests_.size(); }
  // Requests and driver operations in flight on a node (its trace label).
  std::size_t requests_on(std::uint32_t node) const;
  // A request in flight on `node` ends past `length` (a write that may grow it).
  bool request_ends_past(std::uint32_t node, std::uint64_t length) const;
  std::size_t driver_ops_on(std::uint32_t node) const;

 private:
  struct Request {
    std::uint32_t node = 0;  // trace label
    std::uint32_t name = 0;  // trace label: bdrv_co_pwritev, ...
    std::uint64_t co = 0;
    std::uint64_t offset = 0;
    std::uint64_t bytes = 0;
    bool serialising = false;
    std::uint64_t begin = 0;  // the range others must keep out of: widened to each alignment given
    std::uint64_t end = 0;
    bool past_wait = false;
    bool no_serialising = false;  // a read whose caller said not to wait (backup's, from inside a write)
  };
  // Whether a driver operation of coroutine `co` on `node` over [begin, end)
  // belongs to a read that was told not to wait for serialising requests.
  bool exempt(std::uint64_t co, std::uint32_t node, std::uint64_t begin, std::uint64_t end) const;
  // The request's end (or its widened end) passes INT64_MAX, where the
  // reference's int64_t arithmetic wraps; or that of a request of `co` on `node`.
  static bool passes_int64(const Request& r);
  bool issuer_passes_int64(std::uint64_t co, std::uint32_t node) const;
  struct DriverOp {
    std::uint32_t node = 0;  // trace label
    std::uint32_t op = 0;    // trace label: pwritev, ...
    std::uint64_t co = 0;
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
    bool writes = false;  // pwritev, pwritev_compressed, pwrite_zeroes, pdiscard
  };
  // A write of another coroutine below serialising request `r`, overlapping
  // its range, on a node chained below r's, from a request that did not
  // enter on r's node.
  bool writes_below(const Request& r, const DriverOp& op) const;
  std::optional<Violation> writer_below(const sim::Trace& trace, std::uint64_t id, const Request& r,
                                        const DriverOp& op, bool issued_after) const;
  std::map<std::uint64_t, Request> requests_;  // by request id: ids are issued in order
  std::map<std::uint64_t, DriverOp> driver_ops_;  // by op id
  ChainedBelow chained_below_;
};

}  // namespace scenarios
