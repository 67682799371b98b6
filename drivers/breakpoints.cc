#include "drivers/breakpoints.h"

#include <algorithm>

#include "sim/invariant.h"
#include "sim/world.h"

namespace drivers {

void Breakpoints::add(engine::BlkdebugEvent event, std::string tag, std::uint64_t resumer) {
  armed_.push_back(Armed{event, std::move(tag), resumer});
}

bool Breakpoints::suspended(const std::string& tag) const {
  return std::any_of(held_.begin(), held_.end(), [&](const auto& h) { return h.first == tag; });
}

void Breakpoints::resume(const std::string& tag) {
  auto it = std::find_if(held_.begin(), held_.end(), [&](const auto& h) { return h.first == tag; });
  SIM_ASSERT(it != held_.end(), "resume of breakpoint '" + tag + "', which holds no request");
  sim::Coroutine* co = it->second;
  held_.erase(it);
  sim::World::current().wake(*co);
}

sim::Task<void> Breakpoints::hit(engine::BlkdebugEvent event) {
  auto it = std::find_if(armed_.begin(), armed_.end(), [&](const Armed& b) { return b.event == event; });
  if (it == armed_.end()) co_return;
  sim::World& world = sim::World::current();
  const std::string_view tag = world.intern(it->tag);
  const std::uint64_t resumer = it->resumer;
  armed_.erase(it);
  held_.emplace_back(std::string(tag), world.current_coroutine());
  held_changed_.restart_all();
  co_await world.suspend(sim::WaitInfo{"breakpoint", resumer, 0, tag, 0});
}

bool Breakpoints::remove(const std::string& tag) {
  auto it = std::find_if(armed_.begin(), armed_.end(), [&](const Armed& b) { return b.tag == tag; });
  if (it == armed_.end()) return false;
  armed_.erase(it);
  return true;
}

sim::Task<void> Breakpoints::wait_held(const std::string& tag) {
  const std::string_view what = sim::World::current().intern(tag);
  while (!suspended(tag)) co_await held_changed_.wait(nullptr, sim::WaitInfo{"wait_break", 0, 0, what, 0});
}

}  // namespace drivers
