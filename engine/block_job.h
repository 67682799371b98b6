// Block jobs, as far as draining needs them: drain_all pauses every job and
// resumes it after; a job stops at its pause points while paused.
#pragma once

#include <string>
#include <vector>

#include "sim/co_queue.h"
#include "sim/task.h"

namespace engine {

class BlockJob {
 public:
  explicit BlockJob(std::string name);
  ~BlockJob();
  BlockJob(const BlockJob&) = delete;
  BlockJob& operator=(const BlockJob&) = delete;

  const std::string& name() const { return name_; }
  int pause_count() const { return pause_count_; }
  bool paused() const { return paused_; }  // waiting at a pause point

  void pause() { ++pause_count_; }
  void resume();
  // block_job_pause_point: a job's coroutine calls this between iterations.
  sim::Task<void> pause_point();

 private:
  std::string name_;
  int pause_count_ = 0;
  bool paused_ = false;
  sim::CoQueue resumed_;
};

// Every live job, in creation order.
const std::vector<BlockJob*>& block_job_all();
void block_job_pause_all();
void block_job_resume_all();

}  // namespace engine
