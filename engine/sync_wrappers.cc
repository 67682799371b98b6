// Sync wrappers (QEMU's bdrv_prwv_co, bdrv_flush, bdrv_pdiscard, block status
// and friends). The reference's wrappers test qemu_in_coroutine(): inside a
// coroutine they call the coroutine entry directly; outside they create a
// coroutine for it in the node's context and poll (BDRV_POLL_WHILE) until it
// ends. A C++ coroutine cannot run a nested request inline from a plain
// function, so the two paths are two entry points with one body:
// engine::in_coroutine::NAME is the inside path (co_await it), and NAME runs
// that same body as a new coroutine and polls, and may not be called from a
// coroutine (a checked invariant).
#include <climits>

#include "engine/drain.h"
#include "engine/fixes.h"
#include "engine/io.h"
#include "sim/invariant.h"
#include "sim/probe.h"
#include "sim/world.h"

namespace engine {
namespace {

const sim::Probe kProbeSyncWrapperNoKick("sync_wrapper.result_unkicked",
                                         "a sync wrapper's coroutine on an IOThread stored its result without a kick (sync-wrapper-no-kick's site)");

// The result slot's value while the request runs (QEMU's NOT_DONE).
constexpr std::int64_t kNotDone = 0x7fffffff;

template <typename MakeTask>
auto run_sync(BlockDriverState& bs, const char* name, MakeTask&& make_task) {
  using Result = decltype(std::declval<MakeTask&>()().result());
  sim::World& world = sim::World::current();
  SIM_CHECK("sync_wrapper.not_in_coroutine", !world.in_coroutine(),
            std::string(name) + " called from a coroutine: use the bdrv_co_ function");
  Result ret = static_cast<Result>(kNotDone);
  // The reference's entry stubs store the result and return: the main loop,
  // if it sleeps for an IOThread's node, is kicked only by the last
  // bdrv_dec_in_flight, which came before the result (known defect
  // sync-wrapper-no-kick; QEMU 4.0 kicks after storing it).
  auto body = [](MakeTask& make, Result& out, BlockDriverState& node) -> sim::Task<void> {
    out = co_await make();
    // The main loop waits for an IOThread's node with a wake-up it needs.
    if (&node.aio_context() != &sim::World::current().main_context()) kProbeSyncWrapperNoKick.hit();
    if (fixed(Fix::kSyncWrapperKick)) bdrv_wakeup(node);
  };
  world.spawn(bs.aio_context(), name, body(make_task, ret, bs));
  bdrv_poll_while(bs, [&] { return ret == static_cast<Result>(kNotDone); });
  return ret;
}

IoVector single_buffer(const void* buf, int bytes) {
  return IoVector(absl::MakeSpan(static_cast<std::uint8_t*>(const_cast<void*>(buf)), static_cast<std::size_t>(bytes)));
}

// bdrv_rw_co_entry: a zero write carries its length without a buffer.
sim::Task<int> rw_co_entry(BdrvChild& child, std::int64_t offset, IoVector& qiov, bool is_write, unsigned flags) {
  if (!is_write) co_return co_await bdrv_co_preadv(child, offset, qiov.size(), qiov, flags);
  co_return co_await bdrv_co_pwritev(child, offset, qiov.size(), (flags & BDRV_REQ_ZERO_WRITE) ? nullptr : &qiov, flags);
}

}  // namespace

namespace in_coroutine {

sim::Task<int> bdrv_read(BdrvChild& child, std::int64_t sector_num, std::uint8_t* buf, int nb_sectors) {
  if (nb_sectors < 0 || nb_sectors > BDRV_REQUEST_MAX_SECTORS) co_return -EINVAL;
  IoVector qiov = single_buffer(buf, nb_sectors << BDRV_SECTOR_BITS);
  co_return co_await rw_co_entry(child, sector_num << BDRV_SECTOR_BITS, qiov, false, 0);
}

sim::Task<int> bdrv_write(BdrvChild& child, std::int64_t sector_num, const std::uint8_t* buf, int nb_sectors) {
  if (nb_sectors < 0 || nb_sectors > BDRV_REQUEST_MAX_SECTORS) co_return -EINVAL;
  IoVector qiov = single_buffer(buf, nb_sectors << BDRV_SECTOR_BITS);
  co_return co_await rw_co_entry(child, sector_num << BDRV_SECTOR_BITS, qiov, true, 0);
}

sim::Task<int> bdrv_preadv(BdrvChild& child, std::int64_t offset, IoVector& qiov) {
  const int ret = co_await rw_co_entry(child, offset, qiov, false, 0);
  co_return ret < 0 ? ret : static_cast<int>(qiov.size());
}

sim::Task<int> bdrv_pwritev(BdrvChild& child, std::int64_t offset, IoVector& qiov, unsigned flags) {
  const int ret = co_await rw_co_entry(child, offset, qiov, true, flags);
  co_return ret < 0 ? ret : static_cast<int>(qiov.size());
}

sim::Task<int> bdrv_pread(BdrvChild& child, std::int64_t offset, void* buf, int bytes) {
  if (bytes < 0) co_return -EINVAL;
  IoVector qiov = single_buffer(buf, bytes);
  co_return co_await in_coroutine::bdrv_preadv(child, offset, qiov);
}

sim::Task<int> bdrv_pwrite(BdrvChild& child, std::int64_t offset, const void* buf, int bytes) {
  if (bytes < 0) co_return -EINVAL;
  IoVector qiov = single_buffer(buf, bytes);
  co_return co_await in_coroutine::bdrv_pwritev(child, offset, qiov, 0);
}

sim::Task<int> bdrv_pwrite_sync(BdrvChild& child, std::int64_t offset, const void* buf, int bytes) {
  int ret = co_await in_coroutine::bdrv_pwrite(child, offset, buf, bytes);
  if (ret < 0) co_return ret;
  ret = co_await bdrv_co_flush(*child.bs);
  co_return ret < 0 ? ret : 0;
}

sim::Task<int> bdrv_pwrite_zeroes(BdrvChild& child, std::int64_t offset, int bytes, unsigned flags) {
  // The reference's vector here has no buffer, only a length.
  co_return co_await bdrv_co_pwritev(child, offset, static_cast<std::uint64_t>(static_cast<unsigned>(bytes)), nullptr,
                                     BDRV_REQ_ZERO_WRITE | flags);
}

sim::Task<int> bdrv_make_zero(BdrvChild& child, unsigned flags) {
  BlockDriverState& bs = *child.bs;
  const std::int64_t target_sectors = bdrv_nb_sectors(bs);
  if (target_sectors < 0) co_return static_cast<int>(target_sectors);
  std::int64_t sector_num = 0;
  for (;;) {
    const std::int64_t nb_sectors = std::min(target_sectors - sector_num, BDRV_REQUEST_MAX_SECTORS);
    if (nb_sectors <= 0) co_return 0;
    int n = 0;
    BlockDriverState* file = nullptr;
    const std::int64_t ret =
        co_await bdrv_co_get_block_status_above(bs, backing_bs(bs), sector_num, static_cast<int>(nb_sectors), &n, &file);
    if (ret < 0) co_return static_cast<int>(ret);
    // Skip what already reads as zeroes.
    if (!(ret & BDRV_BLOCK_ZERO)) {
      const int wret = co_await in_coroutine::bdrv_pwrite_zeroes(child, sector_num << BDRV_SECTOR_BITS, n << BDRV_SECTOR_BITS, flags);
      if (wret < 0) co_return wret;
    }
    sector_num += n;
  }
}

sim::Task<int> bdrv_flush(BlockDriverState& bs) { co_return co_await bdrv_co_flush(bs); }

sim::Task<int> bdrv_pdiscard(BlockDriverState& bs, std::int64_t offset, int bytes) {
  co_return co_await bdrv_co_pdiscard(bs, offset, bytes);
}

sim::Task<std::int64_t> bdrv_get_block_status_above(BlockDriverState& bs, BlockDriverState* base,
                                                    std::int64_t sector_num, int nb_sectors, int* pnum,
                                                    BlockDriverState** file) {
  co_return co_await bdrv_co_get_block_status_above(bs, base, sector_num, nb_sectors, pnum, file);
}

sim::Task<std::int64_t> bdrv_get_block_status(BlockDriverState& bs, std::int64_t sector_num, int nb_sectors,
                                              int* pnum, BlockDriverState** file) {
  co_return co_await bdrv_co_get_block_status_above(bs, backing_bs(bs), sector_num, nb_sectors, pnum, file);
}

sim::Task<int> bdrv_is_allocated(BlockDriverState& bs, std::int64_t offset, std::int64_t bytes, std::int64_t* pnum) {
  co_return co_await bdrv_co_is_allocated(bs, offset, bytes, pnum);
}

sim::Task<int> bdrv_is_allocated_above(BlockDriverState& top, BlockDriverState* base, std::int64_t offset,
                                       std::int64_t bytes, std::int64_t* pnum) {
  co_return co_await bdrv_co_is_allocated_above(top, base, offset, bytes, pnum);
}

sim::Task<int> bdrv_readv_vmstate(BlockDriverState& bs, IoVector& qiov, std::int64_t pos) {
  co_return co_await bdrv_co_rw_vmstate(bs, qiov, pos, true);
}

sim::Task<int> bdrv_writev_vmstate(BlockDriverState& bs, IoVector& qiov, std::int64_t pos) {
  co_return co_await bdrv_co_rw_vmstate(bs, qiov, pos, false);
}

}  // namespace in_coroutine

// Outside coroutines. The coroutine each creates is named after the request it
// runs (bdrv_preadv for every read, bdrv_pwritev for every write), as traces show.

int bdrv_read(BdrvChild& child, std::int64_t sector_num, std::uint8_t* buf, int nb_sectors) {
  if (nb_sectors < 0 || nb_sectors > BDRV_REQUEST_MAX_SECTORS) return -EINVAL;
  return run_sync(*child.bs, "bdrv_preadv", [&] { return in_coroutine::bdrv_read(child, sector_num, buf, nb_sectors); });
}

int bdrv_write(BdrvChild& child, std::int64_t sector_num, const std::uint8_t* buf, int nb_sectors) {
  if (nb_sectors < 0 || nb_sectors > BDRV_REQUEST_MAX_SECTORS) return -EINVAL;
  return run_sync(*child.bs, "bdrv_pwritev", [&] { return in_coroutine::bdrv_write(child, sector_num, buf, nb_sectors); });
}

int bdrv_preadv(BdrvChild& child, std::int64_t offset, IoVector& qiov) {
  return run_sync(*child.bs, "bdrv_preadv", [&] { return in_coroutine::bdrv_preadv(child, offset, qiov); });
}

int bdrv_pwritev(BdrvChild& child, std::int64_t offset, IoVector& qiov, unsigned flags) {
  return run_sync(*child.bs, "bdrv_pwritev", [&] { return in_coroutine::bdrv_pwritev(child, offset, qiov, flags); });
}

int bdrv_pread(BdrvChild& child, std::int64_t offset, void* buf, int bytes) {
  if (bytes < 0) return -EINVAL;
  return run_sync(*child.bs, "bdrv_preadv", [&] { return in_coroutine::bdrv_pread(child, offset, buf, bytes); });
}

int bdrv_pwrite(BdrvChild& child, std::int64_t offset, const void* buf, int bytes) {
  if (bytes < 0) return -EINVAL;
  return run_sync(*child.bs, "bdrv_pwritev", [&] { return in_coroutine::bdrv_pwrite(child, offset, buf, bytes); });
}

// Two sync calls, each with its own coroutine and poll, as the reference.
int bdrv_pwrite_sync(BdrvChild& child, std::int64_t offset, const void* buf, int bytes) {
  int ret = bdrv_pwrite(child, offset, buf, bytes);
  if (ret < 0) return ret;
  ret = bdrv_flush(*child.bs);
  return ret < 0 ? ret : 0;
}

int bdrv_pwrite_zeroes(BdrvChild& child, std::int64_t offset, int bytes, unsigned flags) {
  return run_sync(*child.bs, "bdrv_pwrite_zeroes",
                  [&] { return in_coroutine::bdrv_pwrite_zeroes(child, offset, bytes, flags); });
}

// A loop of sync calls, each polling, as the reference's.
int bdrv_make_zero(BdrvChild& child, unsigned flags) {
  BlockDriverState& bs = *child.bs;
  const std::int64_t target_sectors = bdrv_nb_sectors(bs);
  if (target_sectors < 0) return static_cast<int>(target_sectors);
  std::int64_t sector_num = 0;
  for (;;) {
    const std::int64_t nb_sectors = std::min(target_sectors - sector_num, BDRV_REQUEST_MAX_SECTORS);
    if (nb_sectors <= 0) return 0;
    int n = 0;
    BlockDriverState* file = nullptr;
    const std::int64_t ret = bdrv_get_block_status(bs, sector_num, static_cast<int>(nb_sectors), &n, &file);
    if (ret < 0) return static_cast<int>(ret);
    // Skip what already reads as zeroes.
    if (!(ret & BDRV_BLOCK_ZERO)) {
      const int wret = bdrv_pwrite_zeroes(child, sector_num << BDRV_SECTOR_BITS, n << BDRV_SECTOR_BITS, flags);
      if (wret < 0) return wret;
    }
    sector_num += n;
  }
}

int bdrv_flush(BlockDriverState& bs) {
  return run_sync(bs, "bdrv_flush", [&] { return in_coroutine::bdrv_flush(bs); });
}

int bdrv_flush_all() {
  int result = 0;
  NodeWalk walk;
  for (BlockDriverState* bs = walk.next(); bs != nullptr; bs = walk.next()) {
    // Every node is flushed; the first error is the one reported.
    const int ret = bdrv_flush(*bs);
    if (ret < 0 && result == 0) result = ret;
  }
  return result;
}

int bdrv_pdiscard(BlockDriverState& bs, std::int64_t offset, int bytes) {
  return run_sync(bs, "bdrv_pdiscard", [&] { return in_coroutine::bdrv_pdiscard(bs, offset, bytes); });
}

std::int64_t bdrv_get_block_status_above(BlockDriverState& bs, BlockDriverState* base, std::int64_t sector_num,
                                         int nb_sectors, int* pnum, BlockDriverState** file) {
  return run_sync(bs, "bdrv_get_block_status_above", [&] {
    return in_coroutine::bdrv_get_block_status_above(bs, base, sector_num, nb_sectors, pnum, file);
  });
}

std::int64_t bdrv_get_block_status(BlockDriverState& bs, std::int64_t sector_num, int nb_sectors, int* pnum,
                                   BlockDriverState** file) {
  return bdrv_get_block_status_above(bs, backing_bs(bs), sector_num, nb_sectors, pnum, file);
}

// The reference's bdrv_is_allocated asks bdrv_get_block_status, which polls
// from outside a coroutine.
int bdrv_is_allocated(BlockDriverState& bs, std::int64_t offset, std::int64_t bytes, std::int64_t* pnum) {
  SIM_CHECK("is_allocated.offset_sector_aligned", offset % BDRV_SECTOR_SIZE == 0, "is_allocated offset not in sectors");
  SIM_CHECK("is_allocated.bytes_sector_aligned", bytes % BDRV_SECTOR_SIZE == 0 && bytes < INT_MAX,
            "is_allocated length not in sectors or too large");
  BlockDriverState* file = nullptr;
  int psectors = 0;
  const std::int64_t ret = bdrv_get_block_status(bs, offset >> BDRV_SECTOR_BITS,
                                                 static_cast<int>(bytes >> BDRV_SECTOR_BITS), &psectors, &file);
  if (ret < 0) return static_cast<int>(ret);
  if (pnum != nullptr) *pnum = std::int64_t{psectors} * BDRV_SECTOR_SIZE;
  return (ret & BDRV_BLOCK_ALLOCATED) ? 1 : 0;
}

// One sync bdrv_is_allocated per layer, each with its own coroutine and poll:
// between layers the main loop runs whatever is ready, as in the reference.
int bdrv_is_allocated_above(BlockDriverState& top, BlockDriverState* base, std::int64_t offset, std::int64_t bytes,
                            std::int64_t* pnum) {
  std::int64_t n = bytes;
  for (BlockDriverState* intermediate = &top; intermediate != nullptr && intermediate != base;
       intermediate = backing_bs(*intermediate)) {
    std::int64_t pnum_inter = 0;
    const int ret = bdrv_is_allocated(*intermediate, offset, bytes, &pnum_inter);
    if (ret < 0) return ret;
    if (ret != 0) {
      *pnum = pnum_inter;
      return 1;
    }
    const std::int64_t size_inter = bdrv_getlength(*intermediate);
    if (size_inter < 0) return static_cast<int>(size_inter);
    if (n > pnum_inter && (intermediate == &top || offset + pnum_inter < size_inter)) n = pnum_inter;
  }
  *pnum = n;
  return 0;
}

int bdrv_writev_vmstate(BlockDriverState& bs, IoVector& qiov, std::int64_t pos) {
  return run_sync(bs, "bdrv_writev_vmstate", [&] { return in_coroutine::bdrv_writev_vmstate(bs, qiov, pos); });
}

int bdrv_readv_vmstate(BlockDriverState& bs, IoVector& qiov, std::int64_t pos) {
  return run_sync(bs, "bdrv_readv_vmstate", [&] { return in_coroutine::bdrv_readv_vmstate(bs, qiov, pos); });
}

int bdrv_save_vmstate(BlockDriverState& bs, const std::uint8_t* buf, std::int64_t pos, int size) {
  IoVector qiov = single_buffer(buf, size);
  int ret = bdrv_writev_vmstate(bs, qiov, pos);
  return ret < 0 ? ret : size;
}

int bdrv_load_vmstate(BlockDriverState& bs, std::uint8_t* buf, std::int64_t pos, int size) {
  IoVector qiov = single_buffer(buf, size);
  int ret = bdrv_readv_vmstate(bs, qiov, pos);
  return ret < 0 ? ret : size;
}

}  // namespace engine
