#include "scenarios/conformance/case.h"

#include <algorithm>
#include <sstream>

#include "sim/invariant.h"
#include "sim/rng.h"
#include "sim/str.h"

namespace conformance {
namespace {

std::uint64_t pick(sim::Rng& rng, std::initializer_list<std::uint64_t> values) {
  return *(values.begin() + rng.below(values.size()));
}

// 0 (no limit) half the time, else a power-of-two multiple of `unit` up to `top`.
std::uint32_t maybe_multiple(sim::Rng& rng, std::uint64_t unit, std::uint64_t top) {
  if (rng.chance(1, 2) || unit > top) return 0;
  std::uint64_t v = unit;
  const std::uint64_t steps = rng.below(6);
  for (std::uint64_t i = 0; i < steps && v * 2 <= top; ++i) v *= 2;
  return static_cast<std::uint32_t>(v);
}

// Lengths spread over orders of magnitude, sometimes aligned.
std::uint64_t length(sim::Rng& rng, std::uint64_t most) {
  const std::uint64_t bits = rng.between(0, 15);
  std::uint64_t len = rng.between(1ULL << bits, (2ULL << bits) - 1);
  if (rng.chance(1, 3)) len = (len + 511) / 512 * 512;
  return std::min(len, most);
}

}  // namespace

Case generate_case(std::uint64_t seed, std::uint64_t index) {
  std::uint64_t state = seed ^ (index * 0x9e3779b97f4a7c15ULL);
  sim::Rng rng(sim::splitmix64(state));
  Case c;
  c.seed = seed;
  c.index = index;
  c.image_bytes = pick(rng, {64 * 1024, 128 * 1024, 192 * 1024, kMaxImageBytes});
  Limits& l = c.limits;
  l.align = static_cast<std::uint32_t>(pick(rng, {1, 1, 512, 512, 4096}));
  l.max_transfer = rng.chance(2, 5) ? 0 : static_cast<std::uint32_t>(std::max<std::uint64_t>(l.align, pick(rng, {512, 1024, 4096, 8192, 65536})));
  l.opt_write_zero = maybe_multiple(rng, std::max<std::uint32_t>(l.align, 512), 16384);
  l.max_write_zero = maybe_multiple(rng, std::max<std::uint32_t>({l.align, l.opt_write_zero, 512U}), 65536);
  l.opt_discard = maybe_multiple(rng, std::max<std::uint32_t>(l.align, 512), 16384);
  // QEMU's blkdebug divides by a zero opt-discard when align > 1 and a discard
  // piece is smaller than align (docs/conformance.md): most cases set it, so
  // that they run to the end; one in ten keeps the crash in the sweep.
  if (l.opt_discard == 0 && l.align > 1 && !rng.chance(1, 10)) l.opt_discard = l.align;
  l.max_discard = maybe_multiple(rng, std::max<std::uint32_t>({l.align, l.opt_discard, 512U}), 65536);

  const int n = static_cast<int>(rng.between(3, kMaxCommands));
  for (int i = 0; i < n; ++i) {
    const std::uint64_t len = length(rng, kMaxCommandBytes);
    std::uint64_t off = rng.below(c.image_bytes - len + 1);
    if (rng.chance(1, 4)) off = off / 4096 * 4096;
    const std::uint64_t op = rng.below(100);
    if (op < 30) {
      c.commands.push_back(sim::cat("write -P ", rng.between(1, 255), " ", off, " ", len));
    } else if (op < 45) {
      c.commands.push_back(sim::cat("write -z ", off, " ", len));
    } else if (op < 55) {
      c.commands.push_back(sim::cat("write -z -u ", off, " ", len));
    } else if (op < 68) {
      c.commands.push_back(sim::cat("discard ", off, " ", len));
    } else if (op < 95) {
      c.commands.push_back(sim::cat("read ", off, " ", len));
    } else {
      c.commands.push_back("flush");
    }
  }
  return c;
}

void split_command(const std::string& cmd, std::string& verb, std::uint64_t& offset, std::uint64_t& bytes) {
  std::istringstream in(cmd);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  SIM_ASSERT(!words.empty(), "an empty conformance command");
  verb = words.front();
  offset = bytes = 0;
  if (words.size() >= 3) {
    offset = std::stoull(words[words.size() - 2]);
    bytes = std::stoull(words.back());
  }
}

std::vector<std::uint8_t> initial_image(const Case& c) {
  std::uint64_t state = c.seed ^ (c.index * 0xbf58476d1ce4e5b9ULL) ^ 0x1a6eULL;
  sim::Rng rng(sim::splitmix64(state));
  std::vector<std::uint8_t> image(c.image_bytes);
  for (std::size_t i = 0; i < image.size(); i += 8) {
    std::uint64_t v = rng.next();
    for (std::size_t k = 0; k < 8 && i + k < image.size(); ++k) image[i + k] = static_cast<std::uint8_t>(v >> (8 * k));
  }
  return image;
}

std::string format_limits(const Limits& l, LimitStyle style) {
  struct Field {
    const char* qemu;
    const char* blksim;
    std::uint32_t Limits::*member;
  };
  static constexpr Field kFields[] = {
      {"align", "align", &Limits::align},
      {"max-transfer", "max_transfer", &Limits::max_transfer},
      {"opt-write-zero", "opt_write_zero", &Limits::opt_write_zero},
      {"max-write-zero", "max_write_zero", &Limits::max_write_zero},
      {"opt-discard", "opt_discard", &Limits::opt_discard},
      {"max-discard", "max_discard", &Limits::max_discard},
  };
  std::string out;
  for (const Field& f : kFields) {
    const std::uint32_t v = l.*f.member;
    if (v == 0 && f.member != &Limits::align) continue;  // 0: no limit, the default
    switch (style) {
      case LimitStyle::kBlkdebug: out += sim::cat(out.empty() ? "" : ",", f.qemu, "=", v); break;
      case LimitStyle::kToml: out += sim::cat(f.blksim, " = ", v, "\n"); break;
      case LimitStyle::kHuman: out += sim::cat(out.empty() ? "" : ", ", f.blksim, " ", v); break;
    }
  }
  return out;
}

}  // namespace conformance
