// Sync wrappers: run a request as a coroutine in the node's context and poll
// until it ends (QEMU's bdrv_prwv_co and friends outside coroutine context).
// They must not be called from a coroutine: C++ coroutines cannot run a nested
// request "inline" the way QEMU's fast path does, so that is reported as a bug.
#include <climits>

#include "engine/drain.h"
#include "engine/io.h"
#include "sim/invariant.h"
#include "sim/world.h"

namespace engine {
namespace {

// The result slot's value while the request runs (QEMU's NOT_DONE).
constexpr std::int64_t kNotDone = 0x7fffffff;

template <typename MakeTask>
auto run_sync(BlockDriverState& bs, const char* name, MakeTask&& make_task) {
  using Result = decltype(std::declval<MakeTask&>()().result());
  sim::World& world = sim::World::current();
  SIM_CHECK("sync_wrapper.not_in_coroutine", !world.in_coroutine(),
            std::string(name) + " called from a coroutine: use the bdrv_co_ function");
  Result ret = static_cast<Result>(kNotDone);
  auto body = [](MakeTask& make, Result& out) -> sim::Task<void> { out = co_await make(); };
  world.spawn(bs.aio_context(), name, body(make_task, ret));
  bdrv_poll_while(bs, [&] { return ret == static_cast<Result>(kNotDone); });
  return ret;
}

int rw_sync(BdrvChild& child, std::int64_t offset, IoVector& qiov, bool is_write, unsigned flags) {
  return run_sync(*child.bs, is_write ? "bdrv_pwritev" : "bdrv_preadv", [&] {
    return is_write ? bdrv_co_pwritev(child, offset, qiov.size(), (flags & BDRV_REQ_ZERO_WRITE) ? nullptr : &qiov,
                                      flags)
                    : bdrv_co_preadv(child, offset, qiov.size(), qiov, flags);
  });
}

int rw_sectors(BdrvChild& child, std::int64_t sector_num, std::uint8_t* buf, int nb_sectors, bool is_write) {
  if (nb_sectors < 0 || nb_sectors > BDRV_REQUEST_MAX_SECTORS) return -EINVAL;
  IoVector qiov(absl::MakeSpan(buf, static_cast<std::size_t>(nb_sectors) << BDRV_SECTOR_BITS));
  return rw_sync(child, sector_num << BDRV_SECTOR_BITS, qiov, is_write, 0);
}

}  // namespace

int bdrv_read(BdrvChild& child, std::int64_t sector_num, std::uint8_t* buf, int nb_sectors) {
  return rw_sectors(child, sector_num, buf, nb_sectors, false);
}

int bdrv_write(BdrvChild& child, std::int64_t sector_num, const std::uint8_t* buf, int nb_sectors) {
  return rw_sectors(child, sector_num, const_cast<std::uint8_t*>(buf), nb_sectors, true);
}

int bdrv_preadv(BdrvChild& child, std::int64_t offset, IoVector& qiov) {
  int ret = rw_sync(child, offset, qiov, false, 0);
  return ret < 0 ? ret : static_cast<int>(qiov.size());
}

int bdrv_pwritev(BdrvChild& child, std::int64_t offset, IoVector& qiov, unsigned flags) {
  int ret = rw_sync(child, offset, qiov, true, flags);
  return ret < 0 ? ret : static_cast<int>(qiov.size());
}

int bdrv_pread(BdrvChild& child, std::int64_t offset, void* buf, int bytes) {
  if (bytes < 0) return -EINVAL;
  IoVector qiov(absl::MakeSpan(static_cast<std::uint8_t*>(buf), static_cast<std::size_t>(bytes)));
  return bdrv_preadv(child, offset, qiov);
}

int bdrv_pwrite(BdrvChild& child, std::int64_t offset, const void* buf, int bytes) {
  if (bytes < 0) return -EINVAL;
  IoVector qiov(absl::MakeSpan(static_cast<std::uint8_t*>(const_cast<void*>(buf)), static_cast<std::size_t>(bytes)));
  return bdrv_pwritev(child, offset, qiov);
}

int bdrv_pwrite_sync(BdrvChild& child, std::int64_t offset, const void* buf, int bytes) {
  int ret = bdrv_pwrite(child, offset, buf, bytes);
  if (ret < 0) return ret;
  ret = bdrv_flush(*child.bs);
  return ret < 0 ? ret : 0;
}

int bdrv_pwrite_zeroes(BdrvChild& child, std::int64_t offset, int bytes, unsigned flags) {
  // A zero write carries its length in a vector without a buffer, as the reference.
  return run_sync(*child.bs, "bdrv_pwrite_zeroes", [&] {
    return bdrv_co_pwritev(child, offset, static_cast<std::uint64_t>(static_cast<unsigned>(bytes)), nullptr,
                           BDRV_REQ_ZERO_WRITE | flags);
  });
}

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
  return run_sync(bs, "bdrv_flush", [&] { return bdrv_co_flush(bs); });
}

int bdrv_flush_all() {
  int result = 0;
  for (BlockDriverState* bs : std::vector<BlockDriverState*>(bdrv_all_nodes())) {
    // Every node is flushed; the first error is the one reported.
    const int ret = bdrv_flush(*bs);
    if (ret < 0 && result == 0) result = ret;
  }
  return result;
}

int bdrv_pdiscard(BlockDriverState& bs, std::int64_t offset, int bytes) {
  return run_sync(bs, "bdrv_pdiscard", [&] { return bdrv_co_pdiscard(bs, offset, bytes); });
}

std::int64_t bdrv_get_block_status_above(BlockDriverState& bs, BlockDriverState* base, std::int64_t sector_num,
                                         int nb_sectors, int* pnum, BlockDriverState** file) {
  return run_sync(bs, "bdrv_get_block_status_above",
                  [&] { return bdrv_co_get_block_status_above(bs, base, sector_num, nb_sectors, pnum, file); });
}

std::int64_t bdrv_get_block_status(BlockDriverState& bs, std::int64_t sector_num, int nb_sectors, int* pnum,
                                   BlockDriverState** file) {
  return bdrv_get_block_status_above(bs, backing_bs(bs), sector_num, nb_sectors, pnum, file);
}

int bdrv_is_allocated(BlockDriverState& bs, std::int64_t offset, std::int64_t bytes, std::int64_t* pnum) {
  return run_sync(bs, "bdrv_is_allocated", [&] { return bdrv_co_is_allocated(bs, offset, bytes, pnum); });
}

int bdrv_is_allocated_above(BlockDriverState& top, BlockDriverState* base, std::int64_t offset, std::int64_t bytes,
                            std::int64_t* pnum) {
  return run_sync(top, "bdrv_is_allocated_above",
                  [&] { return bdrv_co_is_allocated_above(top, base, offset, bytes, pnum); });
}

int bdrv_writev_vmstate(BlockDriverState& bs, IoVector& qiov, std::int64_t pos) {
  return run_sync(bs, "bdrv_writev_vmstate", [&] { return bdrv_co_rw_vmstate(bs, qiov, pos, false); });
}

int bdrv_readv_vmstate(BlockDriverState& bs, IoVector& qiov, std::int64_t pos) {
  return run_sync(bs, "bdrv_readv_vmstate", [&] { return bdrv_co_rw_vmstate(bs, qiov, pos, true); });
}

int bdrv_save_vmstate(BlockDriverState& bs, const std::uint8_t* buf, std::int64_t pos, int size) {
  IoVector qiov(absl::MakeSpan(const_cast<std::uint8_t*>(buf), static_cast<std::size_t>(size)));
  int ret = bdrv_writev_vmstate(bs, qiov, pos);
  return ret < 0 ? ret : size;
}

int bdrv_load_vmstate(BlockDriverState& bs, std::uint8_t* buf, std::int64_t pos, int size) {
  IoVector qiov(absl::MakeSpan(buf, static_cast<std::size_t>(size)));
  int ret = bdrv_readv_vmstate(bs, qiov, pos);
  return ret < 0 ? ret : size;
}

}  // namespace engine
