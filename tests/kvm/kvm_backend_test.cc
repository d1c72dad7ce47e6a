// The plain KVM backend on hand-made images: TD initial state, the stub path into
// 64-bit mode, MMIO and ucalls, TDCALL through the emulation-failure path, faults,
// HLT, port I/O, SMP and the wall-clock budget.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "core/backend.h"
#include "kvm/kvm_backend.h"
#include "kvm/td_initial_state.h"
#include "kvm_skip.h"
#include "stubs.h"
#include "tdsim/abi/tdx.h"
#include "test_image.h"
#include "tests/hlt_shutdown.h"

namespace tdsim {
namespace {

using kvmtest::make_test_image;

RunLimits quick() {
  RunLimits l;
  l.timeout = std::chrono::milliseconds(5000);
  return l;
}

std::vector<uint64_t> data_writes(const std::vector<Event>& evs, uint32_t vcpu = 0) {
  std::vector<uint64_t> out;
  for (const Event& e : evs)
    if (auto* m = std::get_if<MmioEvent>(&e); m && m->is_write && m->gpa == kvmtest::kDataMmio &&
                                               m->vcpu == vcpu)
      out.push_back(m->data);
  return out;
}

std::string dump(const std::vector<Event>& evs) {
  std::string s;
  for (const Event& e : evs) s += describe(e) + "\n";
  return s;
}

TEST(KvmBackend, NameIsKvm) { EXPECT_EQ(KvmBackend().name(), "kvm"); }

TEST(KvmBackend, StateAtResetVectorIsTheTdInitialState) {
  TDSIM_REQUIRE_PLAIN_KVM();
  KvmBackend be;
  TdImage img = make_test_image(TDSIM_STUB(state32));
  auto evs = run_collect(be, img, quick());
  auto w = data_writes(evs);
  ASSERT_EQ(w.size(), 23u) << dump(evs);
  for (const Event& e : evs) {
    if (auto* m = std::get_if<MmioEvent>(&e)) {
      EXPECT_EQ(m->len, 4u);
    }
  }
  EXPECT_EQ(w[0], 0u);                                   // EAX
  EXPECT_EQ(w[1], img.gpaw);                             // EBX = GPAW
  EXPECT_EQ(w[2], img.init_rcx & 0xffffffff);            // ECX = init RCX
  EXPECT_EQ(w[3], kvm::host_cpuid1_eax());               // EDX = CPUID(1).EAX
  EXPECT_EQ(w[4], 0u);                                   // ESI = vCPU index
  EXPECT_EQ(w[5], 0u);                                   // EDI
  EXPECT_EQ(w[6], 0u);                                   // ESP
  EXPECT_EQ(w[7], 0u);                                   // EBP
  EXPECT_EQ(w[8] & ~abi::kCr0Et, abi::kTdInitCr0);       // CR0 (ET is hardwired on x86-64)
  EXPECT_EQ(w[9], abi::kTdInitCr4);                      // CR4 = MCE
  EXPECT_EQ(w[10], abi::kTdInitEfer);                    // EFER: SCE|LME|NXE, LMA clear
  EXPECT_EQ(w[11], 0u);
  for (int i = 12; i <= 17; ++i) EXPECT_EQ(w[i], 0u) << "selector " << i - 12;
  EXPECT_EQ(w[18], abi::kTdInitRflags);                  // EFLAGS
  EXPECT_EQ(w[19], abi::kTdInitGdtrLimit);               // GDTR limit
  EXPECT_EQ(w[20], 0u);                                  // GDTR base
  EXPECT_EQ(w[21], 0u);                                  // IDTR limit
  EXPECT_EQ(w[22], 0u);                                  // IDTR base
  ASSERT_TRUE(test::hlt_shutdown(evs.back())) << dump(evs);
}

TEST(KvmBackend, StubPathReachesLongModeAndSendsUcall) {
  TDSIM_REQUIRE_PLAIN_KVM();
  KvmBackend be;
  TdImage img = make_test_image(TDSIM_STUB(long64));
  auto evs = run_collect(be, img, quick());
  auto w = data_writes(evs);
  ASSERT_EQ(w.size(), 7u) << dump(evs);
  EXPECT_EQ(w[0], 0u);                      // RSI
  EXPECT_EQ(w[1], img.init_rcx);            // R8 = init RCX
  EXPECT_EQ(w[2], img.init_rcx);            // RCX
  EXPECT_EQ(w[3], abi::kTdInitEfer | abi::kEferLma);  // long mode active, EFER never written
  EXPECT_EQ(w[4], 0x08u);                   // CS after the far jump
  EXPECT_EQ(w[5], kvmtest::kSlot0);         // read through the S-bit PTE (folded for KVM)
  EXPECT_EQ(w[6], 0u);                      // an MMIO read completes with 0
  bool saw_read = false;
  for (const Event& e : evs)
    if (auto* m = std::get_if<MmioEvent>(&e); m && !m->is_write) {
      saw_read = true;
      EXPECT_EQ(m->gpa, kvmtest::kDataMmio);
      EXPECT_EQ(m->len, 8u);
    }
  EXPECT_TRUE(saw_read);
  auto* u = std::get_if<UcallEvent>(&evs.back());
  ASSERT_NE(u, nullptr) << dump(evs);
  EXPECT_EQ(u->cmd, abi::kUcallDone);
  EXPECT_EQ(u->slot_gpa, kvmtest::kSlot0);
}

TEST(KvmBackend, AbortWithBadStringPointersIsAGuestMemoryError) {
  TDSIM_REQUIRE_PLAIN_KVM();
  KvmBackend be;
  TdImage img = make_test_image(TDSIM_STUB(long64));
  kvmtest::set_slot(img, 0, abi::kUcallAbort, "boom");
  auto evs = run_collect(be, img, quick());
  // ABORT with args pointing nowhere: the decoder refuses the strings, the vCPU stops.
  ASSERT_FALSE(evs.empty());
  auto* err = std::get_if<GuestMemoryErrorEvent>(&evs.back());
  ASSERT_NE(err, nullptr) << dump(evs);
  EXPECT_NE(err->what.find("assert expression"), std::string::npos) << err->what;
}

// The TDCALLs reach the TD platform (tdx/) that the Unicorn backend feeds too: leaf 1
// and VMCALL<CPUID> succeed as on a TD; only the MMIO to a private GPA is refused.
TEST(KvmBackend, TdcallsFromTheEmulationFailureExitAreAnsweredByTheTdPlatform) {
  TDSIM_REQUIRE_PLAIN_KVM();
  KvmBackend be;
  TdImage img = make_test_image(TDSIM_STUB(tdcall));
  kvmtest::set_slot(img, 0, abi::kUcallPrintf, "hello from TDCALL");
  auto evs = run_collect(be, img, quick());
  auto w = data_writes(evs);
  ASSERT_EQ(w.size(), 4u) << dump(evs);
  EXPECT_EQ(w[0], abi::kTdxSuccess);               // TDG.VP.INFO answered
  EXPECT_EQ(w[1], abi::kVmcallSuccess);            // VMCALL<CPUID> answered by KVM's model
  EXPECT_EQ(w[2], abi::kVmcallInvalidOperand);     // MMIO to a private GPA: no exit
  EXPECT_EQ(w[3], abi::kVmcallSuccess);            // the ucall
  std::vector<const TdcallRejectedEvent*> rejected;
  std::vector<const UcallEvent*> ucalls;
  for (const Event& e : evs) {
    if (auto* r = std::get_if<TdcallRejectedEvent>(&e)) rejected.push_back(r);
    if (auto* u = std::get_if<UcallEvent>(&e)) ucalls.push_back(u);
  }
  ASSERT_EQ(rejected.size(), 1u) << dump(evs);
  EXPECT_EQ(rejected[0]->subfn, abi::kVmcallRequestMmio);
  EXPECT_EQ(rejected[0]->status, abi::kVmcallInvalidOperand);
  EXPECT_GE(rejected[0]->rip, 0xfffff000u);
  ASSERT_EQ(ucalls.size(), 2u) << dump(evs);
  EXPECT_EQ(ucalls[0]->cmd, abi::kUcallPrintf);
  EXPECT_EQ(ucalls[0]->text, "hello from TDCALL");
  EXPECT_EQ(ucalls[1]->cmd, abi::kUcallDone);
  EXPECT_EQ(ucalls[1]->slot_gpa, kvmtest::kSlot1);
  EXPECT_TRUE(std::holds_alternative<UcallEvent>(evs.back()));
}

constexpr uint64_t kDeviceMmio = 0x10002000;  // tests/kvm/asm/mmio_read.S

std::vector<const MmioEvent*> reads(const std::vector<Event>& evs) {
  std::vector<const MmioEvent*> out;
  for (const Event& e : evs)
    if (auto* m = std::get_if<MmioEvent>(&e); m && !m->is_write) out.push_back(m);
  return out;
}

TEST(KvmBackend, MmioReadsAreAnsweredByTheDeviceHandler) {
  TDSIM_REQUIRE_PLAIN_KVM();
  KvmBackend be;
  std::vector<std::pair<uint64_t, uint32_t>> asked;
  be.set_mmio_read([&](uint32_t vcpu, uint64_t gpa, uint32_t len) -> std::optional<uint64_t> {
    EXPECT_EQ(vcpu, 0u);
    asked.emplace_back(gpa, len);
    return 0x1122334455667788ull + (gpa - kDeviceMmio);  // wider than the read: masked
  });
  const TdImage img = make_test_image(TDSIM_STUB(mmio_read));
  const auto evs = run_collect(be, img, quick());
  const auto w = data_writes(evs);
  ASSERT_EQ(w.size(), 3u) << dump(evs);
  EXPECT_EQ(w[0], 0x55667788u);              // 4-byte MOV
  EXPECT_EQ(w[1], 0x1122334455667790ull);    // 8-byte MOV at +8
  EXPECT_EQ(w[2], 0x7788u);                  // 2-byte TDG.VP.VMCALL<#VE.RequestMMIO>, in R11
  const std::vector<std::pair<uint64_t, uint32_t>> want = {
      {kDeviceMmio, 4}, {kDeviceMmio + 8, 8}, {kDeviceMmio, 2}};  // the TDCALL's GPA untagged
  EXPECT_EQ(asked, want);
  const auto r = reads(evs);
  ASSERT_EQ(r.size(), 3u) << dump(evs);
  EXPECT_EQ(r[0]->data, 0x55667788u) << "the event carries what the guest read";
  EXPECT_EQ(r[2]->data, 0x7788u);
  EXPECT_TRUE(test::hlt_shutdown(evs.back())) << dump(evs);
}

TEST(KvmBackend, MmioReadsWithoutADeviceReturnZero) {
  TDSIM_REQUIRE_PLAIN_KVM();
  KvmBackend be;
  be.set_mmio_read([](uint32_t, uint64_t, uint32_t) -> std::optional<uint64_t> { return std::nullopt; });
  const auto w = data_writes(run_collect(be, make_test_image(TDSIM_STUB(mmio_read)), quick()));
  EXPECT_EQ(w, (std::vector<uint64_t>{0, 0, 0}));
  KvmBackend unset;
  EXPECT_EQ(data_writes(run_collect(unset, make_test_image(TDSIM_STUB(mmio_read)), quick())),
            (std::vector<uint64_t>{0, 0, 0}));
}

TEST(KvmBackend, ExceptionWithoutIdtIsATripleFault) {
  TDSIM_REQUIRE_PLAIN_KVM();
  KvmBackend be;
  auto evs = run_collect(be, make_test_image(TDSIM_STUB(triple)), quick());
  ASSERT_EQ(evs.size(), 1u) << dump(evs);
  auto* f = std::get_if<FaultEvent>(&evs[0]);
  ASSERT_NE(f, nullptr) << dump(evs);
  EXPECT_TRUE(f->triple_fault);
  EXPECT_EQ(f->vcpu, 0u);
}

// A TD's HLT is a #VE; this stub has no IDT, so the TD shuts down at the HLT.
TEST(KvmBackend, HltWithoutAVeGateIsTheTdsShutdown) {
  TDSIM_REQUIRE_PLAIN_KVM();
  KvmBackend be;
  auto evs = run_collect(be, make_test_image(TDSIM_STUB(hlt)), quick());
  ASSERT_EQ(evs.size(), 1u) << dump(evs);
  auto* h = test::hlt_shutdown(evs[0]);
  ASSERT_NE(h, nullptr) << dump(evs);
  EXPECT_EQ(h->rip, 0xfffff000u);  // the HLT instruction itself
}

TEST(KvmBackend, PortIoIsAVeWhichShutsDownWithoutAnIdt) {
  TDSIM_REQUIRE_PLAIN_KVM();
  // As in a TD, the OUT is a #VE (vector 20); this stub has no IDT, so the vCPU shuts
  // down at the OUT itself (tests/guests/ve_port_io_test.cc has the guest with a handler).
  KvmBackend be;
  auto evs = run_collect(be, make_test_image(TDSIM_STUB(pio)), quick());
  ASSERT_EQ(evs.size(), 1u) << dump(evs);
  auto* f = std::get_if<FaultEvent>(&evs[0]);
  ASSERT_NE(f, nullptr) << dump(evs);
  EXPECT_TRUE(f->triple_fault) << dump(evs);
  EXPECT_TRUE(std::any_of(f->explanation.begin(), f->explanation.end(),
                          [](const std::string& l) { return l.find("out ") != std::string::npos; }))
      << "the report shows the OUT\n" << dump(evs);
}

TEST(KvmBackend, EndlessLoopEndsWithTheWallClockBudget) {
  TDSIM_REQUIRE_PLAIN_KVM();
  KvmBackend be;
  RunLimits l;
  l.timeout = std::chrono::milliseconds(150);
  auto t0 = std::chrono::steady_clock::now();
  auto evs = run_collect(be, make_test_image(TDSIM_STUB(loop), 2), l);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(evs.size(), 1u) << dump(evs);  // one budget event for the run, not per vCPU
  auto* b = std::get_if<BudgetExceededEvent>(&evs[0]);
  ASSERT_NE(b, nullptr) << dump(evs);
  EXPECT_EQ(b->kind, BudgetExceededEvent::Kind::kWallClock);
  EXPECT_EQ(b->limit, 150u);
  EXPECT_LT(took, std::chrono::seconds(3));
}

TEST(KvmBackend, TwoVcpusBootWithTheirOwnIndex) {
  TDSIM_REQUIRE_PLAIN_KVM();
  KvmBackend be;
  auto evs = run_collect(be, make_test_image(TDSIM_STUB(long64), 2), quick());
  for (uint32_t v = 0; v < 2; ++v) {
    auto w = data_writes(evs, v);
    ASSERT_EQ(w.size(), 7u) << "vcpu " << v << "\n" << dump(evs);
    EXPECT_EQ(w[0], v);  // RSI = VCPU_INDEX
    int done = 0;
    for (const Event& e : evs)
      if (auto* u = std::get_if<UcallEvent>(&e); u && u->vcpu == v && u->cmd == abi::kUcallDone)
        ++done;
    EXPECT_EQ(done, 1) << "vcpu " << v;
  }
}

}  // namespace
}  // namespace tdsim
