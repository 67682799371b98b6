// The wait-for graph of a run, built only from trace events (never from engine
// structs): who waited for whom, why, since when, how often and for how long.
//
// Views: the whole run (every wait that ever happened, with counts and total
// waited time); a snapshot (only the waits open at the last event fed: feed the
// events up to an index or a time); and the deadlock view (the waits open at
// the end, the cycle in red, everything not on or feeding it faded). Vertices
// are coroutines, labelled with their request and state, in clusters per event
// loop and block node; waits with no holder (latency, a breakpoint, a guest
// submission) point at a dashed resource vertex. Past max_vertices coroutines
// the graph aggregates them per job and node, so any run gives a bounded picture.
// Same events in, byte-identical DOT out.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <absl/status/statusor.h>

#include "sim/trace.h"

namespace viz {

enum class View : std::uint8_t { kWhole, kSnapshot, kDeadlock };
inline constexpr std::size_t kDefaultMaxVertices = 120;

struct DrawOptions {
  View view = View::kWhole;
  std::size_t max_vertices = kDefaultMaxVertices;  // coroutine vertices before aggregation
};

class WaitGraph {
 public:
  // Feed every trace event in order (use as a Trace observer).
  void observe(const sim::Trace& trace, const sim::TraceEvent& event);

  struct Vertex {
    std::string key;  // "co5"; "wait:<reason>:<what>" for a wait with no holder; "agg:..." for a group
    std::string label;
    bool coroutine = true;
    std::uint32_t ctx = 0;  // event loop (coroutines)
    std::string node;       // block node of its request ("" if none)
    bool faded = false;     // deadlock view: neither on nor feeding the cycle
    bool on_cycle = false;
    std::uint64_t members = 1;  // coroutines an aggregate stands for
  };
  struct Edge {
    std::string from;
    std::string to;
    std::string reason;
    std::uint64_t count = 0;
    std::uint64_t total_ns = 0;
    std::uint64_t first_ns = 0;
    std::uint64_t open = 0;  // waits not ended at the last event fed
    std::uint64_t open_since_ns = 0;  // the earliest of those
    bool on_cycle = false;
    bool faded = false;
  };

  // Vertices in first-seen order, edges in (from, to, reason) order: stable output.
  std::vector<Vertex> vertices(const DrawOptions& options = {}) const;
  std::vector<Edge> edges(const DrawOptions& options = {}) const;
  bool has_cycle() const;
  std::uint64_t events_seen() const { return events_; }
  std::uint64_t last_time_ns() const { return last_time_; }

  // Graphviz DOT text (built with cgraph), and a rendering through gvc ("svg", "png").
  std::string to_dot(const DrawOptions& options = {}) const;
  absl::StatusOr<std::string> render(const std::string& format, const DrawOptions& options = {}) const;

 private:
  struct OpenWait {
    std::string to;
    std::string reason;
    std::uint64_t since;
  };
  struct Request {
    std::uint64_t id;
    std::string text;  // "bdrv_co_pwritev 4096+512 @disk"
    std::string node;
  };
  struct Drawn {
    std::vector<Vertex> vertices;
    std::vector<Edge> edges;
  };

  std::string vertex_for_coroutine(std::uint64_t co);
  std::string vertex_for_resource(const std::string& reason, const std::string& what);
  std::vector<Edge> all_edges() const;
  static void mark_cycles(std::vector<Edge>& edges);
  Vertex describe(const std::string& key, View view) const;
  Drawn draw(const DrawOptions& options) const;

  std::uint64_t events_ = 0;
  std::uint64_t last_time_ = 0;
  std::map<std::uint64_t, std::string> names_;                // coroutine -> name
  std::map<std::uint64_t, std::uint32_t> contexts_;           // coroutine -> event loop
  std::map<std::uint64_t, Request> first_request_;            // coroutine -> its outermost first request
  std::map<std::uint64_t, std::vector<Request>> requests_;    // coroutine -> requests open now
  std::set<std::uint64_t> finished_;
  std::set<std::uint64_t> serialising_;
  // Drained sections open now, from the scenario's notes: node ("*": all) -> begin times.
  std::map<std::string, std::vector<std::uint64_t>> drained_;  // coroutines whose request others waited for as serialising
  std::map<std::string, std::size_t> vertex_index_;
  std::vector<Vertex> vertices_;
  std::map<std::tuple<std::string, std::string, std::string>, Edge> edges_;
  std::map<std::uint64_t, OpenWait> open_;  // waiter coroutine -> its open wait
};

}  // namespace viz
