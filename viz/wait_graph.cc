#include "viz/wait_graph.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include "sim/str.h"

namespace viz {
namespace {

char* mut(const char* s) { return const_cast<char*>(s); }

std::string format_ns(std::uint64_t ns) {
  if (ns < 10'000) return sim::cat(ns, "ns");
  if (ns < 10'000'000) return sim::cat(ns / 1000, "us");
  return sim::cat(ns / 1'000'000, "ms");
}

struct GraphDeleter {
  void operator()(Agraph_t* g) const { agclose(g); }
};
using GraphPtr = std::unique_ptr<Agraph_t, GraphDeleter>;

GraphPtr build(const std::vector<WaitGraph::Vertex>& vertices, const std::vector<WaitGraph::Edge>& edges) {
  GraphPtr g(agopen(mut("waits"), Agdirected, nullptr));
  agattr(g.get(), AGRAPH, mut("rankdir"), mut("LR"));
  agattr(g.get(), AGRAPH, mut("fontname"), mut("Helvetica"));
  agattr(g.get(), AGNODE, mut("shape"), mut("box"));
  agattr(g.get(), AGNODE, mut("style"), mut("rounded"));
  agattr(g.get(), AGNODE, mut("fontname"), mut("Helvetica"));
  agattr(g.get(), AGNODE, mut("label"), mut("\\N"));
  agattr(g.get(), AGNODE, mut("color"), mut("black"));
  agattr(g.get(), AGEDGE, mut("label"), mut(""));
  agattr(g.get(), AGEDGE, mut("fontname"), mut("Helvetica"));
  agattr(g.get(), AGEDGE, mut("color"), mut("black"));
  agattr(g.get(), AGEDGE, mut("penwidth"), mut("1"));
  agattr(g.get(), AGEDGE, mut("style"), mut("solid"));

  std::set<std::string> on_cycle;
  for (const auto& e : edges) {
    if (e.on_cycle) {
      on_cycle.insert(e.from);
      on_cycle.insert(e.to);
    }
  }
  for (const auto& v : vertices) {
    Agnode_t* n = agnode(g.get(), mut(v.key.c_str()), 1);
    agset(n, mut("label"), mut(v.label.c_str()));
    if (!v.coroutine) agset(n, mut("style"), mut("dashed"));
    if (on_cycle.count(v.key) != 0) agset(n, mut("color"), mut("red"));
  }
  int index = 0;
  for (const auto& e : edges) {
    Agnode_t* from = agnode(g.get(), mut(e.from.c_str()), 0);
    Agnode_t* to = agnode(g.get(), mut(e.to.c_str()), 0);
    std::string name = sim::cat("e", index++);
    Agedge_t* edge = agedge(g.get(), from, to, mut(name.c_str()), 1);
    std::string label = sim::cat(e.reason, " x", e.count, ", ", format_ns(e.total_ns), " total, first at ",
                                 format_ns(e.first_ns));
    if (e.open > 0) label += sim::cat(" (", e.open, " still waiting)");
    agset(edge, mut("label"), mut(label.c_str()));
    if (e.open > 0) agset(edge, mut("penwidth"), mut("2.5"));
    if (e.on_cycle) agset(edge, mut("color"), mut("red"));
    if (e.to.starts_with("wait:")) agset(edge, mut("style"), mut("dashed"));
  }
  return g;
}

// One Graphviz context for the whole process. Graphviz 2.42's text layout caches
// a font name that gvFreeContext frees, so a second context would read freed
// memory (AddressSanitizer shows it); a single context never freed avoids that.
GVC_t* graphviz_context() {
  static GVC_t* const context = gvContext();
  return context;
}

}  // namespace

std::string WaitGraph::vertex_for_coroutine(std::uint64_t co) {
  std::string key = sim::cat("co", co);
  auto it = vertex_index_.find(key);
  if (it == vertex_index_.end()) {
    vertex_index_.emplace(key, vertices_.size());
    vertices_.push_back(Vertex{key, "", true});
  }
  return key;
}

std::string WaitGraph::vertex_for_resource(const std::string& reason, const std::string& what) {
  std::string key = sim::cat("wait:", reason, what.empty() ? "" : ":", what);
  if (vertex_index_.count(key) == 0) {
    vertex_index_.emplace(key, vertices_.size());
    vertices_.push_back(Vertex{key, what.empty() ? reason : sim::cat(reason, "\n", what), false});
  }
  return key;
}

void WaitGraph::observe(const sim::Trace& trace, const sim::TraceEvent& e) {
  switch (e.kind) {
    case sim::EventKind::kCoCreate:
      names_[e.co] = std::string(trace.text(e.label));
      break;
    case sim::EventKind::kRequestBegin:
      if (first_request_.count(e.co) == 0) {
        first_request_[e.co] = sim::cat(trace.text(e.label), " ", e.b, "+", e.c, " @", trace.text(e.label2));
      }
      break;
    case sim::EventKind::kWaitBegin: {
      std::string from = vertex_for_coroutine(e.co);
      std::string reason(trace.text(e.label));
      std::string to = e.a != 0 ? vertex_for_coroutine(e.a) : vertex_for_resource(reason, std::string(trace.text(e.label2)));
      auto key = std::make_tuple(from, to, reason);
      Edge& edge = edges_[key];
      if (edge.count == 0) {
        edge.from = from;
        edge.to = to;
        edge.reason = reason;
        edge.first_ns = e.time_ns;
      }
      ++edge.count;
      ++edge.open;
      open_[e.co] = OpenWait{to, reason, e.time_ns};
      break;
    }
    case sim::EventKind::kWaitEnd: {
      auto it = open_.find(e.co);
      if (it == open_.end()) break;
      Edge& edge = edges_[std::make_tuple(sim::cat("co", e.co), it->second.to, it->second.reason)];
      --edge.open;
      edge.total_ns += e.time_ns - it->second.since;
      open_.erase(it);
      break;
    }
    default:
      break;
  }
}

std::vector<WaitGraph::Vertex> WaitGraph::vertices() const {
  std::vector<Vertex> out = vertices_;
  for (Vertex& v : out) {
    if (!v.coroutine) continue;
    std::uint64_t co = std::strtoull(v.key.c_str() + 2, nullptr, 10);
    auto name = names_.find(co);
    v.label = sim::cat("co#", co, name != names_.end() ? " " + name->second : std::string());
    auto req = first_request_.find(co);
    if (req != first_request_.end()) v.label += "\n" + req->second;
  }
  return out;
}

void WaitGraph::mark_cycles(std::vector<Edge>& edges) const {
  // Among waits still open, follow waiter -> holder; a path back to its start is a cycle.
  std::map<std::string, std::vector<std::size_t>> out_edges;
  for (std::size_t i = 0; i < edges.size(); ++i) {
    if (edges[i].open > 0) out_edges[edges[i].from].push_back(i);
  }
  for (const auto& [start, unused] : out_edges) {
    std::vector<std::size_t> path;
    std::set<std::string> seen{start};
    std::string at = start;
    while (out_edges.count(at) != 0) {
      std::size_t edge = out_edges[at].front();
      path.push_back(edge);
      at = edges[edge].to;
      if (at == start) {
        for (std::size_t i : path) edges[i].on_cycle = true;
        break;
      }
      if (!seen.insert(at).second) break;
    }
  }
}

std::vector<WaitGraph::Edge> WaitGraph::edges() const {
  std::vector<Edge> out;
  for (const auto& [key, edge] : edges_) out.push_back(edge);
  mark_cycles(out);
  return out;
}

std::string WaitGraph::to_dot() const {
  GraphPtr g = build(vertices(), edges());
  char* buf = nullptr;
  std::size_t len = 0;
  FILE* mem = open_memstream(&buf, &len);
  agwrite(g.get(), mem);
  std::fclose(mem);
  std::string dot(buf, len);
  std::free(buf);
  return dot;
}

absl::StatusOr<std::string> WaitGraph::render(const std::string& format) const {
  if (format != "svg" && format != "png") {
    return absl::InvalidArgumentError(sim::cat("cannot render '", format, "' (expected svg or png)"));
  }
  GraphPtr g = build(vertices(), edges());
  GVC_t* gvc = graphviz_context();
  if (gvLayout(gvc, g.get(), "dot") != 0) {
    return absl::InternalError("Graphviz layout failed (is the graphviz package installed?)");
  }
  char* data = nullptr;
  unsigned int len = 0;
  int rc = gvRenderData(gvc, g.get(), format.c_str(), &data, &len);
  std::string out;
  if (rc == 0 && data != nullptr) out.assign(data, len);
  if (data != nullptr) gvFreeRenderData(data);
  gvFreeLayout(gvc, g.get());
  if (rc != 0 || out.empty()) {
    return absl::InternalError(sim::cat("Graphviz could not render ", format,
                                        " (is the graphviz package installed and its plugins configured?)"));
  }
  return out;
}

}  // namespace viz
