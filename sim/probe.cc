#include "sim/probe.h"

#include "sim/invariant.h"
#include "sim/world.h"

namespace sim {
namespace {

// Function-local: probes register during static initialisation, in any order
// of translation units.
std::vector<const Probe*>& registry() {
  static std::vector<const Probe*> probes;
  return probes;
}

}  // namespace

Probe::Probe(std::string_view name, std::string_view what)
    : name_(name), what_(what), index_(static_cast<std::uint32_t>(registry().size())) {
  registry().push_back(this);
}

void Probe::hit() const {
  if (World::exists()) World::current().probe_hit(index_);
}

const std::vector<const Probe*>& Probe::all() { return registry(); }

}  // namespace sim
