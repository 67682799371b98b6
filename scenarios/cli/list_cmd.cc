#include <algorithm>
#include <iostream>

#include "engine/errors.h"

#include "engine/debug_event.h"
#include "scenarios/cli/commands.h"
#include "scenarios/error_table.h"
#include "scenarios/event_spec.h"
#include "scenarios/known_defects.h"
#include "scenarios/oracles.h"
#include "scenarios/qemu_io.h"
#include "sim/scheduler.h"
#include "sim/str.h"

namespace cli {
namespace {

// `name` and the spaces that start the next column at `width` (at least one).
std::string column(std::string_view name, std::size_t width) {
  return std::string(name) + std::string(name.size() < width ? width - name.size() : 1, ' ');
}

}  // namespace

int cmd_list(const std::string& what, const std::string& dir) {
  if (what == "strategies") {
    std::cout << "fifo      oldest ready event first (QEMU's order)\n"
                 "random    uniformly random among ready events\n"
                 "pct:D     probabilistic concurrency testing with bug depth D (1.." << sim::kMaxPctDepth << ", pct = pct:3)\n"
                 "replay    follow a recorded choice tape (--tape)\n";
  } else if (what == "drivers") {
    std::cout << "mem       protocol: memory with a volatile write cache, crash modes, every limit\n"
                 "null      protocol: completes without data, for speed\n"
                 "raw       format: passes everything to its file\n"
                 "cow       format: clusters with a table in its file, optional backing\n"
                 "fault     filter: blkdebug's rules, latencies, breakpoints and limits\n"
                 "top       filter on a backing child: mirror_top / commit_top\n"
                 "quorum    filter over several children: parallel writes, fifo reads, flushes of each\n";
  } else if (what == "events") {
    for (int i = 0; i <= static_cast<int>(engine::BlkdebugEvent::kL2Update); ++i) {
      std::cout << engine::blkdebug_event_name(static_cast<engine::BlkdebugEvent>(i)) << "\n";
    }
  } else if (what == "actions") {
    // The [[event]] actions (docs/scenario-language.md describes each).
    for (std::string_view name : scenarios::event_action_names()) std::cout << name << "\n";
  } else if (what == "request-flags") {
    for (const scenarios::RequestFlagName& f : scenarios::request_flag_names()) {
      std::cout << column(f.name, 18) << (f.on_reads ? "reads and writes" : "writes")
                << "\n";
    }
  } else if (what == "error-table") {
    // The errors oracle's reading of what the reference does with each driver error.
    for (const scenarios::ErrorRule& r : scenarios::error_table()) {
      const std::string op = r.driver_op.empty() ? std::string("any operation") : std::string(r.driver_op);
      const std::string err = r.error == 0 ? std::string("any errno") : std::string(engine::errno_name(r.error));
      const std::string site = r.site == scenarios::ErrorSite::kStatusRefinement ? " (file below a format)"
                               : r.site == scenarios::ErrorSite::kQuorumNotLast ? " (below a quorum child but the last)"
                                                                                : "";
      std::cout << op << ", " << err << site << ": " << scenarios::error_fate_name(r.fate) << "\n    " << r.why << "\n";
    }
  } else if (what == "errnos") {
    for (const engine::ErrnoInfo& e : engine::all_errnos()) std::cout << e.name << "\n";
  } else if (what == "oracles") {
    for (const scenarios::OracleInfo& o : scenarios::all_oracles()) {
      std::cout << column(o.name, 15) << o.what << (o.always_on ? " (always on)" : "") << "\n";
    }
  } else if (what == "mutants") {
    for (const engine::MutantInfo& m : engine::all_mutants()) {
      std::cout << column(m.name, 24) << m.breaks << " (caught by " << m.caught_by << ")\n";
    }
  } else if (what == "fixes" || what == "defects") {
    // Each known defect of the reference with the switch that applies its later fix.
    for (const scenarios::KnownDefect& d : scenarios::known_defects()) {
      const engine::FixInfo& f = engine::all_fixes()[static_cast<std::size_t>(d.fix)];
      std::cout << column(d.name, 24) << f.defect << "\n"
                << std::string(24, ' ') << "signature " << d.prefix << "...\n"
                << std::string(24, ' ') << "--fix " << d.name << ": " << f.change << "\n";
    }
  } else if (what == "scenarios") {
    for (const std::string& f : scenario_files_in(dir)) {
      scenarios::Scenario s = load_or_throw(f);
      std::cout << s.name << "  (" << f << ", " << s.seeds << " seeds, " << s.strategy.to_string()
                << (s.expect_fail ? ", expected to fail" : "") << ")";
      if (!s.description.empty()) std::cout << ": " << s.description;
      std::cout << "\n";
    }
  } else {
    throw BadInput{sim::cat("list: unknown kind '", what,
                            "' (expected scenarios, strategies, oracles, mutants, fixes, drivers, events, actions, request-flags, errnos or error-table)")};
  }
  return kExitPass;
}

}  // namespace cli
