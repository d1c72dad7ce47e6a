// Resource hygiene: a thousand run cycles on each backend leave no fd, mapping or memory
// behind. Counted from /proc/self after a warm-up (allocator arenas, lazily loaded
// libraries and Unicorn's first-use tables are not leaks).
#include <gtest/gtest.h>

#include <dirent.h>

#include <fstream>
#include <string>

#include "sim/session.h"
#include "tests/guests/test_assets.h"
#include "tests/hostile/hostile_run.h"

namespace tdsim::hostiletest {
namespace {

constexpr int kCycles = 1000;
constexpr int kWarmup = 20;

struct Footprint {
  int fds = 0;
  int maps = 0;
  long rss_kib = 0;
};

// Under ASan freed memory sits in the quarantine (256 MiB and more): RSS and the
// sanitizer allocator's own regions (x86-64: 0x600000000000 up to 4 TiB above, one
// mapping per size class that splits as it grows) follow the volume of allocations,
// not leaks. LeakSanitizer's check at exit covers the heap there instead; every other
// mapping (engines, guest memory, threads) is still counted.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#elif defined(__has_feature)
constexpr bool kAsan = __has_feature(address_sanitizer);
#else
constexpr bool kAsan = false;
#endif
constexpr bool kCheckRss = !kAsan;
// The quarantine also holds freed large chunks, which the sanitizer maps one by one outside
// its regions: over 1000 Unicorn cycles they added 20-22 mappings, and none with
// ASAN_OPTIONS=quarantine_size_mb=0. A leak per cycle would add 1000 either way.
constexpr int kMapsSlack = kAsan ? 64 : 16;
constexpr uint64_t kAsanAllocatorBegin = 0x600000000000ull, kAsanAllocatorEnd = 0x640000000000ull;

Footprint footprint() {
  Footprint f;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d)) ++f.fds;
    closedir(d);
  }
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    const uint64_t start = std::stoull(line.substr(0, line.find('-')), nullptr, 16);
    if (kAsan && start >= kAsanAllocatorBegin && start < kAsanAllocatorEnd) continue;
    ++f.maps;
  }
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) f.rss_kib = std::stol(line.substr(6));
  return f;
}

// A leak of one guest-memory mapping or engine per cycle would add >= 1000 mappings and
// >= 32 GiB of guest RAM mappings; the bounds leave room for allocator caches only.
void expect_no_growth(const Footprint& before, const Footprint& after) {
  EXPECT_EQ(after.fds, before.fds) << "file descriptors leaked over " << kCycles << " cycles";
  EXPECT_LE(after.maps, before.maps + kMapsSlack) << "mappings grew from " << before.maps << " to " << after.maps;
  if (kCheckRss) {
    EXPECT_LE(after.rss_kib, before.rss_kib + 64 * 1024) << "RSS grew from " << before.rss_kib << " KiB to "
                                                       << after.rss_kib << " KiB";
  }
}

bool is_done(const std::vector<Event>& evs) {
  for (const Event& e : evs)
    if (const auto* u = std::get_if<UcallEvent>(&e); u && u->cmd == abi::kUcallDone) return true;
  return false;
}

void cycle_backend(Engine engine) {
  if (std::string why = unavailable(engine); !why.empty()) GTEST_SKIP() << why;
  const TdImage img = build_image(spec_for(TDSIM_HOSTILE_HELLO_ELF));
  for (int i = 0; i < kWarmup; ++i) ASSERT_TRUE(is_done(run(engine, img)));
  const Footprint before = footprint();
  for (int i = 0; i < kCycles; ++i) {
    const auto evs = run(engine, img);
    ASSERT_TRUE(is_done(evs)) << "cycle " << i << ":\n" << dump(evs);
  }
  expect_no_growth(before, footprint());
}

TEST(ResourceHygiene, UnicornBackendThousandRunsLeakNothing) { cycle_backend(Engine::kUnicorn); }
TEST(ResourceHygiene, KvmBackendThousandRunsLeakNothing) { cycle_backend(Engine::kKvm); }

std::vector<Event> run_session(sim::Session& session) {
  RunLimits limits;
  limits.max_insns = 10'000'000;
  std::vector<Event> evs;
  session.run(limits, [&](const Event& e) { evs.push_back(e); });
  return evs;
}

// The guest clobbers its boot params and page tables every run: each reset must put
// them back, so every run ends the same way.
TEST(ResourceHygiene, SessionThousandResetsLeakNothing) {
  const TdImage img = build_image(spec_for(TDSIM_HOSTILE_CLOBBER_BOOT_ELF));
  sim::Session session(img);
  for (int i = 0; i < kWarmup; ++i) run_session(session);
  const Footprint before = footprint();
  for (int i = 0; i < kCycles; ++i) {
    const auto evs = run_session(session);
    ASSERT_EQ(all_of<UcallEvent>(evs).size(), 2u) << "cycle " << i << ":\n" << dump(evs);
    const auto* f = std::get_if<FaultEvent>(&evs.back());
    ASSERT_TRUE(f && f->triple_fault) << "cycle " << i << ":\n" << dump(evs);
  }
  expect_no_growth(before, footprint());
}

// A reset session must replay exactly what a fresh one did (sim/session.h: "each run
// starts from the initial state").
TEST(ResourceHygiene, SessionRerunAfterClobberedTablesMatchesTheFirstRun) {
  const TdImage img = build_image(spec_for(TDSIM_HOSTILE_CLOBBER_BOOT_ELF));
  sim::Session session(img);
  const std::string first = dump(run_session(session));
  EXPECT_EQ(dump(run_session(session)), first);
}

}  // namespace
}  // namespace tdsim::hostiletest
