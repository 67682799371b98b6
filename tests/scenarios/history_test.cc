// The write history behind the data and durability oracles: which values a byte
// may hold given what was written, when, and up to which point writes count as
// settled.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>

#include "scenarios/write_history.h"
#include "sim/rng.h"

using scenarios::ByteValues;
using scenarios::Cutoff;
using scenarios::WriteHistory;
using scenarios::WriteRecord;

namespace {

WriteRecord write(std::uint64_t offset, std::uint64_t bytes, std::uint8_t value, std::uint64_t issued) {
  WriteRecord w;
  w.offset = offset;
  w.bytes = bytes;
  w.value = value;
  w.issued = issued;
  return w;
}

ByteValues values(std::initializer_list<std::uint8_t> v) { return ByteValues(v); }

}  // namespace

TEST_CASE("history: the last write completed before a read began is the only choice") {
  WriteHistory h(std::vector<std::uint8_t>(16, 0));
  const auto a = h.issue(write(0, 8, 0x11, 1));
  h.complete(a, 2, true);
  const auto b = h.issue(write(0, 8, 0x22, 3));
  h.complete(b, 4, true);
  CHECK(h.allowed(0, Cutoff{5, false}) == values({0x22}));
  CHECK(h.allowed(8, Cutoff{5, false}) == values({0x00}));  // never written: the base
  // A read that began before the second write completed may see either.
  CHECK(h.allowed(0, Cutoff{4, false}) == values({0x11, 0x22}));
}

TEST_CASE("history: writes overlapping in time may land in either order") {
  WriteHistory h(std::vector<std::uint8_t>(8, 0));
  const auto a = h.issue(write(0, 8, 0x11, 1));
  const auto b = h.issue(write(0, 8, 0x22, 2));
  h.complete(b, 3, true);
  h.complete(a, 4, true);
  CHECK(h.allowed(0, Cutoff{}) == values({0x11, 0x22}));
}

TEST_CASE("history: an in-flight or failed write may or may not have landed") {
  WriteHistory h(std::vector<std::uint8_t>(8, 0x5a));
  h.issue(write(0, 4, 0x11, 1));  // in flight
  const auto f = h.issue(write(4, 4, 0x22, 2));
  h.complete(f, 3, false);  // failed
  CHECK(h.allowed(0, Cutoff{}) == values({0x11, 0x5a}));
  CHECK(h.allowed(4, Cutoff{}) == values({0x22, 0x5a}));
}

TEST_CASE("history: durability counts writes completed before the flush began, and FUA writes") {
  WriteHistory h(std::vector<std::uint8_t>(8, 0));
  const auto a = h.issue(write(0, 4, 0x11, 1));
  h.complete(a, 2, true);
  // flush begins at 3
  const auto b = h.issue(write(0, 4, 0x22, 4));
  h.complete(b, 5, true);
  WriteRecord fua = write(4, 4, 0x33, 6);
  fua.fua = true;
  const auto c = h.issue(fua);
  h.complete(c, 7, true);
  CHECK(h.allowed(0, Cutoff{3, true}) == values({0x11, 0x22}));  // flushed 0x11, maybe the later 0x22
  CHECK(h.allowed(4, Cutoff{3, true}) == values({0x33}));        // FUA: durable once completed
  CHECK(h.allowed(4, Cutoff{3, false}) == values({0x00, 0x33}));
}

TEST_CASE("history: a discard leaves old data or zeroes") {
  WriteHistory h(std::vector<std::uint8_t>(8, 0));
  const auto a = h.issue(write(0, 8, 0x11, 1));
  h.complete(a, 2, true);
  WriteRecord d = write(2, 4, 0, 3);
  d.discard = true;
  const auto b = h.issue(d);
  h.complete(b, 4, true);
  CHECK(h.allowed(3, Cutoff{}) == values({0x00, 0x11}));
  CHECK(h.allowed(0, Cutoff{}) == values({0x11}));
}

TEST_CASE("history: check finds the first wrong byte, and rebase starts from new content") {
  WriteHistory h(std::vector<std::uint8_t>(8, 0));
  const auto a = h.issue(write(2, 4, 0x11, 1));
  h.complete(a, 2, true);
  std::vector<std::uint8_t> good = {0, 0, 0x11, 0x11, 0x11, 0x11, 0, 0};
  std::vector<std::uint8_t> bad = good;
  bad[5] = 0;
  std::uint64_t where = 99;
  const auto note = [&](std::uint64_t i, std::uint8_t, const ByteValues&) { where = i; };
  CHECK(h.check(0, good, Cutoff{}, note));
  CHECK(where == 99);
  CHECK_FALSE(h.check(0, bad, Cutoff{}, note));
  CHECK(where == 5);
  const auto pending = h.issue(write(0, 2, 0x22, 3));
  h.rebase(bad);  // after a crash, say
  CHECK(h.records() == 1);  // the in-flight write stays possible
  CHECK(h.allowed(5, Cutoff{}) == values({0x00}));
  CHECK(h.allowed(0, Cutoff{}) == values({0x00, 0x22}));
  h.complete(pending, 4, true);
  CHECK(h.allowed(0, Cutoff{}) == values({0x22}));
}

TEST_CASE("history: a zero-filled node without a buffer judges as one with a zeroed buffer") {
  WriteHistory lazy = WriteHistory::zeroes(64);
  WriteHistory eager(std::vector<std::uint8_t>(64, 0));
  for (WriteHistory* h : {&lazy, &eager}) {
    const auto a = h->issue(write(8, 16, 0x11, 1));
    h->complete(a, 2, true);
  }
  CHECK(lazy.size() == 64);
  for (std::uint64_t i = 0; i < 64; ++i) CHECK(lazy.allowed(i, Cutoff{3, false}) == eager.allowed(i, Cutoff{3, false}));
  std::vector<std::uint8_t> good(64, 0);
  std::fill(good.begin() + 8, good.begin() + 24, 0x11);
  const auto no_mismatch = [](std::uint64_t, std::uint8_t, const ByteValues&) { FAIL("unexpected mismatch"); };
  CHECK(lazy.check(0, good, Cutoff{3, false}, no_mismatch));
  std::vector<std::uint8_t> bad = good;
  bad[40] = 0x7f;  // never written: must read as zero
  std::uint64_t at = 0;
  CHECK_FALSE(lazy.check(0, bad, Cutoff{3, false}, [&](std::uint64_t i, std::uint8_t, const ByteValues&) { at = i; }));
  CHECK(at == 40);
  lazy.rebase(good);  // after a crash it holds real content
  CHECK(lazy.allowed(10, Cutoff{4, false}) == values({0x11}));
}

// The indexed check (chunks, wide records, a sweep over the cuts) against the
// byte-by-byte reference (allowed, which looks at every record): random
// histories with small writes, writes across chunks and writes wider than the
// index takes, completions out of order, failures, a rebase; random reads of
// allowed content with sometimes one byte changed.
TEST_CASE("history: the indexed check finds exactly the first byte the per-byte reference rejects") {
  constexpr std::uint64_t kSize = 8 << 20;  // room for writes wider than the index's 64 chunks of 64 KiB
  sim::Rng rng(7);
  const auto below = [&](std::uint64_t n) { return rng.below(n); };
  int mismatches = 0;
  for (int round = 0; round < 20; ++round) {
    WriteHistory h = WriteHistory::zeroes(kSize);
    std::vector<std::size_t> pending;
    std::uint64_t clock = 0;
    const int writes = 1 + static_cast<int>(below(24));
    for (int i = 0; i < writes; ++i) {
      const std::uint64_t kind = below(10);
      const std::uint64_t bytes = kind < 6 ? 1 + below(4096) : kind < 9 ? 1 + below(300 << 10) : (5 << 20) + below(3 << 20);
      const std::uint64_t offset = below(kSize - std::min(bytes, kSize) + 1);
      WriteRecord w = write(offset, std::min(bytes, kSize - offset), static_cast<std::uint8_t>(1 + below(4)), ++clock);
      w.discard = below(8) == 0;
      if (w.discard) w.value = 0;
      pending.push_back(h.issue(w));
      // Complete some of those in flight, in any order; a few fail.
      while (!pending.empty() && below(2) == 0) {
        const std::size_t k = below(pending.size());
        h.complete(pending[k], ++clock, below(10) != 0);
        pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(k));
      }
      if (round % 5 == 4 && i == writes / 2) {
        std::vector<std::uint8_t> content(kSize, 0);
        for (std::uint64_t b = 0; b < kSize; b += 4096) content[b] = static_cast<std::uint8_t>(below(3));
        h.rebase(std::move(content));
      }
    }
    const Cutoff cutoff{below(clock + 2), below(2) == 0};
    for (int read = 0; read < 3; ++read) {
      const std::uint64_t bytes = 1 + below(96 << 10);  // up to three chunks
      const std::uint64_t offset = below(kSize - bytes + 1);
      std::vector<std::uint8_t> data(bytes);
      for (std::uint64_t i = 0; i < bytes; ++i) {
        const ByteValues ok = h.allowed(offset + i, cutoff);
        data[i] = ok[below(ok.size())];
      }
      if (below(2) == 0) data[below(bytes)] = static_cast<std::uint8_t>(below(6));
      std::optional<std::uint64_t> expected;
      for (std::uint64_t i = 0; i < bytes && !expected; ++i) {
        const ByteValues ok = h.allowed(offset + i, cutoff);
        if (std::find(ok.begin(), ok.end(), data[i]) == ok.end()) expected = offset + i;
      }
      std::optional<std::uint64_t> found;
      ByteValues found_ok;
      const bool held = h.check(offset, data, cutoff, [&](std::uint64_t i, std::uint8_t, const ByteValues& ok) {
        found = i;
        found_ok = ok;
      });
      INFO("round " << round << " read " << read << " at " << offset << " + " << bytes);
      CHECK(held == !expected.has_value());
      CHECK(found == expected);
      if (expected) {
        CHECK(found_ok == h.allowed(*expected, cutoff));
        ++mismatches;
      }
    }
  }
  CHECK(mismatches > 10);  // the test saw both outcomes
}

TEST_CASE("history: a wrong byte is diagnosed as stale, torn or never written, with the write it should show") {
  WriteHistory h(std::vector<std::uint8_t>(16, 0));
  WriteRecord fua = write(0, 8, 0x11, 1);
  fua.fua = true;
  const auto a = h.issue(fua);
  h.complete(a, 2, true);
  const auto b = h.issue(write(8, 8, 0x22, 3));
  h.complete(b, 4, true);
  const Cutoff after{5, false};

  // All of the first write missing: the old content, stale.
  std::vector<std::uint8_t> stale(16, 0);
  std::fill(stale.begin() + 8, stale.end(), 0x22);
  scenarios::Diagnosis d = h.diagnose(0, 0, stale, after);
  CHECK(d.kind == scenarios::WrongContent::kStale);
  REQUIRE(d.expected != nullptr);
  CHECK(d.expected->value == 0x11);
  CHECK(scenarios::write_kind(*d.expected) == "write -f");
  CHECK(scenarios::wrong_content_name(d.kind, true) == "stale pre-image");
  CHECK(scenarios::wrong_content_name(d.kind, false) == "lost write");

  // Half of it there: torn.
  std::vector<std::uint8_t> torn = stale;
  std::fill(torn.begin(), torn.begin() + 4, 0x11);
  d = h.diagnose(5, 0, torn, after);
  CHECK(d.kind == scenarios::WrongContent::kTorn);
  CHECK(scenarios::wrong_content_name(d.kind, false) == "torn write");

  // A value no write put there (0x22 belongs to the bytes after it).
  std::vector<std::uint8_t> misplaced(16, 0x22);
  d = h.diagnose(2, 0, misplaced, after);
  CHECK(d.kind == scenarios::WrongContent::kNeverWritten);
  CHECK(scenarios::wrong_content_name(d.kind, true) == "pattern never written");

  // Judged on a window: only the window's bytes decide torn or stale.
  const std::vector<std::uint8_t> window(stale.begin() + 4, stale.begin() + 8);
  CHECK(h.diagnose(6, 4, window, after).kind == scenarios::WrongContent::kStale);
}

TEST_CASE("history: settled data ranges leave out what a zero write or discard may have undone") {
  WriteHistory h = WriteHistory::zeroes(64);
  const auto a = h.issue(write(0, 16, 0x11, 1));
  h.complete(a, 2, true);
  WriteRecord z = write(4, 4, 0, 3);  // after the write: may deallocate [4, 8)
  z.zeroes = true;
  h.complete(h.issue(z), 4, true);
  WriteRecord d = write(10, 2, 0, 0);  // finished before the write was issued: undone by it
  d.discard = true;
  d.issued = 0;
  const auto di = h.issue(d);
  h.complete(di, 0, true);
  const auto late = h.issue(write(32, 8, 0x22, 5));  // completes after the cutoff
  h.complete(late, 9, true);
  const auto failed = h.issue(write(48, 8, 0x33, 5));
  h.complete(failed, 6, false);
  using R = WriteHistory::Ranges;
  CHECK(h.settled_data_ranges(8) == R{{0, 4}, {8, 16}});
  CHECK(h.settled_data_ranges(10) == R{{0, 4}, {8, 16}, {32, 40}});
  CHECK(h.settled_data_ranges(2) == R{});
}

TEST_CASE("history: the first byte that may not hold a value, over untouched and written bytes") {
  WriteHistory fresh = WriteHistory::zeroes(32);
  CHECK(fresh.first_excluding(0, 0, 32, Cutoff{}) == 32);
  CHECK(fresh.first_excluding(0x11, 4, 32, Cutoff{}) == 4);
  const auto a = fresh.issue(write(8, 8, 0x11, 1));
  fresh.complete(a, 2, true);
  CHECK(fresh.first_excluding(0, 0, 32, Cutoff{3, false}) == 8);
  CHECK(fresh.first_excluding(0, 0, 32, Cutoff{2, false}) == 32);  // not settled yet: zero still allowed
  std::vector<std::uint8_t> image(32, 0);
  image[20] = 0xa5;
  WriteHistory based(image);
  CHECK(based.first_excluding(0, 0, 32, Cutoff{}) == 20);
  CHECK(based.first_excluding(0, 0, 20, Cutoff{}) == 20);
}

TEST_CASE("history: a write of a pattern file puts the file's bytes, repeated, at each offset") {
  for (const bool zero_base : {true, false}) {
    WriteHistory h = zero_base ? WriteHistory::zeroes(64) : WriteHistory(std::vector<std::uint8_t>(64, 0x5a));
    WriteRecord w = write(10, 20, 0xcd, 1);
    w.data = std::make_shared<const std::vector<std::uint8_t>>(std::vector<std::uint8_t>{1, 2, 3});
    h.complete(h.issue(w), 2, true);
    const std::uint8_t base = zero_base ? 0 : 0x5a;
    CHECK(h.allowed(10, Cutoff{3, false}) == values({1}));
    CHECK(h.allowed(12, Cutoff{3, false}) == values({3}));
    CHECK(h.allowed(13, Cutoff{3, false}) == values({1}));
    CHECK(h.allowed(29, Cutoff{3, false}) == values({2}));  // (29 - 10) % 3 == 1
    CHECK(h.allowed(30, Cutoff{3, false}) == values({base}));
    // The fast segment check judges byte by byte where a pattern file was written.
    std::vector<std::uint8_t> data(64, base);
    for (std::uint64_t i = 10; i < 30; ++i) data[i] = static_cast<std::uint8_t>(1 + (i - 10) % 3);
    CHECK(h.check(0, data, Cutoff{3, false}, [](std::uint64_t, std::uint8_t, const ByteValues&) {}));
    data[20] = 3;  // (20 - 10) % 3 == 1: must be 2
    std::uint64_t bad = 0;
    CHECK_FALSE(h.check(0, data, Cutoff{3, false}, [&](std::uint64_t i, std::uint8_t, const ByteValues&) { bad = i; }));
    CHECK(bad == 20);
  }
}
