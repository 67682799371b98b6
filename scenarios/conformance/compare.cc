#include "scenarios/conformance/compare.h"

#include "sim/str.h"

namespace conformance {
namespace {

std::string ret_text(int ret) { return ret == 0 ? "success" : sim::cat("-", std::strerror(-ret)); }

// "bytes 4096..4607 (512): blksim 0x00.., qemu-io 0x5a.." for the first run of
// differing bytes.
std::string first_byte_difference(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b,
                                  std::uint64_t base) {
  std::size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  if (i == a.size() && i == b.size()) return "";
  if (i == a.size() || i == b.size()) return sim::cat("lengths differ: blksim ", a.size(), ", qemu-io ", b.size());
  std::size_t end = i;
  while (end < a.size() && end < b.size() && a[end] != b[end]) ++end;
  return sim::cat("bytes ", base + i, "..", base + end - 1, " (", end - i, ") differ, first: blksim ", sim::hex(a[i]),
                  ", qemu-io ", sim::hex(b[i]));
}

// Known, documented differences between the reference and the installed QEMU
// (docs/conformance.md). Each predicate is narrow: it names the limits and the
// command that produce it, so anything else still counts as a difference.
std::string explain(const Case& c, const SideResult& blksim, const SideResult& qemu) {
  const std::size_t at = qemu.outcomes.size();
  if (!blksim.failure.empty() || at >= c.commands.size()) return "";
  std::string verb;
  std::uint64_t offset = 0;
  std::uint64_t bytes = 0;
  split_command(c.commands[at], verb, offset, bytes);
  // blkdebug_co_pdiscard checks QEMU_IS_ALIGNED(offset, pdiscard_alignment)
  // for pieces smaller than align: a division by zero without opt-discard.
  if (qemu.abort_site == "signal FPE" && verb == "discard" && c.limits.opt_discard == 0 && c.limits.align > 1) {
    return "blkdebug divides by zero without opt-discard";
  }
  return "";
}

}  // namespace

Verdict compare(const Case& c, const SideResult& blksim, const SideResult& qemu) {
  auto differ = [](std::string what) { return Verdict{Difference{std::move(what)}, "", ""}; };
  const bool blksim_stopped = !blksim.failure.empty();
  const bool qemu_stopped = !qemu.abort_site.empty();
  std::string explained;
  std::size_t ran = c.commands.size();
  if (blksim_stopped && qemu_stopped) {
    if (blksim.abort_site != qemu.abort_site || blksim.outcomes.size() != qemu.outcomes.size()) {
      return differ(sim::cat("both stopped, differently: ", blksim.failure, " (after ", blksim.outcomes.size(),
                             " commands); qemu-io: ", qemu.failure, " (after ", qemu.outcomes.size(), " commands)"));
    }
    ran = qemu.outcomes.size();
  } else if (blksim_stopped) {
    return differ(sim::cat(blksim.failure, " (after ", blksim.outcomes.size(), " commands; qemu-io ran them all)"));
  } else if (qemu_stopped) {
    explained = explain(c, blksim, qemu);
    if (explained.empty()) {
      return differ(sim::cat("qemu-io stopped at command ", qemu.outcomes.size() + 1, ": ", qemu.failure));
    }
    ran = qemu.outcomes.size();
  }
  if (blksim.outcomes.size() < ran || qemu.outcomes.size() < ran) {
    return differ(sim::cat("commands completed: blksim ", blksim.outcomes.size(), ", qemu-io ", qemu.outcomes.size()));
  }
  for (std::size_t i = 0; i < ran; ++i) {
    const Outcome& a = blksim.outcomes[i];
    const Outcome& b = qemu.outcomes[i];
    const std::string where = sim::cat("command ", i + 1, " `", c.commands[i], "`: ");
    if (a.ret != b.ret) return differ(sim::cat(where, "blksim ", ret_text(a.ret), ", qemu-io ", ret_text(b.ret)));
    std::string verb;
    std::uint64_t offset = 0;
    std::uint64_t bytes = 0;
    split_command(c.commands[i], verb, offset, bytes);
    if (std::string d = first_byte_difference(a.data, b.data, offset); !d.empty()) return differ(where + "read " + d);
  }
  if (blksim_stopped) {
    return Verdict{std::nullopt, sim::cat("both stop at command ", ran + 1, " `", c.commands[ran], "` in ", qemu.abort_site), ""};
  }
  if (!explained.empty()) {
    return Verdict{Difference{sim::cat("qemu-io stopped at command ", ran + 1, ": ", qemu.failure)}, "", explained};
  }
  if (std::string d = first_byte_difference(blksim.image, qemu.image, 0); !d.empty()) return differ("final image: " + d);
  return Verdict{};
}

absl::StatusOr<Verdict> check_case(const Case& c, const Setup& setup) {
  absl::StatusOr<SideResult> ours = run_blksim(c, setup.work_dir, setup.mutants);
  if (!ours.ok()) return ours.status();
  absl::StatusOr<SideResult> theirs = run_qemu_io(c, setup.qemu_io, setup.work_dir);
  if (!theirs.ok()) return theirs.status();
  return compare(c, *ours, *theirs);
}

absl::StatusOr<Case> shrink(const Case& c, const Setup& setup, int& runs) {
  Case best = c;
  auto differs = [&](const Case& candidate) -> absl::StatusOr<bool> {
    ++runs;
    absl::StatusOr<Verdict> d = check_case(candidate, setup);
    if (!d.ok()) return d.status();
    return d->difference.has_value() && d->explained.empty();
  };
  for (bool progress = true; progress;) {
    progress = false;
    for (std::size_t i = 0; i < best.commands.size() && best.commands.size() > 1;) {
      Case candidate = best;
      candidate.commands.erase(candidate.commands.begin() + static_cast<std::ptrdiff_t>(i));
      absl::StatusOr<bool> still = differs(candidate);
      if (!still.ok()) return still.status();
      if (*still) {
        best = std::move(candidate);
        progress = true;
      } else {
        ++i;
      }
    }
  }
  for (std::uint32_t Limits::*member : {&Limits::max_transfer, &Limits::opt_write_zero, &Limits::max_write_zero,
                                        &Limits::opt_discard, &Limits::max_discard}) {
    if (best.limits.*member == 0) continue;
    Case candidate = best;
    candidate.limits.*member = 0;
    absl::StatusOr<bool> still = differs(candidate);
    if (!still.ok()) return still.status();
    if (*still) best = std::move(candidate);
  }
  return best;
}

std::string reproduce(const Case& c, const Setup& setup) {
  std::string out = sim::cat("  limits: ", format_limits(c.limits, LimitStyle::kHuman), "; image ", c.image_bytes,
                             " bytes of seeded content (case ", c.index, " of seed ", c.seed, ")\n");
  for (const std::string& cmd : c.commands) out += sim::cat("    ", cmd, "\n");
  out += sim::cat("  qemu-io: ", setup.qemu_io, " --image-opts driver=blkdebug,",
                  format_limits(c.limits, LimitStyle::kBlkdebug), ",image.driver=file,image.filename=IMG");
  for (const std::string& cmd : c.commands) out += sim::cat(" -c '", cmd.rfind("read ", 0) == 0 ? "read -v " + cmd.substr(5) : cmd, "'");
  return out + "\n";
}

}  // namespace conformance
