// The serialisation oracle's own model of what is in flight, built from trace
// events alone: requests from request_begin / request_end, which of them are
// serialising and with what alignment from `serialising`, when each passed its
// wait from `serialising_past_wait`. It widens ranges and decides overlap with
// its own arithmetic and shares no code or state with the engine's tracked
// requests, so a defect in those (the overlap test, the widening, the list) is
// judged by something else than itself.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "sim/trace.h"

namespace scenarios {

class SerialisationModel {
 public:
  struct Violation {
    std::string shape;    // "preadv overlaps serialising pwritev"
    std::string message;
  };

  // Feed every event of the kinds in `kinds()`; a driver issue that breaks
  // serialisation is returned.
  std::optional<Violation> observe(const sim::Trace& trace, const sim::TraceEvent& e);
  static std::uint32_t kinds();

  std::size_t in_flight() const { return requests_.size(); }

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
  };
  std::map<std::uint64_t, Request> requests_;  // by request id: ids are issued in order
};

}  // namespace scenarios
