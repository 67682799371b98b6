// Behaviour 10: driver dispatch styles, io_plug, vmstate, aio cancel, ioctl,
// sync wrappers and error codes.
#include <catch2/catch.hpp>

#include "engine/fixes.h"
#include "engine/errors.h"
#include "engine/io.h"
#include "graph.h"

using testing::all_equal;
using testing::Graph;
using namespace engine;

TEST_CASE("driver styles: sector coroutines and callbacks move the same data as byte coroutines") {
  for (auto style : {drivers::MemConfig::Style::kBytes, drivers::MemConfig::Style::kSectors,
                     drivers::MemConfig::Style::kCallbacks}) {
    drivers::MemConfig cfg = Graph::fast();
    cfg.style = style;
    Graph g;
    auto& bs = g.mem("d", 65536, cfg);
    auto& child = g.root(bs);
    REQUIRE(g.write(child, 700, 3000, 0x3c) == 0);  // unaligned: RMW for 512-byte drivers
    auto data = g.read(child, 0, 8192);
    CHECK(all_equal(data, 0, 700, 0));
    CHECK(all_equal(data, 700, 3700, 0x3c));
    CHECK(all_equal(data, 3700, 8192, 0));
    CHECK(g.idle(bs));
  }
}

TEST_CASE("callback style: a request the driver cannot submit fails with -EIO") {
  drivers::MemConfig cfg = Graph::fast();
  cfg.style = drivers::MemConfig::Style::kCallbacks;
  Graph g;
  auto& bs = g.mem("d", 65536, cfg);
  auto& child = g.root(bs);
  g.mem_driver().fail_next_submission();
  int ret = 0;
  g.read(child, 0, 512, &ret);
  CHECK(ret == -EIO);
  g.mem_driver().fail_next_submission();
  CHECK(g.write(child, 0, 512, 1) == -EIO);
  CHECK(g.idle(bs));
}

TEST_CASE("emulated FUA on sector and callback drivers is a flush after the write") {
  for (auto style : {drivers::MemConfig::Style::kSectors, drivers::MemConfig::Style::kCallbacks}) {
    drivers::MemConfig cfg = Graph::fast();
    cfg.style = style;
    Graph g;
    auto& bs = g.mem("d", 65536, cfg);
    auto& child = g.root(bs);
    REQUIRE(g.write(child, 0, 512, 1) == 0);
    REQUIRE(g.write(child, 512, 512, 2, BDRV_REQ_FUA) == 0);
    CHECK(g.mem_driver().flushes() == 1);
  }
}

TEST_CASE("io_plug and io_unplug nest over the subtree, and the driver sees only the outermost level") {
  drivers::MemConfig cfg = Graph::fast();
  cfg.plug = true;
  Graph g;
  auto& file = g.mem("file", 65536, cfg);
  auto& raw = g.raw("raw", file);
  bdrv_io_plug(raw);
  bdrv_io_plug(raw);
  CHECK(file.io_plugged == 2);
  CHECK(raw.io_plugged == 2);
  CHECK(g.mem_driver().plugs() == 1);
  bdrv_io_unplug(raw);
  CHECK(g.mem_driver().unplugs() == 0);
  bdrv_io_unplug(raw);
  CHECK(g.mem_driver().unplugs() == 1);
  CHECK(file.io_plugged == 0);
  CHECK_THROWS_AS(bdrv_io_unplug(raw), sim::InvariantViolation);
}

TEST_CASE("vmstate: through the driver, or through the file child, and -ENOTSUP otherwise") {
  drivers::MemConfig cfg = Graph::fast();
  cfg.vmstate = true;
  Graph g;
  auto& file = g.mem("file", 65536, cfg);
  auto& raw = g.raw("raw", file);
  std::vector<std::uint8_t> state(3000, 0x7e);
  CHECK(bdrv_save_vmstate(raw, state.data(), 100, 3000) == 3000);
  std::vector<std::uint8_t> back(3000, 0);
  CHECK(bdrv_load_vmstate(raw, back.data(), 100, 3000) == 3000);
  CHECK(back == state);
  // Unsaved parts of the area read as zeroes; past the area is the driver's -EINVAL.
  std::vector<std::uint8_t> unsaved(10, 0xff);
  CHECK(bdrv_load_vmstate(raw, unsaved.data(), 3095, 10) == 10);
  CHECK(unsaved == std::vector<std::uint8_t>{0x7e, 0x7e, 0x7e, 0x7e, 0x7e, 0, 0, 0, 0, 0});
  CHECK(bdrv_load_vmstate(raw, back.data(), drivers::MemDriver::kVmstateBytes - 10, 11) == -EINVAL);
  auto& plain = g.mem("plain", 65536);
  CHECK(bdrv_save_vmstate(plain, state.data(), 0, 10) == -ENOTSUP);
  plain.eject();
  CHECK(bdrv_save_vmstate(plain, state.data(), 0, 10) == -ENOMEDIUM);
}

TEST_CASE("ioctl: coroutine or callback drivers, -ENOTSUP without either or when submission fails") {
  drivers::MemConfig co = Graph::fast();
  co.ioctl = drivers::MemConfig::Ioctl::kCoroutine;
  drivers::MemConfig cb = Graph::fast();
  cb.ioctl = drivers::MemConfig::Ioctl::kCallback;
  Graph g;
  auto& a = g.mem("a", 65536, co);
  auto& b = g.mem("b", 65536, cb);
  auto& none = g.mem("none", 65536);
  auto call = [&](BlockDriverState& bs) {
    int ret = 12345;
    auto body = [](BlockDriverState& node, int& out) -> sim::Task<void> {
      out = co_await bdrv_co_ioctl(node, 0x1207, nullptr);
    };
    g.world.spawn(g.world.main_context(), "ioctl", body(bs, ret));
    g.world.run();
    return ret;
  };
  CHECK(call(a) == 0);
  CHECK(g.mem_driver(0).last_ioctl() == 0x1207);
  CHECK(call(b) == 0);
  CHECK(g.mem_driver(1).last_ioctl() == 0x1207);
  CHECK(call(none) == -ENOTSUP);
  g.mem_driver(1).fail_next_submission();
  CHECK(call(b) == -ENOTSUP);
  CHECK(g.mem_driver(0).ioctls() == 1);
  CHECK(g.mem_driver(1).ioctls() == 1);
}

namespace {
struct SlowOp {
  BlockCompletion done;
  bool cancelled = false;
};
void cancel_slow(BlockAIOCB* acb) { static_cast<SlowOp*>(acb->opaque)->cancelled = true; }
const AIOCBInfo kSlowInfo{cancel_slow, nullptr};
}  // namespace

TEST_CASE("aio cancel: async asks the request to stop, and sync polls until it has completed") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  SlowOp op;
  int result = 1;
  op.done = [&](int r) { result = r; };
  auto* acb = new BlockAIOCB{&kSlowInfo, &bs, 1, &op};
  // The "driver" completes 1 ms later, -ECANCELED if it was asked to stop.
  g.world.main_context().timer_add(1000000, "slow op", [&, acb] {
    op.done(op.cancelled ? -ECANCELED : 0);
    qemu_aio_unref(acb);
  });
  g.world.main_context().bh_schedule("cancel", [&, acb] {
    bdrv_aio_cancel(acb);
    // Returned only after the completion ran.
    CHECK(result == -ECANCELED);
  });
  g.world.run();
  CHECK(g.world.verdict().ok());
  CHECK(result == -ECANCELED);

  // Without cancel_async the request just completes normally.
  SlowOp plain;
  int plain_result = 1;
  plain.done = [&](int r) { plain_result = r; };
  const AIOCBInfo no_cancel{};
  auto* acb2 = new BlockAIOCB{&no_cancel, &bs, 1, &plain};
  g.world.main_context().timer_add(g.world.now_ns() + 1000, "plain op", [&, acb2] {
    plain.done(0);
    qemu_aio_unref(acb2);
  });
  bdrv_aio_cancel_async(acb2);
  g.world.run();
  CHECK(plain_result == 0);
}

TEST_CASE("sync wrappers return byte counts as the reference, and preadv/pwritev/pwrite_zeroes/pdiscard/flush") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  auto& child = g.root(bs);
  bs.open_flags |= BDRV_O_UNMAP;
  std::vector<std::uint8_t> buf(4096, 0x19);
  IoVector q(absl::MakeSpan(buf));
  CHECK(bdrv_pwritev(child, 0, q) == 4096);
  CHECK(bdrv_preadv(child, 0, q) == 4096);
  CHECK(bdrv_pwrite_zeroes(child, 0, 1024) == 0);
  CHECK(bdrv_pdiscard(bs, 1024, 1024) == 0);
  CHECK(bdrv_flush(bs) == 0);
  CHECK(all_equal(g.read(child, 0, 4096), 0, 2048, 0));
  CHECK(all_equal(g.read(child, 0, 4096), 2048, 4096, 0x19));
}

TEST_CASE("bdrv_flush from a coroutine is a checked invariant with the wrapper's name") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  auto body = [](BlockDriverState& node) -> sim::Task<void> {
    bdrv_flush(node);
    co_return;
  };
  g.world.spawn(g.world.main_context(), "misuse", body(bs));
  g.world.run();
  REQUIRE(g.world.verdict().kind == sim::Verdict::Kind::kInvariant);
  CHECK(g.world.verdict().id == "sync_wrapper.not_in_coroutine");
  CHECK(g.world.verdict().message.find("bdrv_flush called from a coroutine") != std::string::npos);
}

TEST_CASE("sector drivers with co_writev_flags take FUA themselves") {
  drivers::MemConfig cfg = Graph::fast();
  cfg.style = drivers::MemConfig::Style::kSectorsWithFlags;
  cfg.fua = true;
  Graph g;
  auto& bs = g.mem("d", 65536, cfg);
  auto& child = g.root(bs);
  REQUIRE(g.write(child, 0, 512, 1) == 0);
  REQUIRE(g.write(child, 0, 512, 2, BDRV_REQ_FUA) == 0);
  CHECK((g.mem_driver().last_write_flags() & BDRV_REQ_FUA) != 0);
  CHECK(g.mem_driver().flushes() == 0);
}

TEST_CASE("the coroutine sector API: bdrv_co_readv and bdrv_co_writev, -EINVAL for a bad count") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  auto& child = g.root(bs);
  int wret = 1, rret = 1, bad = 1;
  std::vector<std::uint8_t> out(1024, 0x4d);
  std::vector<std::uint8_t> in(1024, 0);
  auto body = [](BdrvChild& c, std::vector<std::uint8_t>& o, std::vector<std::uint8_t>& i, int& w, int& r,
                 int& b) -> sim::Task<void> {
    IoVector oq(absl::MakeSpan(o));
    IoVector iq(absl::MakeSpan(i));
    w = co_await bdrv_co_writev(c, 4, 2, oq);
    r = co_await bdrv_co_readv(c, 4, 2, iq);
    b = co_await bdrv_co_readv(c, 0, -1, iq);
  };
  g.world.spawn(g.world.main_context(), "sectors", body(child, out, in, wret, rret, bad));
  g.world.run();
  CHECK(wret == 0);
  CHECK(rret == 0);
  CHECK(bad == -EINVAL);
  CHECK(in == out);
}

TEST_CASE("an aligned read with an unaligned end pads only the tail") {
  drivers::MemConfig cfg = Graph::fast();
  cfg.limits.request_alignment = 4096;
  Graph g;
  auto& bs = g.mem("d", 65536, cfg);
  auto& child = g.root(bs);
  REQUIRE(g.write(child, 0, 8192, 0x2e) == 0);
  g.ops.clear();
  auto data = g.read(child, 4096, 100);
  CHECK(all_equal(data, 0, 100, 0x2e));
  REQUIRE(g.ops.size() == 1);
  CHECK(g.ops[0].offset == 4096);
  CHECK(g.ops[0].bytes == 4096);
}

namespace {
// A driver listing nothing optional: calling any unlisted operation is a bug.
class BareDriver final : public BlockDriver {
 public:
  std::string_view format_name() const override { return "bare"; }
  std::uint32_t ops() const override { return 0; }
  std::int64_t getlength(const BlockDriverState&) const override { return 0; }
};

template <typename T>
bool task_throws(sim::Task<T> task) {
  task.handle().resume();
  try {
    (void)task.result();
  } catch (const sim::InvariantViolation& e) {
    return std::string(e.what()).find("driver bare has no") == 0;
  }
  return false;
}
}  // namespace

TEST_CASE("calling an operation a driver does not list is a checked invariant") {
  Graph g;
  BareDriver drv;
  auto& bs = g.mem("d", 4096);
  IoVector q;
  BlockDriverInfo bdi;
  int pnum = 0;
  BlockDriverState* file = nullptr;
  CHECK(task_throws(drv.co_preadv(bs, 0, 0, q, 0)));
  CHECK(task_throws(drv.co_pwritev(bs, 0, 0, q, 0)));
  CHECK(task_throws(drv.co_readv(bs, 0, 0, q)));
  CHECK(task_throws(drv.co_writev(bs, 0, 0, q)));
  CHECK(task_throws(drv.co_writev_flags(bs, 0, 0, q, 0)));
  CHECK(task_throws(drv.co_pwrite_zeroes(bs, 0, 0, 0)));
  CHECK(task_throws(drv.co_pdiscard(bs, 0, 0)));
  CHECK(task_throws(drv.co_flush(bs)));
  CHECK(task_throws(drv.co_flush_to_os(bs)));
  CHECK(task_throws(drv.co_flush_to_disk(bs)));
  CHECK(task_throws(drv.co_get_block_status(bs, 0, 0, &pnum, &file)));
  CHECK(task_throws(drv.co_drain(bs)));
  CHECK(task_throws(drv.co_pwritev_compressed(bs, 0, 0, q)));
  CHECK(task_throws(drv.save_vmstate(bs, q, 0)));
  CHECK(task_throws(drv.load_vmstate(bs, q, 0)));
  CHECK(task_throws(drv.co_ioctl(bs, 0, nullptr)));
  CHECK(task_throws(drv.debug_event(bs, BlkdebugEvent::kPwritev)));
  CHECK_THROWS_AS(drv.aio_readv(bs, 0, q, 0, [](int) {}), sim::InvariantViolation);
  CHECK_THROWS_AS(drv.aio_writev(bs, 0, q, 0, [](int) {}), sim::InvariantViolation);
  CHECK_THROWS_AS(drv.aio_flush(bs, [](int) {}), sim::InvariantViolation);
  CHECK_THROWS_AS(drv.aio_pdiscard(bs, 0, 0, [](int) {}), sim::InvariantViolation);
  CHECK_THROWS_AS(drv.aio_ioctl(bs, 0, nullptr, [](int) {}), sim::InvariantViolation);
  CHECK_THROWS_AS(drv.refresh_limits(bs), sim::InvariantViolation);
  CHECK_THROWS_AS(drv.io_plug(bs), sim::InvariantViolation);
  CHECK_THROWS_AS(drv.io_unplug(bs), sim::InvariantViolation);
  CHECK_THROWS_AS(drv.get_info(bs, &bdi), sim::InvariantViolation);
  CHECK(drv.protocol_name().empty());
}

TEST_CASE("errno names in reports") {
  CHECK(errno_name(0) == "0");
  CHECK(errno_name(4096) == "4096");
  CHECK(errno_name(-EIO) == "-EIO");
  CHECK(errno_name(-ENOTSUP) == "-ENOTSUP");
  CHECK(errno_name(-ENOMEDIUM) == "-ENOMEDIUM");
  CHECK(errno_name(-EPERM) == "-EPERM");
  CHECK(errno_name(-EINVAL) == "-EINVAL");
  CHECK(errno_name(-ENOSPC) == "-ENOSPC");
  CHECK(errno_name(-ENOMEM) == "-ENOMEM");
  CHECK(errno_name(-EROFS) == "-EROFS");
  CHECK(errno_name(-EACCES) == "-EACCES");
  CHECK(errno_name(-9999) == "-9999");
}

TEST_CASE("block status helpers for pass-through drivers point at the file or the backing node") {
  Graph g;
  auto& file = g.mem("file", 65536);
  auto& backing = g.mem("backing", 65536);
  auto& raw = g.raw("raw", file);
  raw.attach_child("backing", backing, ChildRole::kBacking);
  int pnum = 0;
  BlockDriverState* where = nullptr;
  CHECK(bdrv_co_get_block_status_from_backing(raw, 3, 10, &pnum, &where) ==
        (BDRV_BLOCK_RAW | BDRV_BLOCK_OFFSET_VALID | (3 * 512)));
  CHECK(where == &backing);
  CHECK(pnum == 10);
  CHECK(bdrv_co_get_block_status_from_file(raw, 0, 4, &pnum, &where) == (BDRV_BLOCK_RAW | BDRV_BLOCK_OFFSET_VALID));
  CHECK(where == &file);
}

TEST_CASE("I/O vectors: concat skips whole parts before the offset and spans several") {
  std::vector<std::uint8_t> a(100, 1), b(100, 2), c(100, 3);
  IoVector src;
  src.add(absl::MakeSpan(a));
  src.add(absl::MakeSpan(b));
  src.add(absl::MakeSpan(c));
  IoVector part;
  part.concat(src, 150, 100);
  CHECK(part.size() == 100);
  CHECK(part.count() == 2);
  std::vector<std::uint8_t> out(100);
  part.copy_to(0, out.data(), 100);
  CHECK(all_equal(out, 0, 50, 2));
  CHECK(all_equal(out, 50, 100, 3));
  CHECK_FALSE(part.is_zero());
  CHECK_THROWS_AS(part.concat(src, 250, 100), sim::InvariantViolation);
}

TEST_CASE("I/O vectors: collapsing keeps a padded vector within its limit and the bytes in order") {
  std::vector<std::uint8_t> data(600);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i);
  IoVector src;
  for (std::size_t at = 0; at < data.size(); at += 100) src.add(absl::MakeSpan(data.data() + at, 100));
  std::vector<std::uint8_t> head(8, 0xee);
  std::vector<std::uint8_t> bounce;
  SECTION("within the limit: a plain concat") {
    IoVector dst;
    dst.add(absl::MakeSpan(head));
    CHECK(concat_collapsing(dst, src, 1, 8, bounce) == 0);
    CHECK(dst.count() == 7);
    CHECK(bounce.empty());
  }
  SECTION("past it: the leading parts become one bounce buffer with their bytes") {
    IoVector dst;
    dst.add(absl::MakeSpan(head));
    // 1 + 6 + 1 parts, at most 5: three surplus, so four parts collapse into one.
    CHECK(concat_collapsing(dst, src, 1, 5, bounce) == 400);
    CHECK(dst.count() == 4);
    CHECK(dst.size() == 8 + 600);
    std::vector<std::uint8_t> out(dst.size());
    dst.copy_to(0, out.data(), out.size());
    CHECK(std::equal(data.begin(), data.end(), out.begin() + 8));
  }
  SECTION("no limit: never collapses") {
    IoVector dst;
    CHECK(concat_collapsing(dst, src, 2, 0, bounce) == 0);
    CHECK(dst.count() == 6);
  }
}

TEST_CASE("padding an unaligned request passes max_iov, unless the later fix collapses the caller's buffers") {
  drivers::MemConfig cfg = Graph::fast();
  cfg.limits.request_alignment = 4096;
  cfg.limits.max_iov = 4;
  std::vector<std::uint8_t> buf(4 * 1024, 0x5a);
  const auto vectored = [&] {
    IoVector q;
    for (std::size_t at = 0; at < buf.size(); at += 1024) q.add(absl::MakeSpan(buf.data() + at, 1024));
    return q;
  };
  SECTION("the reference: a head and a tail buffer around the caller's four") {
    Graph g;
    auto& child = g.root(g.mem("d", 65536, cfg));
    IoVector q = vectored();
    auto body = [](BdrvChild& c, IoVector& v) -> sim::Task<void> { co_await bdrv_co_pwritev(c, 512, v.size(), &v); };
    g.world.spawn(g.world.main_context(), "guest", body(child, q));
    g.world.run();
    REQUIRE(g.world.verdict().kind == sim::Verdict::Kind::kInvariant);
    CHECK(g.world.verdict().id == "driver.max_iov");
    CHECK(g.world.verdict().message.find("in 6 buffers exceeds max_iov 4") != std::string::npos);
  }
  SECTION("the fix: the driver gets at most four, and a read copies collapsed bytes back") {
    ScopedFix fix(Fix::kPaddedMaxIov);
    Graph g;
    auto& child = g.root(g.mem("d", 65536, cfg));
    IoVector w = vectored();
    CHECK(bdrv_pwritev(child, 512, w) == 4096);
    std::fill(buf.begin(), buf.end(), 0);
    IoVector r = vectored();
    CHECK(bdrv_preadv(child, 512, r) == 4096);
    CHECK(all_equal(buf, 0, buf.size(), 0x5a));
    CHECK(g.world.verdict().ok());
  }
}
