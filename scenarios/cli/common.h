// Shared pieces of the blksim command line: error kinds and exit codes, loading
// inputs, and the human, JSON Lines and JUnit forms of results.
#pragma once

#include <csignal>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "engine/mutations.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"
#include "viz/escape.h"

namespace cli {

constexpr int kExitPass = 0;
constexpr int kExitFail = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitInternal = 3;

// Thrown for input a user can fix (exit 2) and for failures of blksim itself (exit 3).
struct BadInput {
  std::string message;
};
struct InternalError {
  std::string message;
};

std::string read_file_or_throw(const std::string& path, std::string_view what);
scenarios::Scenario load_or_throw(const std::string& path);
std::optional<sim::StrategySpec> strategy_or_throw(const std::string& text);
std::uint64_t seed_or_throw(const std::string& text, std::string_view flag = "--seed");
// "K/N" of --shard: 1 <= K <= N <= 1,000,000.
// "A..B", both included, at most `most` seeds: the first and the last.
std::pair<std::uint64_t, std::uint64_t> seed_range_or_throw(const std::string& text, std::string_view flag,
                                                             std::uint64_t most);
std::pair<unsigned, unsigned> shard_or_throw(const std::string& text);
std::vector<engine::Mutant> mutants_or_throw(const std::vector<std::string>& names);
std::vector<engine::Fix> fixes_or_throw(const std::vector<std::string>& names);
void write_file_or_throw(const std::string& path, const std::string& data);
// Through a temporary file and a rename, so a reader never sees half a file.
void write_file_atomically(const std::string& path, const std::string& data);
std::vector<std::string> scenario_files_in(const std::string& dir);
// The scenario library: ./scenarios/library, else the source tree's this
// blksim was built from, so `list scenarios` works from any directory.
std::string library_dir();

// The options every command that runs a scenario takes.
struct RunArgs {
  std::string file;
  std::string seed = "0";
  std::string strategy;
  std::string tape_in;
  std::vector<std::string> mutants;
  std::vector<std::string> fixes;
  double wall_budget_s = scenarios::kDefaultWallBudgetS;  // per run; 0: none
};
scenarios::RunOptions options_from(const RunArgs& a);

// `path` made absolute (a printed command works from any directory).
std::string absolute_path(const std::string& path);
// `word` as one shell word: as is when it is plain, else in single quotes.
std::string shell_quote(const std::string& word);

std::string strategy_flag(const std::string& strategy);
std::string repro_line(const std::string& path, std::uint64_t seed, const std::string& strategy,
                       const std::vector<engine::Mutant>& mutants = {}, const std::vector<engine::Fix>& fixes = {});
// " --mutant A --fix B": the flags that switch on the same engine changes.
std::string engine_flags(const std::vector<engine::Mutant>& mutants, const std::vector<engine::Fix>& fixes);
// `repro` is the command printed for a failure (RunInput::rerun, repro_line).
std::string result_json(const scenarios::Scenario& s, const scenarios::RunResult& r, const std::string& repro);
void print_result(std::ostream& out, const scenarios::Scenario& s, const scenarios::RunResult& r,
                  const std::string& repro);
// The data of every `read -v` of a run (recorded with RunOptions::record_outcomes),
// dumped as qemu-io dumps a buffer: offset, 16 bytes in hex, the same as text.
void print_read_dumps(std::ostream& out, const scenarios::Scenario& s, const scenarios::RunResult& r);
// Whether any command of the scenario asks for its data to be shown (read -v).
bool dumps_reads(const scenarios::Scenario& s);
using viz::xml_escape;
// One trace event as a line of text: "#INDEX t=NS kind key=value ...".
std::string event_text(const sim::Trace& trace, const sim::TraceEvent& event);

// One JUnit test case; `failure` empty when it passed.
struct JunitCase {
  std::string classname;
  std::string name;
  std::string failure_type;
  std::string failure_message;
  std::string failure_text;
};
std::string junit_document(const std::string& suite_name, const std::vector<JunitCase>& cases);

// From here on SIGINT and SIGTERM set the returned flag (to the signal) instead
// of ending blksim, so a sweep can stop, write complete result files and say
// what ran. Such a run exits 128 + the signal, as a shell reports it.
const volatile std::sig_atomic_t* catch_interrupts();
std::string signal_name(int signal);

}  // namespace cli
