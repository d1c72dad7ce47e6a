// Resource hygiene: many create/run/destroy cycles of the plain KVM backend leave no
// file descriptor and no mapping behind; setup errors name the ioctl.
#include <dirent.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "core/backend.h"
#include "kvm/kvm_backend.h"
#include "kvm/kvm_vm.h"
#include "kvm/tdx_uapi.h"
#include "kvm_skip.h"
#include "stubs.h"
#include "test_image.h"

namespace tdsim {
namespace {

size_t open_fds() {
  size_t n = 0;
  DIR* d = opendir("/proc/self/fd");
  if (!d) return 0;
  while (readdir(d)) ++n;
  closedir(d);
  return n;
}

size_t map_lines() {
  std::ifstream f("/proc/self/maps");
  std::string line;
  size_t n = 0;
  while (std::getline(f, line)) ++n;
  return n;
}

#if defined(__SANITIZE_ADDRESS__)
#define TDSIM_KVM_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TDSIM_KVM_TEST_ASAN 1
#endif
#endif
#ifndef TDSIM_KVM_TEST_ASAN
#define TDSIM_KVM_TEST_ASAN 0
#endif

TEST(KvmLifecycle, ThousandCreateRunDestroyCyclesLeakNothing) {
  TDSIM_REQUIRE_PLAIN_KVM();
  KvmBackend be;
  TdImage img = kvmtest::make_test_image(TDSIM_STUB(long64), 2);
  RunLimits l;
  l.timeout = std::chrono::milliseconds(5000);
  // Warm up: first-use allocations (thread stacks, signal handler) are not leaks.
  for (int i = 0; i < 20; ++i) run_collect(be, img, l);
  const size_t fds = open_fds(), maps = map_lines();
  size_t half_maps = 0;
  for (int i = 0; i < 1000; ++i) {
    if (i == 500) half_maps = map_lines();
    auto evs = run_collect(be, img, l);
    ASSERT_FALSE(evs.empty());
    ASSERT_TRUE(std::holds_alternative<UcallEvent>(evs.back())) << describe(evs.back());
  }
  EXPECT_EQ(open_fds(), fds);
  // A leaked mapping per cycle grows the map linearly: the second 500 cycles may add
  // no more than a handful (glibc may keep a cached thread stack or arena).
  EXPECT_LE(map_lines(), half_maps + 8);
#if !TDSIM_KVM_TEST_ASAN
  // Under ASan the allocator maps fresh regions until its free-memory quarantine is
  // full, so only the growth check above applies there (LeakSanitizer covers leaks).
  EXPECT_LE(map_lines(), maps + 8);
#else
  (void)maps;
#endif
}

TEST(KvmLifecycle, FailedSetupReleasesEverythingAndNamesTheIoctl) {
  TDSIM_REQUIRE_PLAIN_KVM();
  const size_t fds = open_fds();
  for (int i = 0; i < 50; ++i) {
    try {
      kvm::KvmVm vm(77);  // no such VM type
      FAIL() << "KVM_CREATE_VM(77) succeeded";
    } catch (const BackendError& e) {
      EXPECT_STREQ(e.what(), "KVM_CREATE_VM: Invalid argument");
    }
  }
  EXPECT_EQ(open_fds(), fds);
}

TEST(KvmLifecycle, OverlappingMemslotErrorNamesSlotAndGpa) {
  TDSIM_REQUIRE_PLAIN_KVM();
  kvm::KvmVm vm(kvm::tdx::kX86DefaultVm);
  alignas(4096) static unsigned char page[8192];
  vm.set_user_memory_region(0, 0x1000, 0x2000, page);
  try {
    vm.set_user_memory_region(1, 0x2000, 0x1000, page);
    FAIL() << "overlapping memslot accepted";
  } catch (const BackendError& e) {
    EXPECT_NE(std::string(e.what()).find("KVM_SET_USER_MEMORY_REGION(slot 1, gpa 0x2000"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tdsim
