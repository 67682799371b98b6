// Known defects of the reference (docs/reference-defects.md), each with the
// signature by which its failures are recognised and the engine switch that
// applies the later fix (engine/fixes.h). A failure whose signature matches is
// labelled with the defect's name; a baseline may list defects by name.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/fixes.h"

namespace scenarios {

struct KnownDefect {
  std::string_view name;  // as engine::fix_name(fix)
  engine::Fix fix;
  // A failure is this defect's when its signature (sim::failure_signature)
  // starts with `prefix` and contains each of `contains`.
  std::string_view prefix;
  std::vector<std::string_view> contains;
  std::string_view summary;
  // A code probe hit where the defect happens, if it has one: a failure is
  // taken for this defect's consequence only if its runs hit the probe (a
  // fix that replaces a whole path would otherwise claim every failure of
  // that path).
  std::string_view trigger_probe = {};
};

std::span<const KnownDefect> known_defects();
const KnownDefect* known_defect_named(std::string_view name);
// The known defect a failure with `signature` is, unless its fix was on for
// the run (then a match is something else) or the defect has a trigger probe
// the run did not hit (`probes`: the run's hits by probe name).
const KnownDefect* known_defect_for(std::string_view signature, const std::vector<engine::Fix>& fixes_on,
                                    const std::map<std::string, std::uint64_t>& probes);

}  // namespace scenarios
