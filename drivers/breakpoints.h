// blkdebug's breakpoints: `break EVENT TAG` holds the next request that raises
// EVENT until `resume TAG`; a breakpoint holds one request (one-shot).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/debug_event.h"
#include "sim/co_queue.h"
#include "sim/coroutine.h"
#include "sim/task.h"

namespace drivers {

class Breakpoints {
 public:
  // `resumer`: the coroutine expected to resume it (qemu-io's own process, as
  // in `break` then `resume` from one script), drawn as what the held request
  // waits for; 0 if unknown.
  void add(engine::BlkdebugEvent event, std::string tag, std::uint64_t resumer = 0);
  bool suspended(const std::string& tag) const;
  // Wakes the request held under `tag`; it is a bug if there is none.
  void resume(const std::string& tag);
  // Called from a debug event: holds the current request if a breakpoint matches.
  sim::Task<void> hit(engine::BlkdebugEvent event);
  std::size_t armed() const { return armed_.size(); }
  // Removes an armed breakpoint; false if there was none with this tag.
  bool remove(const std::string& tag);
  // Waits (in a coroutine) until a request is held under `tag`.
  sim::Task<void> wait_held(const std::string& tag);

 private:
  struct Armed {
    engine::BlkdebugEvent event;
    std::string tag;
    std::uint64_t resumer;
  };
  std::vector<Armed> armed_;  // in the order set
  std::vector<std::pair<std::string, sim::Coroutine*>> held_;          // by tag
  sim::CoQueue held_changed_;
};

}  // namespace drivers
