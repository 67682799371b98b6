#include "engine/block_job.h"

#include <algorithm>

#include "sim/invariant.h"

namespace engine {
namespace {
std::vector<BlockJob*>& jobs() {
  static std::vector<BlockJob*> all;
  return all;
}
}  // namespace

BlockJob::BlockJob(std::string name) : name_(std::move(name)) { jobs().push_back(this); }

BlockJob::~BlockJob() {
  auto& all = jobs();
  all.erase(std::remove(all.begin(), all.end(), this), all.end());
}

void BlockJob::resume() {
  SIM_CHECK("block_job.resume_unpaused", pause_count_ > 0, "resuming block job " + name_ + " that is not paused");
  if (--pause_count_ == 0) resumed_.restart_all();
}

sim::Task<void> BlockJob::pause_point() {
  while (pause_count_ > 0) {
    paused_ = true;
    co_await resumed_.wait(nullptr, sim::WaitInfo{"job paused", 0, 0, name_, 0});
    paused_ = false;
  }
}

const std::vector<BlockJob*>& block_job_all() { return jobs(); }

void block_job_pause_all() {
  for (BlockJob* job : jobs()) job->pause();
}

void block_job_resume_all() {
  for (BlockJob* job : jobs()) job->resume();
}

}  // namespace engine
