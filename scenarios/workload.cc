#include "scenarios/workload.h"

#include <bit>

#include "scenarios/toml_reader.h"
#include "sim/invariant.h"
#include "sim/str.h"

namespace scenarios {

absl::Status parse_random_workload(const Reader& r, const toml::node& node, std::uint64_t node_size,
                                   RandomWorkload& w) {
  constexpr std::string_view kWhere = "[[job]].random";
  if (!node.is_table()) {
    return r.error_at(node, "[[job]].random: expected a table such as { ops = 200, read = 60, write = 40 }");
  }
  const toml::table& t = *node.as_table();
  RETURN_IF_ERROR(r.check_keys(t, kWhere,
                               {"ops", "read", "write", "zero", "discard", "flush", "fua_percent", "min_bytes",
                                "max_bytes", "align", "from", "to", "sizes"}));
  RETURN_IF_ERROR(r.read_small(t, "ops", w.ops, 1, kMaxRandomOps, kWhere));
  RETURN_IF_ERROR(r.read_small(t, "read", w.read, 0, 1000, kWhere));
  RETURN_IF_ERROR(r.read_small(t, "write", w.write, 0, 1000, kWhere));
  RETURN_IF_ERROR(r.read_small(t, "zero", w.zero, 0, 1000, kWhere));
  RETURN_IF_ERROR(r.read_small(t, "discard", w.discard, 0, 1000, kWhere));
  RETURN_IF_ERROR(r.read_small(t, "flush", w.flush, 0, 1000, kWhere));
  RETURN_IF_ERROR(r.read_small(t, "fua_percent", w.fua_percent, 0, 100, kWhere));
  RETURN_IF_ERROR(r.read_uint(t, "align", w.align, 1, kMaxCommandBytes, kWhere, true));
  RETURN_IF_ERROR(r.read_uint(t, "min_bytes", w.min_bytes, 1, kMaxCommandBytes, kWhere, true));
  RETURN_IF_ERROR(r.read_uint(t, "max_bytes", w.max_bytes, 1, kMaxCommandBytes, kWhere, true));
  RETURN_IF_ERROR(r.read_uint(t, "from", w.from, 0, node_size, kWhere, true));
  w.to = node_size;
  RETURN_IF_ERROR(r.read_uint(t, "to", w.to, 1, node_size, kWhere, true));
  std::string sizes = "uniform";
  RETURN_IF_ERROR(r.read_string(t, "sizes", sizes, false, kWhere));
  if (sizes != "uniform" && sizes != "log") {
    return r.error_at(*t.get("sizes"), sim::cat(kWhere, ".sizes: expected \"uniform\" or \"log\", got \"", sizes, "\""));
  }
  w.log_sizes = sizes == "log";
  if (w.total_weight() == 0) return r.error_at(t, sim::cat(kWhere, ": every operation weight is 0"));
  if (w.min_bytes % w.align != 0 || w.max_bytes % w.align != 0 || w.from % w.align != 0) {
    return r.error_at(t, sim::cat(kWhere, ": min_bytes, max_bytes and from must be multiples of align (", w.align, ")"));
  }
  if (w.min_bytes > w.max_bytes) {
    return r.error_at(t, sim::cat(kWhere, ": min_bytes (", w.min_bytes, ") is above max_bytes (", w.max_bytes, ")"));
  }
  if (w.from >= w.to || w.to - w.from < w.min_bytes) {
    return r.error_at(t, sim::cat(kWhere, ": the range [", w.from, ", ", w.to, ") cannot hold a request of min_bytes (",
                                  w.min_bytes, ")"));
  }
  if (w.max_bytes > (1ULL << 31) - w.align) {
    return r.error_at(t, sim::cat(kWhere, ".max_bytes: at most 2 GiB (zero writes and discards take an int)"));
  }
  return absl::OkStatus();
}

namespace {

std::uint64_t draw_size(const RandomWorkload& w, std::uint64_t limit, sim::Rng& rng) {
  const std::uint64_t lo = w.min_bytes / w.align;
  const std::uint64_t hi = std::min(w.max_bytes, limit) / w.align;
  SIM_ASSERT(lo >= 1 && lo <= hi, "workload size bounds were validated");
  if (!w.log_sizes) return rng.between(lo, hi) * w.align;
  // Log-uniform: a power-of-two band first, then uniform inside it.
  const int lo_bits = std::bit_width(lo) - 1;
  const int hi_bits = std::bit_width(hi) - 1;
  const int bits = static_cast<int>(rng.between(static_cast<std::uint64_t>(lo_bits), static_cast<std::uint64_t>(hi_bits)));
  const std::uint64_t band_lo = std::max(lo, std::uint64_t{1} << bits);
  const std::uint64_t band_hi = std::min(hi, (std::uint64_t{2} << bits) - 1);
  return rng.between(band_lo, band_hi) * w.align;
}

}  // namespace

std::vector<Command> generate_workload(const RandomWorkload& w, std::uint64_t node_size, sim::Rng& rng) {
  const std::uint64_t to = w.to == 0 ? node_size : w.to;
  std::vector<Command> out;
  out.reserve(w.ops);
  for (std::uint32_t i = 0; i < w.ops; ++i) {
    Command c;
    std::uint64_t pick = rng.below(w.total_weight());
    const std::uint32_t weights[] = {w.read, w.write, w.zero, w.discard, w.flush};
    int kind = 0;
    while (pick >= weights[kind]) pick -= weights[kind++];
    if (kind == 4) {
      c.op = Command::Op::kFlush;  // synchronous: the job waits while its aio goes on
      c.text = "flush";
      out.push_back(std::move(c));
      continue;
    }
    c.bytes = draw_size(w, to - w.from, rng);
    c.offset = w.from + rng.below((to - w.from - c.bytes) / w.align + 1) * w.align;
    c.async = true;
    switch (kind) {
      case 0:
        c.op = Command::Op::kRead;
        break;
      case 1:
        c.op = Command::Op::kWrite;
        c.pattern = static_cast<std::uint8_t>(rng.between(1, 255));
        c.fua = rng.below(100) < w.fua_percent;
        break;
      case 2:
        c.op = Command::Op::kWrite;
        c.zeroes = true;
        c.fua = rng.below(100) < w.fua_percent;
        break;
      default:
        c.op = Command::Op::kDiscard;
        break;
    }
    c.text = format_command(c);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace scenarios
