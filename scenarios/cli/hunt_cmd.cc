// blksim hunt: generated scenarios, every oracle on, failures by signature.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "scenarios/cli/commands.h"
#include "scenarios/hunt/hunt.h"
#include "sim/str.h"

namespace cli {

namespace {

std::string one_decimal(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", x);
  return text;
}

std::string seed_span(std::uint64_t first, std::uint64_t count) {
  return count == 1 ? sim::cat(first) : sim::cat(first, "..", first + count - 1);
}

void write_probes(const std::string& path, const std::map<std::string, std::uint64_t>& probes) {
  std::string text;
  for (const auto& [name, hits] : probes) text += sim::cat(name, " ", hits, "\n");
  write_file_atomically(path, text);
}

}  // namespace

int cmd_hunt(const HuntCmd& a) {
  if (!a.show.empty()) {
    std::cout << scenarios::hunt::generate(seed_or_throw(a.show, "--show"), {.swarm = !a.no_swarm, .run_seeds = a.seeds_per}).text;
    return kExitPass;
  }
  scenarios::hunt::HuntOptions o;
  o.first_seed = a.seed;
  o.scenarios = a.scenarios;
  o.run_seeds = a.seeds_per;
  o.workers = a.jobs;
  o.time_budget_s = a.time_budget_s;
  o.wall_budget_s = a.wall_budget_s;
  o.swarm = !a.no_swarm;
  o.mutants = mutants_or_throw(a.mutants);
  o.fixes = fixes_or_throw(a.fixes);
  if (!a.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(a.out_dir, ec);
    if (!std::filesystem::is_directory(a.out_dir, ec)) throw BadInput{sim::cat(a.out_dir, ": cannot create the directory")};
  }
  o.interrupt = catch_interrupts();
  const bool tty = a.progress && isatty(STDERR_FILENO) != 0;
  if (tty) {
    o.progress = [&](std::uint64_t done, std::uint64_t runs, std::size_t signatures) {
      std::cerr << "\rhunt: " << done << " scenarios, " << runs << " runs, " << signatures << " signatures" << std::flush;
    };
  }
  auto r = scenarios::hunt::run_hunt(o);
  if (tty) std::cerr << "\n";
  if (!r.ok()) throw InternalError{std::string(r.status().message())};

  std::uint64_t reached = 0;
  for (const auto& [name, hits] : r->probes) reached += hits > 0 ? 1 : 0;
  std::cout << "hunt: " << r->scenarios << " scenarios (seeds " << seed_span(a.seed, std::max<std::uint64_t>(r->scenarios, 1))
            << (a.no_swarm ? ", every feature" : ", swarm") << "), " << r->runs << " runs, " << r->failed_runs
            << " failed, in " << one_decimal(r->wall_s) << " s; " << reached << " of " << r->probes.size()
            << " probes reached\n";
  std::uint64_t fresh = 0;
  for (const scenarios::hunt::Finding& f : r->findings) {
    const std::string file = a.out_dir.empty() ? "" : sim::cat(a.out_dir, "/", f.first.name, ".toml");
    if (f.is_new()) {
      ++fresh;
      if (!file.empty()) write_file_or_throw(file, f.first.text);
    }
    std::cout << (f.is_new() ? "NEW   " : sim::cat("known defect ", f.known_defect, ": ")) << f.signature << ": " << f.count
              << " run" << (f.count == 1 ? "" : "s") << ", first " << f.first.name << " seed " << f.run_seed << "\n";
    if (!f.is_new()) continue;
    std::cout << "      " << f.message << "\n      swarm: " << f.first.swarm.describe() << "\n";
    if (!file.empty()) {
      std::cout << "      repro: " << repro_line(absolute_path(file), f.run_seed, f.strategy, o.mutants, o.fixes) << "\n";
    } else {
      std::cout << "      scenario: blksim hunt --show " << f.first.seed << (a.no_swarm ? " --no-swarm" : "")
                << (a.seeds_per != 3 ? sim::cat(" --seeds-per ", a.seeds_per) : "") << " (or --out DIR to write it)\n";
    }
  }
  for (const auto& [seed, message] : r->rejected) {
    std::cout << "GENERATOR BUG: the scenario of seed " << seed << " does not parse: " << message << "\n";
  }
  if (!a.probes_out.empty()) write_probes(a.probes_out, r->probes);
  std::cout << "summary: " << fresh << " new signature" << (fresh == 1 ? "" : "s") << ", "
            << r->findings.size() - fresh << " known defect signature" << (r->findings.size() - fresh == 1 ? "" : "s")
            << ", " << r->rejected.size() << " generated scenarios refused by the parser\n";
  if (r->interrupted_by != 0) return 128 + r->interrupted_by;
  if (!r->rejected.empty()) return kExitInternal;
  return fresh > 0 ? kExitFail : kExitPass;
}

}  // namespace cli
