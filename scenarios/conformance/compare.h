// Running a case on both sides, comparing, shrinking a difference.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/mutations.h"
#include "scenarios/conformance/case.h"
#include "scenarios/conformance/sides.h"

namespace conformance {

struct Setup {
  std::string qemu_io = "/usr/bin/qemu-io";
  std::string work_dir;  // scratch images and scenario files
  std::vector<engine::Mutant> mutants;  // blksim side only: proving a difference is found
};

struct Difference {
  std::string what;  // which command or the final image, with both sides
};

struct Verdict {
  std::optional<Difference> difference;
  // Both sides stopped at the same command on the same blkdebug assertion
  // (qemu-io aborted; blksim's fault driver reported the same contract breach).
  std::string shared_abort;
  // A difference docs/conformance.md explains (its section name), or "".
  std::string explained;
};

// The first difference between the two sides, if any.
Verdict compare(const Case& c, const SideResult& blksim, const SideResult& qemu);

// Runs both sides and compares. Errors are the tool's own (exit 3).
absl::StatusOr<Verdict> check_case(const Case& c, const Setup& setup);

// The smallest case found that still differs: commands removed one at a time,
// then limits dropped, while a difference remains. `runs` counts the attempts.
absl::StatusOr<Case> shrink(const Case& c, const Setup& setup, int& runs);

// The case as commands one can paste: the qemu-io command line and the
// blksim scenario.
std::string reproduce(const Case& c, const Setup& setup);

}  // namespace conformance
