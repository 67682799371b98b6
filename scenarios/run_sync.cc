// Synchronous commands of jobs that call the engine's sync wrappers: from the
// main loop as qemu-io does (api = "sync"), or from the job's coroutine, the
// wrappers' fast path (api = "sync-in-coroutine"). Each command maps to the
// wrapper qemu-io's command calls, with the vector and flags it passes; byte
// counts on success, as the wrappers return them.
#include "engine/io.h"
#include "scenarios/scenario_run.h"
#include "sim/invariant.h"
#include "sim/str.h"

namespace scenarios {

// A synchronous command of an api = "sync" job, as qemu-io runs it: the
// engine's sync wrapper called from a main-loop bottom half, outside any
// coroutine, polling (nested aio_poll) until its request is done. The request
// coroutine the wrapper creates carries the command's state, so its driver
// errors are the command's.
sim::Task<int> ScenarioRun::sync_command(Job& job, const Command& cmd, std::vector<std::uint8_t>& buffer,
                                         engine::IoVector& qiov) {
  void* state = world_.current_coroutine()->annotation();
  int ret = 0;
  co_await in_main_loop(sim::cat("sync wrapper of ", job.spec->name), [&] {
    world_.annotate_next_spawn(state);
    ret = call_sync_wrapper(job, cmd, buffer, qiov);
    world_.annotate_next_spawn(nullptr);
  });
  co_return ret;
}

int ScenarioRun::call_sync_wrapper(Job& job, const Command& cmd, std::vector<std::uint8_t>& buffer,
                                   engine::IoVector& qiov) {
  engine::BdrvChild& child = *job.node->root;
  const auto offset = static_cast<std::int64_t>(cmd.offset);
  const auto bytes = static_cast<int>(cmd.bytes);  // at most kMaxCommandBytes
  const unsigned flags = cmd.engine_flags();
  if (cmd.vmstate) {
    prepare_buffer(cmd, buffer);
    return cmd.op == Command::Op::kRead ? engine::bdrv_load_vmstate(*child.bs, buffer.data(), offset, bytes)
                                        : engine::bdrv_save_vmstate(*child.bs, buffer.data(), offset, bytes);
  }
  switch (cmd.op) {
    case Command::Op::kRead:
      prepare_buffer(cmd, buffer);
      if (!cmd.vectored()) return engine::bdrv_pread(child, offset, buffer.data(), bytes);
      qiov = request_vector(cmd, buffer);
      return engine::bdrv_preadv(child, offset, qiov);
    case Command::Op::kWrite:
      if (cmd.zeroes) return engine::bdrv_pwrite_zeroes(child, offset, bytes, flags & ~unsigned{engine::BDRV_REQ_ZERO_WRITE});
      prepare_buffer(cmd, buffer);
      if (!cmd.vectored() && flags == 0) return engine::bdrv_pwrite(child, offset, buffer.data(), bytes);
      qiov = request_vector(cmd, buffer);
      return engine::bdrv_pwritev(child, offset, qiov, flags);
    case Command::Op::kDiscard:
      return engine::bdrv_pdiscard(*child.bs, offset, bytes);
    case Command::Op::kFlush:
      return engine::bdrv_flush(*child.bs);
    default:
      SIM_ASSERT(false, "only reads, writes, discards and flushes come here (queries: run_queries.cc)");
      return 0;
  }
}

sim::Task<int> ScenarioRun::sync_command_in_coroutine(Job& job, const Command& cmd, std::vector<std::uint8_t>& buffer,
                                                      engine::IoVector& qiov) {
  engine::BdrvChild& child = *job.node->root;
  const auto offset = static_cast<std::int64_t>(cmd.offset);
  const auto bytes = static_cast<int>(cmd.bytes);  // at most kMaxCommandBytes
  const unsigned flags = cmd.engine_flags();
  if (cmd.vmstate) {
    // bdrv_load_vmstate / bdrv_save_vmstate in a coroutine: their vector, then the fast path.
    prepare_buffer(cmd, buffer);
    qiov = request_vector(cmd, buffer);
    const int ret = cmd.op == Command::Op::kRead ? co_await engine::in_coroutine::bdrv_readv_vmstate(*child.bs, qiov, offset)
                                                 : co_await engine::in_coroutine::bdrv_writev_vmstate(*child.bs, qiov, offset);
    co_return ret < 0 ? ret : bytes;
  }
  switch (cmd.op) {
    case Command::Op::kRead:
      prepare_buffer(cmd, buffer);
      if (!cmd.vectored()) co_return co_await engine::in_coroutine::bdrv_pread(child, offset, buffer.data(), bytes);
      qiov = request_vector(cmd, buffer);
      co_return co_await engine::in_coroutine::bdrv_preadv(child, offset, qiov);
    case Command::Op::kWrite:
      if (cmd.zeroes) {
        co_return co_await engine::in_coroutine::bdrv_pwrite_zeroes(child, offset, bytes,
                                                                    flags & ~unsigned{engine::BDRV_REQ_ZERO_WRITE});
      }
      prepare_buffer(cmd, buffer);
      if (!cmd.vectored() && flags == 0) {
        co_return co_await engine::in_coroutine::bdrv_pwrite(child, offset, buffer.data(), bytes);
      }
      qiov = request_vector(cmd, buffer);
      co_return co_await engine::in_coroutine::bdrv_pwritev(child, offset, qiov, flags);
    case Command::Op::kDiscard:
      co_return co_await engine::in_coroutine::bdrv_pdiscard(*child.bs, offset, bytes);
    case Command::Op::kFlush:
      co_return co_await engine::in_coroutine::bdrv_flush(*child.bs);
    default:
      SIM_ASSERT(false, "only reads, writes, discards and flushes come here (queries: run_queries.cc)");
      co_return 0;
  }
}

}  // namespace scenarios
