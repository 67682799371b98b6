// The media model and the mem driver: sparse storage, the write cache, crashes.
#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "drivers/media.h"
#include "engine/io.h"
#include "engine/graph.h"
#include "engine/io_internal.h"
#include "sim/rng.h"

using drivers::CrashMode;
using drivers::Media;
using drivers::SparseImage;
using testing::Graph;

namespace {
engine::IoVector vec(std::vector<std::uint8_t>& buf) { return engine::IoVector(absl::MakeSpan(buf)); }
// A fresh path in the temporary directory.
std::string temp_path(const std::string& name) {
  static int counter = 0;
  return (std::filesystem::temp_directory_path() /
          ("blksim-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + "-" + name))
      .string();
}
std::uint8_t byte_at(const SparseImage& img, std::uint64_t offset) {
  std::uint8_t b = 0;
  img.read(offset, 1, &b);
  return b;
}
}  // namespace

TEST_CASE("sparse images: 2^62 bytes cost nothing until written, and holes read as zero") {
  SparseImage img(SparseImage::kMaxBytes);
  CHECK(img.allocated_sectors() == 0);
  std::vector<std::uint8_t> buf(1000, 0x5a);
  img.write((1ULL << 61) + 100, buf.size(), buf.data());
  CHECK(img.allocated_sectors() == 3);  // bytes 100..1100 of a sector run
  CHECK(byte_at(img, (1ULL << 61) + 100) == 0x5a);
  CHECK(byte_at(img, (1ULL << 61) + 99) == 0);
  img.zero((1ULL << 61), 1024);  // two whole sectors become holes, the third is trimmed
  CHECK(img.allocated_sectors() == 1);
  CHECK(byte_at(img, (1ULL << 61) + 1024) == 0x5a);
  CHECK(byte_at(img, (1ULL << 61) + 1023) == 0);
  CHECK_THROWS_AS(SparseImage(SparseImage::kMaxBytes + 1), sim::InvariantViolation);
}

TEST_CASE("sparse images: a run of sectors in one allocation state is found without visiting the holes") {
  SparseImage img(6ULL << 30);
  std::vector<std::uint8_t> buf(1536, 0x5a);
  img.write(4096 + 512, buf.size(), buf.data());  // sectors 9..11 of page 1
  img.write(1ULL << 32, 512, buf.data());         // one sector at 4 GiB
  CHECK(img.same_state_run(0, 100) == 9);         // holes up to sector 9
  CHECK(img.same_state_run(9, 100) == 3);         // 9, 10, 11
  CHECK(img.same_state_run(9, 2) == 2);           // capped
  CHECK(img.same_state_run(12, 100) == 100);      // holes on
  const std::uint64_t at_4g = (1ULL << 32) / 512;
  CHECK(img.same_state_run(12, 1ULL << 40) == at_4g - 12);  // up to the sector at 4 GiB
  CHECK(img.same_state_run(at_4g, 10) == 1);
  CHECK(img.same_state_run(at_4g + 1, 1ULL << 40) == 1ULL << 40);  // nothing stored past it
  // Each answer agrees with asking sector by sector.
  for (std::uint64_t s = 0; s < 40; ++s) {
    std::uint64_t n = 1;
    while (n < 30 && img.allocated(s + n) == img.allocated(s)) ++n;
    CHECK(img.same_state_run(s, 30) == n);
  }
}

TEST_CASE("sparse images round-trip through raw files, and zero sectors stay holes") {
  const std::string path = temp_path("image.raw");
  SparseImage img(8192);
  std::vector<std::uint8_t> buf(600, 7);
  img.write(3000, buf.size(), buf.data());
  REQUIRE(img.save_raw(path).ok());
  SparseImage back(8192);
  REQUIRE(back.load_raw(path).ok());
  CHECK(back == img);
  CHECK(back.allocated_sectors() == 3);  // bytes 3000..3600 touch sectors 5, 6 and 7
  SparseImage small(4096);
  CHECK(small.load_raw(path).code() == absl::StatusCode::kInvalidArgument);
  CHECK(small.load_raw("/nonexistent/x.raw").code() == absl::StatusCode::kNotFound);
  std::remove(path.c_str());
}

TEST_CASE("write cache: a flush makes durable exactly what completed before it began") {
  Media m(65536, true);
  std::vector<std::uint8_t> a(512, 1), b(512, 2), c(512, 3);
  m.write(0, 512, vec(a), false);
  const std::uint64_t ticket = m.flush_begin();
  m.write(512, 512, vec(b), false);  // completes while the flush runs
  m.flush_complete(ticket);
  m.write(1024, 512, vec(c), true);  // FUA: durable at once
  SparseImage d = m.durable();
  CHECK(byte_at(d, 0) == 1);
  CHECK(byte_at(d, 512) == 0);
  CHECK(byte_at(d, 1024) == 3);
  CHECK(m.pending_writes() == 2);
  sim::Rng rng(1);
  CHECK(m.crash(CrashMode::kDropAll, rng) == 1);
  CHECK(byte_at(m.visible(), 0) == 1);
  CHECK(byte_at(m.visible(), 512) == 0);
  CHECK(byte_at(m.visible(), 1024) == 3);
}

TEST_CASE("write-through media: every write is durable on completion") {
  Media m(4096, false);
  std::vector<std::uint8_t> a(512, 9);
  m.write(0, 512, vec(a), false);
  m.zero(0, 100, false);
  sim::Rng rng(1);
  CHECK(m.crash(CrashMode::kDropAll, rng) == 0);
  CHECK(byte_at(m.visible(), 0) == 0);
  CHECK(byte_at(m.visible(), 100) == 9);
}

TEST_CASE("crash modes: random subset keeps whole writes, torn sectors keeps pieces, later writes win") {
  std::size_t kept_whole = 0, lost_whole = 0, torn = 0;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    sim::Rng rng(seed);
    Media subset(65536, true);
    Media tear(65536, true);
    std::vector<std::uint8_t> first(4096, 1), second(512, 2);
    for (Media* m : {&subset, &tear}) {
      m->write(0, 4096, vec(first), false);
      m->write(1024, 512, vec(second), true);  // FUA over the middle: always survives, after `first`
    }
    subset.crash(CrashMode::kRandomSubset, rng);
    const std::uint8_t b0 = byte_at(subset.visible(), 0);
    CHECK(byte_at(subset.visible(), 1024) == 2);
    for (std::uint64_t off = 0; off < 4096; off += 512) {
      if (off == 1024) continue;
      CHECK(byte_at(subset.visible(), off) == b0);  // all or nothing
    }
    (b0 == 1 ? kept_whole : lost_whole)++;
    tear.crash(CrashMode::kTornSectors, rng);
    CHECK(byte_at(tear.visible(), 1024) == 2);
    int survived = 0;
    for (std::uint64_t off = 0; off < 4096; off += 512) {
      if (off != 1024) survived += byte_at(tear.visible(), off) == 1 ? 1 : 0;
    }
    if (survived > 0 && survived < 7) ++torn;
  }
  CHECK(kept_whole > 5);
  CHECK(lost_whole > 5);
  CHECK(torn > 20);
  CHECK(drivers::crash_mode_from_name("torn-sectors") == CrashMode::kTornSectors);
  CHECK_FALSE(drivers::crash_mode_from_name("melt").has_value());
}

TEST_CASE("power cut images: judged without cutting, writes in flight whole, torn or absent by mode") {
  std::size_t in_flight_whole = 0, in_flight_torn = 0, in_flight_absent = 0;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    sim::Rng rng(seed);
    Media m(65536, true);
    std::vector<std::uint8_t> cached(4096, 1), landing(4096, 2);
    m.write(0, 4096, vec(cached), false);
    const engine::IoVector flying = vec(landing);
    const std::vector<Media::InFlight> in_flight{{8192, 4096, &flying}, {20000, 100, nullptr}};
    // Drop-all: the durable image only, whatever is in flight.
    const SparseImage dropped = m.power_cut_image(CrashMode::kDropAll, rng, in_flight);
    CHECK(byte_at(dropped, 0) == 0);
    CHECK(byte_at(dropped, 8192) == 0);
    // Torn: each sector of the write in flight lands or not.
    const SparseImage torn = m.power_cut_image(CrashMode::kTornSectors, rng, in_flight);
    int landed = 0;
    for (std::uint64_t off = 8192; off < 12288; off += 512) landed += byte_at(torn, off) == 2 ? 1 : 0;
    (landed == 8 ? in_flight_whole : landed == 0 ? in_flight_absent : in_flight_torn)++;
    // Random subset: whole or nothing.
    const SparseImage subset = m.power_cut_image(CrashMode::kRandomSubset, rng, in_flight);
    for (std::uint64_t off = 8192; off < 12288; off += 512) CHECK(byte_at(subset, off) == byte_at(subset, 8192));
    // Nothing was cut: the medium still shows and caches the write.
    CHECK(byte_at(m.visible(), 0) == 1);
    CHECK(m.pending_writes() == 1);
  }
  CHECK(in_flight_torn > 20);
  CHECK(in_flight_absent + in_flight_whole < 10);  // each 1 in 256 per seed
}

TEST_CASE("a crash never loses a write that completed before a successful flush began") {
  rc::prop("durability of flushed writes under every crash mode", [] {
    struct Step {
      int kind;  // 0 write, 1 fua write, 2 zero, 3 flush begin, 4 flush complete
      std::uint32_t offset;
      std::uint32_t bytes;
    };
    // gen::inRange is size-scaled (early cases stay near the minimum): resize to
    // draw uniformly from the first case on.
    const auto count = *rc::gen::resize(100, rc::gen::inRange<std::size_t>(20, 100));
    const auto steps = *rc::gen::container<std::vector<Step>>(count, rc::gen::apply(
        [](int k, std::uint32_t o, std::uint32_t b) { return Step{k, o % 8192, 1 + b % 2048}; },
        rc::gen::resize(100, rc::gen::inRange(0, 5)), rc::gen::resize(100, rc::gen::arbitrary<std::uint32_t>()),
        rc::gen::resize(100, rc::gen::arbitrary<std::uint32_t>())));
    const auto mode = *rc::gen::element(CrashMode::kDropAll, CrashMode::kRandomSubset, CrashMode::kTornSectors);
    const auto seed = *rc::gen::arbitrary<std::uint64_t>();
    Media m(65536, true);
    // For each byte: the value it must keep (last write to it that is guaranteed durable),
    // unless a later write to it is still pending (then either may survive).
    std::vector<int> guaranteed(65536, 0);
    std::vector<std::vector<std::uint8_t>> history(65536);  // values written since the last guarantee
    std::vector<std::pair<std::uint64_t, std::vector<std::tuple<std::uint32_t, std::uint32_t, int>>>> flushes;
    std::vector<std::tuple<std::uint32_t, std::uint32_t, int>> completed;  // since start, with values
    std::uint8_t next = 1;
    std::size_t durable_upto = 0;  // completed[0..durable_upto) are covered by a successful flush
    std::vector<std::size_t> open_flushes;
    for (const Step& s : steps) {
      if (s.kind <= 2) {
        const std::uint32_t bytes = std::min<std::uint32_t>(s.bytes, 65536 - s.offset);
        const int value = s.kind == 2 ? 0 : next++;
        std::vector<std::uint8_t> buf(bytes, static_cast<std::uint8_t>(value));
        if (s.kind == 2) {
          m.zero(s.offset, bytes, false);
        } else {
          m.write(s.offset, bytes, vec(buf), s.kind == 1);
        }
        completed.emplace_back(s.offset, bytes, s.kind == 1 ? value + 1000 : value);
      } else if (s.kind == 3) {
        open_flushes.push_back(completed.size());
      } else if (!open_flushes.empty()) {
        const std::size_t covered = open_flushes.front();
        open_flushes.erase(open_flushes.begin());
        m.flush_complete(covered);
        durable_upto = std::max(durable_upto, covered);
      }
    }
    sim::Rng rng(seed);
    m.crash(mode, rng);
    // A byte must hold one of: its value from the last durable write to it, or a
    // value from a later write (which may have survived). Never anything older.
    for (std::uint32_t pos = 0; pos < 8192 + 2048; ++pos) {
      int last_durable = 0;
      std::vector<int> later;
      for (std::size_t i = 0; i < completed.size(); ++i) {
        auto [off, len, v] = completed[i];
        if (pos < off || pos >= off + len) continue;
        const bool fua = v >= 1000;
        const int value = fua ? v - 1000 : v;
        if (i < durable_upto || fua) {
          last_durable = value;
          later.clear();
        } else {
          later.push_back(value);
        }
      }
      const int got = byte_at(m.visible(), pos);
      const bool ok = got == last_durable || std::find(later.begin(), later.end(), got) != later.end();
      RC_ASSERT(ok);
    }
  });
}

TEST_CASE("mem: zeroes answering -ENOTSUP fall back in the engine, and advisory discard keeps data, and cluster size") {
  drivers::MemConfig cfg = Graph::fast();
  cfg.zeroes_enotsup = true;
  cfg.discard_advisory = true;
  cfg.cluster_size = 65536;
  Graph g;
  auto& bs = g.mem("d", 1 << 20, cfg);
  auto& child = g.root(bs);
  bs.open_flags |= engine::BDRV_O_UNMAP;
  REQUIRE(g.write(child, 0, 8192, 0x66) == 0);
  CHECK(engine::bdrv_pwrite_zeroes(child, 0, 4096, 0) == 0);
  CHECK(g.count_ops("pwrite_zeroes") == 1);
  CHECK(g.count_ops("pwritev") == 2);  // the fallback wrote a zeroed buffer
  CHECK(testing::all_equal(g.read(child, 0, 4096), 0, 4096, 0));
  CHECK(engine::bdrv_pdiscard(bs, 4096, 4096) == 0);
  CHECK(testing::all_equal(g.read(child, 4096, 4096), 0, 4096, 0x66));  // advisory: kept
  engine::BlockDriverInfo bdi;
  CHECK(engine::bdrv_get_info(bs, &bdi) == 0);
  CHECK(bdi.cluster_size == 65536);
  CHECK(engine::bdrv_get_cluster_size(bs) == 65536);
}

TEST_CASE("mem: a crash drops unflushed writes seen through the engine, and is traced as a fault") {
  Graph g;
  auto& bs = g.mem("d", 65536);
  auto& child = g.root(bs);
  REQUIRE(g.write(child, 0, 4096, 1) == 0);
  REQUIRE(engine::bdrv_flush(bs) == 0);
  REQUIRE(g.write(child, 4096, 4096, 2) == 0);
  REQUIRE(g.write(child, 8192, 512, 3, engine::BDRV_REQ_FUA) == 0);
  std::string fault;
  g.world.trace().add_observer([&](const sim::Trace& t, const sim::TraceEvent& e) {
    if (e.kind == sim::EventKind::kFaultFired) fault = std::string(t.text(e.label)) + "@" + std::string(t.text(e.label2));
  });
  // The node cannot take FUA, so the engine emulated it by a flush: the 4096 write is durable too.
  CHECK(g.mem_driver().crash(bs, CrashMode::kDropAll) == 0);
  CHECK(fault == "crash drop-all@d");
  REQUIRE(g.write(child, 12288, 512, 4) == 0);
  CHECK(g.mem_driver().crash(bs, CrashMode::kDropAll) == 1);
  CHECK(testing::all_equal(g.read(child, 0, 4096), 0, 4096, 1));
  CHECK(testing::all_equal(g.read(child, 12288, 512), 0, 512, 0));
}

TEST_CASE("mem: a power cut while a write is in the driver may land it, a completed FUA write always") {
  Graph g;
  drivers::MemConfig config = Graph::fast();
  config.latency = {50000, 50000};
  config.fua = true;
  auto& bs = g.mem("d", 65536, config);
  auto& child = g.root(bs);
  int fua_ret = 1;
  g.world.spawn(g.world.main_context(), "fua write", [](Graph& gr, engine::BdrvChild& c, int& ret) -> sim::Task<void> {
    std::vector<std::uint8_t> buf(4096, 7);
    engine::IoVector q(absl::MakeSpan(buf));
    ret = co_await engine::bdrv_co_pwritev(c, 0, 4096, &q, engine::BDRV_REQ_FUA);
    (void)gr;
  }(g, child, fua_ret));
  g.world.poll(g.world.main_context(), false);  // the write sleeps in the driver
  REQUIRE(g.mem_driver().writes_in_flight() == 1);
  bool landed = false, absent = false;
  for (int i = 0; i < 20; ++i) {
    const SparseImage cut = g.mem_driver().power_cut_image(CrashMode::kRandomSubset);
    (byte_at(cut, 0) == 7 ? landed : absent) = true;
  }
  CHECK(landed);
  CHECK(absent);
  g.world.run();
  CHECK(fua_ret == 0);
  CHECK(g.mem_driver().writes_in_flight() == 0);
  CHECK(byte_at(g.mem_driver().power_cut_image(CrashMode::kDropAll), 0) == 7);
}

TEST_CASE("mem: initial content from a raw file, and visible and durable images exported") {
  const std::string in = temp_path("initial.raw");
  {
    std::ofstream f(in, std::ios::binary);
    std::vector<char> bytes(4096, 0x21);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  Graph g;
  auto& bs = g.mem("d", 65536);
  auto& child = g.root(bs);
  REQUIRE(g.mem_driver().load_raw(in).ok());
  CHECK(testing::all_equal(g.read(child, 0, 4096), 0, 4096, 0x21));
  REQUIRE(g.write(child, 0, 512, 0x22) == 0);
  const std::string vis = in + ".visible";
  const std::string dur = in + ".durable";
  REQUIRE(g.mem_driver().export_visible(vis).ok());
  REQUIRE(g.mem_driver().export_durable(dur).ok());
  SparseImage v(65536), d(65536);
  REQUIRE(v.load_raw(vis).ok());
  REQUIRE(d.load_raw(dur).ok());
  CHECK(byte_at(v, 0) == 0x22);
  CHECK(byte_at(d, 0) == 0x21);
  for (const auto& p : {in, vis, dur}) std::remove(p.c_str());
}

TEST_CASE("mem applies every configured limit through refresh_limits") {
  drivers::MemConfig cfg = Graph::fast();
  cfg.limits = engine::BlockLimits{4096, 1 << 20, 65536, 1 << 21, 8192, 65536, 1 << 20, 4096, 8192, 64};
  Graph g;
  auto& bs = g.mem("d", 1 << 22, cfg);
  CHECK(bs.bl.request_alignment == 4096);
  CHECK(bs.bl.max_pdiscard == 1 << 20);
  CHECK(bs.bl.pdiscard_alignment == 65536);
  CHECK(bs.bl.max_pwrite_zeroes == 1 << 21);
  CHECK(bs.bl.pwrite_zeroes_alignment == 8192);
  CHECK(bs.bl.opt_transfer == 65536);
  CHECK(bs.bl.max_transfer == 1 << 20);
  CHECK(bs.bl.min_mem_alignment == 4096);
  CHECK(bs.bl.opt_mem_alignment == 8192);
  CHECK(bs.bl.max_iov == 64);
}

TEST_CASE("SparseImage: random writes and zeroes agree with a flat model, sector allocation included") {
  constexpr std::uint64_t kSize = 64 << 10;
  constexpr std::uint64_t kSectors = kSize / drivers::SparseImage::kSector;
  sim::Rng rng(3);
  drivers::SparseImage img(kSize);
  std::vector<std::uint8_t> bytes(kSize, 0);
  std::vector<bool> alloc(kSectors, false);
  for (int step = 0; step < 400; ++step) {
    const std::uint64_t len = 1 + rng.below(9000);
    const std::uint64_t off = rng.below(kSize - len + 1);
    if (rng.below(3) != 0) {
      std::vector<std::uint8_t> src(len);
      for (auto& b : src) b = static_cast<std::uint8_t>(rng.below(256));
      img.write(off, len, src.data());
      std::copy(src.begin(), src.end(), bytes.begin() + static_cast<std::ptrdiff_t>(off));
      for (std::uint64_t s = off / 512; s <= (off + len - 1) / 512; ++s) alloc[s] = true;
    } else {
      img.zero(off, len);
      std::fill_n(bytes.begin() + static_cast<std::ptrdiff_t>(off), len, 0);
      for (std::uint64_t s = (off + 511) / 512; (s + 1) * 512 <= off + len; ++s) alloc[s] = false;  // whole sectors only
    }
    if (step % 20 == 0) {
      std::vector<std::uint8_t> got(kSize);
      img.read(0, kSize, got.data());
      REQUIRE(got == bytes);
      std::uint64_t count = 0;
      for (std::uint64_t s = 0; s < kSectors; ++s) {
        REQUIRE(img.allocated(s) == alloc[s]);
        count += alloc[s] ? 1 : 0;
      }
      REQUIRE(img.allocated_sectors() == count);
    }
  }
  // Equality is by content: the same bytes with every zero sector stored as data compare equal.
  drivers::SparseImage dense(kSize);
  dense.write(0, kSize, bytes.data());
  CHECK(dense == img);
  CHECK(img == dense);
  drivers::SparseImage copy = img;
  CHECK(copy == img);
  const std::uint8_t one = 1;
  copy.write(kSize - 1, 1, &one);
  CHECK_FALSE(copy == img);
}
