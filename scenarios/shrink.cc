#include "scenarios/shrink.h"

#include <sstream>

#include <toml++/toml.h>

#include "sim/str.h"

namespace scenarios {

std::string ScenarioSize::to_string() const {
  return sim::cat(jobs, " jobs, ", commands, " commands, ", events, " events, ", rules, " fault rules, ", bytes,
                  " request bytes");
}

ScenarioSize measure(const Scenario& s) {
  ScenarioSize z;
  z.jobs = s.jobs.size();
  z.events = s.events.size();
  for (const NodeSpec& n : s.nodes) z.rules += n.fault.rules.size();
  for (const JobSpec& j : s.jobs) {
    if (j.random) {
      z.commands += j.random->ops;
      z.bytes += j.random->ops * (j.random->min_bytes + j.random->max_bytes) / 2;
    }
    for (const Command& c : j.commands) {
      ++z.commands;
      z.bytes += c.bytes;
    }
  }
  return z;
}

bool no_larger(const ScenarioSize& a, const ScenarioSize& b) {
  return a.jobs <= b.jobs && a.commands <= b.commands && a.events <= b.events && a.rules <= b.rules &&
         a.bytes <= b.bytes;
}

namespace {

std::string to_text(const toml::table& t) {
  std::ostringstream out;
  out << t;
  return out.str() + "\n";
}

toml::array* array_at(toml::table& t, std::string_view key) {
  toml::node* n = t.get(key);
  return n == nullptr ? nullptr : n->as_array();
}

// Every smaller variant of the document, most promising first; `emit` returns
// true when the variant still fails (and is kept), and then the search restarts.
class Shrinker {
 public:
  Shrinker(const std::string& path, const ShrinkOptions& o, std::string signature)
      : path_(path), options_(o), signature_(std::move(signature)) {}

  std::size_t runs() const { return runs_; }
  bool budget_left() const { return runs_ < options_.max_runs; }

  // Whether `text` parses and fails the same way under the shrink's options.
  bool fails(const std::string& text, RunResult* out = nullptr, const RunOptions* with = nullptr) {
    auto s = parse_scenario(text, path_, &options_.images);
    if (!s.ok()) return false;
    RunOptions o;
    if (with != nullptr) {
      o = *with;
    } else {
      o.seed = options_.seed;
      o.strategy = options_.strategy;
      o.tape = options_.tape;
      o.mutants = options_.mutants;
      o.fixes = options_.fixes;
      o.wall_budget_s = options_.wall_budget_s;
    }
    ++runs_;
    RunResult r = run_scenario(*s, o);
    const bool same = same_failure(r.verdict);
    if (same && out != nullptr) *out = std::move(r);
    return same;
  }

  // The same failure: the same signature (kind, property and shape), not
  // merely the same kind, or a shrink could wander off to another defect.
  bool same_failure(const sim::Verdict& v) const { return !v.ok() && sim::failure_signature(v) == signature_; }

  // One pass over every kind of reduction; true if anything was removed.
  bool pass(toml::table& doc) {
    bool progress = false;
    progress |= materialize_random(doc);
    progress |= remove_entries(doc, "job");
    progress |= remove_entries(doc, "event");
    progress |= remove_rules(doc);
    progress |= remove_commands(doc);
    progress |= shrink_numbers(doc);
    return progress;
  }

 private:
  bool try_variant(toml::table& doc, const toml::table& variant, const std::string& what) {
    if (!budget_left()) return false;
    const std::string text = to_text(variant);
    if (!fails(text)) return false;
    doc = variant;
    if (options_.progress) options_.progress(what);
    return true;
  }

  // Replaces each random workload by the commands it draws for this seed (the
  // same run), so single commands can go.
  bool materialize_random(toml::table& doc) {
    bool any = false;
    for (std::size_t j = 0; array_at(doc, "job") != nullptr && j < array_at(doc, "job")->size(); ++j) {
      auto s = parse_scenario(to_text(doc), path_, &options_.images);
      if (!s.ok() || j >= s->jobs.size() || !s->jobs[j].random) continue;
      const JobSpec& job = s->jobs[j];
      sim::RngStreams streams(options_.seed);
      const std::vector<Command> cmds =
          generate_workload(*job.random, s->node_size(*s->find_node(job.node)), streams.stream(sim::cat("workload:", job.name)));
      toml::array list;
      for (const Command& c : cmds) list.push_back(c.text);
      toml::table variant = doc;
      toml::table& vjob = *array_at(variant, "job")->get(j)->as_table();
      vjob.erase("random");
      vjob.insert_or_assign("commands", std::move(list));
      if (try_variant(doc, variant, sim::cat("listed the ", cmds.size(), " random commands of job ", j))) any = true;
    }
    return any;
  }

  // Removes whole [[job]] or [[event]] tables, one at a time.
  bool remove_entries(toml::table& doc, std::string_view key) {
    bool any = false;
    for (std::size_t i = 0;; ) {
      toml::array* list = array_at(doc, key);
      if (list == nullptr || i >= list->size() || (key == "job" && list->size() <= 1)) break;
      toml::table variant = doc;
      toml::array& v = *array_at(variant, key);
      v.erase(v.begin() + static_cast<std::ptrdiff_t>(i));
      if (v.empty()) variant.erase(key);
      if (try_variant(doc, variant, sim::cat("removed ", key, " ", i))) {
        any = true;
      } else {
        ++i;
      }
    }
    return any;
  }

  bool remove_rules(toml::table& doc) {
    bool any = false;
    // `doc` is replaced whenever a variant is kept: nothing may point into it
    // across a try_variant, so every access starts from the root.
    for (std::size_t n = 0; array_at(doc, "node") != nullptr && n < array_at(doc, "node")->size(); ++n) {
      for (std::size_t i = 0;; ) {
        toml::table* node = array_at(doc, "node")->get(n)->as_table();
        toml::array* rules = node == nullptr ? nullptr : array_at(*node, "rule");
        if (rules == nullptr || i >= rules->size()) break;
        toml::table variant = doc;
        toml::table& vnode = *array_at(variant, "node")->get(n)->as_table();
        toml::array& vrules = *array_at(vnode, "rule");
        vrules.erase(vrules.begin() + static_cast<std::ptrdiff_t>(i));
        if (vrules.empty()) vnode.erase("rule");
        if (try_variant(doc, variant, sim::cat("removed fault rule ", i, " of node ", n))) {
          any = true;
        } else {
          ++i;
        }
      }
    }
    return any;
  }

  // Removes runs of commands, halving the run length down to single commands.
  bool remove_commands(toml::table& doc) {
    bool any = false;
    for (std::size_t j = 0; array_at(doc, "job") != nullptr && j < array_at(doc, "job")->size(); ++j) {
      const auto commands_of = [&](toml::table& d) { return array_at(*array_at(d, "job")->get(j)->as_table(), "commands"); };
      if (commands_of(doc) == nullptr) continue;
      for (std::size_t chunk = std::max<std::size_t>(1, commands_of(doc)->size() / 2); chunk >= 1; chunk /= 2) {
        for (std::size_t i = 0;; ) {
          toml::array* cmds = commands_of(doc);
          if (cmds->size() <= 1 || i >= cmds->size()) break;
          const std::size_t n = std::min(chunk, cmds->size() - i);
          if (n == cmds->size()) break;
          toml::table variant = doc;
          toml::array& v = *commands_of(variant);
          v.erase(v.begin() + static_cast<std::ptrdiff_t>(i), v.begin() + static_cast<std::ptrdiff_t>(i + n));
          if (try_variant(doc, variant, sim::cat("removed ", n, " command(s) of job ", j))) {
            any = true;
            continue;
          }
          // An event counting completed commands then fires n commands
          // later: the same removal with its count lowered in step.
          if (lower_after_requests(variant, n) &&
              try_variant(doc, variant, sim::cat("removed ", n, " command(s) of job ", j, ", after_requests lowered"))) {
            any = true;
            continue;
          }
          i += n;
        }
        if (chunk == 1) break;
      }
    }
    return any;
  }

  // Lowers every event's after_requests by n (to 1 at least); false if none
  // changed.
  static bool lower_after_requests(toml::table& doc, std::size_t n) {
    bool changed = false;
    toml::array* events = array_at(doc, "event");
    for (std::size_t e = 0; events != nullptr && e < events->size(); ++e) {
      toml::table& event = *events->get(e)->as_table();
      const toml::node* count = event.get("after_requests");
      if (count == nullptr || !count->is_integer() || count->as_integer()->get() <= 1) continue;
      const std::int64_t now = count->as_integer()->get();
      event.insert_or_assign("after_requests", std::max<std::int64_t>(1, now - static_cast<std::int64_t>(n)));
      changed = true;
    }
    return changed;
  }

  // Halves request lengths, queue depths, random workload sizes and the
  // command counts events wait for (which would otherwise keep every
  // command they count).
  bool shrink_numbers(toml::table& doc) {
    bool any = false;
    for (std::size_t e = 0; array_at(doc, "event") != nullptr && e < array_at(doc, "event")->size(); ++e) {
      const auto event_of = [&](toml::table& d) -> toml::table& { return *array_at(d, "event")->get(e)->as_table(); };
      for (;;) {
        const toml::node* n = event_of(doc).get("after_requests");
        if (n == nullptr || !n->is_integer() || n->as_integer()->get() <= 1) break;
        toml::table variant = doc;
        event_of(variant).insert_or_assign("after_requests", n->as_integer()->get() / 2);
        if (!try_variant(doc, variant, sim::cat("halved after_requests of event ", e))) break;
        any = true;
      }
    }
    for (std::size_t j = 0; array_at(doc, "job") != nullptr && j < array_at(doc, "job")->size(); ++j) {
      const auto job_of = [&](toml::table& d) -> toml::table& { return *array_at(d, "job")->get(j)->as_table(); };
      for (std::string_view key : {"queue_depth"}) {
        for (;;) {
          const toml::node* q = job_of(doc).get(key);
          if (q == nullptr || !q->is_integer() || q->as_integer()->get() <= 1) break;
          toml::table variant = doc;
          job_of(variant).insert_or_assign(key, q->as_integer()->get() / 2);
          if (!try_variant(doc, variant, sim::cat("halved ", key, " of job ", j))) break;
          any = true;
        }
      }
      if (toml::node* random = job_of(doc).get("random"); random != nullptr && random->is_table()) {
        for (;;) {
          const toml::node* ops = job_of(doc).get("random")->as_table()->get("ops");
          const std::int64_t now = ops != nullptr && ops->is_integer() ? ops->as_integer()->get() : 100;
          if (now <= 1) break;
          toml::table variant = doc;
          job_of(variant).get("random")->as_table()->insert_or_assign("ops", now / 2);
          if (!try_variant(doc, variant, sim::cat("halved the random ops of job ", j))) break;
          any = true;
        }
      }
      for (std::size_t i = 0; array_at(job_of(doc), "commands") != nullptr && i < array_at(job_of(doc), "commands")->size(); ++i) {
        for (;;) {
          const toml::node* c = array_at(job_of(doc), "commands")->get(i);
          if (c == nullptr || !c->is_string()) break;
          auto cmd = parse_command(c->as_string()->get());
          if (!cmd.ok() || cmd->bytes <= 1) break;
          Command smaller = *cmd;
          smaller.bytes = cmd->bytes / 2;
          if (cmd->bytes % 512 == 0) smaller.bytes = std::max<std::uint64_t>(512, smaller.bytes / 512 * 512);
          if (smaller.bytes == cmd->bytes) break;
          toml::table variant = doc;
          *array_at(job_of(variant), "commands")->get(i)->as_string() = format_command(smaller);
          if (!try_variant(doc, variant, sim::cat("halved command ", i, " of job ", j, ": ", format_command(smaller)))) break;
          any = true;
        }
      }
    }
    return any;
  }

  const std::string& path_;
  const ShrinkOptions& options_;
  std::string signature_;
  std::size_t runs_ = 0;
};

}  // namespace

absl::StatusOr<ShrinkResult> shrink_failure(const std::string& text, const std::string& path,
                                            const ShrinkOptions& given) {
  auto original = parse_scenario(text, path, given.images.empty() ? nullptr : &given.images);
  if (!original.ok()) return original.status();
  // Every variant is parsed with the original's images: no file is read again.
  ShrinkOptions options = given;
  if (options.images.empty()) options.images = image_store_of(*original);
  RunOptions first;
  first.seed = options.seed;
  first.strategy = options.strategy;
  first.tape = options.tape;
  first.mutants = options.mutants;
  first.fixes = options.fixes;
  first.wall_budget_s = options.wall_budget_s;
  RunResult base = run_scenario(*original, first);
  if (base.verdict.ok()) {
    return absl::FailedPreconditionError(sim::cat(path, ": seed ", options.seed, " with strategy ", base.strategy,
                                                  " holds every property; there is no failure to shrink"));
  }
  if (base.verdict.kind == sim::Verdict::Kind::kWallBudget) {
    // Whether a smaller run also takes too long depends on the machine: no
    // deterministic property to keep while shrinking.
    return absl::FailedPreconditionError(
        sim::cat(path, ": seed ", options.seed, " ended on the wall-clock budget, which depends on the machine, not the "
                 "run; set a step_budget in the scenario to shrink a runaway run deterministically"));
  }
  const std::string signature = sim::failure_signature(base.verdict);
  Shrinker shrinker(path, options, signature);

  toml::table doc;
  try {
    doc = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(sim::cat(path, ": TOML syntax: ", e.description()));
  }
  while (shrinker.budget_left() && shrinker.pass(doc)) {
  }
  ShrinkResult out;
  out.budget_exhausted = !shrinker.budget_left();

  // Named and described as what it is. Neither is part of a run's trace.
  if (toml::table* header = doc.get_as<toml::table>("scenario")) {
    const std::string name = header->get_as<std::string>("name") != nullptr ? header->get_as<std::string>("name")->get() : "";
    header->insert_or_assign("name", name.ends_with("-shrunk") ? name : name + "-shrunk");
    header->insert_or_assign("description", sim::cat("shrunk from ", path, " (seed ", options.seed, "): reproduces ",
                                                     signature));
  }
  out.text = to_text(doc);
  auto shrunk = parse_scenario(out.text, path, &options.images);
  if (!shrunk.ok()) return shrunk.status();
  out.before = measure(*original);
  out.after = measure(*shrunk);
  out.scenario = *shrunk;

  // The tape: record the shrunk scenario's choices, then try shorter prefixes
  // (past its end the run goes oldest-first) and choices turned to the oldest.
  // The runs that establish and re-check the result are not counted against
  // the budget: a shrink that met its budget still ends with a checked result.
  RunResult r = run_scenario(*shrunk, first);
  if (!shrinker.same_failure(r.verdict)) {
    return absl::InternalError(sim::cat("the shrunk scenario no longer fails with ", signature, " (it gave ",
                                        sim::failure_signature(r.verdict), "): the run is not deterministic"));
  }
  sim::ChoiceTape tape = r.tape;
  out.tape_before = tape.choices.size();
  RunOptions replay;
  replay.seed = options.seed;
  replay.strategy = sim::StrategySpec{sim::StrategySpec::Kind::kReplay, 3};
  replay.mutants = options.mutants;
  replay.fixes = options.fixes;
  replay.wall_budget_s = options.wall_budget_s;
  const auto fails_with = [&](const sim::ChoiceTape& t) {
    replay.tape = t;
    return shrinker.budget_left() && shrinker.fails(out.text, nullptr, &replay);
  };
  for (std::size_t keep = 0; keep < tape.choices.size() && shrinker.budget_left();) {
    sim::ChoiceTape shorter;
    shorter.choices.assign(tape.choices.begin(), tape.choices.begin() + static_cast<std::ptrdiff_t>(keep));
    if (fails_with(shorter)) {
      tape = shorter;
      break;
    }
    keep = keep == 0 ? 1 : keep * 2;
  }
  for (std::size_t i = 0; i < tape.choices.size() && shrinker.budget_left(); ++i) {
    if (tape.choices[i].chosen == 0) continue;
    sim::ChoiceTape oldest = tape;
    oldest.choices[i].chosen = 0;
    if (fails_with(oldest)) tape = oldest;
  }
  out.budget_exhausted = out.budget_exhausted || !shrinker.budget_left();
  // The result, run as its repro will replay it.
  replay.tape = tape;
  RunResult best = run_scenario(*shrunk, replay);
  if (!shrinker.same_failure(best.verdict)) {
    // A tape kept during the search must fail the same way when run again.
    return absl::InternalError(sim::cat("replaying the shrunk scenario's tape gave ", sim::failure_signature(best.verdict),
                                        " instead of ", signature, ": the run is not deterministic"));
  }
  out.tape_after = tape.choices.size();
  out.options = replay;
  out.result = std::move(best);
  out.runs = shrinker.runs() + 3;  // the first run, the recording run and the final one
  out.property = signature;
  return out;
}

}  // namespace scenarios
