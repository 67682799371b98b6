#include "scenarios/scenario.h"

#include "scenarios/backend_spec.h"
#include "scenarios/node_spec.h"
#include "scenarios/permissions.h"
#include "scenarios/toml_reader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "engine/request_flags.h"
#include "sim/str.h"

namespace scenarios {
namespace {

// Why a job of this api cannot run the command ("" when it can): the
// sync-only wrappers need a sync api, and the sector-based entry points take
// whole sectors of a plain buffer (vectors only from a coroutine) and no flags.
std::string api_refuses(const JobSpec& j, const Command& cmd) {
  if ((cmd.op == Command::Op::kMakeZero || cmd.write_sync) && !j.sync_wrappers()) {
    return "bdrv_make_zero and bdrv_pwrite_sync are sync wrappers: expected api = \"sync\", \"sync-in-coroutine\" or "
           "\"sectors\"";
  }
  if (cmd.op == Command::Op::kAioCancel && j.backend) {
    return "aio_cancel cancels the job's blk_aio_* requests, which a job with a backend does not send";
  }
  const bool data = (cmd.op == Command::Op::kRead || cmd.op == Command::Op::kWrite) && !cmd.async && !cmd.vmstate &&
                    !cmd.write_sync;
  if (!j.sector_api() || !data) return "";
  if (cmd.engine_flags() != 0 || cmd.zeroes || cmd.compressed) {
    return "the sector-based reads and writes take no flags, zero writes or compression";
  }
  if (cmd.vectored() && j.api == JobSpec::Api::kSectors) return "bdrv_read and bdrv_write take one buffer, not a vector";
  if (cmd.offset % 512 != 0 || cmd.bytes % 512 != 0 || cmd.bytes == 0) {
    return "the sector-based reads and writes take whole sectors: expected OFFSET and LENGTH multiples of 512, "
           "LENGTH not 0";
  }
  return "";
}


absl::Status read_header(const Reader& r, const toml::table& root, Scenario& s) {
  const toml::node* node = root.get("scenario");
  if (node == nullptr || !node->is_table()) {
    return r.error_at(root, "expected a [scenario] table with at least name = \"...\"");
  }
  const toml::table& t = *node->as_table();
  RETURN_IF_ERROR(r.check_keys(t, "[scenario]",
                               {"name", "description", "seeds", "strategy", "step_budget", "time_budget_ns", "oracles", "expect", "fixes",
                                "memory_limit"}));
  RETURN_IF_ERROR(r.read_name(t, "name", s.name, true, "[scenario]"));
  RETURN_IF_ERROR(r.read_string(t, "description", s.description, false, "[scenario]"));
  RETURN_IF_ERROR(r.read_small(t, "seeds", s.seeds, 1, kMaxSeeds, "[scenario]"));
  RETURN_IF_ERROR(r.read_uint(t, "step_budget", s.step_budget, 1, kMaxStepBudget, "[scenario]"));
  RETURN_IF_ERROR(r.read_uint(t, "time_budget_ns", s.time_budget_ns, 1, UINT64_MAX / 2, "[scenario]"));
  RETURN_IF_ERROR(r.read_uint(t, "memory_limit", s.memory_limit, kMinMemoryLimit, UINT64_MAX / 2, "[scenario]", true));
  if (const toml::node* strategy = t.get("strategy")) {
    if (!strategy->is_string()) return r.error_at(*strategy, "[scenario].strategy: expected a string such as \"random\"");
    auto spec = sim::StrategySpec::parse(strategy->as_string()->get());
    if (!spec.ok()) return r.error_at(*strategy, sim::cat("[scenario].strategy: ", spec.status().message()));
    if (spec->kind == sim::StrategySpec::Kind::kReplay) {
      return r.error_at(*strategy, "[scenario].strategy: 'replay' needs a recorded tape; use fifo, random or pct:D");
    }
    s.strategy = *spec;
  }
  if (const toml::node* oracles = t.get("oracles")) {
    std::string names;
    for (const OracleInfo& o : all_oracles()) names += sim::cat(names.empty() ? "" : ", ", o.name);
    if (!oracles->is_array()) return r.error_at(*oracles, sim::cat("[scenario].oracles: expected a list of: ", names));
    s.oracles = OracleSet::none();
    for (const toml::node& entry : *oracles->as_array()) {
      auto o = entry.is_string() ? oracle_from_name(entry.as_string()->get()) : std::nullopt;
      if (!o) return r.error_at(entry, sim::cat("[scenario].oracles: expected one of: ", names));
      s.oracles = s.oracles.with(*o);
    }
  }
  if (const toml::node* fixes = t.get("fixes")) {
    std::string names;
    for (const engine::FixInfo& f : engine::all_fixes()) names += sim::cat(names.empty() ? "" : ", ", f.name);
    if (!fixes->is_array()) return r.error_at(*fixes, sim::cat("[scenario].fixes: expected a list of: ", names));
    for (const toml::node& entry : *fixes->as_array()) {
      auto f = entry.is_string() ? engine::fix_from_name(entry.as_string()->get()) : std::nullopt;
      if (!f) return r.error_at(entry, sim::cat("[scenario].fixes: expected one of: ", names));
      if (std::find(s.fixes.begin(), s.fixes.end(), *f) != s.fixes.end()) {
        return r.error_at(entry, sim::cat("[scenario].fixes: '", engine::fix_name(*f), "' is listed twice"));
      }
      s.fixes.push_back(*f);
    }
  }
  std::string expect = "pass";
  RETURN_IF_ERROR(r.read_string(t, "expect", expect, false, "[scenario]"));
  if (expect != "pass" && expect != "fail") {
    return r.error_at(*t.get("expect"), sim::cat("[scenario].expect: expected \"pass\" or \"fail\", got \"", expect, "\""));
  }
  s.expect_fail = expect == "fail";
  return absl::OkStatus();
}

absl::Status read_nodes(const Reader& r, const toml::table& root, Scenario& s) {
  const toml::node* node = root.get("node");
  if (node == nullptr) return r.error_at(root, "expected at least one [[node]] table");
  if (!node->is_array_of_tables()) return r.error_at(*node, "'node' must be an array of tables: write [[node]]");
  const toml::array& nodes = *node->as_array();
  if (nodes.size() > kMaxNodes) return r.error_at(*node, sim::cat("at most ", kMaxNodes, " nodes"));
  std::set<std::string> names;
  std::vector<const toml::table*> tables;
  for (const toml::node& entry : nodes) {
    const toml::table& t = *entry.as_table();
    NodeSpec n;
    RETURN_IF_ERROR(parse_node(r, t, n));
    if (!names.insert(n.name).second) return r.error_at(t, sim::cat("node name '", n.name, "' is used twice"));
    s.nodes.push_back(std::move(n));
    tables.push_back(&t);
  }
  return validate_graph(r, s.nodes, tables);
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
    RETURN_IF_ERROR(r.check_keys(t, "[[job]]", {"name", "node", "queue_depth", "start_ns", "commands", "random", "api", "backend",
                                                "plug"}));
    RETURN_IF_ERROR(r.read_name(t, "name", j.name, true, "[[job]]"));
    if (!names.insert(j.name).second) return r.error_at(t, sim::cat("job name '", j.name, "' is used twice"));
    RETURN_IF_ERROR(r.read_string(t, "node", j.node, true, "[[job]]"));
    const NodeSpec* target = s.find_node(j.node);
    if (target == nullptr) {
      return r.error_at(*t.get("node"), sim::cat("[[job]].node: no node named '", j.node, "'"));
    }
    if (s.node_capacity(*target) > kMaxCheckedNodeBytes && !s.stores_nothing(*target)) {
      // A huge node is judged from what was written and what its medium stores
      // (a sparse check); that needs a mem node, 1:1 below filters, that starts
      // as zeroes.
      const NodeSpec* home = target;
      for (int depth = 0; depth < 64 && home != nullptr && home->is_filter(); ++depth) {
        home = s.find_node(home->data_child());
      }
      if (home == nullptr || home->driver != NodeSpec::Driver::kMem || !home->image.empty()) {
        return r.error_at(*t.get("node"),
                          sim::cat("[[job]].node: node '", j.node, "' has ", s.node_size(*target), " bytes; above ",
                                   kMaxCheckedNodeBytes, " bytes jobs may write only to a mem node without an image "
                                   "(directly or through raw, fault and top filters), whose final image is checked sparsely"));
      }
    }
    // A quorum's children hold one image: a job writing to one of them other
    // than through the quorum would make them differ.
    for (const NodeSpec& quorum : s.nodes) {
      if (quorum.driver != NodeSpec::Driver::kQuorum) continue;
      bool through = false;
      for (const NodeSpec* n = target; n != nullptr && !through;
           n = n->is_filter() ? s.find_node(n->data_child()) : nullptr) {
        through = n->name == quorum.name;
      }
      if (through) continue;
      for (const std::string& child : quorum.children) {
        if (&s.data_home(*s.find_node(child)) != &s.data_home(*target)) continue;
        return r.error_at(*t.get("node"), sim::cat("[[job]].node: '", j.node, "' stores its data where quorum '", quorum.name,
                                                   "''s child '", child, "' does: write through '", quorum.name,
                                                   "', or the children would differ"));
      }
    }
    RETURN_IF_ERROR(r.read_small(t, "queue_depth", j.queue_depth, 1, kMaxQueueDepth, "[[job]]"));
    RETURN_IF_ERROR(r.read_uint(t, "start_ns", j.start_ns, 0, UINT64_MAX / 4, "[[job]]"));
    RETURN_IF_ERROR(r.read_bool(t, "plug", j.plug, "[[job]]"));
    std::string api = "co";
    RETURN_IF_ERROR(r.read_string(t, "api", api, false, "[[job]]"));
    if (api == "sync") {
      j.api = JobSpec::Api::kSync;
    } else if (api == "sync-in-coroutine") {
      j.api = JobSpec::Api::kSyncInCoroutine;
    } else if (api == "sectors") {
      j.api = JobSpec::Api::kSectors;
    } else if (api == "co-sectors") {
      j.api = JobSpec::Api::kCoSectors;
    } else if (api != "co") {
      return r.error_at(*t.get("api"), sim::cat("[[job]].api: expected \"co\" (bdrv_co_* from the job's coroutine), "
                                               "\"sync\" (the sync wrappers from the main loop), \"sync-in-coroutine\" "
                                               "(the sync wrappers from the job's coroutine), \"sectors\" (bdrv_read / "
                                               "bdrv_write from the main loop) or \"co-sectors\" (bdrv_co_readv / "
                                               "bdrv_co_writev from the job's coroutine), got \"", api, "\""));
    }
    if (const toml::node* backend = t.get("backend")) {
      BackendOptions options;
      RETURN_IF_ERROR(read_backend(r, *backend, s, options));
      if (j.api != JobSpec::Api::kCoroutine) {
        return r.error_at(*backend, "[[job]].backend: a backend's sync calls (blk_pread, ...) are not modelled; use "
                                    "api = \"co\" with a backend");
      }
      j.backend = std::move(options);
    }
    const toml::node* cmds = t.get("commands");
    if (const toml::node* random = t.get("random")) {
      if (cmds != nullptr) return r.error_at(*random, "[[job]]: give either commands or random, not both");
      RandomWorkload w;
      RETURN_IF_ERROR(parse_random_workload(r, *random, s.node_size(*target), w));
      j.random = w;
      s.jobs.push_back(std::move(j));
      continue;
    }
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
      if (!cmd->source_file.empty()) {
        auto bytes = r.read_data_file(c, cmd->source_file, sim::cat("'", cmd->text, "'"), kMaxCommandBytes);
        if (!bytes.ok()) return bytes.status();
        if ((*bytes)->empty()) return r.error_at(c, sim::cat("'", cmd->text, "': '", cmd->source_file, "' is empty"));
        cmd->source_bytes = *std::move(bytes);
      }
      if (cmd->op >= Command::Op::kBreak) {
        const NodeSpec* n = target;
        for (int depth = 0; depth < 64 && n != nullptr && n->driver != NodeSpec::Driver::kFault; ++depth) {
          n = n->data_child().empty() ? nullptr : s.find_node(n->data_child());
        }
        if (n == nullptr) {
          return r.error_at(c, sim::cat("'", cmd->text, "': no fault node at or below node '", target->name,
                                        "' to hold breakpoints"));
        }
      }
      if (j.sync_wrappers() && !cmd->async && cmd->op == Command::Op::kRead && cmd->request_flags != 0) {
        return r.error_at(c, sim::cat("'", cmd->text, "': a job with api = \"", api, "\" reads with bdrv_pread or "
                                      "bdrv_preadv, which take no request flags (use aio_read, or api = \"co\")"));
      }
      if (cmd->op == Command::Op::kAioCancel) {
        const auto issued = static_cast<std::uint64_t>(
            std::count_if(j.commands.begin(), j.commands.end(), [](const Command& k) { return k.async; }));
        if (cmd->cancel_back > issued) {
          return r.error_at(c, sim::cat("'", cmd->text, "': only ", issued, " aio commands come before it in job '",
                                        j.name, "' (expected N from 1 to that)"));
        }
        if (!cmd->cancel_async && !target->iothread.empty()) {
          return r.error_at(c, sim::cat("'", cmd->text, "': bdrv_aio_cancel polls the main loop, and node '",
                                        target->name, "' is in IOThread '", target->iothread,
                                        "' (the reference asserts against it): use aio_cancel -a"));
        }
      }
      if (std::string why = api_refuses(j, *cmd); !why.empty()) {
        return r.error_at(c, sim::cat("'", cmd->text, "': ", why, " (job api = \"", api, "\")"));
      }
      if (cmd->vmstate) {
        // The reference passes the VM state down file links to the first driver that keeps one.
        const NodeSpec* n = target;
        for (int depth = 0; depth < 64 && n != nullptr && !(n->driver == NodeSpec::Driver::kMem && n->mem.vmstate);
             ++depth) {
          n = n->file.empty() ? nullptr : s.find_node(n->file);
        }
        if (n == nullptr) {
          return r.error_at(c, sim::cat("'", cmd->text, "': no node at or below '", target->name,
                                        "' keeps a VM state (expected vmstate = true on a mem node down its file links)"));
        }
        if (cmd->offset > drivers::MemDriver::kVmstateBytes || cmd->bytes > drivers::MemDriver::kVmstateBytes - cmd->offset) {
          return r.error_at(c, sim::cat("'", cmd->text, "' ends past the VM state area (", drivers::MemDriver::kVmstateBytes,
                                        " bytes)"));
        }
      } else if (cmd->op == Command::Op::kRead || cmd->op == Command::Op::kWrite || cmd->op == Command::Op::kDiscard ||
          cmd->op == Command::Op::kAlloc) {
        const std::uint64_t size = s.node_capacity(*target);
        // Overflow-safe: offset + bytes may not fit in 64 bits. A backend answers
        // requests past the end itself (-EIO), so a device may send them.
        // A null node stores nothing, so nothing models its end: requests go
        // wherever the reference lets them (any offset up to INT64_MAX, and
        // `offset + bytes` may pass it).
        if ((cmd->offset > size || cmd->bytes > size - cmd->offset) && !(j.backend && cmd->op != Command::Op::kAlloc) &&
            !s.stores_nothing(*target)) {
          return r.error_at(c, sim::cat("'", cmd->text, "' ends past the end of node '", target->name, "' (", size,
                                        " bytes): expected OFFSET + LENGTH <= ", size));
        }
        if (cmd->parts.size() > s.max_iov(*target)) {
          return r.error_at(c, sim::cat("'", cmd->text, "' has ", cmd->parts.size(), " buffers, but node '",
                                        target->name, "' takes at most ", s.max_iov(*target),
                                        " (max_iov): expected at most that many lengths"));
        }
      }
      j.commands.push_back(std::move(*cmd));
    }
    s.jobs.push_back(std::move(j));
  }
  return absl::OkStatus();
}

}  // namespace

const NodeSpec* Scenario::find_node(std::string_view wanted) const { return find_spec(nodes, wanted); }

const NodeSpec& Scenario::data_home(const NodeSpec& node) const {
  const NodeSpec* n = &node;
  // Bounded: the parser refused cycles, and a filter's data child exists.
  for (int depth = 0; depth < 64 && n->is_filter(); ++depth) n = find_node(n->data_child());
  return *n;
}

std::uint64_t Scenario::node_size(const NodeSpec& node) const { return data_home(node).size; }

std::uint64_t Scenario::node_capacity(const NodeSpec& node) const {
  const NodeSpec& n = data_home(node);
  return std::max(n.size, n.capacity);
}

const NodeSpec* Scenario::truncate_home(const NodeSpec& node) const {
  const NodeSpec* n = &node;
  for (int depth = 0; depth < 64 && n != nullptr; ++depth) {
    if (n->driver == NodeSpec::Driver::kMem) return n;
    if (n->driver != NodeSpec::Driver::kRaw && n->driver != NodeSpec::Driver::kFault) return nullptr;
    n = find_node(n->file);
  }
  return nullptr;
}

std::uint32_t Scenario::max_iov(const NodeSpec& node) const {
  // Bounded by kMaxNodes levels: the parser refused cycles.
  // A node without a file child starts from IOV_MAX, as the engine's does.
  std::uint32_t least = node.file.empty() ? static_cast<std::uint32_t>(engine::kIovMax) : 0;
  for (const std::string* edge : {&node.file, &node.backing}) {
    const NodeSpec* child = edge->empty() ? nullptr : find_node(*edge);
    if (child == nullptr) continue;
    const std::uint32_t m = max_iov(*child);
    if (m != 0 && (least == 0 || m < least)) least = m;
  }
  // Only the mem driver declares a max_iov of its own.
  if (node.driver == NodeSpec::Driver::kMem && node.mem.limits.max_iov != 0) {
    least = static_cast<std::uint32_t>(node.mem.limits.max_iov);
  }
  return least;
}

std::uint32_t Scenario::request_alignment(const NodeSpec& node) const {
  if (node.driver == NodeSpec::Driver::kMem) return node.mem.limits.request_alignment;
  if (node.driver == NodeSpec::Driver::kFault && node.fault.align != 0) return node.fault.align;
  return 1;
}

unsigned Scenario::declared_flags(const NodeSpec& node, bool zero_write) const {
  using Style = drivers::MemConfig::Style;
  switch (node.driver) {
    case NodeSpec::Driver::kMem:
      if (!node.mem.fua) return 0;
      if (zero_write) return node.mem.write_zeroes ? unsigned{engine::BDRV_REQ_FUA | engine::BDRV_REQ_MAY_UNMAP} : 0u;
      return node.mem.style == Style::kBytes || node.mem.style == Style::kSectorsWithFlags ? unsigned{engine::BDRV_REQ_FUA} : 0u;
    case NodeSpec::Driver::kRaw:
    case NodeSpec::Driver::kFault: {
      // Bounded by the graph's depth: the parser refused cycles.
      const NodeSpec* file = find_node(node.file);
      const unsigned passed = zero_write ? engine::BDRV_REQ_FUA | engine::BDRV_REQ_MAY_UNMAP : engine::BDRV_REQ_FUA;
      return file == nullptr ? 0 : passed & declared_flags(*file, zero_write);
    }
    default:
      return 0;
  }
}

namespace {

// Before the jobs are read: every mem node's capacity covers the largest
// truncate that lands on it, so that commands may reach past its first size.
// (Commands that do not parse are left to read_jobs, which reports them.)
void raise_capacity(Scenario& s, const NodeSpec& target, std::uint64_t length) {
  const NodeSpec* home = s.truncate_home(target);
  if (home == nullptr) return;
  auto& capacity = s.nodes[static_cast<std::size_t>(home - s.nodes.data())].capacity;
  capacity = std::max({capacity, home->size, length});
}

void raise_capacities(const toml::table& root, Scenario& s) {
  // block_resize events.
  if (const toml::array* events = root["event"].as_array()) {
    for (const toml::node& entry : *events) {
      const toml::table* t = entry.as_table();
      if (t == nullptr || (*t)["action"].value<std::string>() != "block_resize") continue;
      const auto node = (*t)["node"].value<std::string>();
      const NodeSpec* target = node ? s.find_node(*node) : nullptr;
      // read_events reports a size that does not parse; a valid one counts here.
      std::optional<std::uint64_t> size;
      if (const auto n = (*t)["size"].value<std::int64_t>(); n && *n >= 0) size = static_cast<std::uint64_t>(*n);
      if (const auto text = (*t)["size"].value<std::string>()) {
        if (auto parsed = parse_qemu_io_number(*text); parsed.ok()) size = *parsed;
      }
      if (target != nullptr && size && *size <= kMaxTruncateBytes) raise_capacity(s, *target, *size);
    }
  }
  const toml::array* jobs = root["job"].as_array();
  if (jobs == nullptr) return;
  for (const toml::node& entry : *jobs) {
    const toml::table* t = entry.as_table();
    const auto node = t != nullptr ? (*t)["node"].value<std::string>() : std::nullopt;
    const toml::array* commands = t != nullptr ? (*t)["commands"].as_array() : nullptr;
    const NodeSpec* target = node ? s.find_node(*node) : nullptr;
    if (target == nullptr || commands == nullptr) continue;
    for (const toml::node& c : *commands) {
      const auto text = c.value<std::string>();
      auto cmd = text ? parse_command(*text) : absl::StatusOr<Command>(absl::InvalidArgumentError(""));
      if (!cmd.ok() || cmd->op != Command::Op::kTruncate) continue;
      raise_capacity(s, *target, cmd->offset);
    }
  }
}

}  // namespace

absl::StatusOr<Scenario> parse_scenario(std::string_view text, const std::string& path, const ImageStore* images) {
  Reader r(path, images);
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return r.error_at(e.source(), sim::cat("TOML syntax: ", e.description()));
  }
  RETURN_IF_ERROR(r.check_keys(root, "the scenario file", {"scenario", "node", "job", "event"}));
  Scenario s;
  s.path = path;
  RETURN_IF_ERROR(read_header(r, root, s));
  RETURN_IF_ERROR(read_nodes(r, root, s));
  raise_capacities(root, s);
  RETURN_IF_ERROR(read_jobs(r, root, s));
  RETURN_IF_ERROR(check_job_permissions(r, s));
  RETURN_IF_ERROR(read_events(r, root, s));
  RETURN_IF_ERROR(check_callback_graph_changes(r, s));
  return s;
}

ImageStore image_store_of(const Scenario& s) {
  ImageStore images;
  for (const NodeSpec& n : s.nodes) {
    if (n.image_bytes != nullptr && !n.image.empty()) images[n.image] = n.image_bytes;
  }
  // write -s FILE: the pattern files travel the same way.
  for (const JobSpec& j : s.jobs) {
    for (const Command& c : j.commands) {
      if (c.source_bytes != nullptr) images[c.source_file] = c.source_bytes;
    }
  }
  return images;
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
