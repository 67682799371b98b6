// A timeline of a run as an SVG Gantt chart, built only from trace events: one
// row per coroutine that carried a request, grouped by block node, over virtual
// time. Requests are light bars (flushes green), driver operations dark bars
// inside them, waits amber, faults red marks; scenario events (drains, crashes,
// flush_all) and the verdict are vertical lines across the chart. Every element
// has a tooltip. Past max_rows rows the rest are counted, not drawn.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/trace.h"

namespace viz {

inline constexpr std::size_t kDefaultTimelineRows = 120;

struct TimelineOptions {
  std::size_t max_rows = kDefaultTimelineRows;
  int plot_width = 1000;  // pixels for the time axis
};

class Timeline {
 public:
  void observe(const sim::Trace& trace, const sim::TraceEvent& event);
  std::string to_svg(const TimelineOptions& options = {}) const;
  std::size_t rows() const { return rows_.size(); }

 private:
  enum class SpanKind : std::uint8_t { kRequest, kFlush, kDriver, kWait };
  struct Span {
    SpanKind kind;
    std::uint64_t id;  // request or op id; 0 for waits
    std::uint64_t begin;
    std::uint64_t end;  // UINT64_MAX while open
    std::string label;
  };
  struct Row {
    std::uint64_t co = 0;
    std::string name;
    std::string node;  // of its first request
    std::vector<Span> spans;
    std::vector<std::pair<std::uint64_t, std::string>> faults;
  };
  struct Mark {
    std::uint64_t time;
    std::string text;
  };
  Row* row_for(std::uint64_t co, const std::string& node);

  std::map<std::uint64_t, std::string> names_;
  std::map<std::uint64_t, Row> rows_;  // by coroutine id (creation order)
  std::vector<std::string> node_order_;
  std::vector<Mark> marks_;
  std::uint64_t end_ns_ = 0;
};

}  // namespace viz
