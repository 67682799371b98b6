#include "drivers/cow_format.h"

#include <algorithm>

#include "engine/block_driver_state.h"
#include "engine/io.h"
#include "sim/invariant.h"

namespace drivers {

using engine::BDRV_SECTOR_BITS;
using engine::BDRV_SECTOR_SIZE;

CowFormat::CowFormat(std::int64_t virtual_size, std::int64_t cluster_size)
    : virtual_size_(virtual_size),
      cluster_size_(cluster_size),
      map_(static_cast<std::size_t>((virtual_size + cluster_size - 1) / cluster_size)),
      lock_("cow.lock") {
  SIM_ASSERT(engine::is_power_of_2(static_cast<std::uint64_t>(cluster_size)) && cluster_size >= kMinClusterSize &&
                 cluster_size <= kMaxClusterSize,
             "cow cluster size must be a power of two from 512 bytes to 2 MiB");
  SIM_ASSERT(virtual_size % cluster_size == 0, "cow virtual size must be whole clusters");
}

std::uint32_t CowFormat::ops() const {
  return engine::kCoPreadv | engine::kCoPwritev | engine::kCoPwriteZeroes | engine::kCoPdiscard |
         engine::kCoGetBlockStatus | engine::kRefreshLimits | engine::kGetInfo;
}

void CowFormat::refresh_limits(engine::BlockDriverState& bs) {
  // Zeroes and discards only work on whole clusters.
  bs.bl.pwrite_zeroes_alignment = static_cast<std::uint32_t>(cluster_size_);
  bs.bl.pdiscard_alignment = static_cast<std::uint32_t>(cluster_size_);
}

int CowFormat::get_info(engine::BlockDriverState&, engine::BlockDriverInfo* bdi) {
  bdi->cluster_size = static_cast<std::int32_t>(cluster_size_);
  bdi->unallocated_blocks_are_zero = true;  // without a backing file
  return 0;
}

sim::Task<int> CowFormat::read_backing(engine::BlockDriverState& bs, std::int64_t offset, std::int64_t bytes,
                                       engine::IoVector& qiov, std::size_t qiov_offset) {
  if (bs.backing == nullptr) {
    qiov.memset(qiov_offset, 0, static_cast<std::size_t>(bytes));
    co_return 0;
  }
  // Past the end of a shorter backing file reads as zeroes.
  const std::int64_t backing_len = engine::bdrv_getlength(*bs.backing->bs);
  if (backing_len < 0) co_return static_cast<int>(backing_len);
  const std::int64_t avail = std::clamp<std::int64_t>(backing_len - offset, 0, bytes);
  if (avail < bytes) {
    qiov.memset(qiov_offset + static_cast<std::size_t>(avail), 0, static_cast<std::size_t>(bytes - avail));
  }
  if (avail == 0) co_return 0;
  engine::IoVector part;
  part.concat(qiov, qiov_offset, static_cast<std::size_t>(avail));
  co_return co_await engine::bdrv_co_preadv(*bs.backing, offset, static_cast<std::uint64_t>(avail), part, 0);
}

sim::Task<int> CowFormat::co_preadv(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                    engine::IoVector& qiov, unsigned) {
  std::size_t done = 0;
  while (done < bytes) {
    const auto pos = static_cast<std::int64_t>(offset + done);
    const std::int64_t cluster = pos / cluster_size_;
    const std::int64_t in_cluster = pos % cluster_size_;
    const auto n = static_cast<std::size_t>(std::min<std::int64_t>(cluster_size_ - in_cluster,
                                                                   static_cast<std::int64_t>(bytes - done)));
    const Entry entry = map_[static_cast<std::size_t>(cluster)];
    int ret = 0;
    switch (entry.state) {
      case State::kZero:
        qiov.memset(done, 0, n);
        break;
      case State::kUnallocated:
        ret = co_await read_backing(bs, pos, static_cast<std::int64_t>(n), qiov, done);
        break;
      case State::kData: {
        engine::IoVector part;
        part.concat(qiov, done, n);
        ret = co_await engine::bdrv_co_preadv(*bs.file, entry.host_offset + in_cluster, n, part, 0);
        break;
      }
    }
    if (ret < 0) co_return ret;
    done += n;
  }
  co_return 0;
}

sim::Task<int> CowFormat::read_cluster(engine::BlockDriverState& bs, std::int64_t cluster,
                                       std::vector<std::uint8_t>& buf) {
  buf.assign(static_cast<std::size_t>(cluster_size_), 0);
  engine::IoVector whole(absl::MakeSpan(buf));
  co_return co_await co_preadv(bs, static_cast<std::uint64_t>(cluster * cluster_size_),
                               static_cast<std::uint64_t>(cluster_size_), whole, 0);
}

sim::Task<int> CowFormat::co_pwritev(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                     engine::IoVector& qiov, unsigned flags) {
  std::size_t done = 0;
  while (done < bytes) {
    const auto pos = static_cast<std::int64_t>(offset + done);
    const std::int64_t cluster = pos / cluster_size_;
    const std::int64_t in_cluster = pos % cluster_size_;
    const auto n = static_cast<std::size_t>(std::min<std::int64_t>(cluster_size_ - in_cluster,
                                                                   static_cast<std::int64_t>(bytes - done)));
    Entry& entry = map_[static_cast<std::size_t>(cluster)];
    int ret;
    if (entry.state == State::kData) {
      engine::IoVector part;
      part.concat(qiov, done, n);
      ret = co_await engine::bdrv_co_pwritev(*bs.file, entry.host_offset + in_cluster, n, &part, flags);
    } else {
      // Allocate: the whole cluster is written, the part not covered by this
      // request copied from what the guest saw before (backing file or zeroes).
      co_await lock_.lock();
      if (entry.state == State::kData) {
        lock_.unlock();
        continue;  // allocated meanwhile: write in place on the next pass
      }
      std::vector<std::uint8_t> buf;
      ret = co_await read_cluster(bs, cluster, buf);
      if (ret == 0) {
        qiov.copy_to(done, buf.data() + in_cluster, n);
        const std::int64_t host = next_host_offset_;
        engine::IoVector whole(absl::MakeSpan(buf));
        ret = co_await engine::bdrv_co_pwritev(*bs.file, host, static_cast<std::uint64_t>(cluster_size_), &whole, flags);
        if (ret == 0) {
          next_host_offset_ += cluster_size_;
          ++allocations_;
          entry = Entry{State::kData, host};
        }
      }
      lock_.unlock();
    }
    if (ret < 0) co_return ret;
    done += n;
  }
  co_return 0;
}

sim::Task<int> CowFormat::co_pwrite_zeroes(engine::BlockDriverState&, std::int64_t offset, int bytes, unsigned) {
  // Only whole clusters can become zero clusters; the engine falls back otherwise.
  if (offset % cluster_size_ != 0 || bytes % cluster_size_ != 0) co_return -ENOTSUP;
  for (std::int64_t c = offset / cluster_size_; c < (offset + bytes) / cluster_size_; ++c) {
    map_[static_cast<std::size_t>(c)] = Entry{State::kZero, 0};
  }
  co_return 0;
}

sim::Task<int> CowFormat::co_pdiscard(engine::BlockDriverState&, std::int64_t offset, int bytes) {
  if (offset % cluster_size_ != 0 || bytes % cluster_size_ != 0) co_return -ENOTSUP;
  for (std::int64_t c = offset / cluster_size_; c < (offset + bytes) / cluster_size_; ++c) {
    map_[static_cast<std::size_t>(c)] = Entry{};
  }
  co_return 0;
}

sim::Task<std::int64_t> CowFormat::co_get_block_status(engine::BlockDriverState& bs, std::int64_t sector_num,
                                                       int nb_sectors, int* pnum, engine::BlockDriverState** file) {
  const std::int64_t sectors_per_cluster = cluster_size_ / BDRV_SECTOR_SIZE;
  const std::int64_t first = sector_num / sectors_per_cluster;
  const Entry head = map_[static_cast<std::size_t>(first)];
  // Extend over following clusters in the same state (contiguous on the host for data).
  std::int64_t n = (first + 1) * sectors_per_cluster - sector_num;
  for (std::int64_t c = first + 1; n < nb_sectors && c < static_cast<std::int64_t>(map_.size()); ++c) {
    const Entry e = map_[static_cast<std::size_t>(c)];
    const bool same = e.state == head.state &&
                      (head.state != State::kData || e.host_offset == head.host_offset + (c - first) * cluster_size_);
    if (!same) break;
    n += sectors_per_cluster;
  }
  *pnum = static_cast<int>(std::min<std::int64_t>(n, nb_sectors));
  switch (head.state) {
    case State::kZero: co_return engine::BDRV_BLOCK_ZERO;
    case State::kUnallocated: co_return 0;
    case State::kData:
      *file = bs.file->bs;
      co_return engine::BDRV_BLOCK_DATA | engine::BDRV_BLOCK_OFFSET_VALID |
          (head.host_offset + (sector_num % sectors_per_cluster) * BDRV_SECTOR_SIZE);
  }
  co_return 0;
}

}  // namespace drivers
