// The read path: padding to the node's alignment, serialisation and
// copy-on-read, fragmentation by max_transfer, zeroes past the end of the image.
#include <algorithm>
#include <memory>
#include <vector>

#include "engine/driver_calls.h"
#include "engine/fixes.h"
#include "engine/io.h"
#include "engine/io_internal.h"
#include "engine/mutations.h"
#include "sim/invariant.h"
#include "sim/probe.h"
#include "sim/world.h"

namespace engine {

namespace {
// Code probes (sim/probe.h).
const sim::Probe kProbeCorInactive("read.copy_on_read_inactive", "copy-on-read on an inactive node (cor-inactive's site)");
const sim::Probe kProbeReadPadded("read.padded", "an unaligned read was widened with head or tail buffers");
const sim::Probe kProbeReadFragments("read.fragments", "a read split by max_transfer or by the node's end");
const sim::Probe kProbeReadPastEnd("read.past_end_zeroes", "a read past the node's end filled with zeroes");
const sim::Probe kProbeCorCopied("read.copy_on_read_copied", "copy-on-read copied unallocated clusters up");
const sim::Probe kProbeCorAllocated("read.copy_on_read_allocated", "copy-on-read found the range allocated and read it normally");
const sim::Probe kProbeNoSerialising("read.no_serialising", "a read skipped the wait for serialising requests (BDRV_REQ_NO_SERIALISING)");
const sim::Probe kProbeNoSerialisingReopens("read.no_serialising_past_serialising",
                                            "a BDRV_REQ_NO_SERIALISING read overlaps another coroutine's serialising request past its wait (serialising-wait-reopened's site)");
const sim::Probe kProbeCorZeroes("read.copy_on_read_zero_write", "copy-on-read wrote the copied clusters as a zero write");
const sim::Probe kProbeCorNode("read.copy_on_read_node", "a read became copy-on-read because its node has copy-on-read on");
const sim::Probe kProbeReadCollapsed("read.padded_collapsed", "a padded read collapsed its vector to fit IOV_MAX");
const sim::Probe kProbeCorOverMaxTransfer("read.copy_on_read_over_max_transfer",
                                          "copy-on-read copied a cluster range longer than the node's max_transfer at once");
}  // namespace


const sim::Probe kProbePaddedPastMaxIov("request.padded_past_max_iov",
                                        "padding a read or write gave more buffers than max_iov (padded-max-iov's site)");

std::int64_t bdrv_get_cluster_size(BlockDriverState& bs) {
  BlockDriverInfo bdi;
  int ret = bdrv_get_info(bs, &bdi);
  if (ret < 0 || bdi.cluster_size == 0) return bs.bl.request_alignment;
  return bdi.cluster_size;
}

void bdrv_round_to_clusters(BlockDriverState& bs, std::int64_t offset, std::uint64_t bytes,
                            std::int64_t* cluster_offset, std::uint64_t* cluster_bytes) {
  BlockDriverInfo bdi;
  if (bdrv_get_info(bs, &bdi) < 0 || bdi.cluster_size == 0) {
    *cluster_offset = offset;
    *cluster_bytes = bytes;
    return;
  }
  const std::int64_t c = bdi.cluster_size;
  *cluster_offset = align_down(offset, c);
  *cluster_bytes = static_cast<std::uint64_t>(align_up(offset - *cluster_offset + static_cast<std::int64_t>(bytes), c));
}

namespace {

// Copy-on-read: read whole clusters through a bounce buffer (the caller's buffer
// may change under us in zero-copy guest I/O), write them back to this node, then
// hand the caller its part. All-zero clusters are written as zero writes when the
// driver can.
sim::Task<int> copy_on_read_in_pieces(BdrvChild& child, std::int64_t offset, std::uint64_t bytes, IoVector& qiov);

sim::Task<int> bdrv_co_do_copy_on_readv(BdrvChild& child, std::int64_t offset, std::uint64_t bytes, IoVector& qiov) {
  // The reference copies the whole cluster range in one request (cor-max-transfer).
  if (fixed(Fix::kCopyOnReadMaxTransfer)) co_return co_await copy_on_read_in_pieces(child, offset, bytes, qiov);
  BlockDriverState& bs = *child.bs;
  std::int64_t cluster_offset = 0;
  std::uint64_t cluster_bytes = 0;
  bdrv_round_to_clusters(bs, offset, bytes, &cluster_offset, &cluster_bytes);
  // Where cor-max-transfer happens (the hunter's labels ask whether a run met it).
  if (bs.bl.max_transfer != 0 && cluster_bytes > bs.bl.max_transfer) kProbeCorOverMaxTransfer.hit();

  BlockBuffer bounce = qemu_try_blockalign(bs, cluster_bytes);
  if (!bounce) co_return mutated(Mutant::kCorEnomemSuccess) ? 0 : -ENOMEM;
  IoVector bounce_qiov(absl::MakeSpan(bounce.data(), cluster_bytes));
  int ret = co_await bdrv_driver_preadv(bs, static_cast<std::uint64_t>(cluster_offset), cluster_bytes, bounce_qiov, 0);
  if (ret < 0) co_return ret;

  if (bs.drv()->implements(kCoPwriteZeroes) && bounce_qiov.is_zero()) {
    kProbeCorZeroes.hit();
    ret = co_await bdrv_co_do_pwrite_zeroes(bs, cluster_offset, static_cast<int>(cluster_bytes), 0);
  } else {
    // The data on disk does not change: no flush needed, even in writethrough mode.
    ret = co_await bdrv_driver_pwritev(bs, static_cast<std::uint64_t>(cluster_offset), cluster_bytes, bounce_qiov, 0);
  }
  // A deliberate copy-on-read must not hide a failed write: report it.
  if (ret < 0) co_return ret;

  const auto skip = static_cast<std::size_t>(offset - cluster_offset);
  qiov.copy_from(0, bounce.data() + skip, static_cast<std::size_t>(bytes));
  co_return ret;
}

// The fix of cor-max-transfer (QEMU 2.11): the cluster range in pieces of at
// most max_transfer; each piece is copied up through the bounce buffer if it is
// not allocated, or read straight into the caller's vector if it is.
sim::Task<int> copy_on_read_in_pieces(BdrvChild& child, std::int64_t offset, std::uint64_t bytes, IoVector& qiov) {
  BlockDriverState& bs = *child.bs;
  std::int64_t cluster_offset = 0;
  std::uint64_t cluster_bytes = 0;
  bdrv_round_to_clusters(bs, offset, bytes, &cluster_offset, &cluster_bytes);
  const std::int64_t max_transfer = min_non_zero<std::int64_t>(bs.bl.max_transfer, BDRV_REQUEST_MAX_BYTES);
  auto skip = static_cast<std::uint64_t>(offset - cluster_offset);
  std::uint64_t progress = 0;  // bytes of the caller's vector filled
  BlockBuffer bounce =
      qemu_try_blockalign(bs, std::min<std::uint64_t>(cluster_bytes, static_cast<std::uint64_t>(max_transfer)));
  if (!bounce) co_return -ENOMEM;
  while (cluster_bytes > 0) {
    const std::int64_t piece = std::min<std::int64_t>(static_cast<std::int64_t>(cluster_bytes), max_transfer);
    // The reference's bdrv_is_allocated takes whole sectors (QEMU's fix came
    // with byte-based block status): ask for the sectors around the piece,
    // and take the answer from the piece's first byte on.
    const std::int64_t ask_from = cluster_offset / BDRV_SECTOR_SIZE * BDRV_SECTOR_SIZE;
    const std::int64_t ask_to =
        std::min((cluster_offset + piece + BDRV_SECTOR_SIZE - 1) / BDRV_SECTOR_SIZE * BDRV_SECTOR_SIZE,
                 ask_from + (static_cast<std::int64_t>(BDRV_REQUEST_MAX_SECTORS) << BDRV_SECTOR_BITS));
    std::int64_t pnum = 0;
    int ret = co_await bdrv_co_is_allocated(bs, ask_from, ask_to - ask_from, &pnum);
    pnum = std::min(pnum - (cluster_offset - ask_from), piece);
    // An error asking is taken as unallocated: the read will say what is wrong.
    if (ret < 0) pnum = piece;
    SIM_CHECK("copy_on_read.piece_past_skip", skip < static_cast<std::uint64_t>(pnum),
              "copy-on-read piece ends before the guest's data starts");
    const std::uint64_t mine = std::min<std::uint64_t>(static_cast<std::uint64_t>(pnum) - skip, bytes - progress);
    if (ret <= 0) {
      IoVector bounce_qiov(absl::MakeSpan(bounce.data(), static_cast<std::size_t>(pnum)));
      ret = co_await bdrv_driver_preadv(bs, static_cast<std::uint64_t>(cluster_offset), static_cast<std::uint64_t>(pnum),
                                        bounce_qiov, 0);
      if (ret < 0) co_return ret;
      if (bs.drv()->implements(kCoPwriteZeroes) && bounce_qiov.is_zero()) {
        ret = co_await bdrv_co_do_pwrite_zeroes(bs, cluster_offset, static_cast<int>(pnum), 0);
      } else {
        ret = co_await bdrv_driver_pwritev(bs, static_cast<std::uint64_t>(cluster_offset), static_cast<std::uint64_t>(pnum),
                                           bounce_qiov, 0);
      }
      if (ret < 0) co_return ret;
      qiov.copy_from(static_cast<std::size_t>(progress), bounce.data() + skip, static_cast<std::size_t>(mine));
    } else {
      IoVector part;
      part.concat(qiov, static_cast<std::size_t>(progress), static_cast<std::size_t>(mine));
      ret = co_await bdrv_driver_preadv(bs, static_cast<std::uint64_t>(offset) + progress, mine, part, 0);
      if (ret < 0) co_return ret;
    }
    cluster_offset += pnum;
    cluster_bytes -= static_cast<std::uint64_t>(pnum);
    progress += mine;
    skip = 0;
  }
  co_return 0;
}

}  // namespace

namespace {

// Copy-on-read after the serialising wait: 1 when the range was not allocated
// and has been copied up (the caller's vector filled), 0 when it was allocated
// and the caller reads it normally, or an error.
sim::Task<int> copy_on_read_if_unallocated(BdrvChild& child, std::int64_t offset, std::uint64_t bytes, IoVector& qiov) {
  BlockDriverState& bs = *child.bs;
  // The reference copies up even on an inactive node (cor-inactive).
  if (bs.open_flags & BDRV_O_INACTIVE) kProbeCorInactive.hit();
  if (fixed(Fix::kCorInactive) && (bs.open_flags & BDRV_O_INACTIVE)) co_return 0;
  const std::int64_t start = align_down(offset, BDRV_SECTOR_SIZE);
  const std::int64_t end = align_up(offset + static_cast<std::int64_t>(bytes), BDRV_SECTOR_SIZE);
  std::int64_t pnum = 0;
  int ret = co_await bdrv_co_is_allocated(bs, start, end - start, &pnum);
  if (ret < 0) co_return ret;
  if (ret != 0 && pnum == end - start) {
    kProbeCorAllocated.hit();
    co_return 0;
  }
  kProbeCorCopied.hit();
  ret = co_await bdrv_co_do_copy_on_readv(child, offset, bytes, qiov);
  co_return ret < 0 ? ret : 1;
}

// A read that max_transfer splits, or that runs past the end of the image
// (the part past the end reads as zeroes without asking the driver).
sim::Task<int> preadv_fragments(BlockDriverState& bs, std::int64_t offset, std::int64_t whole, std::int64_t max_bytes,
                                std::int64_t max_transfer, IoVector& qiov) {
  std::int64_t remaining = whole;
  while (remaining > 0) {
    const std::int64_t done = whole - remaining;
    std::int64_t num;
    int ret;
    if (max_bytes > 0) {
      num = std::min(remaining, std::min(max_bytes, max_transfer));
      SIM_CHECK("aligned_preadv.fragment_nonzero", num > 0, "read fragment of zero bytes");
      IoVector part;
      part.concat(qiov, static_cast<std::size_t>(done), static_cast<std::size_t>(num));
      ret = co_await bdrv_driver_preadv(bs, static_cast<std::uint64_t>(offset + done), static_cast<std::uint64_t>(num),
                                        part, 0);
      max_bytes -= num;
    } else {
      num = remaining;
      kProbeReadPastEnd.hit();
      qiov.memset(static_cast<std::size_t>(done), 0, static_cast<std::size_t>(num));
      ret = 0;
    }
    if (ret < 0) co_return ret;
    remaining -= num;
  }
  co_return 0;
}

// Bounce buffers around the caller's vector that widen an unaligned read to
// the node's alignment (QEMU's BdrvRequestPadding). Allocated only for such
// reads: an aligned read in flight keeps nothing of it.
struct ReadPadding {
  BlockBuffer head_buf;
  BlockBuffer tail_buf;
  IoVector local;
  // With Fix::kPaddedMaxIov: the caller's leading bytes read into one buffer.
  std::vector<std::uint8_t> collapsed_buf;
  std::size_t collapsed = 0;
};

// Widens [offset, offset + bytes) to `align`; nullptr when already aligned.
std::unique_ptr<ReadPadding> pad_read(const BlockDriverState& bs, std::int64_t& offset, std::uint64_t& bytes,
                                      std::int64_t align, IoVector& qiov) {
  const std::int64_t head = offset & (align - 1);
  const std::int64_t tail = (offset + static_cast<std::int64_t>(bytes)) & (align - 1);
  if (head == 0 && tail == 0) return nullptr;
  auto pad = std::make_unique<ReadPadding>();
  if (head != 0) {
    pad->head_buf = qemu_blockalign(bs, static_cast<std::size_t>(align));
    pad->local.add(absl::MakeSpan(pad->head_buf.data(), static_cast<std::size_t>(head)));
    bytes += static_cast<std::uint64_t>(head);
    offset -= head;
  }
  if (pad->local.count() + qiov.count() + (tail != 0 ? 1 : 0) > static_cast<std::size_t>(bs.bl.max_iov)) {
    kProbePaddedPastMaxIov.hit();
  }
  if (fixed(Fix::kPaddedMaxIov)) {
    pad->collapsed = concat_collapsing(pad->local, qiov, tail != 0 ? 1 : 0, static_cast<std::size_t>(bs.bl.max_iov),
                                       pad->collapsed_buf);
  } else {
    // The reference: head + the caller's buffers + tail, whatever max_iov says.
    pad->local.concat(qiov, 0, qiov.size());
  }
  if (tail != 0) {
    pad->tail_buf = qemu_blockalign(bs, static_cast<std::size_t>(align));
    pad->local.add(absl::MakeSpan(pad->tail_buf.data(), static_cast<std::size_t>(align - tail)));
    bytes = static_cast<std::uint64_t>(round_up(static_cast<std::int64_t>(bytes), align));
  }
  return pad;
}

}  // namespace

// The rare paths (copy-on-read, fragments) are coroutines of their own, so the
// frame a plain read keeps while in flight stays small.
sim::Task<int> bdrv_aligned_preadv(BdrvChild& child, BdrvTrackedRequest& req, std::int64_t offset,
                                   std::uint64_t bytes, std::int64_t align, IoVector& qiov, unsigned flags) {
  BlockDriverState& bs = *child.bs;
  SIM_CHECK("aligned_preadv.align_pow2", is_power_of_2(static_cast<std::uint64_t>(align)),
            "alignment must be a power of two");
  SIM_CHECK("aligned_preadv.offset_aligned", (offset & (align - 1)) == 0, "unaligned offset reached bdrv_aligned_preadv");
  SIM_CHECK("aligned_preadv.bytes_aligned", (static_cast<std::int64_t>(bytes) & (align - 1)) == 0,
            "unaligned length reached bdrv_aligned_preadv");
  SIM_CHECK("aligned_preadv.qiov_size", bytes == qiov.size(), "read vector size differs from the request");
  SIM_CHECK("aligned_preadv.io_allowed", (bs.open_flags & BDRV_O_NO_IO) == 0, "I/O on a node opened without I/O");
  SIM_CHECK("aligned_preadv.flags", (flags & ~(BDRV_REQ_NO_SERIALISING | BDRV_REQ_COPY_ON_READ)) == 0,
            "unsupported read flags");
  const std::int64_t max_transfer = max_transfer_for(bs, align);

  if (flags & BDRV_REQ_COPY_ON_READ) {
    // Touching the same cluster counts as an overlap: the read and the write of
    // copy-on-read are atomic against guest writes and other allocating writes.
    mark_request_serialising(req, static_cast<std::uint64_t>(bdrv_get_cluster_size(bs)));
  }
  if ((flags & BDRV_REQ_NO_SERIALISING) && overlaps_serialising_past_wait(req)) kProbeNoSerialisingReopens.hit();
  if (!(flags & BDRV_REQ_NO_SERIALISING)) {
    co_await wait_serialising_requests(req);
  } else if (fixed(Fix::kNoSerialisingWaits)) {
    co_await wait_serialising_requests(req, /*others_only=*/true);
  } else {
    kProbeNoSerialising.hit();
    sim::World::current().emit_ids(sim::EventKind::kNoSerialising, req.co->id(), req.id, 0, 0, 0, 0, bs.trace_label());
  }

  if (flags & BDRV_REQ_COPY_ON_READ) {
    const int copied = co_await copy_on_read_if_unallocated(child, offset, bytes, qiov);
    if (copied != 0) co_return copied < 0 ? copied : 0;
  }

  const std::int64_t total_bytes = bdrv_getlength(bs);
  if (total_bytes < 0) co_return static_cast<int>(total_bytes);
  const std::int64_t max_bytes = round_up(std::max<std::int64_t>(0, total_bytes - offset), align);
  const auto whole = static_cast<std::int64_t>(bytes);
  if (whole > max_bytes || whole > max_transfer) {
    kProbeReadFragments.hit();
    co_return co_await preadv_fragments(bs, offset, whole, max_bytes, max_transfer, qiov);
  }
  const int ret = co_await bdrv_driver_preadv(bs, static_cast<std::uint64_t>(offset), bytes, qiov, 0);
  co_return ret < 0 ? ret : 0;
}

sim::Task<int> bdrv_co_preadv(BdrvChild& child, std::int64_t offset, std::uint64_t bytes, IoVector& qiov,
                              unsigned flags) {
  BlockDriverState& bs = *child.bs;
  if (bs.drv() == nullptr) co_return -ENOMEDIUM;
  int ret = bdrv_check_byte_request(bs, offset, bytes);
  if (ret < 0) co_return ret;
  SIM_CHECK("co_preadv.qiov_size", qiov.size() == bytes, "read vector size differs from the request");

  bdrv_inc_in_flight(bs);
  // No copy-on-read for reads that must not serialise (a write's own RMW reads).
  if (bs.copy_on_read > 0 && !(flags & BDRV_REQ_NO_SERIALISING) && !(flags & BDRV_REQ_COPY_ON_READ)) {
    kProbeCorNode.hit();
    flags |= BDRV_REQ_COPY_ON_READ;
  }

  const std::int64_t align = bs.bl.request_alignment;
  const std::unique_ptr<ReadPadding> pad = pad_read(bs, offset, bytes, align, qiov);
  if (pad) kProbeReadPadded.hit();
  BdrvTrackedRequest req;
  static sim::TraceLabel kName("bdrv_co_preadv");
  co_await tracked_request_begin(req, bs, offset, bytes, TrackedType::kRead, kName);
  ret = co_await bdrv_aligned_preadv(child, req, offset, bytes, align, pad ? pad->local : qiov, flags);
  if (pad && pad->collapsed > 0) kProbeReadCollapsed.hit();
  if (pad && pad->collapsed > 0 && ret >= 0) qiov.copy_from(0, pad->collapsed_buf.data(), pad->collapsed);
  co_await tracked_request_end(req, ret);
  bdrv_dec_in_flight(bs);
  co_return ret;
}

sim::Task<int> bdrv_co_readv(BdrvChild& child, std::int64_t sector_num, int nb_sectors, IoVector& qiov) {
  if (nb_sectors < 0 || nb_sectors > BDRV_REQUEST_MAX_SECTORS) co_return -EINVAL;
  co_return co_await bdrv_co_preadv(child, sector_num << BDRV_SECTOR_BITS,
                                    static_cast<std::uint64_t>(nb_sectors) << BDRV_SECTOR_BITS, qiov, 0);
}

}  // namespace engine
