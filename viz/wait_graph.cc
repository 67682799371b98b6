#include "viz/wait_graph.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include "sim/str.h"
#include "viz/duration.h"

namespace viz {
namespace {

char* mut(const char* s) { return const_cast<char*>(s); }

// Object IDs in creation order. cgraph's default IDs for named objects are the
// addresses of their interned names, and it writes subgraphs, nodes and edges
// in ID order: the DOT text would then depend on the heap. Sequential IDs make
// it depend on the graph alone.
struct SequentialIds {
  Agraph_t* graph;
  std::map<std::string, IDTYPE> by_name;
  std::map<IDTYPE, char*> names;  // cgraph's own reference-counted strings
  IDTYPE next_named = 2;          // named objects even, anonymous ones odd, as cgraph expects
  IDTYPE next_anonymous = 1;
};

void* ids_open(Agraph_t* g, Agdisc_t*) { return new SequentialIds{g, {}, {}, 2, 1}; }

long ids_map(void* state, int, char* str, IDTYPE* id, int create) {
  auto* ids = static_cast<SequentialIds*>(state);
  if (str == nullptr) {
    *id = ids->next_anonymous;
    ids->next_anonymous += 2;
    return 1;
  }
  auto it = ids->by_name.find(str);
  if (it != ids->by_name.end()) {
    *id = it->second;
    return 1;
  }
  if (create == 0) return 0;
  *id = ids->next_named;
  ids->next_named += 2;
  ids->by_name.emplace(str, *id);
  // A string of cgraph's own: agwrite asks it whether a name is HTML-like.
  ids->names.emplace(*id, agstrdup(ids->graph, str));
  return 1;
}

long ids_alloc(void*, int, IDTYPE) { return 0; }  // no client-chosen IDs
void ids_free(void*, int, IDTYPE) {}              // the graph's string table goes with the graph
char* ids_print(void* state, int, IDTYPE id) {
  auto* ids = static_cast<SequentialIds*>(state);
  auto it = ids->names.find(id);
  return it == ids->names.end() ? nullptr : it->second;
}
void ids_close(void* state) { delete static_cast<SequentialIds*>(state); }
void ids_register(void*, int, void*) {}

Agiddisc_t kSequentialIdDisc = {ids_open, ids_map, ids_alloc, ids_free, ids_print, ids_close, ids_register};
Agdisc_t kDisc = {&AgMemDisc, &kSequentialIdDisc, &AgIoDisc};

struct GraphDeleter {
  void operator()(Agraph_t* g) const { agclose(g); }
};
using GraphPtr = std::unique_ptr<Agraph_t, GraphDeleter>;

std::string cluster_id(const std::string& text) {
  std::string out;
  for (char c : text) out += (std::isalnum(static_cast<unsigned char>(c)) != 0) ? c : '_';
  return out;
}

GraphPtr build(const std::vector<WaitGraph::Vertex>& vertices, const std::vector<WaitGraph::Edge>& edges, View view) {
  GraphPtr g(agopen(mut("waits"), Agdirected, &kDisc));
  agattr(g.get(), AGRAPH, mut("rankdir"), mut("LR"));
  agattr(g.get(), AGRAPH, mut("fontname"), mut("Helvetica"));
  agattr(g.get(), AGRAPH, mut("label"), mut(""));
  agattr(g.get(), AGRAPH, mut("style"), mut("solid"));
  agattr(g.get(), AGRAPH, mut("color"), mut("black"));
  agattr(g.get(), AGNODE, mut("shape"), mut("box"));
  agattr(g.get(), AGNODE, mut("style"), mut("rounded"));
  agattr(g.get(), AGNODE, mut("fontname"), mut("Helvetica"));
  agattr(g.get(), AGNODE, mut("label"), mut("\\N"));
  agattr(g.get(), AGNODE, mut("color"), mut("black"));
  agattr(g.get(), AGNODE, mut("fontcolor"), mut("black"));
  agattr(g.get(), AGEDGE, mut("label"), mut(""));
  agattr(g.get(), AGEDGE, mut("fontname"), mut("Helvetica"));
  agattr(g.get(), AGEDGE, mut("color"), mut("black"));
  agattr(g.get(), AGEDGE, mut("fontcolor"), mut("black"));
  agattr(g.get(), AGEDGE, mut("penwidth"), mut("1"));
  agattr(g.get(), AGEDGE, mut("style"), mut("solid"));
  const char* title = view == View::kWhole      ? "every wait of the run"
                      : view == View::kSnapshot ? "waits open at the snapshot"
                                                : "waits open at the end; the cycle in red";
  agset(g.get(), mut("label"), mut(title));

  // Clusters: one per event loop, inside it one per block node.
  std::map<std::uint32_t, Agraph_t*> loops;
  std::map<std::pair<std::uint32_t, std::string>, Agraph_t*> nodes;
  const auto cluster_for = [&](const WaitGraph::Vertex& v) -> Agraph_t* {
    if (!v.coroutine) return g.get();
    Agraph_t*& loop = loops[v.ctx];
    if (loop == nullptr) {
      const std::string name = sim::cat("cluster_loop", v.ctx);
      loop = agsubg(g.get(), mut(name.c_str()), 1);
      const std::string label = v.ctx == 0 ? std::string("main loop") : sim::cat("event loop ", v.ctx);
      agset(loop, mut("label"), mut(label.c_str()));
      agset(loop, mut("style"), mut("dashed"));
      agset(loop, mut("color"), mut("gray50"));
    }
    if (v.node.empty()) return loop;
    Agraph_t*& node = nodes[{v.ctx, v.node}];
    if (node == nullptr) {
      const std::string name = sim::cat("cluster_loop", v.ctx, "_node_", cluster_id(v.node));
      node = agsubg(loop, mut(name.c_str()), 1);
      const std::string label = sim::cat("node ", v.node);
      agset(node, mut("label"), mut(label.c_str()));
      agset(node, mut("style"), mut("rounded"));
      agset(node, mut("color"), mut("steelblue"));
    }
    return node;
  };
  for (const auto& v : vertices) {
    Agnode_t* n = agnode(cluster_for(v), mut(v.key.c_str()), 1);
    agset(n, mut("label"), mut(v.label.c_str()));
    if (!v.coroutine) agset(n, mut("style"), mut("dashed"));
    if (v.members > 1) agset(n, mut("style"), mut("rounded,bold"));
    if (v.on_cycle) agset(n, mut("color"), mut("red"));
    if (v.faded) {
      agset(n, mut("color"), mut("gray80"));
      agset(n, mut("fontcolor"), mut("gray60"));
    }
  }
  int index = 0;
  for (const auto& e : edges) {
    Agnode_t* from = agnode(g.get(), mut(e.from.c_str()), 0);
    Agnode_t* to = agnode(g.get(), mut(e.to.c_str()), 0);
    std::string name = sim::cat("e", index++);
    Agedge_t* edge = agedge(g.get(), from, to, mut(name.c_str()), 1);
    std::string label;
    if (view == View::kWhole) {
      label = sim::cat(e.reason, " x", e.count, ", ", format_ns(e.total_ns), " total, first at ", format_ns(e.first_ns));
      if (e.open > 0) label += sim::cat(" (", e.open, " still waiting)");
    } else {
      label = sim::cat(e.reason, e.open > 1 ? sim::cat(" x", e.open) : std::string(), ", since ", format_ns(e.open_since_ns));
    }
    agset(edge, mut("label"), mut(label.c_str()));
    if (e.open > 0) agset(edge, mut("penwidth"), mut("2.5"));
    if (e.on_cycle) agset(edge, mut("color"), mut("red"));
    if (e.faded) {
      agset(edge, mut("color"), mut("gray80"));
      agset(edge, mut("fontcolor"), mut("gray60"));
    }
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
  ++events_;
  last_time_ = e.time_ns;
  switch (e.kind) {
    case sim::EventKind::kCoCreate:
      names_[e.co] = trace.coroutine_name(e);
      contexts_[e.co] = e.ctx;
      break;
    case sim::EventKind::kCoFinish:
      finished_.insert(e.co);
      requests_.erase(e.co);
      break;
    case sim::EventKind::kRequestBegin: {
      Request r{e.a, sim::cat(trace.text(e.label), " ", e.b, "+", e.c, " @", trace.text(e.label2)),
                std::string(trace.text(e.label2))};
      if (first_request_.count(e.co) == 0) first_request_[e.co] = r;
      requests_[e.co].push_back(std::move(r));
      break;
    }
    case sim::EventKind::kRequestEnd: {
      auto it = requests_.find(e.co);
      if (it == requests_.end()) break;
      auto& open = it->second;
      for (auto r = open.rbegin(); r != open.rend(); ++r) {
        if (r->id == e.a) {
          open.erase(std::next(r).base());
          break;
        }
      }
      break;
    }
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
      // The holder of a serialising wait is described with its state.
      if (reason == "serialising" && e.a != 0 && trace.text(e.label2).find(" serialising") != std::string_view::npos) {
        serialising_.insert(e.a);
      }
      break;
    }
    case sim::EventKind::kNote: {
      const std::string_view text = trace.text(e.label);
      if (text.starts_with("drained begin ")) {
        drained_[std::string(text.substr(14))].push_back(e.time_ns);
      } else if (text.starts_with("drained end ")) {
        auto it = drained_.find(std::string(text.substr(12)));
        if (it != drained_.end() && !it->second.empty()) it->second.pop_back();
        if (it != drained_.end() && it->second.empty()) drained_.erase(it);
      }
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

WaitGraph::Vertex WaitGraph::describe(const std::string& key, View view) const {
  Vertex v = vertices_[vertex_index_.at(key)];
  if (!v.coroutine) return v;
  const std::uint64_t co = std::strtoull(v.key.c_str() + 2, nullptr, 10);
  auto name = names_.find(co);
  v.label = sim::cat("co#", co, name != names_.end() ? " " + name->second : std::string());
  auto ctx = contexts_.find(co);
  v.ctx = ctx == contexts_.end() ? 0 : ctx->second;
  // The snapshot shows what the coroutine carries now; the whole run, what it began with.
  const Request* req = nullptr;
  auto open = requests_.find(co);
  if (view != View::kWhole && open != requests_.end() && !open->second.empty()) req = &open->second.back();
  auto first = first_request_.find(co);
  if (req == nullptr && first != first_request_.end()) req = &first->second;
  if (req != nullptr) {
    v.label += "\n" + req->text;
    if (serialising_.count(co) != 0) v.label += " (serialising)";
    v.node = req->node;
  }
  if (view != View::kWhole) {
    auto wait = open_.find(co);
    if (wait != open_.end()) {
      v.label += sim::cat("\nwaits: ", wait->second.reason, " since ", format_ns(wait->second.since));
    } else if (finished_.count(co) != 0) {
      v.label += "\nfinished";
    } else {
      v.label += "\nrunnable";
    }
  }
  return v;
}

std::vector<WaitGraph::Edge> WaitGraph::all_edges() const {
  std::vector<Edge> out;
  for (const auto& [key, edge] : edges_) out.push_back(edge);
  for (Edge& e : out) e.open_since_ns = 0;
  for (const auto& [co, wait] : open_) {
    auto it = edges_.find(std::make_tuple(sim::cat("co", co), wait.to, wait.reason));
    if (it == edges_.end()) continue;
    for (Edge& e : out) {
      if (e.from == it->second.from && e.to == it->second.to && e.reason == it->second.reason &&
          (e.open_since_ns == 0 || wait.since < e.open_since_ns)) {
        e.open_since_ns = wait.since;
      }
    }
  }
  mark_cycles(out);
  return out;
}

void WaitGraph::mark_cycles(std::vector<Edge>& edges) {
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

bool WaitGraph::has_cycle() const {
  for (const Edge& e : all_edges()) {
    if (e.on_cycle) return true;
  }
  return false;
}

WaitGraph::Drawn WaitGraph::draw(const DrawOptions& options) const {
  Drawn d;
  std::vector<Edge> edges = all_edges();
  if (options.view != View::kWhole) {
    edges.erase(std::remove_if(edges.begin(), edges.end(), [](const Edge& e) { return e.open == 0; }), edges.end());
  }
  std::set<std::string> cycle;
  for (const Edge& e : edges) {
    if (e.on_cycle) {
      cycle.insert(e.from);
      cycle.insert(e.to);
    }
  }
  // The deadlock view fades what neither is on the cycle nor waits (transitively) for it.
  std::set<std::string> feeding = cycle;
  if (options.view == View::kDeadlock) {
    for (bool grew = true; grew;) {
      grew = false;
      for (const Edge& e : edges) {
        if (feeding.count(e.to) != 0 && feeding.insert(e.from).second) grew = true;
      }
    }
  }
  std::set<std::string> used;
  for (const Edge& e : edges) {
    used.insert(e.from);
    used.insert(e.to);
  }
  std::vector<Vertex> vertices;
  for (const Vertex& raw : vertices_) {
    if (used.count(raw.key) == 0) continue;
    Vertex v = describe(raw.key, options.view);
    v.on_cycle = cycle.count(v.key) != 0;
    v.faded = options.view == View::kDeadlock && !cycle.empty() && feeding.count(v.key) == 0;
    vertices.push_back(std::move(v));
  }
  for (Edge& e : edges) e.faded = options.view == View::kDeadlock && !cycle.empty() && feeding.count(e.from) == 0;

  // Drained sections open at the cut, each with the guest submissions of its
  // node that wait behind it.
  if (options.view != View::kWhole) {
    for (const auto& [node, begins] : drained_) {
      Vertex section;
      section.key = sim::cat("drained:", node);
      section.coroutine = false;
      section.label = sim::cat(node == "*" ? std::string("drain_all section") : "drained section on " + node,
                               begins.size() > 1 ? sim::cat(" (", begins.size(), " nested)") : std::string(), "\nsince ",
                               format_ns(begins.front()));
      vertices.push_back(section);
      for (const Vertex& v : std::vector<Vertex>(vertices)) {
        if (!v.coroutine || (node != "*" && v.node != node)) continue;
        auto co = std::strtoull(v.key.c_str() + 2, nullptr, 10);
        auto wait = open_.find(co);
        if (wait == open_.end() || (wait->second.reason != "external" && wait->second.reason != "parent quiesced")) continue;
        Edge quiesced;
        quiesced.from = v.key;
        quiesced.to = section.key;
        quiesced.reason = "parent quiesced";
        quiesced.count = 1;
        quiesced.open = 1;
        quiesced.first_ns = quiesced.open_since_ns = std::max(begins.front(), wait->second.since);
        edges.push_back(quiesced);
      }
    }
  }

  // Too many coroutines: group them by event loop, node and job (the name up to
  // its first '.'), keeping those on a cycle apart.
  std::size_t coroutines = 0;
  for (const Vertex& v : vertices) coroutines += v.coroutine ? 1 : 0;
  if (coroutines > options.max_vertices) {
    std::map<std::string, std::string> group_of;
    std::map<std::string, Vertex> groups;
    std::vector<std::string> order;
    for (const Vertex& v : vertices) {
      if (!v.coroutine || v.on_cycle) continue;
      const std::uint64_t co = std::strtoull(v.key.c_str() + 2, nullptr, 10);
      auto name = names_.find(co);
      std::string job = name == names_.end() ? std::string("?") : name->second.substr(0, name->second.find('.'));
      std::string key = sim::cat("agg:", v.ctx, ":", v.node, ":", job);
      group_of[v.key] = key;
      auto [it, fresh] = groups.try_emplace(key, v);
      if (fresh) {
        it->second.key = key;
        it->second.members = 0;
        order.push_back(key);
      }
      ++it->second.members;
      it->second.faded = it->second.faded && v.faded;
      it->second.label = sim::cat(it->second.members, " coroutines of ", job, v.node.empty() ? "" : " on " + v.node);
    }
    std::vector<Vertex> kept;
    for (const Vertex& v : vertices) {
      if (group_of.count(v.key) == 0) kept.push_back(v);
    }
    for (const std::string& key : order) kept.push_back(groups.at(key));
    vertices = std::move(kept);
    std::map<std::tuple<std::string, std::string, std::string>, Edge> merged;
    for (const Edge& e : edges) {
      Edge m = e;
      if (auto it = group_of.find(e.from); it != group_of.end()) m.from = it->second;
      if (auto it = group_of.find(e.to); it != group_of.end()) m.to = it->second;
      auto [slot, fresh] = merged.try_emplace(std::make_tuple(m.from, m.to, m.reason), m);
      if (fresh) continue;
      Edge& into = slot->second;
      into.count += e.count;
      into.total_ns += e.total_ns;
      into.open += e.open;
      into.first_ns = std::min(into.first_ns, e.first_ns);
      if (e.open > 0 && (into.open_since_ns == 0 || e.open_since_ns < into.open_since_ns)) into.open_since_ns = e.open_since_ns;
      into.on_cycle = into.on_cycle || e.on_cycle;
      into.faded = into.faded && e.faded;
    }
    edges.clear();
    for (auto& [key, e] : merged) edges.push_back(std::move(e));
  }
  d.vertices = std::move(vertices);
  d.edges = std::move(edges);
  return d;
}

std::vector<WaitGraph::Vertex> WaitGraph::vertices(const DrawOptions& options) const { return draw(options).vertices; }
std::vector<WaitGraph::Edge> WaitGraph::edges(const DrawOptions& options) const { return draw(options).edges; }

std::string WaitGraph::to_dot(const DrawOptions& options) const {
  const Drawn d = draw(options);
  GraphPtr g = build(d.vertices, d.edges, options.view);
  char* buf = nullptr;
  std::size_t len = 0;
  FILE* mem = open_memstream(&buf, &len);
  agwrite(g.get(), mem);
  std::fclose(mem);
  std::string dot(buf, len);
  std::free(buf);
  return dot;
}

absl::StatusOr<std::string> WaitGraph::render(const std::string& format, const DrawOptions& options) const {
  if (format != "svg" && format != "png") {
    return absl::InvalidArgumentError(sim::cat("cannot render '", format, "' (expected svg or png)"));
  }
  const Drawn d = draw(options);
  GraphPtr g = build(d.vertices, d.edges, options.view);
  // Graphviz's dot layout has defects that corrupt its heap on some graphs
  // (a double free in flat-edge placement, seen with Debian's 2.42): lay out
  // and render in a child process, so such a graph costs its picture, not
  // the sweep that draws it.
  int fds[2];
  if (pipe(fds) != 0) return absl::InternalError(sim::cat("pipe: ", std::strerror(errno)));
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(sim::cat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    close(fds[0]);
    GVC_t* gvc = graphviz_context();
    if (gvLayout(gvc, g.get(), "dot") != 0) _exit(2);
    char* data = nullptr;
    unsigned int len = 0;
    if (gvRenderData(gvc, g.get(), format.c_str(), &data, &len) != 0 || data == nullptr || len == 0) _exit(3);
    for (unsigned int done = 0; done < len;) {
      const ssize_t n = write(fds[1], data + done, len - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) _exit(4);
      done += static_cast<unsigned int>(n);
    }
    _exit(0);  // no cleanup: the layout is what may be corrupt
  }
  close(fds[1]);
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    return absl::InternalError(sim::cat("Graphviz crashed (signal ", WTERMSIG(status), ") laying out this graph: a "
                                        "defect of Graphviz; the .dot form of the same picture still works"));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) == 2) {
    return absl::InternalError("Graphviz layout failed (is the graphviz package installed?)");
  }
  if (WEXITSTATUS(status) != 0 || out.empty()) {
    return absl::InternalError(sim::cat("Graphviz could not render ", format,
                                        " (is the graphviz package installed and its plugins configured?)"));
  }
  return out;
}

}  // namespace viz
