// Plain-KVM costs, each next to a baseline measured in the same run:
//  - ucall round trip through KvmBackend (MMIO exit + ucall decode + event sink) vs the
//    raw KVM_EXIT_MMIO round trip of the same guest driven by a bare KVM_RUN loop;
//  - create + boot + DONE runs per second vs bare create-VM+vCPU+destroy per second.
// Exits 0 with a "skipped" line when /dev/kvm is unusable.
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "bench/median.h"
#include "core/backend.h"
#include "core/guest_memory.h"
#include "core/shared_bit_fold.h"
#include "kvm/kvm_backend.h"
#include "kvm/kvm_vm.h"
#include "kvm/probe.h"
#include "kvm/td_initial_state.h"
#include "kvm/tdx_uapi.h"
#include "stubs.h"
#include "test_image.h"

using namespace tdsim;
using Clock = std::chrono::steady_clock;

namespace {

using tdsim::bench::median;

constexpr auto kWindow = std::chrono::milliseconds(300);
constexpr int kRounds = 5;  // baseline and subject alternate; medians are printed

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Exits per second of the ucall-loop guest under a bare KVM_RUN loop (no decoding).
double raw_mmio_rate(const TdImage& img) {
  GuestMemory mem(img);
  fold_shared_bit_in_page_tables(img, mem);
  kvm::KvmVm vm(kvm::tdx::kX86DefaultVm);
  uint32_t slot = 0;
  for (const auto& b : mem.blocks()) vm.set_user_memory_region(slot++, b.gpa, b.size, b.host);
  kvm::KvmVcpu& v = vm.create_vcpu(0);
  kvm::load_td_initial_state(v.fd(), img, 0);
  uint64_t exits = 0;
  // Warm up into the loop, then time a fixed window.
  for (int i = 0; i < 1000; ++i) ioctl(v.fd(), KVM_RUN, 0);
  const auto t0 = Clock::now();
  while (Clock::now() - t0 < kWindow) {
    for (int i = 0; i < 256; ++i) {
      if (ioctl(v.fd(), KVM_RUN, 0) < 0 || v.run()->exit_reason != KVM_EXIT_MMIO) return -1;
      ++exits;
    }
  }
  return exits / seconds(Clock::now() - t0);
}

// ucall events per second through the backend; the run ends by its wall-clock budget.
double backend_ucall_rate(const TdImage& img) {
  KvmBackend be;
  RunLimits l;
  l.timeout = kWindow;
  uint64_t ucalls = 0;
  const auto t0 = Clock::now();
  be.run(img, l, [&](const Event& e) { ucalls += std::holds_alternative<UcallEvent>(e); });
  return ucalls / seconds(Clock::now() - t0);
}

double boots_per_second(const TdImage& img) {
  KvmBackend be;
  RunLimits l;
  uint64_t n = 0;
  const auto t0 = Clock::now();
  while (Clock::now() - t0 < kWindow) {
    bool done = false;
    be.run(img, l, [&](const Event& e) {
      if (auto* u = std::get_if<UcallEvent>(&e)) done = u->cmd == abi::kUcallDone;
    });
    if (!done) return -1;
    ++n;
  }
  return n / seconds(Clock::now() - t0);
}

double bare_vm_per_second() {
  uint64_t n = 0;
  const auto t0 = Clock::now();
  while (Clock::now() - t0 < kWindow) {
    kvm::KvmVm vm(kvm::tdx::kX86DefaultVm);
    vm.create_vcpu(0);
    ++n;
  }
  return n / seconds(Clock::now() - t0);
}

}  // namespace

int main() {
  const kvm::HostProbe probe = kvm::probe_host();
  if (!probe.backend("kvm")->can_run) {
    std::printf("kvm bench skipped: %s\n", probe.backend("kvm")->reason.c_str());
    return 0;
  }
  TdImage loop = kvmtest::make_test_image(TDSIM_STUB(ucall_loop));
  kvmtest::set_slot(loop, 0, abi::kUcallPrintf, "x");
  const TdImage boot = kvmtest::make_test_image(TDSIM_STUB(long64));

  std::vector<double> raws, ucalls, bares, bootss;
  for (int r = 0; r < kRounds; ++r) {
    raws.push_back(raw_mmio_rate(loop));
    ucalls.push_back(backend_ucall_rate(loop));
    bares.push_back(bare_vm_per_second());
    bootss.push_back(boots_per_second(boot));
  }
  const double raw = median(raws), ucall = median(ucalls);
  const double bare = median(bares), boots = median(bootss);
  std::printf("medians of %d alternating %lld ms windows\n", kRounds,
              static_cast<long long>(kWindow.count()));
  std::printf("raw KVM_EXIT_MMIO round trip:   %8.2f us  (%.0f/s)\n", 1e6 / raw, raw);
  std::printf("ucall round trip (KvmBackend):  %8.2f us  (%.0f/s)\n", 1e6 / ucall, ucall);
  std::printf("ucall / raw MMIO cost ratio:    %8.3f   (target <= 1.1)\n", raw / ucall);

  std::printf("bare create VM+vCPU+destroy:    %8.0f /s  (%.1f us)\n", bare, 1e6 / bare);
  std::printf("create+boot+DONE (KvmBackend):  %8.0f /s  (%.1f us)\n", boots, 1e6 / boots);
  std::printf("boot run / bare VM cost ratio:  %8.2f\n", bare / boots);
  return 0;
}
