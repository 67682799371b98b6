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
// coroutine, polling (nested aio_poll) until its request is done. Every request
// coroutine the wrapper creates (pwrite_sync and make_zero make several)
// carries the command's state, so their driver errors are the command's.
sim::Task<int> ScenarioRun::sync_command(Job& job, const Command& cmd, IoBuffer& buffer,
                                         engine::IoVector& qiov) {
  void* state = world_.current_coroutine()->annotation();
  int ret = 0;
  co_await in_main_loop(sim::cat("sync wrapper of ", job.spec->name), [&] {
    const sim::World::SpawnAnnotation command(world_, state);
    ret = call_sync_wrapper(job, cmd, buffer, qiov);
  });
  co_return ret;
}

namespace {

// The wrapper the command calls (one decision for both paths): qemu-io's, or
// for a job of api "sectors" the sector-based bdrv_read / bdrv_write.
enum class Wrapper : std::uint8_t {
  kRead, kWrite, kPread, kPreadv, kPwrite, kPwritev, kPwriteSync, kPwriteZeroes, kMakeZero, kPdiscard, kFlush,
  kLoadVmstate, kSaveVmstate
};

Wrapper wrapper_for(const JobSpec& job, const Command& cmd) {
  const bool read = cmd.op == Command::Op::kRead;
  if (cmd.vmstate) return read ? Wrapper::kLoadVmstate : Wrapper::kSaveVmstate;
  const bool sectors = job.api == JobSpec::Api::kSectors;
  switch (cmd.op) {
    case Command::Op::kRead:
      if (sectors) return Wrapper::kRead;
      return cmd.vectored() ? Wrapper::kPreadv : Wrapper::kPread;
    case Command::Op::kWrite:
      if (cmd.write_sync) return Wrapper::kPwriteSync;
      if (cmd.zeroes) return Wrapper::kPwriteZeroes;
      if (sectors) return Wrapper::kWrite;
      return !cmd.vectored() && cmd.engine_flags() == 0 ? Wrapper::kPwrite : Wrapper::kPwritev;
    case Command::Op::kDiscard: return Wrapper::kPdiscard;
    case Command::Op::kFlush: return Wrapper::kFlush;
    case Command::Op::kMakeZero: return Wrapper::kMakeZero;
    default: break;
  }
  SIM_ASSERT(false, "only reads, writes, make_zero, discards and flushes come here (queries: run_queries.cc)");
  return Wrapper::kFlush;
}

// The flags a wrapper takes: bdrv_pwrite_zeroes adds BDRV_REQ_ZERO_WRITE itself.
unsigned wrapper_flags(const Command& cmd) {
  if (cmd.op == Command::Op::kMakeZero) return cmd.unmap ? unsigned{engine::BDRV_REQ_MAY_UNMAP} : 0u;
  return cmd.zeroes ? cmd.engine_flags() & ~unsigned{engine::BDRV_REQ_ZERO_WRITE} : cmd.engine_flags();
}

// Whether the wrapper moves data through a buffer.
bool takes_buffer(Wrapper w) {
  return w != Wrapper::kPwriteZeroes && w != Wrapper::kPdiscard && w != Wrapper::kFlush && w != Wrapper::kMakeZero;
}

// The sector-based wrappers' arguments (the parser checked whole sectors).
std::int64_t sector_of(const Command& cmd) { return static_cast<std::int64_t>(cmd.offset / engine::BDRV_SECTOR_SIZE); }
int sectors_of(const Command& cmd) { return static_cast<int>(cmd.bytes / engine::BDRV_SECTOR_SIZE); }

}  // namespace

int ScenarioRun::call_sync_wrapper(Job& job, const Command& cmd, IoBuffer& buffer,
                                   engine::IoVector& qiov) {
  engine::BdrvChild& child = *job.node->root;
  const Wrapper w = wrapper_for(*job.spec, cmd);
  if (takes_buffer(w)) prepare_buffer(cmd, buffer);
  if (w == Wrapper::kPreadv || w == Wrapper::kPwritev) qiov = request_vector(cmd, buffer);
  const auto offset = static_cast<std::int64_t>(cmd.offset);
  const auto bytes = static_cast<int>(cmd.bytes);  // at most kMaxCommandBytes
  const unsigned flags = wrapper_flags(cmd);
  switch (w) {
    case Wrapper::kRead: return engine::bdrv_read(child, sector_of(cmd), buffer.data(), sectors_of(cmd));
    case Wrapper::kWrite: return engine::bdrv_write(child, sector_of(cmd), buffer.data(), sectors_of(cmd));
    case Wrapper::kPwriteSync: return engine::bdrv_pwrite_sync(child, offset, buffer.data(), bytes);
    case Wrapper::kMakeZero: return engine::bdrv_make_zero(child, flags);
    case Wrapper::kPread: return engine::bdrv_pread(child, offset, buffer.data(), bytes);
    case Wrapper::kPreadv: return engine::bdrv_preadv(child, offset, qiov);
    case Wrapper::kPwrite: return engine::bdrv_pwrite(child, offset, buffer.data(), bytes);
    case Wrapper::kPwritev: return engine::bdrv_pwritev(child, offset, qiov, flags);
    case Wrapper::kPwriteZeroes: return engine::bdrv_pwrite_zeroes(child, offset, bytes, flags);
    case Wrapper::kPdiscard: return engine::bdrv_pdiscard(*child.bs, offset, bytes);
    case Wrapper::kFlush: return engine::bdrv_flush(*child.bs);
    case Wrapper::kLoadVmstate: return engine::bdrv_load_vmstate(*child.bs, buffer.data(), offset, bytes);
    case Wrapper::kSaveVmstate: return engine::bdrv_save_vmstate(*child.bs, buffer.data(), offset, bytes);
  }
  return 0;
}

sim::Task<int> ScenarioRun::sync_command_in_coroutine(Job& job, const Command& cmd, IoBuffer& buffer,
                                                      engine::IoVector& qiov) {
  engine::BdrvChild& child = *job.node->root;
  const Wrapper w = wrapper_for(*job.spec, cmd);
  if (takes_buffer(w)) prepare_buffer(cmd, buffer);
  // The VM state wrappers build a vector before their fast path.
  if (w == Wrapper::kPreadv || w == Wrapper::kPwritev || w == Wrapper::kLoadVmstate || w == Wrapper::kSaveVmstate) {
    qiov = request_vector(cmd, buffer);
  }
  const auto offset = static_cast<std::int64_t>(cmd.offset);
  const auto bytes = static_cast<int>(cmd.bytes);  // at most kMaxCommandBytes
  const unsigned flags = wrapper_flags(cmd);
  namespace in = engine::in_coroutine;
  int ret = 0;
  switch (w) {
    case Wrapper::kRead: co_return co_await in::bdrv_read(child, sector_of(cmd), buffer.data(), sectors_of(cmd));
    case Wrapper::kWrite: co_return co_await in::bdrv_write(child, sector_of(cmd), buffer.data(), sectors_of(cmd));
    case Wrapper::kPwriteSync: co_return co_await in::bdrv_pwrite_sync(child, offset, buffer.data(), bytes);
    case Wrapper::kMakeZero: co_return co_await in::bdrv_make_zero(child, flags);
    case Wrapper::kPread: co_return co_await in::bdrv_pread(child, offset, buffer.data(), bytes);
    case Wrapper::kPreadv: co_return co_await in::bdrv_preadv(child, offset, qiov);
    case Wrapper::kPwrite: co_return co_await in::bdrv_pwrite(child, offset, buffer.data(), bytes);
    case Wrapper::kPwritev: co_return co_await in::bdrv_pwritev(child, offset, qiov, flags);
    case Wrapper::kPwriteZeroes: co_return co_await in::bdrv_pwrite_zeroes(child, offset, bytes, flags);
    case Wrapper::kPdiscard: co_return co_await in::bdrv_pdiscard(*child.bs, offset, bytes);
    case Wrapper::kFlush: co_return co_await in::bdrv_flush(*child.bs);
    case Wrapper::kLoadVmstate: ret = co_await in::bdrv_readv_vmstate(*child.bs, qiov, offset); break;
    case Wrapper::kSaveVmstate: ret = co_await in::bdrv_writev_vmstate(*child.bs, qiov, offset); break;
  }
  // bdrv_load_vmstate / bdrv_save_vmstate return the size on success.
  co_return ret < 0 ? ret : bytes;
}

}  // namespace scenarios
