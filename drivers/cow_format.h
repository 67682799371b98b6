// cow: a clustered copy-on-write format with an optional backing file, a small
// cousin of qcow2.
//
// Each guest cluster is unallocated (reads through to the backing file, or
// zeroes without one), zero, or data in a host cluster of the file child. The
// file holds a header (cluster 0), the cluster table (one 8-byte entry per guest
// cluster), then data clusters. An allocating write copies the untouched part of
// the cluster from the backing file, writes the data, flushes the file, and only
// then writes the table entry: after a crash the table never points at data that
// did not reach the disk. With `data_file` the data lives in a second child at
// the guest's offsets, and the file keeps only the metadata. `unsafe_metadata_order` drops that flush, which is the
// bug the durability oracle must catch. create() writes an empty image; open()
// reads the table back (as after a crash).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/block_driver.h"
#include "sim/co_mutex.h"

namespace drivers {

struct CowOptions {
  std::int64_t virtual_size = 0;
  std::int64_t cluster_size = 65536;
  bool unsafe_metadata_order = false;
  bool compressed = false;  // accept compressed writes (stored as whole clusters)
  // Data in a second child, "data-file", at the guest offset (qcow2's external
  // data file in raw mode); the file holds only the header and the table. The
  // node then has two children it writes to.
  bool data_file = false;
};

class CowFormat final : public engine::BlockDriver {
 public:
  static constexpr std::int64_t kMinClusterSize = 512;
  static constexpr std::int64_t kMaxClusterSize = 2 * 1024 * 1024;
  static constexpr std::uint64_t kMagic = 0x57434d49534b4c42ULL;  // "BLKSIMCW"

  explicit CowFormat(CowOptions options);
  CowFormat(std::int64_t virtual_size, std::int64_t cluster_size)
      : CowFormat(CowOptions{virtual_size, cluster_size, false, false, false}) {}

  // The bytes of file an image of these options needs at most.
  static std::int64_t file_size_needed(const CowOptions& options);

  std::string_view format_name() const override { return "cow"; }
  std::uint32_t ops() const override;
  std::int64_t getlength(const engine::BlockDriverState&) const override { return options_.virtual_size; }
  sim::Task<int> co_preadv(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                           engine::IoVector& qiov, unsigned flags) override;
  sim::Task<int> co_pwritev(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                            engine::IoVector& qiov, unsigned flags) override;
  sim::Task<int> co_pwritev_compressed(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                                       engine::IoVector& qiov) override;
  sim::Task<int> co_pwrite_zeroes(engine::BlockDriverState& bs, std::int64_t offset, int bytes,
                                  unsigned flags) override;
  sim::Task<int> co_pdiscard(engine::BlockDriverState& bs, std::int64_t offset, int bytes) override;
  sim::Task<std::int64_t> co_get_block_status(engine::BlockDriverState& bs, std::int64_t sector_num, int nb_sectors,
                                              int* pnum, engine::BlockDriverState** file) override;
  void refresh_limits(engine::BlockDriverState& bs) override;
  int get_info(engine::BlockDriverState& bs, engine::BlockDriverInfo* bdi) override;

  // Coroutine forms and sync wrappers (from outside any coroutine).
  sim::Task<int> co_create(engine::BlockDriverState& bs);
  sim::Task<int> co_open(engine::BlockDriverState& bs);
  int create(engine::BlockDriverState& bs);
  int open(engine::BlockDriverState& bs);

  enum class State : std::uint8_t { kUnallocated, kZero, kData };
  State cluster_state(std::int64_t cluster) const { return map_[static_cast<std::size_t>(cluster)].state; }
  std::int64_t cluster_size() const { return options_.cluster_size; }
  std::uint64_t allocations() const { return allocations_; }

 private:
  struct Entry {
    State state = State::kUnallocated;
    std::int64_t host_offset = 0;  // for kData
    bool compressed = false;
    bool in_data_file = false;
  };
  // The part of a request at `done` bytes in that falls in one cluster.
  struct Piece {
    std::int64_t pos;
    std::int64_t cluster;
    std::int64_t in_cluster;
    std::size_t bytes;
  };
  Piece piece_at(std::uint64_t offset, std::size_t done, std::uint64_t bytes) const;
  static std::uint64_t encode(const Entry& e);
  static Entry decode(std::uint64_t raw);
  sim::Task<int> write_entry(engine::BlockDriverState& bs, std::int64_t cluster);
  sim::Task<int> write_entry(engine::BlockDriverState& bs, std::int64_t cluster, Entry entry);
  sim::Task<int> read_cluster(engine::BlockDriverState& bs, std::int64_t cluster, std::vector<std::uint8_t>& buf);
  // What the guest sees of [offset, offset + bytes): co_preadv's work, also
  // the copy-on-write of a cluster's rest. Not the engine's call, so the
  // driver contract (the node's own limits) does not judge it; what it asks
  // below goes through the engine, which splits it for the child's.
  sim::Task<int> read_guest(engine::BlockDriverState& bs, std::uint64_t offset, std::uint64_t bytes,
                            engine::IoVector& qiov);
  sim::Task<int> read_backing(engine::BlockDriverState& bs, std::int64_t offset, std::int64_t bytes,
                              engine::IoVector& qiov, std::size_t qiov_offset);
  sim::Task<int> allocate(engine::BlockDriverState& bs, std::int64_t cluster, std::int64_t in_cluster,
                          engine::IoVector& qiov, std::size_t qiov_offset, std::size_t n, unsigned flags,
                          bool compressed);
  std::int64_t table_offset(std::int64_t cluster) const { return options_.cluster_size + cluster * 8; }
  // Where data clusters live: the data-file child, or the file.
  engine::BdrvChild& data_child(engine::BlockDriverState& bs) const;

  CowOptions options_;
  std::int64_t table_clusters_;
  std::int64_t data_start_;
  std::vector<Entry> map_;
  std::int64_t next_host_offset_;
  std::uint64_t allocations_ = 0;
  sim::CoMutex lock_;  // serialises cluster allocation and table updates
};

}  // namespace drivers
