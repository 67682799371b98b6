#include "scenarios/permissions.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scenarios/node_spec.h"
#include "sim/str.h"

namespace scenarios {

namespace {

bool changes_data(const Command& c) {
  return c.op == Command::Op::kWrite || c.op == Command::Op::kDiscard || c.op == Command::Op::kMakeZero;
}

// Whether a job changes data on its node (any write, zero write or discard,
// its device's drain callbacks' included; a random workload with any of
// them): it takes WRITE.
bool job_writes(const JobSpec& j) {
  if (j.backend) {
    for (const auto* script : {&j.backend->on_drained_begin, &j.backend->on_drained_end}) {
      for (const DrainCallbackAction& a : *script) {
        if (a.kind == DrainCallbackAction::Kind::kRequest && changes_data(a.request)) return true;
      }
    }
  }
  if (j.random) return j.random->write + j.random->zero + j.random->discard > 0;
  return std::any_of(j.commands.begin(), j.commands.end(), changes_data);
}

// What the users of a node ask of it together (QEMU's cumulative
// permissions), and who asked first, for the error message.
struct Asks {
  bool write = false;        // someone takes WRITE
  bool shares_write = true;  // everyone shares WRITE
  std::string writer;        // "job 'x'" or "format 'f' (its file)"
  std::string refuser;       // "job 'x''s device" or "format 'f'"
  bool refused_by_format = false;
  const JobSpec* writer_job = nullptr;   // the job behind the write
  const JobSpec* refuser_job = nullptr;  // the device that refuses, if a job's
};

void add(Asks& into, const Asks& user) {
  if (user.write && !into.write) {
    into.write = true;
    into.writer = user.writer;
    into.writer_job = user.writer_job;
  }
  if (!user.shares_write && into.shares_write) {
    into.shares_write = false;
    into.refuser = user.refuser;
    into.refused_by_format = user.refused_by_format;
    into.refuser_job = user.refuser_job;
  }
}

// One user of a node: the jobs on it (one user together), or an edge from a
// parent node. `what` names it in messages.
struct User {
  std::string what;
  Asks asks;
};

// What an edge from `parent` (asking `above` of it) asks of its child.
std::optional<Asks> edge_asks(const NodeSpec& parent, std::string_view key, const Asks& above) {
  if (parent.driver != NodeSpec::Driver::kCow) return above;  // filters pass it through
  if (key == "backing") return std::nullopt;                  // read only, everything shared
  Asks a = above;
  if (!a.write) a.write = true, a.writer = sim::cat("format '", parent.name, "' (its file)");
  a.shares_write = false;
  a.refuser = sim::cat("format '", parent.name, "'");
  a.refused_by_format = true;
  a.refuser_job = nullptr;
  return a;
}

}  // namespace

absl::Status check_job_permissions(const Reader& r, const Scenario& s) {
  // Every node's users, parents before children: jobs, then parent edges.
  std::map<std::string, std::vector<User>> users;
  for (const JobSpec& j : s.jobs) {
    std::vector<User>& on = users[j.node];
    if (on.empty()) on.push_back(User{sim::cat("job '", j.name, "'"), {}});  // jobs come before edges
    Asks one;
    one.write = job_writes(j);
    one.writer = sim::cat("job '", j.name, "'");
    one.shares_write = !j.backend || j.backend->share_rw;
    one.refuser = sim::cat("job '", j.name, "''s device");
    one.writer_job = one.refuser_job = &j;
    add(on.front().asks, one);
  }
  const std::vector<std::size_t> order = children_first(s.nodes);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const NodeSpec& n = s.nodes[*it];
    const std::vector<User>& mine = users[n.name];
    // Two users of this node: one's WRITE against the other's sharing.
    for (std::size_t a = 0; a < mine.size(); ++a) {
      for (std::size_t b = 0; b < mine.size(); ++b) {
        if (a == b || !mine[a].asks.write || mine[b].asks.shares_write) continue;
        const Asks& w = mine[a].asks;
        const Asks& f = mine[b].asks;
        // At the refusing job's line, or else the writing job's.
        const JobSpec* j = f.refuser_job != nullptr ? f.refuser_job : w.writer_job;
        toml::source_region at;
        at.begin = toml::source_position{static_cast<toml::source_index>(j != nullptr ? j->line : 1), 1};
        const std::string meet = sim::cat("[[job]]: node '", n.name, "' has two users, ", mine[a].what, " and ", mine[b].what,
                                          ": through the first ", w.writer, " writes it, and through the second ",
                                          f.refuser, " does not share writing");
        if (f.refused_by_format) {
          return r.error_at(at, sim::cat(meet, " (a format never shares its file): QEMU refuses it whatever share-rw says"));
        }
        return r.error_at(at, sim::cat(meet, " (share-rw=off): QEMU refuses it; give job '", f.refuser_job->name,
                                             "' backend = { share_rw = true } (share-rw=on)"));
      }
    }
    Asks together;
    for (const User& u : mine) add(together, u.asks);
    for (const auto& [key, child] : n.edges()) {
      if (child->empty()) continue;
      if (std::optional<Asks> asks = edge_asks(n, key, together)) {
        users[*child].push_back(User{sim::cat("the ", key, " edge from '", n.name, "'"), *asks});
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace scenarios
