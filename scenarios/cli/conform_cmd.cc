// blksim conform: differential conformance with Debian's qemu-io.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "scenarios/cli/commands.h"
#include "scenarios/conformance/compare.h"
#include "sim/str.h"

namespace cli {
namespace {

// A scratch directory, removed at the end unless the user named it.
class WorkDir {
 public:
  explicit WorkDir(const std::string& given) : keep_(!given.empty()) {
    if (keep_) {
      path_ = given;
      std::error_code ec;
      std::filesystem::create_directories(path_, ec);
      if (ec) throw BadInput{sim::cat("--work: cannot create ", path_, ": ", ec.message())};
      return;
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "blksim-conform-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw InternalError{sim::cat("mkdtemp: ", std::strerror(errno))};
    path_ = tmpl;
  }
  ~WorkDir() {
    std::error_code ec;
    if (!keep_) std::filesystem::remove_all(path_, ec);
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  bool keep_;
  std::string path_;
};

}  // namespace

int cmd_conform(const ConformCmd& a) {
  if (access(a.qemu_io.c_str(), X_OK) != 0) {
    throw BadInput{sim::cat("--qemu-io: cannot run '", a.qemu_io, "' (Debian's qemu-utils installs /usr/bin/qemu-io)")};
  }
  const std::uint64_t seed = seed_or_throw(a.seed);
  WorkDir work(a.work_dir);
  conformance::Setup setup{a.qemu_io, work.path(), mutants_or_throw(a.mutants)};

  std::uint64_t first = 0;
  std::uint64_t count = a.cases;
  if (!a.only_case.empty()) {
    first = seed_or_throw(a.only_case, "--case");
    count = 1;
  }
  const auto start = std::chrono::steady_clock::now();
  // --json keeps stdout for one JSON object; the human lines go to stderr.
  std::ostream& human = a.json ? std::cerr : std::cout;
  std::vector<std::uint64_t> differing_cases;
  std::uint64_t differed = 0;
  std::uint64_t shared_aborts = 0;
  std::map<std::string, std::uint64_t> explained;  // by reason
  std::string shared_abort_example;
  std::uint64_t commands = 0;
  std::uint64_t ran = 0;
  for (std::uint64_t i = first; i < first + count; ++i) {
    ++ran;
    const conformance::Case c = conformance::generate_case(seed, i);
    commands += c.commands.size();
    absl::StatusOr<conformance::Verdict> v = conformance::check_case(c, setup);
    if (!v.ok()) throw InternalError{sim::cat("case ", i, ": ", v.status().message())};
    const bool differs = v->difference.has_value();
    if (a.verbose || !a.only_case.empty()) {
      human << "case " << i << ": " << (differs ? "DIFFERS" : "agrees") << "\n" << conformance::reproduce(c, setup);
    }
    if (!v->shared_abort.empty()) {
      ++shared_aborts;
      if (shared_abort_example.empty()) shared_abort_example = sim::cat("case ", i, ": ", v->shared_abort);
    }
    if (differs && !v->explained.empty()) {
      if (explained[v->explained]++ == 0) {
        human << "explained case " << i << ": " << v->difference->what << "\n  (" << v->explained
                  << ": docs/conformance.md)\n  replay: blksim conform --seed " << seed << " --case " << i << "\n";
      }
      continue;
    }
    if (!differs) continue;
    ++differed;
    differing_cases.push_back(i);
    human << "DIFFERS case " << i << ": " << v->difference->what << "\n";
    if (a.only_case.empty() || a.shrink) {
      int runs = 0;
      absl::StatusOr<conformance::Case> small = conformance::shrink(c, setup, runs);
      if (!small.ok()) throw InternalError{sim::cat("shrinking case ", i, ": ", small.status().message())};
      absl::StatusOr<conformance::Verdict> again = conformance::check_case(*small, setup);
      if (!again.ok() || !again->difference) throw InternalError{sim::cat("case ", i, ": the shrunk case no longer differs")};
      human << "  shortest sequence that still differs (" << small->commands.size() << " of " << c.commands.size()
                << " commands, " << runs << " runs): " << again->difference->what << "\n"
                << conformance::reproduce(*small, setup);
    }
    human << "  replay: blksim conform --seed " << seed << " --case " << i << "\n";
    if (a.stop_on_first) break;
  }
  std::uint64_t n_explained = 0;
  for (const auto& [reason, n] : explained) n_explained += n;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.1f", seconds);
  human << "conformance: " << ran << " cases (" << commands << " commands) against " << a.qemu_io << ", seed "
            << seed << ": " << (ran - differed - n_explained) << " agree, " << n_explained << " differ as documented, "
            << differed << " differ, in " << secs << " s\n";
  for (const auto& [reason, n] : explained) human << "  documented: " << n << " x " << reason << "\n";
  if (shared_aborts > 0) {
    human << "  of those that agree, " << shared_aborts << " stop on both sides at the same blkdebug assertion "
              << "(a defect QEMU shares with the reference; docs/conformance.md), e.g. " << shared_abort_example << "\n";
  }
  if (a.json) {
    nlohmann::ordered_json j;
    j["seed"] = seed;
    j["qemu_io"] = a.qemu_io;
    j["cases"] = ran;
    j["commands"] = commands;
    j["agree"] = ran - differed - n_explained;
    j["documented"] = explained;
    j["differ"] = differed;
    j["differing_cases"] = differing_cases;
    j["shared_aborts"] = shared_aborts;
    std::cout << j.dump() << "\n";
  }
  return differed == 0 ? kExitPass : kExitFail;
}

}  // namespace cli
