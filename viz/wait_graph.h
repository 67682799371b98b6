// The wait-for graph of a run, built only from trace events (never from engine
// structs): who waited for whom, why, how often and for how long; waits still
// open at the end are drawn bold, and a cycle among them in red.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <absl/status/statusor.h>

#include "sim/trace.h"

namespace viz {

class WaitGraph {
 public:
  // Feed every trace event in order (use as a Trace observer).
  void observe(const sim::Trace& trace, const sim::TraceEvent& event);

  struct Vertex {
    std::string key;    // "co5", or "wait:<reason>:<what>" for a wait with no holder
    std::string label;
    bool coroutine = true;
  };
  struct Edge {
    std::string from;
    std::string to;
    std::string reason;
    std::uint64_t count = 0;
    std::uint64_t total_ns = 0;
    std::uint64_t first_ns = 0;
    std::uint64_t open = 0;  // waits not ended when the graph was drawn
    bool on_cycle = false;
  };

  // Vertices in first-seen order, edges in (from, to, reason) order: stable output.
  std::vector<Vertex> vertices() const;
  std::vector<Edge> edges() const;

  // Graphviz DOT text (built with cgraph), and a rendering through gvc ("svg", "png").
  std::string to_dot() const;
  absl::StatusOr<std::string> render(const std::string& format) const;

 private:
  struct OpenWait {
    std::string to;
    std::string reason;
    std::uint64_t since;
  };
  std::string vertex_for_coroutine(std::uint64_t co);
  std::string vertex_for_resource(const std::string& reason, const std::string& what);
  void mark_cycles(std::vector<Edge>& edges) const;

  std::map<std::uint64_t, std::string> names_;         // coroutine -> name
  std::map<std::uint64_t, std::string> first_request_;  // coroutine -> its outermost request
  std::map<std::string, std::size_t> vertex_index_;
  std::vector<Vertex> vertices_;
  std::map<std::tuple<std::string, std::string, std::string>, Edge> edges_;
  std::map<std::uint64_t, OpenWait> open_;  // waiter coroutine -> its open wait
};

}  // namespace viz
