#include "scenarios/backend_spec.h"

#include <map>

#include <absl/strings/str_split.h>

#include "scenarios/event_spec.h"
#include "scenarios/scenario.h"
#include "scenarios/toml_reader.h"
#include "sim/str.h"

namespace scenarios {
namespace {

constexpr std::string_view kWhere = "[[job]].backend";

// "drain NODE", "drained_begin NODE", "drained_end NODE", or an aio request
// in qemu-io syntax ("aio_write -P 0x11 0 4k").
absl::Status read_action(const Reader& r, const toml::node& entry, std::string_view key, const Scenario& s,
                         DrainCallbackAction& a) {
  if (!entry.is_string()) return r.error_at(entry, sim::cat(kWhere, ".", key, ": each action must be a string"));
  a.text = entry.as_string()->get();
  a.line = static_cast<int>(entry.source().begin.line);
  a.column = static_cast<int>(entry.source().begin.column);
  a.path = entry.source().path ? *entry.source().path : std::string();
  using K = DrainCallbackAction::Kind;
  if (a.text.starts_with("set_backing ")) {
    // bdrv_set_backing_hd from inside the callback: "set_backing NODE [BACKING]".
    const std::vector<std::string> words = absl::StrSplit(a.text, ' ', absl::SkipEmpty());
    if (words.size() < 2 || words.size() > 3) {
      return r.error_at(entry, sim::cat(kWhere, ".", key, ": '", a.text, "': expected set_backing NODE [BACKING]"));
    }
    a.kind = K::kSetBacking;
    a.node = words[1];
    a.backing = words.size() == 3 ? words[2] : "";
    for (const std::string* name : {&a.node, &a.backing}) {
      if (!name->empty() && s.find_node(*name) == nullptr) {
        return r.error_at(entry, sim::cat(kWhere, ".", key, ": '", a.text, "': no node named '", *name, "'"));
      }
    }
    return absl::OkStatus();  // the rest is checked once every job is read (check_callback_graph_changes)
  }
  const std::pair<std::string_view, K> verbs[] = {
      {"drain ", K::kDrain}, {"drained_begin ", K::kDrainedBegin}, {"drained_end ", K::kDrainedEnd}};
  for (const auto& [verb, kind] : verbs) {
    if (!a.text.starts_with(verb)) continue;
    a.kind = kind;
    a.node = a.text.substr(verb.size());
    if (s.find_node(a.node) == nullptr) {
      return r.error_at(entry, sim::cat(kWhere, ".", key, ": '", a.text, "': no node named '", a.node, "'"));
    }
    return absl::OkStatus();
  }
  auto cmd = parse_command(a.text);
  if (!cmd.ok()) return r.error_at(entry, sim::cat(kWhere, ".", key, ": ", cmd.status().message()));
  const bool request = cmd->op == Command::Op::kRead || cmd->op == Command::Op::kWrite || cmd->op == Command::Op::kDiscard;
  if (!cmd->async || !request || cmd->vmstate || !cmd->parts.empty() || !cmd->source_file.empty()) {
    return r.error_at(entry, sim::cat(kWhere, ".", key, ": '", a.text,
                                      "': expected aio_read, aio_write or aio_discard with one buffer, without -b or -s (a "
                                      "callback cannot wait), drain NODE, drained_begin NODE, drained_end NODE or "
                                      "set_backing NODE [BACKING]"));
  }
  cmd->line = a.line;
  a.kind = K::kRequest;
  a.request = *std::move(cmd);
  return absl::OkStatus();
}

absl::Status read_callback(const Reader& r, const toml::table& t, std::string_view key, const Scenario& s,
                           std::vector<DrainCallbackAction>& out) {
  const toml::node* node = t.get(key);
  if (node == nullptr) return absl::OkStatus();
  if (!node->is_array()) {
    return r.error_at(*node, sim::cat(kWhere, ".", key, ": expected an array of actions, e.g. [\"aio_write 0 4k\", \"drain disk\"]"));
  }
  const toml::array& list = *node->as_array();
  if (list.size() > kMaxCallbackActions) {
    return r.error_at(*node, sim::cat(kWhere, ".", key, ": at most ", kMaxCallbackActions, " actions"));
  }
  for (const toml::node& entry : list) {
    DrainCallbackAction a;
    RETURN_IF_ERROR(read_action(r, entry, key, s, a));
    out.push_back(std::move(a));
  }
  return absl::OkStatus();
}

// Sections the device opens when told drained_begin it closes when told
// drained_end, node for node: an unbalanced script is the scenario's mistake,
// not the engine's.
absl::Status check_sections(const Reader& r, const toml::table& t, const BackendOptions& o) {
  using K = DrainCallbackAction::Kind;
  std::map<std::string, int> open;
  for (const DrainCallbackAction& a : o.on_drained_begin) {
    if (a.kind == K::kDrainedEnd) {
      return r.error_at(*t.get("on_drained_begin"), sim::cat(kWhere, ".on_drained_begin: '", a.text,
                                                             "': sections end in on_drained_end"));
    }
    if (a.kind == K::kDrainedBegin) ++open[a.node];
  }
  for (const DrainCallbackAction& a : o.on_drained_end) {
    if (a.kind == K::kDrainedBegin) {
      return r.error_at(*t.get("on_drained_end"), sim::cat(kWhere, ".on_drained_end: '", a.text,
                                                           "': sections begin in on_drained_begin"));
    }
    if (a.kind == K::kDrainedEnd) --open[a.node];
  }
  for (const auto& [node, balance] : open) {
    if (balance == 0) continue;
    return r.error_at(t, sim::cat(kWhere, ": on_drained_begin begins ", balance > 0 ? "more" : "fewer",
                                  " drained sections of node '", node, "' than on_drained_end ends"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status read_backend(const Reader& r, const toml::node& node, const Scenario& s, BackendOptions& out) {
  if (!node.is_table()) {
    return r.error_at(node, "[[job]].backend: expected a table such as { write_cache = false } ({} for the defaults)");
  }
  const toml::table& t = *node.as_table();
  RETURN_IF_ERROR(r.check_keys(t, kWhere, {"write_cache", "queue_while_drained", "share_rw", "on_drained_begin",
                                               "on_drained_end"}));
  RETURN_IF_ERROR(r.read_bool(t, "write_cache", out.write_cache, kWhere));
  RETURN_IF_ERROR(r.read_bool(t, "queue_while_drained", out.queue_while_drained, kWhere));
  RETURN_IF_ERROR(r.read_bool(t, "share_rw", out.share_rw, kWhere));
  RETURN_IF_ERROR(read_callback(r, t, "on_drained_begin", s, out.on_drained_begin));
  RETURN_IF_ERROR(read_callback(r, t, "on_drained_end", s, out.on_drained_end));
  return check_sections(r, t, out);
}

absl::Status check_callback_graph_changes(const Reader& r, const Scenario& s) {
  for (const JobSpec& j : s.jobs) {
    if (!j.backend) continue;
    for (const auto* actions : {&j.backend->on_drained_begin, &j.backend->on_drained_end}) {
      for (const DrainCallbackAction& a : *actions) {
        if (a.kind != DrainCallbackAction::Kind::kSetBacking) continue;
        toml::source_region at;
        at.begin = toml::source_position{static_cast<toml::source_index>(a.line), static_cast<toml::source_index>(a.column)};
        RETURN_IF_ERROR(check_set_backing(r, at, at, sim::cat("job '", j.name, "''s callback '", a.text, "'"), s, a.node,
                                          a.backing));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace scenarios
