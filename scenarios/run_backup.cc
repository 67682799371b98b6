// backup events: block/backup.c of the reference's time in miniature. A
// before-write notifier on the source copies each cluster a write (or
// discard) is about to change to the target first (backup_do_cow: wait for
// overlapping copies, read the source with BDRV_REQ_NO_SERIALISING from
// inside the write, write the target, mark the cluster done); with sync =
// "full" a background loop copies every cluster not yet done. The oracle
// (data): every cluster copied holds, on the target, the source's content at
// the moment the backup started.
#include <algorithm>

#include "engine/errors.h"
#include "engine/io.h"
#include "scenarios/scenario_run.h"
#include "sim/invariant.h"
#include "sim/str.h"

namespace scenarios {

namespace {
bool is_all_zero(const std::vector<std::uint8_t>& b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t c) { return c == 0; });
}
}  // namespace

sim::Task<int> ScenarioRun::backup_do_cow(BackupJob& job, std::uint64_t offset, std::uint64_t bytes,
                                          bool is_write_notifier) {
  const std::uint64_t cluster = job.spec->cluster_size;
  std::uint64_t start = offset / cluster * cluster;
  const std::uint64_t end = std::min(job.length, (offset + bytes + cluster - 1) / cluster * cluster);
  // wait_for_overlapping_requests: one copy of a cluster at a time.
  for (;;) {
    const auto overlapping = std::find_if(job.copying.begin(), job.copying.end(), [&](const BackupJob::Copy& c) {
      return c.begin < end && start < c.end;
    });
    if (overlapping == job.copying.end()) break;
    co_await job.copy_done.wait(nullptr, sim::WaitInfo{"backup copy", overlapping->owner, 0,
                                                       world_.intern(sim::cat("copy of backup ", job.spec->name)), 0});
  }
  job.copying.push_back(BackupJob::Copy{start, end, world_.current_coroutine()->id()});
  const auto mine = std::prev(job.copying.end());
  int ret = 0;
  std::vector<std::uint8_t> buffer;
  for (; start < end; start += cluster) {
    const std::size_t index = static_cast<std::size_t>(start / cluster);
    if (job.done[index]) continue;
    const std::uint64_t n = std::min(cluster, job.length - start);
    buffer.assign(n, 0);
    engine::IoVector qiov(absl::MakeSpan(buffer));
    // From inside a write to the same node: the write's own tracked request
    // must not make the read wait. The background copy's read waits, also
    // for a serialising guest write whose notifier waits for this copy
    // (backup-copy-serialising; with its fix the notifier runs before the
    // guest's request exists, as QEMU 4.2's backup-top does).
    const bool unserialised = is_write_notifier && engine::bdrv_notify_inside_request();
    ret = co_await job.source_blk->co_preadv(static_cast<std::int64_t>(start), n, qiov,
                                             unserialised ? unsigned{engine::BDRV_REQ_NO_SERIALISING} : 0u);
    if (ret < 0) break;
    if (is_all_zero(buffer)) {
      // blk_co_pwrite_zeroes: a zero write without a buffer.
      ret = co_await job.target_blk->co_pwritev(static_cast<std::int64_t>(start), n, nullptr,
                                                engine::BDRV_REQ_ZERO_WRITE | engine::BDRV_REQ_MAY_UNMAP);
    } else {
      ret = co_await job.target_blk->co_pwritev(static_cast<std::int64_t>(start), n, &qiov, 0);
    }
    if (ret < 0) break;
    job.done[index] = true;
  }
  job.copying.erase(mine);
  job.copy_done.restart_all();
  if (ret < 0) ++job.failed_copies;
  co_return ret;
}

// block_job_create and backup's set-up inside the transaction's drained
// section: the job's backend joins a quiesced node, so the job starts paused
// until the section ends.
void ScenarioRun::create_backup_job(BackupJob& job, Node& source, const EventSpec& e) {
  engine::BlockJob& block_job = *(job.block_job = std::make_unique<engine::BlockJob>(e.name));
  job.source_blk = std::make_unique<BlockBackend>(sim::cat(e.name, ".source"), *source.bs, BackendOptions{});
  job.source_blk->set_device_drain_hook([&block_job](bool begin) {
    if (begin) {
      block_job.pause();  // block_job_drained_begin
    } else {
      block_job.resume();  // block_job_drained_end
    }
  });
  job.target_blk = std::make_unique<BlockBackend>(sim::cat(e.name, ".target"), *job.target->bs, BackendOptions{});
  job.started = ++clock_;
  job.crashes = crashes_;
  engine::bdrv_add_before_write_notifier(*source.bs, [this, &job](engine::BdrvTrackedRequest& req) -> sim::Task<int> {
    // backup_before_write_notify asserts what it is given is whole sectors:
    // the tracked request's own range, not the padded one.
    SIM_CHECK("backup.notifier_sector_aligned",
              req.offset % engine::BDRV_SECTOR_SIZE == 0 && req.bytes % engine::BDRV_SECTOR_SIZE == 0,
              sim::cat("backup's before-write notifier got ", req.describe(), ", not whole sectors"));
    co_return co_await backup_do_cow(job, static_cast<std::uint64_t>(req.offset), req.bytes, true);
  });
}

sim::Task<void> ScenarioRun::backup_event(const EventSpec& e) {
  Node& source = node_named(e.node);
  BackupJob& job = backups_.emplace_back();
  job.spec = &e;
  job.source = &source;
  job.target = &node_named(e.target);
  job.length = scenario_.node_size(*source.spec);
  job.done.assign(static_cast<std::size_t>((job.length + e.cluster_size - 1) / e.cluster_size), false);
  // "No new block jobs can be created between bdrv_drain_all_begin() and
  // bdrv_drain_all_end()" (the reference's contract; the monitor never runs
  // inside one): the command waits for open drain_all sections to end, and
  // tries again if one began before its bottom half ran or inside the poll
  // of its drained section (here events are not monitor commands).
  // A QMP command: one monitor command at a time (a reopen's drain_all
  // section is inside one).
  for (bool created = false; !created;) {
    while (drain_all_open_ > 0) {
      co_await drain_all_closed_.wait(nullptr, sim::WaitInfo{"drain_all section", 0, 0, "backup start", 0});
    }
    co_await monitor_turn();
    // Started at a quiescent point of the source, as a QMP transaction drains
    // first: the point in time is then the instant nothing was in flight.
    co_await in_main_loop(sim::cat("event ", e.name, ": backup start"), [this, &job, &source, &e, &created] {
      if (drain_all_open_ > 0) return;
      engine::bdrv_drained_begin(*source.bs);
      if (drain_all_open_ > 0) {
        engine::bdrv_drained_end(*source.bs);
        return;
      }
      created = true;
      create_backup_job(job, source, e);
      engine::bdrv_drained_end(*source.bs);
    });
    end_monitor_turn();
  }
  if (e.sync == EventSpec::BackupSync::kNone) co_return;
  // block_job_start enters the job's coroutine in its node's AioContext
  // (bdrv_coroutine_enter): on an IOThread's node the copy runs in that
  // thread, where a drain polling the node sees its requests complete. The
  // event waits for the job to end.
  sim::Coroutine& self = *world_.current_coroutine();
  bool finished = false;
  world_.spawn(source.bs->aio_context(), sim::cat("backup ", e.name), backup_run(job), [this, &self, &finished] {
    finished = true;
    world_.wake(self);
  });
  while (!finished) {
    co_await world_.suspend(sim::WaitInfo{"backup job", 0, 0, world_.intern(sim::cat("backup ", e.name)), 0});
  }
}

sim::Task<void> ScenarioRun::backup_run(BackupJob& job) {
  const std::uint64_t cluster = job.spec->cluster_size;
  for (std::uint64_t offset = 0; offset < job.length; offset += cluster) {
    // backup_run's yield_and_check, block_job_sleep_ns(0): other coroutines
    // run between clusters, unless the job is to pause; then its pause point
    // (a drained section of the source, or drain_all, paused it).
    if (job.block_job->pause_count() == 0) co_await sim::co_sleep_ns(0, "backup yield");
    co_await job.block_job->pause_point();
    co_await backup_do_cow(job, offset, cluster, false);
  }
}

void ScenarioRun::check_backups() {
  IoBuffer data;  // aligned as a guest's buffer: the heap's placement must not matter
  for (const BackupJob& job : backups_) {
    // A crash after the start folded the source's history: the point in time is gone.
    if (job.crashes != crashes_ || job.failed_copies > 0) continue;
    const auto home = checked_.find(data_home(*job.source).index);
    if (home == checked_.end()) continue;  // no job writes the source: nothing to tell apart
    const WriteHistory& history = home->second.history;
    const Cutoff at_start{job.started, false, job.started};
    for (std::size_t index = 0; index < job.done.size(); ++index) {
      if (!job.done[index]) continue;
      const std::uint64_t offset = index * job.spec->cluster_size;
      const std::uint64_t n = std::min<std::uint64_t>(job.spec->cluster_size, job.length - offset);
      data.resize(n);
      const int ret = engine::bdrv_pread(*job.target->root, static_cast<std::int64_t>(offset), data.data(),
                                         static_cast<int>(n));
      if (ret < 0) {
        violation(Oracle::kData, "backup target unreadable",
                  sim::cat("backup '", job.spec->name, "': target '", job.target->spec->name, "' could not be read at ",
                           offset, ": ", engine::errno_name(ret)));
        return;
      }
      const bool held = history.check(offset, data, at_start, [&](std::uint64_t i, std::uint8_t v, const ByteValues& ok) {
        violation(Oracle::kData,
                  content_shape("backup target", history.diagnose(i, offset, data, at_start)),
                  sim::cat("backup '", job.spec->name, "': byte ", i, " of target '", job.target->spec->name, "' is ",
                           sim::hex(v), ", but source '", job.source->spec->name, "' held only ", describe_values(ok),
                           " when the backup started"));
      });
      if (!held) return;
    }
  }
}

}  // namespace scenarios
