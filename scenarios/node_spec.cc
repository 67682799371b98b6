#include "scenarios/node_spec.h"

#include "engine/errors.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <sstream>

#include "engine/request_flags.h"
#include "sim/file_bytes.h"
#include "scenarios/scenario.h"
#include "scenarios/toml_reader.h"

namespace scenarios {
namespace {

using Driver = NodeSpec::Driver;

constexpr std::pair<std::string_view, Driver> kDrivers[] = {
    {"mem", Driver::kMem}, {"null", Driver::kNull}, {"raw", Driver::kRaw}, {"cow", Driver::kCow}, {"fault", Driver::kFault},
    {"top", Driver::kTop}, {"quorum", Driver::kQuorum}};

// The most children a quorum node may have.
constexpr std::size_t kMaxQuorumChildren = 8;

// quorum: `children` (two or more node names, in order) and `vote_threshold`,
// which QEMU's quorum requires.
absl::Status parse_quorum(const Reader& r, const toml::table& t, NodeSpec& n, const std::string& w) {
  RETURN_IF_ERROR(r.check_keys(t, w, {"name", "driver", "unmap", "iothread", "detect_zeroes", "no_flush", "children",
                                      "vote_threshold"}));
  const toml::array* arr = t.get_as<toml::array>("children");
  if (arr == nullptr || arr->size() < 2 || arr->size() > kMaxQuorumChildren) {
    return r.error_at(t.get("children") != nullptr ? *t.get("children") : static_cast<const toml::node&>(t),
                      sim::cat(w, ".children: expected a list of 2 to ", kMaxQuorumChildren, " node names"));
  }
  for (const toml::node& child : *arr) {
    const auto* name = child.as_string();
    if (name == nullptr || name->get().empty()) return r.error_at(child, sim::cat(w, ".children: expected node names"));
    if (std::find(n.children.begin(), n.children.end(), name->get()) != n.children.end()) {
      return r.error_at(child, sim::cat(w, ".children: '", name->get(), "' is listed twice"));
    }
    n.children.push_back(name->get());
  }
  std::uint64_t threshold = 0;
  RETURN_IF_ERROR(r.read_uint(t, "vote_threshold", threshold, 1, n.children.size(), w, false));
  if (!t.contains("vote_threshold")) {
    return r.error_at(t, sim::cat(w, ": quorum needs vote_threshold (QEMU's vote-threshold)"));
  }
  if (threshold != n.children.size()) {
    // A write may then succeed on some children only, and a fifo read of the
    // first would miss it: one write history per node cannot model that.
    return r.error_at(*t.get("vote_threshold"),
                      sim::cat(w, ".vote_threshold: only ", n.children.size(), " (every child) is modelled, got ", threshold,
                               ": with fewer, the children may differ after a successful write"));
  }
  return absl::OkStatus();
}



std::string where_of(const NodeSpec& n) { return sim::cat("node '", n.name, "'"); }

absl::Status read_limits(const Reader& r, const toml::table& t, const std::string& w, engine::BlockLimits& l) {
  RETURN_IF_ERROR(r.read_small(t, "request_alignment", l.request_alignment, 1, kMaxAlignment, w, true));
  RETURN_IF_ERROR(r.read_small(t, "max_transfer", l.max_transfer, 0, INT32_MAX, w, true));
  RETURN_IF_ERROR(r.read_small(t, "opt_transfer", l.opt_transfer, 0, INT32_MAX, w, true));
  RETURN_IF_ERROR(r.read_small(t, "pwrite_zeroes_alignment", l.pwrite_zeroes_alignment, 0, INT32_MAX, w, true));
  RETURN_IF_ERROR(r.read_small(t, "max_pwrite_zeroes", l.max_pwrite_zeroes, 0, INT32_MAX, w, true));
  RETURN_IF_ERROR(r.read_small(t, "pdiscard_alignment", l.pdiscard_alignment, 0, INT32_MAX, w, true));
  RETURN_IF_ERROR(r.read_small(t, "max_pdiscard", l.max_pdiscard, 0, INT32_MAX, w, true));
  RETURN_IF_ERROR(r.read_small(t, "min_mem_alignment", l.min_mem_alignment, 0, kMaxAlignment, w, true));
  RETURN_IF_ERROR(r.read_small(t, "opt_mem_alignment", l.opt_mem_alignment, 0, kMaxAlignment, w, true));
  RETURN_IF_ERROR(r.read_small(t, "max_iov", l.max_iov, 0, 1 << 20, w));
  auto at = [&](std::string_view key) -> const toml::node& { return *t.get(key); };
  if (!engine::is_power_of_2(l.request_alignment)) {
    return r.error_at(at("request_alignment"), sim::cat(w, ".request_alignment: expected a power of two, got ", l.request_alignment));
  }
  struct Multiple {
    std::string_view key;
    std::uint64_t value;
  };
  for (const Multiple& m : {Multiple{"max_transfer", l.max_transfer}, Multiple{"pwrite_zeroes_alignment", l.pwrite_zeroes_alignment},
                            Multiple{"max_pwrite_zeroes", static_cast<std::uint64_t>(l.max_pwrite_zeroes)},
                            Multiple{"pdiscard_alignment", l.pdiscard_alignment}}) {
    if (m.value % l.request_alignment != 0) {
      return r.error_at(at(m.key), sim::cat(w, ".", m.key, ": expected a multiple of request_alignment (", l.request_alignment,
                                            "), got ", m.value));
    }
  }
  // The reference asserts that a driver's largest zero write and discard,
  // rounded down to their alignment, still hold one request_alignment
  // (bdrv_co_do_pwrite_zeroes, bdrv_co_pdiscard): a driver declaring less
  // breaks QEMU's contract, so such a node is refused here, not judged.
  struct AtLeast {
    std::string_view key;
    std::uint64_t value;
    std::string_view alignment_key;
    std::uint64_t alignment;
  };
  for (const AtLeast& m : {AtLeast{"max_pwrite_zeroes", static_cast<std::uint64_t>(l.max_pwrite_zeroes), "pwrite_zeroes_alignment",
                                   l.pwrite_zeroes_alignment},
                           AtLeast{"max_pdiscard", static_cast<std::uint64_t>(l.max_pdiscard), "pdiscard_alignment",
                                   l.pdiscard_alignment}}) {
    const std::uint64_t least = std::max<std::uint64_t>(m.alignment, l.request_alignment);
    if (m.value != 0 && m.value < least) {
      return r.error_at(at(m.key), sim::cat(w, ".", m.key, ": expected 0 or at least ", m.alignment_key,
                                            " and request_alignment (", least, "), got ", m.value));
    }
  }
  for (const auto& [key, value] : {std::pair<std::string_view, std::uint64_t>{"min_mem_alignment", l.min_mem_alignment},
                                   {"opt_mem_alignment", l.opt_mem_alignment}}) {
    if (value != 0 && !engine::is_power_of_2(value)) {
      return r.error_at(at(key), sim::cat(w, ".", key, ": expected a power of two, got ", value));
    }
  }
  return absl::OkStatus();
}

absl::Status read_latency_range(const Reader& r, const toml::table& t, const std::string& w, drivers::LatencyRange& out) {
  const toml::node* lat = t.get("latency_ns");
  if (lat == nullptr) return absl::OkStatus();
  const toml::array* arr = lat->as_array();
  if (arr == nullptr || arr->size() != 2 || !(*arr)[0].is_integer() || !(*arr)[1].is_integer()) {
    return r.error_at(*lat, sim::cat(w, ".latency_ns: expected [MIN, MAX] in nanoseconds"));
  }
  const std::int64_t lo = (*arr)[0].as_integer()->get();
  const std::int64_t hi = (*arr)[1].as_integer()->get();
  if (lo < 0 || hi < lo || static_cast<std::uint64_t>(hi) > drivers::MemDriver::kMaxLatencyNs) {
    return r.error_at(*lat, sim::cat(w, ".latency_ns: expected 0 <= MIN <= MAX <= ", drivers::MemDriver::kMaxLatencyNs,
                                     ", got [", lo, ", ", hi, "]"));
  }
  out = drivers::LatencyRange{static_cast<std::uint64_t>(lo), static_cast<std::uint64_t>(hi)};
  return absl::OkStatus();
}

absl::Status read_choice(const Reader& r, const toml::table& t, std::string_view key, const std::string& w,
                         std::initializer_list<std::string_view> choices, std::string& out) {
  const toml::node* node = t.get(key);
  if (node == nullptr) return absl::OkStatus();
  std::string list;
  for (std::string_view c : choices) list += sim::cat(list.empty() ? "" : ", ", c);
  auto v = node->value<std::string>();
  if (!v || std::find(choices.begin(), choices.end(), *v) == choices.end()) {
    return r.error_at(*node, sim::cat(w, ".", key, ": expected one of ", list));
  }
  out = *v;
  return absl::OkStatus();
}

// An errno by name (EIO, ...) or as a positive number; stored positive.
absl::Status read_errno(const Reader& r, const toml::table& t, std::string_view key, const std::string& w, int& out) {
  const toml::node* e = t.get(key);
  if (e == nullptr) return absl::OkStatus();
  if (auto name = e->value<std::string>()) {
    if (auto v = engine::errno_from_name(*name); v && !name->starts_with("-")) {
      out = *v;
      return absl::OkStatus();
    }
  } else if (e->is_integer() && e->as_integer()->get() > 0 && e->as_integer()->get() < 4096) {
    out = static_cast<int>(e->as_integer()->get());
    return absl::OkStatus();
  }
  return r.error_at(*e, sim::cat(w, ".", key, ": expected ", engine::errno_names(), " or a positive number"));
}

absl::Status parse_mem(const Reader& r, const toml::table& t, NodeSpec& n, const std::string& w) {
  RETURN_IF_ERROR(r.check_keys(t, w, {"name", "driver", "unmap", "iothread", "detect_zeroes", "no_flush", "size", "request_alignment", "max_transfer", "opt_transfer",
                                      "pwrite_zeroes_alignment", "max_pwrite_zeroes", "pdiscard_alignment",
                                      "max_pdiscard", "min_mem_alignment", "opt_mem_alignment", "max_iov",
                                      "latency_ns", "style", "write_cache", "fua", "write_zeroes", "discard",
                                      "block_status", "cluster_size", "image", "fill", "flush_error",
                                      "flush_error_count", "vmstate", "drain_callback", "drain_sleep_ns", "plug", "flush", "ioctl",
                                      "direct"}));
  RETURN_IF_ERROR(r.read_uint(t, "size", n.size, 1, drivers::MemDriver::kMaxSizeBytes, w, true));
  n.mem.limits.request_alignment = 512;  // the default of scenario files: sector-sized
  RETURN_IF_ERROR(read_limits(r, t, w, n.mem.limits));
  RETURN_IF_ERROR(read_latency_range(r, t, w, n.mem.latency));
  std::string style = "bytes";
  RETURN_IF_ERROR(read_choice(r, t, "style", w, {"bytes", "sectors", "sectors-flags", "callbacks"}, style));
  n.mem.style = style == "bytes" ? drivers::MemConfig::Style::kBytes
                : style == "sectors" ? drivers::MemConfig::Style::kSectors
                : style == "sectors-flags" ? drivers::MemConfig::Style::kSectorsWithFlags
                                           : drivers::MemConfig::Style::kCallbacks;
  if (n.mem.style != drivers::MemConfig::Style::kBytes && n.mem.limits.request_alignment < 512) {
    return r.error_at(*t.get("style"), sim::cat(w, ".style: ", style, " drivers need request_alignment of at least 512"));
  }
  // How it flushes: the three ways that reach the medium (a driver that only
  // flushes to the OS, or not at all, is trusted to be writethrough, which the
  // durability oracle does not model).
  std::string flush = "to_disk";
  RETURN_IF_ERROR(read_choice(r, t, "flush", w, {"to_disk", "whole", "callback"}, flush));
  n.mem.flush = flush == "to_disk" ? drivers::MemConfig::Flush::kToDisk
                : flush == "whole" ? drivers::MemConfig::Flush::kWhole
                                   : drivers::MemConfig::Flush::kCallback;
  std::string ioctl = "none";
  RETURN_IF_ERROR(read_choice(r, t, "ioctl", w, {"none", "coroutine", "callback"}, ioctl));
  n.mem.ioctl = ioctl == "none" ? drivers::MemConfig::Ioctl::kNone
                : ioctl == "coroutine" ? drivers::MemConfig::Ioctl::kCoroutine
                                       : drivers::MemConfig::Ioctl::kCallback;
  RETURN_IF_ERROR(r.read_bool(t, "write_cache", n.mem.write_cache, w));
  RETURN_IF_ERROR(r.read_bool(t, "fua", n.mem.fua, w));
  RETURN_IF_ERROR(r.read_bool(t, "block_status", n.mem.block_status, w));
  RETURN_IF_ERROR(r.read_bool(t, "vmstate", n.mem.vmstate, w));
  RETURN_IF_ERROR(r.read_bool(t, "drain_callback", n.mem.drain_callback, w));
  RETURN_IF_ERROR(r.read_bool(t, "plug", n.mem.plug, w));
  RETURN_IF_ERROR(r.read_bool(t, "direct", n.mem.direct, w));
  // file-posix's O_DIRECT: byte-based, and its request_alignment is the
  // device's logical block size, which raw_probe_alignment finds (>= 512).
  if (n.mem.direct && n.mem.style != drivers::MemConfig::Style::kBytes) {
    return r.error_at(*t.get("direct"), sim::cat(w, ".direct: only with style = \"bytes\" (file-posix's interface)"));
  }
  if (n.mem.direct && n.mem.limits.request_alignment < 512) {
    return r.error_at(*t.get("direct"), sim::cat(w, ".direct: needs request_alignment of at least 512 (O_DIRECT's "
                                                    "logical block), got ", n.mem.limits.request_alignment));
  }
  RETURN_IF_ERROR(r.read_uint(t, "drain_sleep_ns", n.mem.drain_sleep_ns, 0, drivers::MemDriver::kMaxLatencyNs, w));
  if (t.contains("drain_sleep_ns") && !n.mem.drain_callback) {
    return r.error_at(*t.get("drain_sleep_ns"), sim::cat(w, ".drain_sleep_ns: only with drain_callback = true"));
  }
  std::string zeroes = "yes";
  RETURN_IF_ERROR(read_choice(r, t, "write_zeroes", w, {"yes", "enotsup", "no"}, zeroes));
  n.mem.write_zeroes = zeroes != "no";
  n.mem.zeroes_enotsup = zeroes == "enotsup";
  std::string discard = "zero";
  RETURN_IF_ERROR(read_choice(r, t, "discard", w, {"zero", "advisory", "no"}, discard));
  n.mem.discard = discard != "no";
  n.mem.discard_advisory = discard == "advisory";
  RETURN_IF_ERROR(r.read_small(t, "cluster_size", n.mem.cluster_size, 0, drivers::CowFormat::kMaxClusterSize, w, true));
  int flush_errno = 0;
  RETURN_IF_ERROR(read_errno(r, t, "flush_error", w, flush_errno));
  n.mem.flush_error = -flush_errno;
  if (t.get("flush_error_count") != nullptr && flush_errno == 0) {
    return r.error_at(*t.get("flush_error_count"), sim::cat(w, ".flush_error_count: needs flush_error"));
  }
  RETURN_IF_ERROR(r.read_small(t, "flush_error_count", n.mem.flush_error_count, 1, 1 << 20, w));
  RETURN_IF_ERROR(r.read_small(t, "fill", n.fill, 1, 255, w));
  if (t.get("fill") != nullptr && t.get("image") != nullptr) {
    return r.error_at(*t.get("fill"), sim::cat(w, ".fill: a node has an image or a fill, not both"));
  }
  RETURN_IF_ERROR(r.read_string(t, "image", n.image, false, w));
  if (!n.image.empty()) {
    auto bytes = r.read_data_file(*t.get("image"), n.image, sim::cat(w, ".image"), n.size);
    if (!bytes.ok()) return bytes.status();
    n.image_bytes = *std::move(bytes);
    if (n.image_bytes->size() > n.size) {
      return r.error_at(*t.get("image"), sim::cat(w, ".image: '", n.image, "' (", n.image_bytes->size(),
                                                  " bytes) is larger than the node (", n.size, " bytes)"));
    }
  }
  if (n.fill != 0) {
    if (n.size > kMaxFillBytes) {
      return r.error_at(*t.get("fill"), sim::cat(w, ".fill: at most ", kMaxFillBytes, " bytes of node, got ", n.size));
    }
    n.image_bytes = std::make_shared<const std::vector<std::uint8_t>>(n.size, n.fill);
  }
  if (n.size % n.mem.limits.request_alignment != 0) {
    return r.error_at(t, sim::cat(w, ": size ", n.size, " is not a multiple of request_alignment ", n.mem.limits.request_alignment));
  }
  return absl::OkStatus();
}

absl::StatusOr<drivers::LatencyModel> parse_latency_spec(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string kind;
  in >> kind;
  drivers::LatencyModel m;
  auto number = [&](std::uint64_t& out) {
    std::string word;
    if (!(in >> word)) return false;
    auto v = parse_qemu_io_number(word);
    if (!v.ok()) return false;
    out = *v;
    return true;
  };
  std::string rest;
  bool ok = true;
  if (kind == "fixed") {
    m.kind = drivers::LatencyModel::Kind::kFixed;
    ok = number(m.a_ns);
  } else if (kind == "uniform") {
    m.kind = drivers::LatencyModel::Kind::kUniform;
    ok = number(m.a_ns) && number(m.b_ns) && m.a_ns <= m.b_ns;
  } else if (kind == "exponential") {
    m.kind = drivers::LatencyModel::Kind::kExponential;
    ok = number(m.a_ns);
  } else if (kind == "pareto") {
    m.kind = drivers::LatencyModel::Kind::kPareto;
    ok = number(m.a_ns) && number(m.b_ns) && (in >> m.shape) && m.shape > 1.0 && m.a_ns > 0 && m.a_ns <= m.b_ns;
  } else {
    ok = false;
  }
  if (!ok || (in >> rest)) {
    return absl::InvalidArgumentError(
        "expected 'fixed NS', 'uniform MIN MAX', 'exponential MEAN' or 'pareto SCALE CAP SHAPE' (SHAPE > 1)");
  }
  return m;
}

absl::Status parse_rule(const Reader& r, const toml::table& t, const std::string& w, drivers::FaultRule& rule) {
  RETURN_IF_ERROR(r.check_keys(t, w, {"action", "event", "errno", "sector", "offset", "once", "immediately", "state",
                                      "new_state", "probability", "after", "every", "kind"}));
  std::string action = "inject-error";
  RETURN_IF_ERROR(read_choice(r, t, "action", w, {"inject-error", "set-state"}, action));
  rule.action = action == "inject-error" ? drivers::FaultRule::Action::kInjectError : drivers::FaultRule::Action::kSetState;
  std::string event;
  // Without an event an inject-error rule is active from the start.
  const bool needs_event = rule.action == drivers::FaultRule::Action::kSetState;
  RETURN_IF_ERROR(r.read_string(t, "event", event, needs_event, w));
  rule.from_start = t.get("event") == nullptr;
  if (!rule.from_start && !engine::blkdebug_event_from_name(event, &rule.event)) {
    std::string list;
    for (int i = 0; i <= static_cast<int>(engine::BlkdebugEvent::kL2Update); ++i) {
      list += sim::cat(list.empty() ? "" : ", ", engine::blkdebug_event_name(static_cast<engine::BlkdebugEvent>(i)));
    }
    return r.error_at(*t.get("event"), sim::cat(w, ".event: unknown event '", event, "' (expected one of: ", list, ")"));
  }
  RETURN_IF_ERROR(r.read_small(t, "state", rule.state, 0, 1 << 20, w));
  if (rule.action == drivers::FaultRule::Action::kSetState) {
    if (t.get("new_state") == nullptr) return r.error_at(t, sim::cat(w, ": set-state needs new_state"));
    return r.read_small(t, "new_state", rule.new_state, 1, 1 << 20, w);
  }
  RETURN_IF_ERROR(read_errno(r, t, "errno", w, rule.error));
  if (t.get("sector") != nullptr && t.get("offset") != nullptr) {
    return r.error_at(*t.get("offset"), sim::cat(w, ": give sector or offset, not both"));
  }
  std::uint64_t where = 0;
  if (t.get("sector") != nullptr) {
    RETURN_IF_ERROR(r.read_uint(t, "sector", where, 0, (1ULL << 53), w));
    rule.offset = static_cast<std::int64_t>(where * 512);
  } else if (t.get("offset") != nullptr) {
    RETURN_IF_ERROR(r.read_uint(t, "offset", where, 0, (1ULL << 62), w, true));
    rule.offset = static_cast<std::int64_t>(where);
  }
  RETURN_IF_ERROR(r.read_bool(t, "once", rule.once, w));
  RETURN_IF_ERROR(r.read_bool(t, "immediately", rule.immediately, w));
  RETURN_IF_ERROR(r.read_uint(t, "after", rule.after, 0, 1ULL << 40, w));
  RETURN_IF_ERROR(r.read_uint(t, "every", rule.every, 0, 1ULL << 40, w));
  if (const toml::node* p = t.get("probability")) {
    auto v = p->value<double>();
    if (!v || *v < 0.0 || *v > 1.0) return r.error_at(*p, sim::cat(w, ".probability: expected a number from 0 to 1"));
    rule.probability_ppm = static_cast<std::uint32_t>(*v * 1'000'000.0 + 0.5);
  }
  std::string kind = "any";
  RETURN_IF_ERROR(read_choice(r, t, "kind", w, {"any", "read", "write", "zero", "discard", "flush", "block_status"}, kind));
  rule.kind = *drivers::io_kind_from_name(kind);
  return absl::OkStatus();
}

absl::Status parse_fault(const Reader& r, const toml::table& t, NodeSpec& n, const std::string& w) {
  RETURN_IF_ERROR(r.check_keys(t, w, {"name", "driver", "unmap", "iothread", "detect_zeroes", "no_flush", "file", "align", "max_transfer", "opt_write_zero",
                                      "max_write_zero", "opt_discard", "max_discard", "rule", "latency"}));
  RETURN_IF_ERROR(r.read_string(t, "file", n.file, true, w));
  drivers::FaultConfig& f = n.fault;
  RETURN_IF_ERROR(r.read_small(t, "align", f.align, 0, kMaxAlignment, w, true));
  if (f.align != 0 && !engine::is_power_of_2(f.align)) {
    return r.error_at(*t.get("align"), sim::cat(w, ".align: expected a power of two, got ", f.align));
  }
  RETURN_IF_ERROR(r.read_small(t, "max_transfer", f.max_transfer, 0, INT32_MAX, w, true));
  if (f.align != 0 && f.max_transfer % f.align != 0) {
    return r.error_at(*t.get("max_transfer"), sim::cat(w, ".max_transfer: expected a multiple of align (", f.align, "), got ", f.max_transfer));
  }
  RETURN_IF_ERROR(r.read_small(t, "opt_write_zero", f.opt_write_zero, 0, INT32_MAX, w, true));
  RETURN_IF_ERROR(r.read_small(t, "max_write_zero", f.max_write_zero, 0, INT32_MAX, w, true));
  RETURN_IF_ERROR(r.read_small(t, "opt_discard", f.opt_discard, 0, INT32_MAX, w, true));
  RETURN_IF_ERROR(r.read_small(t, "max_discard", f.max_discard, 0, INT32_MAX, w, true));
  if (const toml::node* rules = t.get("rule")) {
    if (!rules->is_array_of_tables()) return r.error_at(*rules, sim::cat(w, ".rule: write [[node.rule]] tables"));
    for (const toml::node& entry : *rules->as_array()) {
      drivers::FaultRule rule;
      RETURN_IF_ERROR(parse_rule(r, *entry.as_table(), sim::cat(w, " rule"), rule));
      f.rules.push_back(rule);
    }
  }
  if (const toml::node* lat = t.get("latency")) {
    if (!lat->is_table()) return r.error_at(*lat, sim::cat(w, ".latency: expected a table such as { write = \"uniform 1000 5000\" }"));
    for (auto&& [key, value] : *lat->as_table()) {
      auto kind = drivers::io_kind_from_name(key.str());
      if (!kind) return r.error_at(key.source(), sim::cat(w, ".latency: unknown kind '", key.str(), "' (expected any, read, write, zero, discard, flush or block_status)"));
      auto text = value.value<std::string>();
      auto model = text ? parse_latency_spec(*text) : absl::StatusOr<drivers::LatencyModel>(absl::InvalidArgumentError("expected a string"));
      if (!model.ok()) return r.error_at(value, sim::cat(w, ".latency.", key.str(), ": ", model.status().message()));
      f.latency[static_cast<int>(*kind)] = *model;
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view NodeSpec::driver_name() const {
  for (const auto& [name, d] : kDrivers) {
    if (d == driver) return name;
  }
  return "?";
}

absl::Status parse_node(const Reader& r, const toml::table& t, NodeSpec& n) {
  n.line = static_cast<int>(t.source().begin.line);
  RETURN_IF_ERROR(r.read_name(t, "name", n.name, true, "[[node]]"));
  const std::string w = sim::cat("node '", n.name, "'");
  std::string driver = "mem";
  RETURN_IF_ERROR(r.read_string(t, "driver", driver, false, w));
  bool known = false;
  for (const auto& [name, d] : kDrivers) {
    if (name == driver) {
      n.driver = d;
      known = true;
    }
  }
  if (!known) return r.error_at(*t.get("driver"), sim::cat(w, ".driver: unknown driver '", driver, "' (expected mem, null, raw, cow, fault, top or quorum)"));
  // discard=unmap in QEMU's words: discards reach the driver.
  RETURN_IF_ERROR(r.read_bool(t, "unmap", n.unmap, w));
  RETURN_IF_ERROR(r.read_name(t, "iothread", n.iothread, false, w));
  // cache.no-flush: the node's own flushes skip its driver (cache=unsafe).
  RETURN_IF_ERROR(r.read_bool(t, "no_flush", n.no_flush, w));
  std::string detect = "off";
  RETURN_IF_ERROR(read_choice(r, t, "detect_zeroes", w, {"off", "on", "unmap"}, detect));
  n.detect_zeroes = detect == "off" ? engine::DetectZeroes::kOff
                    : detect == "on" ? engine::DetectZeroes::kOn
                                     : engine::DetectZeroes::kUnmap;
  if (n.detect_zeroes == engine::DetectZeroes::kUnmap && !n.unmap) {
    // bdrv_open_common refuses it the same way.
    return r.error_at(*t.get("detect_zeroes"), sim::cat(w, ".detect_zeroes: \"unmap\" needs unmap = true (discard=unmap)"));
  }
  switch (n.driver) {
    case Driver::kMem:
      return parse_mem(r, t, n, w);
    case Driver::kNull:
      RETURN_IF_ERROR(r.check_keys(t, w, {"name", "driver", "unmap", "iothread", "detect_zeroes", "no_flush", "size", "latency_ns", "read_zeroes"}));
      RETURN_IF_ERROR(r.read_uint(t, "size", n.size, 1, drivers::NullDriver::kMaxSizeBytes, w, true));
      RETURN_IF_ERROR(r.read_uint(t, "latency_ns", n.null.latency_ns, 0, drivers::MemDriver::kMaxLatencyNs, w));
      RETURN_IF_ERROR(r.read_bool(t, "read_zeroes", n.null.read_zeroes, w));
      n.null.size = n.size;
      return absl::OkStatus();
    case Driver::kRaw:
      RETURN_IF_ERROR(r.check_keys(t, w, {"name", "driver", "unmap", "iothread", "detect_zeroes", "no_flush", "file"}));
      return r.read_string(t, "file", n.file, true, w);
    case Driver::kCow: {
      RETURN_IF_ERROR(r.check_keys(t, w, {"name", "driver", "unmap", "iothread", "detect_zeroes", "no_flush", "size", "file", "backing", "cluster_size",
                                          "unsafe_metadata_order", "compressed", "data_file"}));
      RETURN_IF_ERROR(r.read_string(t, "file", n.file, true, w));
      RETURN_IF_ERROR(r.read_string(t, "backing", n.backing, false, w));
      RETURN_IF_ERROR(r.read_string(t, "data_file", n.data_file, false, w));
      RETURN_IF_ERROR(r.read_uint(t, "size", n.size, 1, 1ULL << 40, w, true));
      std::uint64_t cluster = 65536;
      RETURN_IF_ERROR(r.read_uint(t, "cluster_size", cluster, 1, drivers::CowFormat::kMaxClusterSize, w, true));
      if (!engine::is_power_of_2(cluster) || cluster < static_cast<std::uint64_t>(drivers::CowFormat::kMinClusterSize)) {
        return r.error_at(*t.get("cluster_size"), sim::cat(w, ".cluster_size: expected a power of two from 512 to 2M, got ", cluster));
      }
      if (n.size % cluster != 0) {
        return r.error_at(t, sim::cat(w, ": size ", n.size, " is not a multiple of cluster_size ", cluster));
      }
      n.cow = drivers::CowOptions{static_cast<std::int64_t>(n.size), static_cast<std::int64_t>(cluster), false, false, false};
      RETURN_IF_ERROR(r.read_bool(t, "unsafe_metadata_order", n.cow.unsafe_metadata_order, w));
      RETURN_IF_ERROR(r.read_bool(t, "compressed", n.cow.compressed, w));
      n.cow.data_file = !n.data_file.empty();
      if (n.cow.data_file && n.cow.compressed) {
        return r.error_at(*t.get("compressed"), sim::cat(w, ".compressed: not with data_file (qcow2 refuses compressed "
                                                        "clusters in an external data file too)"));
      }
      if (n.data_file == n.file && n.cow.data_file) {
        return r.error_at(*t.get("data_file"), sim::cat(w, ".data_file: the data file must be another node than the file"));
      }
      return absl::OkStatus();
    }
    case Driver::kFault:
      return parse_fault(r, t, n, w);
    case Driver::kTop:
      RETURN_IF_ERROR(r.check_keys(t, w, {"name", "driver", "unmap", "iothread", "detect_zeroes", "no_flush", "backing"}));
      return r.read_string(t, "backing", n.backing, true, w);
    case Driver::kQuorum:
      return parse_quorum(r, t, n, w);
  }
  return absl::OkStatus();
}

std::string_view mem_behaviour_difference(const NodeSpec& a, const NodeSpec& b) {
  const auto options = [](const NodeSpec& n) {
    const drivers::MemConfig& m = n.mem;
    const engine::BlockLimits& l = m.limits;
    return std::vector<std::pair<std::string_view, std::uint64_t>>{
        {"size", n.size}, {"capacity", std::max(n.size, n.capacity)}, {"unmap", n.unmap}, {"no_flush", n.no_flush},
        {"detect_zeroes", static_cast<std::uint64_t>(n.detect_zeroes)}, {"request_alignment", l.request_alignment},
        {"max_transfer", l.max_transfer}, {"opt_transfer", l.opt_transfer},
        {"pwrite_zeroes_alignment", l.pwrite_zeroes_alignment},
        {"max_pwrite_zeroes", static_cast<std::uint64_t>(l.max_pwrite_zeroes)},
        {"pdiscard_alignment", l.pdiscard_alignment}, {"max_pdiscard", static_cast<std::uint64_t>(l.max_pdiscard)},
        {"min_mem_alignment", l.min_mem_alignment}, {"opt_mem_alignment", l.opt_mem_alignment},
        {"max_iov", static_cast<std::uint64_t>(l.max_iov)}, {"style", static_cast<std::uint64_t>(m.style)},
        {"flush", static_cast<std::uint64_t>(m.flush)}, {"write_zeroes", m.write_zeroes * 2u + m.zeroes_enotsup},
        {"discard", m.discard * 2u + m.discard_advisory}, {"write_cache", m.write_cache},
        {"cluster_size", static_cast<std::uint64_t>(m.cluster_size)}, {"block_status", m.block_status}, {"fua", m.fua},
        {"compressed", m.compressed}, {"vmstate", m.vmstate}, {"ioctl", static_cast<std::uint64_t>(m.ioctl)},
        {"plug", m.plug}, {"drain_callback", m.drain_callback}, {"drain_sleep_ns", m.drain_sleep_ns},
        {"flush_error", static_cast<std::uint64_t>(m.flush_error)}, {"flush_error_count", m.flush_error_count},
        {"direct", m.direct}};
  };
  const auto x = options(a);
  const auto y = options(b);
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (x[i].second != y[i].second) return x[i].first;
  }
  return "";
}

const NodeSpec* find_spec(const std::vector<NodeSpec>& nodes, std::string_view name) {
  for (const NodeSpec& n : nodes) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

namespace {
// The byte size a node presents, following file edges for filters.
std::uint64_t presented_size(const std::vector<NodeSpec>& nodes, const NodeSpec& n, int depth = 0) {
  if (depth > 64) return 0;
  if (n.is_filter()) {
    const NodeSpec* f = find_spec(nodes, n.data_child());
    return f != nullptr ? presented_size(nodes, *f, depth + 1) : 0;
  }
  return n.size;
}
}  // namespace

absl::Status validate_graph(const Reader& r, const std::vector<NodeSpec>& nodes,
                            const std::vector<const toml::table*>& tables) {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < nodes.size(); ++i) index[nodes[i].name] = i;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const NodeSpec& n = nodes[i];
    for (const auto& [key, edge] : n.edges()) {
      const std::string& target = *edge;
      if (!target.empty() && index.count(target) == 0) {
        return r.error_at(*tables[i]->get(key), sim::cat(where_of(n), ".", key, ": no node named '", target, "'"));
      }
      if (!target.empty() && target == n.name) {
        return r.error_at(*tables[i]->get(key), sim::cat(where_of(n), ".", key, ": a node cannot be its own ", key));
      }
    }
  }
  // Cycles: depth-first over file and backing edges, in declaration order.
  std::vector<int> color(nodes.size(), 0);  // 0 new, 1 on the path, 2 done
  std::vector<std::size_t> path;
  std::function<absl::Status(std::size_t)> visit = [&](std::size_t i) -> absl::Status {
    color[i] = 1;
    path.push_back(i);
    for (const auto& [key, edge] : nodes[i].edges()) {
      if (edge->empty()) continue;
      const std::size_t j = index[*edge];
      if (color[j] == 1) {
        std::string cycle;
        auto from = std::find(path.begin(), path.end(), j);
        for (auto it = from; it != path.end(); ++it) cycle += sim::cat(nodes[*it].name, " -> ");
        cycle += nodes[j].name;
        return r.error_at(*tables[j], sim::cat(where_of(nodes[j]), ": cycle in the node graph: ", cycle));
      }
      if (color[j] == 0) RETURN_IF_ERROR(visit(j));
    }
    path.pop_back();
    color[i] = 2;
    return absl::OkStatus();
  };
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (color[i] == 0) RETURN_IF_ERROR(visit(i));
  }
  // One writer per node: a format (raw, cow) takes write permission on its
  // file and does not share it, so QEMU refuses a second format on the same
  // file ("Conflicts with use by ... as 'file', which does not allow 'write'
  // on ..."). Filters (fault) pass their parent's permissions through.
  std::map<std::string, std::pair<std::size_t, std::string_view>> format_parent;  // node -> writer, as what
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const NodeSpec& n = nodes[i];
    if (n.driver != NodeSpec::Driver::kRaw && n.driver != NodeSpec::Driver::kCow && n.driver != NodeSpec::Driver::kQuorum) continue;
    for (const auto& [key, edge] : n.edges()) {
      if (key == "backing") continue;  // read only
      if (edge->empty()) continue;
      auto [it, fresh] = format_parent.emplace(*edge, std::pair<std::size_t, std::string_view>{i, key});
      if (!fresh) {
        return r.error_at(*tables[i]->get(key),
                          sim::cat(where_of(n), ".", key, ": '", *edge, "' is already the ",
                                   it->second.second == "file" ? "file" : it->second.second == "children" ? "child" : "data file",
                                   " of ", nodes[it->second.first].driver == Driver::kQuorum ? "quorum" : "format", " node '",
                                   nodes[it->second.first].name, "', which does not share write permission on it "
                                   "(QEMU refuses a second writer)"));
      }
    }
  }
  // A subtree lives in one AioContext, as QEMU requires.
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const NodeSpec& n = nodes[i];
    for (const auto& [key, edge] : n.edges()) {
      const std::string& target = *edge;
      if (target.empty()) continue;
      const NodeSpec& child = nodes[index[target]];
      if (child.iothread != n.iothread) {
        return r.error_at(*tables[i]->get(key),
                          sim::cat(where_of(n), ".", key, ": '", target, "' runs in ",
                                   child.iothread.empty() ? "the main loop" : "iothread '" + child.iothread + "'",
                                   ", but '", n.name, "' in ", n.iothread.empty() ? "the main loop" : "iothread '" + n.iothread + "'",
                                   " (a subtree shares one AioContext)"));
      }
    }
  }
  // quorum_getlength answers -EIO unless every child has the same length.
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const NodeSpec& n = nodes[i];
    if (n.driver != Driver::kQuorum) continue;
    const std::uint64_t first = presented_size(nodes, *find_spec(nodes, n.children.front()));
    for (const std::string& child : n.children) {
      const std::uint64_t size = presented_size(nodes, *find_spec(nodes, child));
      if (size != first) {
        return r.error_at(*tables[i]->get("children"), sim::cat(where_of(n), ".children: '", child, "' has ", size, " bytes, '",
                                                               n.children.front(), "' ", first, ": quorum's children must have one length"));
      }
    }
  }
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const NodeSpec& n = nodes[i];
    if (n.driver != Driver::kCow) continue;
    const std::uint64_t have = presented_size(nodes, *find_spec(nodes, n.file));
    const auto need = static_cast<std::uint64_t>(drivers::CowFormat::file_size_needed(n.cow));
    if (have < need) {
      return r.error_at(*tables[i]->get("file"), sim::cat(where_of(n), ".file: '", n.file, "' has ", have,
                                                         " bytes, a cow image of this size needs ", need));
    }
    if (!n.data_file.empty()) {
      const std::uint64_t data = presented_size(nodes, *find_spec(nodes, n.data_file));
      if (data < n.size) {
        return r.error_at(*tables[i]->get("data_file"), sim::cat(where_of(n), ".data_file: '", n.data_file, "' has ", data,
                                                                " bytes, fewer than the image's ", n.size));
      }
    }
  }
  return absl::OkStatus();
}

std::vector<std::size_t> children_first(const std::vector<NodeSpec>& nodes) {
  std::vector<std::size_t> order;
  std::vector<bool> placed(nodes.size(), false);
  std::function<void(std::size_t)> place = [&](std::size_t i) {
    if (placed[i]) return;
    placed[i] = true;
    for (const auto& [key, edge] : nodes[i].edges()) {
      if (edge->empty()) continue;
      for (std::size_t j = 0; j < nodes.size(); ++j) {
        if (nodes[j].name == *edge) place(j);
      }
    }
    order.push_back(i);
  };
  for (std::size_t i = 0; i < nodes.size(); ++i) place(i);
  return order;
}

absl::StatusOr<std::shared_ptr<const std::vector<std::uint8_t>>> Reader::read_data_file(const toml::node& at,
                                                                                          const std::string& name,
                                                                                          std::string_view what,
                                                                                          std::uint64_t max_bytes) const {
  if (images() != nullptr) {
    // A repro file's scenario: its files travel with it.
    auto it = images()->find(name);
    if (it == images()->end()) return error_at(at, sim::cat(what, ": the repro file carries no file '", name, "'"));
    return it->second;
  }
  // Relative to the scenario file, so a scenario runs from any directory.
  std::filesystem::path file(name);
  if (file.is_relative()) file = std::filesystem::path(path()).parent_path() / file;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return error_at(at, sim::cat(what, ": cannot open '", file.string(), "'"));
  if (std::filesystem::file_size(file, ec) > max_bytes) {
    return error_at(at, sim::cat(what, ": '", file.string(), "' is larger than ", max_bytes, " bytes"));
  }
  auto bytes = sim::read_file_bytes(file.string());
  if (!bytes.ok()) return error_at(at, sim::cat(what, ": cannot read '", file.string(), "'"));
  return std::make_shared<const std::vector<std::uint8_t>>(*std::move(bytes));
}

}  // namespace scenarios
