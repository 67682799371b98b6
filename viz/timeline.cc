#include "viz/timeline.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "sim/str.h"
#include "viz/duration.h"
#include "viz/escape.h"

namespace viz {
namespace {

constexpr int kLabelWidth = 300;
constexpr int kRowHeight = 16;
constexpr int kHeaderHeight = 44;
constexpr int kGroupHeight = 18;

// Coordinates with one decimal, in the C locale's format.
std::string px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

Timeline::Row* Timeline::row_for(std::uint64_t co, const std::string& node) {
  auto [it, fresh] = rows_.try_emplace(co);
  if (fresh) {
    it->second.co = co;
    auto name = names_.find(co);
    it->second.name = name == names_.end() ? sim::cat("co#", co) : sim::cat("co#", co, " ", name->second);
    it->second.node = node;
    if (std::find(node_order_.begin(), node_order_.end(), node) == node_order_.end()) node_order_.push_back(node);
  }
  return &it->second;
}

void Timeline::observe(const sim::Trace& trace, const sim::TraceEvent& e) {
  end_ns_ = std::max(end_ns_, e.time_ns);
  switch (e.kind) {
    case sim::EventKind::kCoCreate:
      names_[e.co] = trace.coroutine_name(e);
      break;
    case sim::EventKind::kRequestBegin: {
      const std::string name(trace.text(e.label));
      const std::string node(trace.text(e.label2));
      const bool flush = name.find("flush") != std::string::npos;
      row_for(e.co, node)->spans.push_back(Span{flush ? SpanKind::kFlush : SpanKind::kRequest, e.a, e.time_ns, UINT64_MAX,
                                                sim::cat(name, flush ? std::string() : sim::cat(" ", e.b, "+", e.c), " @", node)});
      break;
    }
    case sim::EventKind::kRequestEnd:
    case sim::EventKind::kDriverComplete: {
      auto row = rows_.find(e.co);
      if (row == rows_.end()) break;
      const SpanKind kind = e.kind == sim::EventKind::kDriverComplete ? SpanKind::kDriver : SpanKind::kRequest;
      for (auto s = row->second.spans.rbegin(); s != row->second.spans.rend(); ++s) {
        const bool same_kind = kind == SpanKind::kDriver ? s->kind == SpanKind::kDriver
                                                         : (s->kind == SpanKind::kRequest || s->kind == SpanKind::kFlush);
        if (same_kind && s->id == e.a && s->end == UINT64_MAX) {
          s->end = e.time_ns;
          if (e.d < 0) s->label += sim::cat(" -> ", e.d);
          break;
        }
      }
      break;
    }
    case sim::EventKind::kDriverIssue: {
      auto row = rows_.find(e.co);
      if (row == rows_.end()) break;  // driver work outside any request (an oracle's read, say)
      row->second.spans.push_back(Span{SpanKind::kDriver, e.a, e.time_ns, UINT64_MAX,
                                       sim::cat("driver ", trace.text(e.label), " ", e.b, "+", e.c, " @", trace.text(e.label2))});
      break;
    }
    case sim::EventKind::kWaitBegin: {
      auto row = rows_.find(e.co);
      if (row == rows_.end()) break;
      row->second.spans.push_back(Span{SpanKind::kWait, 0, e.time_ns, UINT64_MAX,
                                       sim::cat("waits: ", trace.text(e.label), " ", trace.text(e.label2))});
      break;
    }
    case sim::EventKind::kWaitEnd: {
      auto row = rows_.find(e.co);
      if (row == rows_.end()) break;
      for (auto s = row->second.spans.rbegin(); s != row->second.spans.rend(); ++s) {
        if (s->kind == SpanKind::kWait && s->end == UINT64_MAX) {
          s->end = e.time_ns;
          break;
        }
      }
      break;
    }
    case sim::EventKind::kFaultFired: {
      auto row = rows_.find(e.co);
      if (row == rows_.end()) break;
      row->second.faults.emplace_back(e.time_ns, sim::cat("fault ", trace.text(e.label), " on ", trace.text(e.label2), " ",
                                                          e.b, "+", e.c, ": errno ", e.d));
      break;
    }
    case sim::EventKind::kNote: {
      std::string text(trace.text(e.label));
      // Scenario events and the verdict; other notes are the runtime's own.
      if (text.rfind("event ", 0) == 0 || text.rfind("verdict ", 0) == 0 || text.find("crash") != std::string::npos) {
        marks_.push_back(Mark{e.time_ns, std::move(text)});
      }
      break;
    }
    default:
      break;
  }
}

std::string Timeline::to_svg(const TimelineOptions& options) const {
  // Rows grouped by node in first-seen order, each group by coroutine id.
  std::vector<const Row*> ordered;
  for (const std::string& node : node_order_) {
    for (const auto& [co, row] : rows_) {
      if (row.node == node) ordered.push_back(&row);
    }
  }
  const std::size_t hidden = ordered.size() > options.max_rows ? ordered.size() - options.max_rows : 0;
  if (hidden > 0) ordered.resize(options.max_rows);
  std::set<std::string> groups;
  for (const Row* r : ordered) groups.insert(r->node);

  const std::uint64_t end = std::max<std::uint64_t>(end_ns_, 1);
  const int width = kLabelWidth + options.plot_width + 20;
  const int height = kHeaderHeight + static_cast<int>(ordered.size()) * kRowHeight +
                     static_cast<int>(groups.size()) * kGroupHeight + (hidden > 0 ? kRowHeight : 0) + 10;
  const auto x = [&](std::uint64_t t) {
    return kLabelWidth + static_cast<double>(std::min(t, end)) * options.plot_width / static_cast<double>(end);
  };
  std::string svg = sim::cat("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"", width, "\" height=\"",
                             height, "\" viewBox=\"0 0 ", width, " ", height,
                             "\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">\n");
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  // Time axis.
  for (int tick = 0; tick <= 10; ++tick) {
    const std::uint64_t t = end * static_cast<std::uint64_t>(tick) / 10;
    svg += sim::cat("<line x1=\"", px(x(t)), "\" y1=\"", kHeaderHeight - 6, "\" x2=\"", px(x(t)), "\" y2=\"", height - 4,
                    "\" stroke=\"#eee\"/><text x=\"", px(x(t)), "\" y=\"", kHeaderHeight - 10, "\" text-anchor=\"middle\">",
                    format_ns(t), "</text>\n");
  }
  int y = kHeaderHeight;
  std::string current_node = "\x01";
  for (const Row* r : ordered) {
    if (r->node != current_node) {
      current_node = r->node;
      svg += sim::cat("<rect x=\"0\" y=\"", y, "\" width=\"", width, "\" height=\"", kGroupHeight,
                      "\" fill=\"#e8eef7\"/><text x=\"4\" y=\"", y + 13, "\" font-weight=\"bold\">node ",
                      xml_escape(current_node), "</text>\n");
      y += kGroupHeight;
    }
    svg += sim::cat("<text x=\"4\" y=\"", y + 12, "\">", xml_escape(r->name.substr(0, 48)), "</text>\n");
    for (const Span& s : r->spans) {
      const double x0 = x(s.begin);
      const double x1 = std::max(x0 + 1.0, x(s.end == UINT64_MAX ? end : s.end));
      const char* fill = "#cfe2ff";
      int inset = 1;
      switch (s.kind) {
        case SpanKind::kRequest: fill = "#cfe2ff"; break;
        case SpanKind::kFlush: fill = "#cdebd0"; break;
        case SpanKind::kDriver: fill = "#3b6fb6"; inset = 5; break;
        case SpanKind::kWait: fill = "#f5a623"; inset = 4; break;
      }
      const std::string until = s.end == UINT64_MAX ? std::string("the end (still open)") : format_ns(s.end);
      svg += sim::cat("<rect class=\"", s.kind == SpanKind::kWait ? "wait" : s.kind == SpanKind::kDriver ? "driver" : "request",
                      "\" x=\"", px(x0), "\" y=\"", y + inset, "\" width=\"", px(x1 - x0), "\" height=\"", kRowHeight - 2 * inset,
                      "\" fill=\"", fill, "\"", s.kind == SpanKind::kWait ? " fill-opacity=\"0.8\"" : "",
                      s.end == UINT64_MAX ? " stroke=\"#c00\"" : "", "><title>", xml_escape(s.label), ": ",
                      format_ns(s.begin), " to ", until, "</title></rect>\n");
    }
    for (const auto& [t, text] : r->faults) {
      const double fx = x(t);
      svg += sim::cat("<path class=\"fault\" d=\"M", px(fx - 4), " ", y + kRowHeight - 1, " L", px(fx + 4), " ", y + kRowHeight - 1, " L",
                      px(fx), " ", y + 1, " Z\" fill=\"#d0021b\"><title>", xml_escape(text), " at ", format_ns(t),
                      "</title></path>\n");
    }
    y += kRowHeight;
  }
  if (hidden > 0) {
    svg += sim::cat("<text x=\"4\" y=\"", y + 12, "\" font-style=\"italic\">", hidden, " more rows not drawn</text>\n");
  }
  // Scenario events and the verdict across every row.
  for (std::size_t i = 0; i < marks_.size(); ++i) {
    const Mark& m = marks_[i];
    const bool verdict = m.text.rfind("verdict ", 0) == 0;
    svg += sim::cat("<line class=\"mark\" x1=\"", px(x(m.time)), "\" y1=\"", 14, "\" x2=\"", px(x(m.time)), "\" y2=\"", height - 4,
                    "\" stroke=\"", verdict ? "#d0021b" : "#7b3fb0", "\" stroke-dasharray=\"4 3\"><title>",
                    xml_escape(m.text), " at ", format_ns(m.time), "</title></line><text x=\"", px(x(m.time) + 2), "\" y=\"",
                    12 + static_cast<int>(i % 2) * 12, "\" fill=\"", verdict ? "#d0021b" : "#7b3fb0", "\">",
                    xml_escape(m.text.substr(0, 40)), "</text>\n");
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace viz
