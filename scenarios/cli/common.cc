#include "scenarios/cli/common.h"

#include <signal.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "engine/errors.h"
#include "scenarios/known_defects.h"
#include "sim/invariant.h"
#include "sim/str.h"

namespace cli {

std::string read_file_or_throw(const std::string& path, std::string_view what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw BadInput{sim::cat(path, ": is a directory, not a ", what)};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw BadInput{sim::cat(path, ": cannot open ", what)};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

scenarios::Scenario load_or_throw(const std::string& path) {
  auto scenario = scenarios::load_scenario(path);
  if (!scenario.ok()) throw BadInput{std::string(scenario.status().message())};
  return *std::move(scenario);
}

std::optional<sim::StrategySpec> strategy_or_throw(const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto spec = sim::StrategySpec::parse(text);
  if (!spec.ok()) throw BadInput{sim::cat("--strategy: ", spec.status().message())};
  return *spec;
}

// CLI11 wraps "-1" and clamps huge integers into a uint64 silently; a seed must
// be exactly the number the user wrote.
std::uint64_t seed_or_throw(const std::string& text, std::string_view flag) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    throw BadInput{sim::cat(flag, ": expected an integer from 0 to 18446744073709551615, got '", text, "'")};
  }
  return value;
}

std::pair<std::uint64_t, std::uint64_t> seed_range_or_throw(const std::string& text, std::string_view flag,
                                                             std::uint64_t most) {
  const std::size_t dots = text.find("..");
  if (dots == std::string::npos) throw BadInput{sim::cat(flag, ": expected A..B (inclusive), got '", text, "'")};
  const std::uint64_t first = seed_or_throw(text.substr(0, dots), flag);
  const std::uint64_t last = seed_or_throw(text.substr(dots + 2), flag);
  if (last < first) throw BadInput{sim::cat(flag, ": ", text, " is empty (B is below A)")};
  if (last - first >= most) throw BadInput{sim::cat(flag, ": at most ", most, " seeds")};
  return {first, last};
}

std::pair<unsigned, unsigned> shard_or_throw(const std::string& text) {
  const std::size_t slash = text.find('/');
  const auto bad = [&] { return BadInput{sim::cat("--shard: expected K/N with 1 <= K <= N, got '", text, "'")}; };
  if (slash == std::string::npos) throw bad();
  std::uint64_t k = 0, n = 0;
  try {
    k = seed_or_throw(text.substr(0, slash), "--shard");
    n = seed_or_throw(text.substr(slash + 1), "--shard");
  } catch (const BadInput&) {
    throw bad();
  }
  if (k < 1 || n < 1 || k > n || n > 1'000'000) throw bad();
  return {static_cast<unsigned>(k), static_cast<unsigned>(n)};
}

std::vector<engine::Mutant> mutants_or_throw(const std::vector<std::string>& names) {
  std::vector<engine::Mutant> out;
  for (const std::string& name : names) {
    auto m = engine::mutant_from_name(name);
    if (!m) throw BadInput{sim::cat("--mutant: unknown mutant '", name, "' (see blksim list mutants)")};
    out.push_back(*m);
  }
  return out;
}

std::vector<engine::Fix> fixes_or_throw(const std::vector<std::string>& names) {
  std::vector<engine::Fix> out;
  for (const std::string& name : names) {
    auto f = engine::fix_from_name(name);
    if (!f) throw BadInput{sim::cat("--fix: unknown fix '", name, "' (see blksim list fixes)")};
    if (std::find(out.begin(), out.end(), *f) == out.end()) out.push_back(*f);
  }
  return out;
}

void write_file_or_throw(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out || !(out << data) || !out.flush()) throw BadInput{sim::cat(path, ": cannot write")};
}

void write_file_atomically(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp";
  write_file_or_throw(tmp, data);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw BadInput{sim::cat(path, ": cannot write (", ec.message(), ")")};
}

std::vector<std::string> scenario_files_in(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) throw BadInput{sim::cat(dir, ": not a directory")};
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".toml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw BadInput{sim::cat(dir, ": no scenario files (*.toml)")};
  return files;
}

std::string library_dir() {
  std::error_code ec;
  if (std::filesystem::is_directory("scenarios/library", ec)) return "scenarios/library";
  const std::string built_from = std::string(BLKSIM_SOURCE_DIR) + "/scenarios/library";
  if (std::filesystem::is_directory(built_from, ec)) return built_from;
  return "scenarios/library";
}

scenarios::RunOptions options_from(const RunArgs& a) {
  scenarios::RunOptions o;
  o.seed = seed_or_throw(a.seed);
  o.strategy = strategy_or_throw(a.strategy);
  o.mutants = mutants_or_throw(a.mutants);
  o.fixes = fixes_or_throw(a.fixes);
  o.wall_budget_s = a.wall_budget_s;
  if (!a.tape_in.empty()) {
    auto tape = sim::ChoiceTape::parse(read_file_or_throw(a.tape_in, "choice tape"));
    if (!tape.ok()) throw BadInput{sim::cat(a.tape_in, ": ", tape.status().message())};
    o.tape = *tape;
    if (!o.strategy) o.strategy = sim::StrategySpec{sim::StrategySpec::Kind::kReplay, 3};
    if (o.strategy->kind != sim::StrategySpec::Kind::kReplay) {
      throw BadInput{"--tape goes with --strategy replay (or no --strategy)"};
    }
  } else if (o.strategy && o.strategy->kind == sim::StrategySpec::Kind::kReplay) {
    throw BadInput{"--strategy replay needs --tape FILE (a tape written by --tape-out)"};
  }
  return o;
}

std::string absolute_path(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

std::string shell_quote(const std::string& word) {
  const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("/._-+:=,@%").find(c) != std::string_view::npos;
  });
  if (plain) return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string engine_flags(const std::vector<engine::Mutant>& mutants, const std::vector<engine::Fix>& fixes) {
  std::string out;
  for (engine::Mutant m : mutants) out += sim::cat(" --mutant ", engine::mutant_name(m));
  for (engine::Fix f : fixes) out += sim::cat(" --fix ", engine::fix_name(f));
  return out;
}

std::string repro_line(const std::string& path, std::uint64_t seed, const std::string& strategy,
                       const std::vector<engine::Mutant>& mutants, const std::vector<engine::Fix>& fixes) {
  SIM_ASSERT(strategy != "replay", "a replayed run is repeated with its tape or repro file (RunInput::rerun)");
  return sim::cat("blksim run ", shell_quote(absolute_path(path)), " --seed ", seed, " --strategy ", strategy,
                  engine_flags(mutants, fixes));
}

std::string result_json(const scenarios::Scenario& s, const scenarios::RunResult& r, const std::string& repro) {
  nlohmann::ordered_json j;
  j["scenario"] = s.name;
  j["file"] = s.path;
  j["seed"] = r.seed;
  j["strategy"] = r.strategy;
  j["verdict"] = sim::verdict_kind_name(r.verdict.kind);
  if (!r.verdict.ok()) {
    j["property"] = r.verdict.id;
    j["message"] = r.verdict.message;
    if (!r.verdict.location.empty()) j["location"] = r.verdict.location;
    j["event_index"] = r.verdict.event_index;
    j["time_ns"] = r.verdict.time_ns;
    j["details"] = r.verdict.details;
    j["signature"] = sim::failure_signature(r.verdict);
    if (!r.known_defect.empty()) j["known_defect"] = r.known_defect;
    j["repro"] = repro;
  }
  j["events"] = r.events;
  j["steps"] = r.steps;
  j["requests"] = r.requests;
  j["virtual_ns"] = r.virtual_ns;
  j["choices"] = r.tape.choices.size();
  j["fingerprint"] = sim::format_fingerprint(r.fingerprint);
  return j.dump();
}

void print_result(std::ostream& out, const scenarios::Scenario& s, const scenarios::RunResult& r,
                  const std::string& repro) {
  out << "scenario    " << s.name << " (" << s.path << ")\n";
  out << "seed        " << r.seed << "\n";
  out << "strategy    " << r.strategy << "\n";
  out << "verdict     " << sim::verdict_kind_name(r.verdict.kind);
  if (!r.verdict.ok()) out << ": " << r.verdict.message;
  out << "\n";
  if (!r.verdict.id.empty()) out << "property    " << r.verdict.id << "\n";
  if (!r.verdict.ok()) out << "signature   " << sim::failure_signature(r.verdict) << "\n";
  if (const scenarios::KnownDefect* d = scenarios::known_defect_named(r.known_defect)) {
    out << "known       defect " << d->name << " of the reference: " << d->summary
        << " (docs/reference-defects.md; run past it with --fix " << d->name << ")\n";
  }
  if (!r.verdict.location.empty()) out << "location    " << r.verdict.location << "\n";
  if (!r.verdict.ok()) out << "at          event " << r.verdict.event_index << ", " << r.verdict.time_ns << " ns\n";
  for (const std::string& d : r.verdict.details) out << "            " << d << "\n";
  out << "events      " << r.events << "\n";
  out << "steps       " << r.steps << "\n";
  out << "requests    " << r.requests << "\n";
  if (r.crashes > 0) out << "crashes     " << r.crashes << "\n";
  out << "virtual     " << r.virtual_ns << " ns\n";
  out << "choices     " << r.tape.choices.size() << "\n";
  if (r.divergence) out << "divergence  " << *r.divergence << "\n";
  out << "fingerprint " << sim::format_fingerprint(r.fingerprint) << "\n";
  if (!r.verdict.ok()) out << "repro       " << repro << "\n";
}

bool dumps_reads(const scenarios::Scenario& s) {
  for (const scenarios::JobSpec& j : s.jobs) {
    for (const scenarios::Command& c : j.commands) {
      if (c.dump) return true;
    }
  }
  return false;
}

void print_read_dumps(std::ostream& out, const scenarios::Scenario& s, const scenarios::RunResult& r) {
  for (const scenarios::CommandOutcome& o : r.outcomes) {
    const scenarios::JobSpec* job = nullptr;
    for (const scenarios::JobSpec& j : s.jobs) {
      if (j.name == o.job) job = &j;
    }
    if (job == nullptr || o.index >= job->commands.size() || !job->commands[o.index].dump) continue;
    const scenarios::Command& c = job->commands[o.index];
    out << "read -v     job '" << o.job << "' command '" << c.text << "' (line " << c.line << ")"
        << (o.ret < 0 ? sim::cat(": ", engine::errno_name(o.ret)) : std::string()) << "\n";
    if (o.ret < 0) continue;
    for (std::size_t at = 0; at < o.data.size(); at += 16) {
      char line[128];
      int n = std::snprintf(line, sizeof line, "%08llx:  ", static_cast<unsigned long long>(c.offset + at));
      std::string text;
      for (std::size_t k = at; k < at + 16; ++k) {
        if (k < o.data.size()) {
          n += std::snprintf(line + n, sizeof line - static_cast<std::size_t>(n), "%02x ", o.data[k]);
          text += (o.data[k] >= 0x20 && o.data[k] < 0x7f) ? static_cast<char>(o.data[k]) : '.';
        } else {
          n += std::snprintf(line + n, sizeof line - static_cast<std::size_t>(n), "   ");
        }
      }
      out << "            " << line << " " << text << "\n";
    }
  }
}

std::string event_text(const sim::Trace& trace, const sim::TraceEvent& event) {
  const nlohmann::ordered_json j = nlohmann::ordered_json::parse(trace.to_json(event));
  std::string out = sim::cat("#", j["i"].get<std::uint64_t>(), " t=", j["t"].get<std::uint64_t>(), " ",
                             j["ev"].get<std::string>());
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "i" || it.key() == "t" || it.key() == "ev") continue;
    out += sim::cat(" ", it.key(), "=", it->is_string() ? it->get<std::string>() : it->dump());
  }
  return out;
}

std::string junit_document(const std::string& suite_name, const std::vector<JunitCase>& cases) {
  std::uint64_t failures = 0;
  std::string body;
  for (const JunitCase& c : cases) {
    body += sim::cat("    <testcase classname=\"", xml_escape(c.classname), "\" name=\"", xml_escape(c.name), "\">");
    if (!c.failure_type.empty()) {
      ++failures;
      body += sim::cat("<failure type=\"", xml_escape(c.failure_type), "\" message=\"", xml_escape(c.failure_message),
                       "\">", xml_escape(c.failure_text), "</failure>");
    }
    body += "</testcase>\n";
  }
  return sim::cat("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"blksim\" tests=\"", cases.size(),
                  "\" failures=\"", failures, "\">\n  <testsuite name=\"", xml_escape(suite_name), "\" tests=\"",
                  cases.size(), "\" failures=\"", failures, "\">\n", body, "  </testsuite>\n</testsuites>\n");
}

namespace {
volatile std::sig_atomic_t g_interrupt = 0;
extern "C" void on_interrupt(int signal) { g_interrupt = signal; }
}  // namespace

const volatile std::sig_atomic_t* catch_interrupts() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking poll returns at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  return &g_interrupt;
}

std::string signal_name(int signal) {
  const char* abbrev = sigabbrev_np(signal);
  return abbrev != nullptr ? sim::cat("SIG", abbrev) : sim::cat("signal ", signal);
}

}  // namespace cli
