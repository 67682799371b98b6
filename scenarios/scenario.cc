#include "scenarios/scenario.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "engine/request_flags.h"
#include "sim/str.h"

namespace scenarios {
namespace {

// Reads typed values out of the TOML tree; every error carries file:line:column.
class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {}

  absl::Status error_at(const toml::source_region& where, const std::string& message) const {
    return absl::InvalidArgumentError(
        sim::cat(path_, ":", where.begin.line, ":", where.begin.column, ": ", message));
  }
  absl::Status error_at(const toml::node& node, const std::string& message) const {
    return error_at(node.source(), message);
  }

  // Reject keys a table does not know: a typo must not become a silent default.
  absl::Status check_keys(const toml::table& table, std::string_view where,
                          std::initializer_list<std::string_view> allowed) const {
    for (auto&& [key, value] : table) {
      bool known = false;
      for (std::string_view a : allowed) known = known || key.str() == a;
      if (!known) {
        std::string list;
        for (std::string_view a : allowed) list += sim::cat(list.empty() ? "" : ", ", a);
        return error_at(key.source(), sim::cat("unknown key '", key.str(), "' in ", where, " (expected one of: ",
                                               list, ")"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status read_string(const toml::table& table, std::string_view key, std::string& out, bool required,
                           std::string_view where) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      if (required) return error_at(table, sim::cat(where, " needs a '", key, "' (a string)"));
      return absl::OkStatus();
    }
    auto value = node->value<std::string>();
    if (!value || !node->is_string()) return error_at(*node, sim::cat(where, ".", key, ": expected a string"));
    out = *value;
    return absl::OkStatus();
  }

  // An integer in [lo, hi]; with `sizes`, also a string such as "64k" or "1M".
  absl::Status read_uint(const toml::table& table, std::string_view key, std::uint64_t& out, std::uint64_t lo,
                         std::uint64_t hi, std::string_view where, bool sizes = false, bool required = false) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      if (required) return error_at(table, sim::cat(where, " needs '", key, "'"));
      return absl::OkStatus();
    }
    std::uint64_t value = 0;
    if (node->is_integer()) {
      std::int64_t v = node->as_integer()->get();
      if (v < 0) return error_at(*node, sim::cat(where, ".", key, ": expected ", lo, " to ", hi, ", got ", v));
      value = static_cast<std::uint64_t>(v);
    } else if (sizes && node->is_string()) {
      auto parsed = parse_qemu_io_number(node->as_string()->get());
      if (!parsed.ok()) return error_at(*node, sim::cat(where, ".", key, ": ", parsed.status().message()));
      value = *parsed;
    } else {
      return error_at(*node, sim::cat(where, ".", key, ": expected ", sizes ? "a size (e.g. 4096 or \"64k\")" : "an integer"));
    }
    if (value < lo || value > hi) {
      return error_at(*node, sim::cat(where, ".", key, ": expected ", lo, " to ", hi, ", got ", value));
    }
    out = value;
    return absl::OkStatus();
  }

  template <typename T>
  absl::Status read_small(const toml::table& table, std::string_view key, T& out, std::uint64_t lo, std::uint64_t hi,
                          std::string_view where, bool sizes = false) const {
    std::uint64_t v = out;
    absl::Status s = read_uint(table, key, v, lo, hi, where, sizes);
    if (s.ok()) out = static_cast<T>(v);
    return s;
  }

 private:
  const std::string& path_;
};

#define RETURN_IF_ERROR(expr)            \
  do {                                   \
    absl::Status status_ = (expr);       \
    if (!status_.ok()) return status_;   \
  } while (0)

absl::Status read_header(const Reader& r, const toml::table& root, Scenario& s) {
  const toml::node* node = root.get("scenario");
  if (node == nullptr || !node->is_table()) {
    return r.error_at(root, "expected a [scenario] table with at least name = \"...\"");
  }
  const toml::table& t = *node->as_table();
  RETURN_IF_ERROR(r.check_keys(t, "[scenario]",
                               {"name", "description", "seeds", "strategy", "step_budget", "time_budget_ns"}));
  RETURN_IF_ERROR(r.read_string(t, "name", s.name, true, "[scenario]"));
  RETURN_IF_ERROR(r.read_string(t, "description", s.description, false, "[scenario]"));
  RETURN_IF_ERROR(r.read_small(t, "seeds", s.seeds, 1, kMaxSeeds, "[scenario]"));
  RETURN_IF_ERROR(r.read_uint(t, "step_budget", s.step_budget, 1, kMaxStepBudget, "[scenario]"));
  RETURN_IF_ERROR(r.read_uint(t, "time_budget_ns", s.time_budget_ns, 1, UINT64_MAX / 2, "[scenario]"));
  if (const toml::node* strategy = t.get("strategy")) {
    if (!strategy->is_string()) return r.error_at(*strategy, "[scenario].strategy: expected a string such as \"random\"");
    auto spec = sim::StrategySpec::parse(strategy->as_string()->get());
    if (!spec.ok()) return r.error_at(*strategy, sim::cat("[scenario].strategy: ", spec.status().message()));
    if (spec->kind == sim::StrategySpec::Kind::kReplay) {
      return r.error_at(*strategy, "[scenario].strategy: 'replay' needs a recorded tape; use fifo, random or pct:D");
    }
    s.strategy = *spec;
  }
  return absl::OkStatus();
}

absl::Status read_nodes(const Reader& r, const toml::table& root, Scenario& s) {
  const toml::node* node = root.get("node");
  if (node == nullptr) return r.error_at(root, "expected at least one [[node]] table");
  if (!node->is_array_of_tables()) return r.error_at(*node, "'node' must be an array of tables: write [[node]]");
  const toml::array& nodes = *node->as_array();
  if (nodes.size() > kMaxNodes) return r.error_at(*node, sim::cat("at most ", kMaxNodes, " nodes"));
  std::set<std::string> names;
  std::uint64_t total_bytes = 0;
  for (const toml::node& entry : nodes) {
    const toml::table& t = *entry.as_table();
    NodeSpec n;
    n.line = static_cast<int>(t.source().begin.line);
    RETURN_IF_ERROR(r.check_keys(t, "[[node]]", {"name", "driver", "size", "request_alignment", "max_transfer",
                                                 "latency_ns"}));
    RETURN_IF_ERROR(r.read_string(t, "name", n.name, true, "[[node]]"));
    if (!names.insert(n.name).second) return r.error_at(t, sim::cat("node name '", n.name, "' is used twice"));
    RETURN_IF_ERROR(r.read_string(t, "driver", n.driver, false, "[[node]]"));
    if (n.driver != "mem") {
      return r.error_at(*t.get("driver"), sim::cat("[[node]].driver: unknown driver '", n.driver, "' (expected mem)"));
    }
    RETURN_IF_ERROR(r.read_uint(t, "size", n.size, 1, drivers::MemDriver::kMaxSizeBytes, "[[node]]", true));
    RETURN_IF_ERROR(r.read_small(t, "request_alignment", n.request_alignment, 1, kMaxAlignment, "[[node]]", true));
    if (!engine::is_power_of_2(n.request_alignment)) {
      return r.error_at(*t.get("request_alignment"),
                        sim::cat("[[node]].request_alignment: expected a power of two, got ", n.request_alignment));
    }
    RETURN_IF_ERROR(r.read_small(t, "max_transfer", n.max_transfer, 0, INT32_MAX, "[[node]]", true));
    if (n.max_transfer != 0 && n.max_transfer % n.request_alignment != 0) {
      return r.error_at(*t.get("max_transfer"),
                        sim::cat("[[node]].max_transfer: expected a multiple of request_alignment (",
                                 n.request_alignment, "), got ", n.max_transfer));
    }
    if (n.size % n.request_alignment != 0) {
      return r.error_at(t, sim::cat("[[node]] '", n.name, "': size ", n.size,
                                    " is not a multiple of request_alignment ", n.request_alignment));
    }
    if (const toml::node* lat = t.get("latency_ns")) {
      const toml::array* arr = lat->as_array();
      if (arr == nullptr || arr->size() != 2 || !(*arr)[0].is_integer() || !(*arr)[1].is_integer()) {
        return r.error_at(*lat, "[[node]].latency_ns: expected [MIN, MAX] in nanoseconds");
      }
      std::int64_t lo = (*arr)[0].as_integer()->get();
      std::int64_t hi = (*arr)[1].as_integer()->get();
      if (lo < 0 || hi < lo || static_cast<std::uint64_t>(hi) > drivers::MemDriver::kMaxLatencyNs) {
        return r.error_at(*lat, sim::cat("[[node]].latency_ns: expected 0 <= MIN <= MAX <= ",
                                         drivers::MemDriver::kMaxLatencyNs, ", got [", lo, ", ", hi, "]"));
      }
      n.latency = drivers::LatencyRange{static_cast<std::uint64_t>(lo), static_cast<std::uint64_t>(hi)};
    }
    total_bytes += n.size;
    if (total_bytes > kMaxTotalNodeBytes) {
      return r.error_at(t, sim::cat("the nodes' sizes add up to more than ", kMaxTotalNodeBytes,
                                    " bytes, the most one run may simulate"));
    }
    s.nodes.push_back(std::move(n));
  }
  return absl::OkStatus();
}

absl::Status read_jobs(const Reader& r, const toml::table& root, Scenario& s) {
  const toml::node* node = root.get("job");
  if (node == nullptr) return r.error_at(root, "expected at least one [[job]] table");
  if (!node->is_array_of_tables()) return r.error_at(*node, "'job' must be an array of tables: write [[job]]");
  const toml::array& jobs = *node->as_array();
  if (jobs.size() > kMaxJobs) return r.error_at(*node, sim::cat("at most ", kMaxJobs, " jobs"));
  std::set<std::string> names;
  for (const toml::node& entry : jobs) {
    const toml::table& t = *entry.as_table();
    JobSpec j;
    j.line = static_cast<int>(t.source().begin.line);
    RETURN_IF_ERROR(r.check_keys(t, "[[job]]", {"name", "node", "queue_depth", "start_ns", "commands"}));
    RETURN_IF_ERROR(r.read_string(t, "name", j.name, true, "[[job]]"));
    if (!names.insert(j.name).second) return r.error_at(t, sim::cat("job name '", j.name, "' is used twice"));
    RETURN_IF_ERROR(r.read_string(t, "node", j.node, true, "[[job]]"));
    const NodeSpec* target = s.find_node(j.node);
    if (target == nullptr) {
      return r.error_at(*t.get("node"), sim::cat("[[job]].node: no node named '", j.node, "'"));
    }
    RETURN_IF_ERROR(r.read_small(t, "queue_depth", j.queue_depth, 1, kMaxQueueDepth, "[[job]]"));
    RETURN_IF_ERROR(r.read_uint(t, "start_ns", j.start_ns, 0, UINT64_MAX / 4, "[[job]]"));
    const toml::node* cmds = t.get("commands");
    if (cmds == nullptr || !cmds->is_array()) {
      return r.error_at(cmds ? *cmds : static_cast<const toml::node&>(t),
                        "[[job]].commands: expected an array of qemu-io commands, e.g. [\"aio_write -P 0x11 0 4k\"]");
    }
    const toml::array& list = *cmds->as_array();
    if (list.size() > kMaxCommandsPerJob) return r.error_at(*cmds, sim::cat("at most ", kMaxCommandsPerJob, " commands"));
    for (const toml::node& c : list) {
      if (!c.is_string()) return r.error_at(c, "[[job]].commands: each command must be a string");
      auto cmd = parse_command(c.as_string()->get());
      if (!cmd.ok()) return r.error_at(c, std::string(cmd.status().message()));
      cmd->line = static_cast<int>(c.source().begin.line);
      if (cmd->op == Command::Op::kRead || cmd->op == Command::Op::kWrite) {
        if (cmd->offset + cmd->bytes > target->size) {
          return r.error_at(c, sim::cat("'", cmd->text, "' ends at ", cmd->offset + cmd->bytes, ", past the end of node '",
                                        target->name, "' (", target->size, " bytes)"));
        }
      }
      j.commands.push_back(std::move(*cmd));
    }
    s.jobs.push_back(std::move(j));
  }
  return absl::OkStatus();
}

}  // namespace

const NodeSpec* Scenario::find_node(std::string_view wanted) const {
  for (const NodeSpec& n : nodes) {
    if (n.name == wanted) return &n;
  }
  return nullptr;
}

absl::StatusOr<Scenario> parse_scenario(std::string_view text, const std::string& path) {
  Reader r(path);
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return r.error_at(e.source(), sim::cat("TOML syntax: ", e.description()));
  }
  RETURN_IF_ERROR(r.check_keys(root, "the scenario file", {"scenario", "node", "job"}));
  Scenario s;
  s.path = path;
  RETURN_IF_ERROR(read_header(r, root, s));
  RETURN_IF_ERROR(read_nodes(r, root, s));
  RETURN_IF_ERROR(read_jobs(r, root, s));
  return s;
}

absl::StatusOr<Scenario> load_scenario(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(sim::cat(path, ": is a directory, not a scenario file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(sim::cat(path, ": cannot open scenario file"));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str(), path);
}

}  // namespace scenarios
