// TDG.VP.VMCALL sub-functions as KVM answers them, the expose-mask rules, and host
// hooks (device answers and hostile-host overrides).
#include <cstring>

#include "module_fixture.h"

namespace tdsim::tdxtest {
namespace {

constexpr uint64_t kInvalid = abi::kVmcallInvalidOperand;

TEST_F(ModuleTest, CpuidFromTheModelIntoR12ToR15) {
  auto res = vmcall(abi::kVmcallCpuid, 0x80000008);
  EXPECT_EQ(res.regs.r10, 0u);
  EXPECT_EQ((res.regs.r12 >> 16) & 0xff, 48u);
  res = vmcall(abi::kVmcallCpuid, 0x21, 0);
  EXPECT_EQ(res.regs.r13, tdx::kTdxSignatureLeaf.ebx);
  res = vmcall(abi::kVmcallCpuid, 0x40000123);
  EXPECT_EQ(res.regs.r12 | res.regs.r13 | res.regs.r14 | res.regs.r15, 0u) << "unknown leaf: zeros";
  tdx::TdxConfig cfg;
  cfg.cpuid = tdx::CpuidModel{};
  cfg.cpuid->set(1, tdx::CpuidModel::kAnySubleaf, {1, 2, 3, 4});
  make(cfg);
  res = vmcall(abi::kVmcallCpuid, 1, 9);
  EXPECT_EQ(res.regs.r12, 1u);
  EXPECT_EQ(res.regs.r15, 4u);
}

TEST_F(ModuleTest, HltStopsTheVcpu) {
  const auto res = vmcall(abi::kVmcallHlt, 1);
  EXPECT_TRUE(res.stop);
  EXPECT_EQ(ev<HaltEvent>(res).rip, 0x401000u);  // the TDCALL itself
}

TEST_F(ModuleTest, IoSizesDirectionsPortsAndDefaults) {
  auto res = vmcall(abi::kVmcallIo, 2, 0, 0x3f8);
  EXPECT_EQ(res.regs.r10, 0u);
  EXPECT_EQ(res.regs.r11, 0xffffu) << "absent device reads all-ones, masked to size";
  EXPECT_EQ(vmcall(abi::kVmcallIo, 3, 0, 0x80).regs.r10, kInvalid);
  EXPECT_EQ(vmcall(abi::kVmcallIo, 8, 1, 0x80).regs.r10, kInvalid);
  EXPECT_EQ(vmcall(abi::kVmcallIo, 1, 2, 0x80).regs.r10, kInvalid);
  EXPECT_EQ(vmcall(abi::kVmcallIo, 1, 0, 0x10000).regs.r10, kInvalid);
  tdx::TdxConfig cfg;
  std::vector<std::tuple<uint16_t, uint32_t, uint64_t>> writes;
  cfg.hooks.io_read = [](uint32_t, uint16_t port, uint32_t) -> std::optional<uint64_t> {
    if (port == 0x71) return 0x1234567;
    return std::nullopt;
  };
  cfg.hooks.io_write = [&](uint32_t, uint16_t p, uint32_t s, uint64_t v) { writes.emplace_back(p, s, v); };
  cfg.io_read_all_ones = false;
  make(cfg);
  EXPECT_EQ(vmcall(abi::kVmcallIo, 1, 0, 0x71).regs.r11, 0x67u);
  EXPECT_EQ(vmcall(abi::kVmcallIo, 4, 0, 0x72).regs.r11, 0u);
  EXPECT_EQ(vmcall(abi::kVmcallIo, 2, 1, 0x70, 0xabcdef).regs.r10, 0u);
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0], std::make_tuple(uint16_t{0x70}, 2u, uint64_t{0xcdef}));
}

TEST_F(ModuleTest, MsrModelReadWriteAndFailures) {
  auto res = vmcall(abi::kVmcallRdmsr, 0x1b);
  EXPECT_EQ(res.regs.r10, 0u);
  EXPECT_EQ(res.regs.r11, 0xfee00d00u) << "x2APIC + enable + BSP";
  EXPECT_EQ(vmcall(abi::kVmcallRdmsr, 0x12345).regs.r10, kInvalid);
  EXPECT_EQ(vmcall(abi::kVmcallWrmsr, 0x1b, 0).regs.r10, kInvalid) << "APIC_BASE read-only";
  EXPECT_EQ(vmcall(abi::kVmcallWrmsr, 0x6e0, 0x99).regs.r10, 0u);
  EXPECT_EQ(vmcall(abi::kVmcallRdmsr, 0x6e0).regs.r11, 0x99u);
  module_->reset();
  EXPECT_EQ(vmcall(abi::kVmcallRdmsr, 0x6e0).regs.r11, 0u);
}

TEST_F(ModuleTest, MsrX2apicIcrAndPowerCtlAsKvmHandlesThem) {
  EXPECT_EQ(vmcall(abi::kVmcallRdmsr, 0x1fc).regs.r10, 0u) << "POWER_CTL reads";
  EXPECT_EQ(vmcall(abi::kVmcallRdmsr, 0x1fc).regs.r11, 0u);
  EXPECT_EQ(vmcall(abi::kVmcallWrmsr, 0x1fc, 0x2).regs.r10, 0u);
  EXPECT_EQ(vmcall(abi::kVmcallRdmsr, 0x1fc).regs.r11, 0x2u);
  EXPECT_EQ(vmcall(abi::kVmcallRdmsr, 0x830).regs.r10, 0u) << "x2APIC ICR reads";
  EXPECT_EQ(vmcall(abi::kVmcallRdmsr, 0x830).regs.r11, 0u);
  // A fixed IPI, vector 0xf0, to APIC ID 1 with the delivery-status bit set: stored without it.
  EXPECT_EQ(vmcall(abi::kVmcallWrmsr, 0x830, (1ull << 32) | 0x10f0).regs.r10, 0u);
  EXPECT_EQ(vmcall(abi::kVmcallRdmsr, 0x830).regs.r11, (1ull << 32) | 0xf0);
  EXPECT_EQ(vmcall(abi::kVmcallWrmsr, 0x830, 1ull << 20).regs.r10, kInvalid) << "reserved bit 20";
  EXPECT_EQ(vmcall(abi::kVmcallRdmsr, 0x830).regs.r11, (1ull << 32) | 0xf0) << "unchanged by the refused write";
}

TEST_F(ModuleTest, MmioReadUsesDeviceHookAndReportsTheAccess) {
  const uint64_t gpa = 0x9000000;
  EXPECT_EQ(vmcall(abi::kVmcallRequestMmio, 4, 0, gpa | shared()).regs.r11, 0u) << "default 0 like KVM backend";
  tdx::TdxConfig cfg;
  cfg.hooks.mmio_read = [](uint32_t, uint64_t g, uint32_t len) -> std::optional<uint64_t> {
    return g == 0x9000000 && len == 2 ? std::optional<uint64_t>(0xbeefcafe) : std::nullopt;
  };
  make(cfg);
  const auto res = vmcall(abi::kVmcallRequestMmio, 2, 0, gpa | shared());
  EXPECT_EQ(res.regs.r11, 0xcafeu);
  const auto& m = ev<MmioEvent>(res);
  EXPECT_EQ(m.gpa, gpa);
  EXPECT_FALSE(m.is_write);
  EXPECT_EQ(m.data, 0xcafeu);
  EXPECT_EQ(vmcall(abi::kVmcallRequestMmio, 8, 1, gpa).regs.r10, kInvalid) << "private GPA";
  EXPECT_EQ(vmcall(abi::kVmcallRequestMmio, 16, 1, gpa | shared()).regs.r10, kInvalid);
}

TEST_F(ModuleTest, MapGpaRangeAlignmentAndOptIn) {
  const uint64_t g = 0x100000 | shared();
  auto res = vmcall(abi::kVmcallMapGpa, g, 0x3000);
  EXPECT_EQ(res.regs.r10, 0u);
  const auto& x = ev<VmcallExitEvent>(res);
  EXPECT_EQ(x.gpa, g);
  EXPECT_EQ(x.size, 0x3000u);
  res = vmcall(abi::kVmcallMapGpa, g + 8, 0x1000);
  EXPECT_EQ(res.regs.r10, abi::kVmcallAlignError);
  EXPECT_EQ(res.regs.r11, g + 8) << "KVM reports the GPA in R11";
  EXPECT_EQ(vmcall(abi::kVmcallMapGpa, g, 0x1001).regs.r10, abi::kVmcallAlignError);
  EXPECT_EQ(vmcall(abi::kVmcallMapGpa, 1ull << 48, 0x1000).regs.r10, kInvalid);
  EXPECT_EQ(vmcall(abi::kVmcallMapGpa, shared() - 0x1000, 0x2000).regs.r10, kInvalid) << "crosses S-bit";
  EXPECT_EQ(vmcall(abi::kVmcallMapGpa, g, 0).regs.r10, kInvalid);
  tdx::TdxConfig cfg;
  cfg.map_gpa_enabled = false;
  make(cfg);
  EXPECT_EQ(vmcall(abi::kVmcallMapGpa, g, 0x1000).regs.r10, abi::kVmcallSubfnUnsupported);
}

TEST_F(ModuleTest, GetQuoteNeedsSharedBuffer) {
  auto res = vmcall(abi::kVmcallGetQuote, 0x200000 | shared(), 0x1000);
  EXPECT_EQ(res.regs.r10, 0u);
  EXPECT_EQ(ev<VmcallExitEvent>(res).subfn, abi::kVmcallGetQuote);
  EXPECT_EQ(vmcall(abi::kVmcallGetQuote, 0x200000, 0x1000).regs.r10, kInvalid);
}

TEST_F(ModuleTest, ReportFatalErrorIsATerminalFaultWithCodeAndMessage) {
  ucall::TdcallRegs r;
  r.rcx = abi::kVmcallExposeR10toR15 | (1u << 3);
  r.r11 = abi::kVmcallReportFatalError;
  r.r12 = (1ull << 63) | 0x42;
  r.r13 = 0x5000;
  std::memcpy(&r.r14, "guest pa", 8);
  std::memcpy(&r.r15, "nicked!!", 8);
  r.rbx = 0;
  const auto res = call(r);
  EXPECT_TRUE(res.stop);
  const auto& f = ev<FaultEvent>(res);
  EXPECT_EQ(f.error_code, r.r12);
  EXPECT_NE(f.detail.find("\"guest panicked!!\""), std::string::npos) << f.detail;
  EXPECT_NE(f.detail.find("0x5000"), std::string::npos) << f.detail;
}

TEST_F(ModuleTest, SetupEventNotifyAndGetTdVmCallInfo) {
  EXPECT_EQ(vmcall(abi::kVmcallSetupEventNotifyInterrupt, 32).regs.r10, 0u);
  EXPECT_EQ(vmcall(abi::kVmcallSetupEventNotifyInterrupt, 31).regs.r10, kInvalid);
  EXPECT_EQ(vmcall(abi::kVmcallSetupEventNotifyInterrupt, 256).regs.r10, kInvalid);
  auto res = vmcall(abi::kVmcallGetTdVmCallInfo, 0, 5, 5, 5);
  EXPECT_EQ(res.regs.r10 | res.regs.r11 | res.regs.r12 | res.regs.r13 | res.regs.r14, 0u);
  EXPECT_FALSE(res.event);
  res = vmcall(abi::kVmcallGetTdVmCallInfo, 1);
  EXPECT_EQ(ev<VmcallExitEvent>(res).arg, 1u);
  EXPECT_EQ(vmcall(abi::kVmcallGetTdVmCallInfo, 2).regs.r10, kInvalid);
  EXPECT_EQ(vmcall(0x10005).regs.r10, abi::kVmcallSubfnUnsupported);
}

TEST_F(ModuleTest, ExposeMaskRules) {
  for (uint64_t bad : {0x1ull, 0x2ull, 0x10ull, 0x20ull, 1ull << 32}) {
    ucall::TdcallRegs r;
    r.rcx = abi::kVmcallExposeR10toR15 | bad;
    r.r10 = 0x55;
    r.r11 = abi::kVmcallCpuid;
    const auto res = call(r);
    EXPECT_EQ(res.regs.rax, abi::kTdxOperandInvalid | abi::kTdxOperandIdRcx) << bad;
    EXPECT_EQ(res.regs.r10, 0x55u) << "untouched";
  }
  // Inputs not exposed read 0 for the VMM; outputs go only into exposed registers.
  tdx::TdxConfig cfg;
  ucall::TdcallRegs seen;
  cfg.hooks.vmcall = [&](const tdx::VmcallRequest& q) {
    seen = q.regs;
    return std::optional<tdx::VmcallReply>(tdx::VmcallReply{0, 1, 2, 3, 4, 5});
  };
  make(cfg);
  ucall::TdcallRegs r;
  r.rcx = 0x1c00 | (1u << 6);  // R10, R11, R12, RSI
  r.r11 = abi::kVmcallCpuid;
  r.r12 = 7;
  r.r13 = r.r14 = r.r15 = 0x99;
  r.rsi = 0x66;
  r.rdi = 0x77;
  const auto res = call(r);
  EXPECT_EQ(seen.r13, 0u);
  EXPECT_EQ(seen.rsi, 0x66u);
  EXPECT_EQ(seen.rdi, 0u);
  EXPECT_EQ(res.regs.r11, 1u);
  EXPECT_EQ(res.regs.r12, 2u);
  EXPECT_EQ(res.regs.r13, 0x99u);
  EXPECT_EQ(res.regs.r15, 0x99u);
}

TEST_F(ModuleTest, KvmHypercallsThroughR10) {
  ucall::TdcallRegs r;
  r.rcx = abi::kVmcallExposeR10toR15;
  r.r10 = tdx::kKvmHcVapicPollIrq;
  EXPECT_EQ(call(r).regs.r10, 0u);
  r.r10 = 12;
  EXPECT_EQ(call(r).regs.r10, tdx::kKvmEnosys);
}

TEST_F(ModuleTest, HostileHookOverridesChosenSubfunctions) {
  tdx::TdxConfig cfg;
  cfg.hooks.vmcall = [](const tdx::VmcallRequest& q) -> std::optional<tdx::VmcallReply> {
    if (q.regs.r11 == abi::kVmcallRequestMmio) return tdx::VmcallReply{abi::kVmcallInvalidOperand};
    if (q.regs.r11 == abi::kVmcallCpuid) return tdx::VmcallReply{0, {}, 0xdead, 0xbeef, 0, 0};
    return std::nullopt;
  };
  make(cfg);
  auto res = vmcall(abi::kVmcallRequestMmio, 8, 1, image_.ucall_mmio_gpa | shared(), 0);
  EXPECT_EQ(res.regs.r10, kInvalid);
  EXPECT_NE(ev<TdcallRejectedEvent>(res).reason.find("host hook"), std::string::npos);
  res = vmcall(abi::kVmcallCpuid, 0);
  EXPECT_EQ(res.regs.r12, 0xdeadu);
  EXPECT_EQ(res.regs.r13, 0xbeefu);
  EXPECT_EQ(vmcall(abi::kVmcallIo, 1, 0, 0x80).regs.r11, 0xffu) << "not overridden: KVM default";
}

}  // namespace
}  // namespace tdsim::tdxtest

namespace tdsim::tdxtest {
namespace {

// A user-space KVM hands KVM's exits to its program: without the program's answer the
// TDCALL is deferred (nothing happened, no event); asked again with the answer, it
// completes with it, and the refusals KVM makes itself never reach the program.
TEST_F(ModuleTest, UserspaceExitsAreDeferredUntilTheProgramAnswers) {
  std::vector<tdx::UserspaceExit> out;
  std::optional<tdx::VmmCompletion> answer;
  module_->set_userspace([&](const tdx::UserspaceExit& x) -> std::optional<tdx::VmmCompletion> {
    out.push_back(x);
    return std::exchange(answer, std::nullopt);
  });
  const uint64_t gpa = 0x9000000;
  auto res = vmcall(abi::kVmcallRequestMmio, 4, 0, gpa | shared());
  EXPECT_TRUE(res.deferred);
  EXPECT_FALSE(res.event);
  EXPECT_EQ(res.regs.r11, abi::kVmcallRequestMmio) << "R11 still the sub-function";
  ASSERT_EQ(out.size(), 1u);
  const auto* m = std::get_if<tdx::MmioExit>(&out[0].kind);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->gpa, gpa) << "shared bit stripped";
  EXPECT_EQ(m->len, 4u);
  EXPECT_FALSE(m->is_write);

  answer = tdx::VmmCompletion{};
  answer->mmio_data = 0x11223344;
  res = vmcall(abi::kVmcallRequestMmio, 4, 0, gpa | shared());
  EXPECT_FALSE(res.deferred);
  EXPECT_EQ(res.regs.r10, 0u);
  EXPECT_EQ(res.regs.r11, 0x11223344u);
  EXPECT_EQ(out.size(), 2u) << "the replayed call produced the same exit";

  // Refused by KVM itself (size 16): no exit, not deferred.
  res = vmcall(abi::kVmcallRequestMmio, 16, 1, gpa | shared());
  EXPECT_FALSE(res.deferred);
  EXPECT_EQ(res.regs.r10, abi::kVmcallInvalidOperand);
  EXPECT_EQ(out.size(), 2u);
}

}  // namespace
}  // namespace tdsim::tdxtest

namespace tdsim::tdxtest {
namespace {

// KVM's in-kernel local APIC answers the x2APIC registers a TD's #VE handler forwards
// (a firmware reads SVR, the ID and the LVTs while it sets its APIC up).
TEST_F(ModuleTest, X2apicRegistersAnswerAsKvmsLocalApic) {
  constexpr uint64_t kInvalid = abi::kVmcallInvalidOperand;
  auto rd = [&](uint64_t msr, uint32_t vcpu = 0) {
    ucall::TdcallRegs r;
    r.rcx = abi::kVmcallExposeR10toR15;
    r.r11 = abi::kVmcallRdmsr;
    r.r12 = msr;
    return call(r, vcpu).regs;
  };
  EXPECT_EQ(rd(0x80f).r11, 0xffu) << "SVR after reset: software-disabled, spurious vector 0xff";
  EXPECT_EQ(rd(0x802, 1).r11, 1u) << "x2APIC ID = vCPU index";
  EXPECT_EQ(rd(0x80d, 1).r11, 2u) << "LDR: cluster 0, bit 1";
  EXPECT_EQ(rd(0x835).r11, 0x10000u) << "LINT0 masked";
  EXPECT_EQ(rd(0x803).r11 & 0xff, 0x14u);
  EXPECT_EQ(vmcall(abi::kVmcallWrmsr, 0x80f, 0x1ff).regs.r10, 0u);
  EXPECT_EQ(rd(0x80f).r11, 0x1ffu) << "kept";
  EXPECT_EQ(rd(0x80f, 1).r11, 0xffu) << "per vCPU";
  EXPECT_EQ(vmcall(abi::kVmcallWrmsr, 0x80b, 0).regs.r10, 0u) << "EOI";
  EXPECT_EQ(rd(0x80b).r10, kInvalid) << "EOI is write-only";
  EXPECT_EQ(rd(0x801).r10, kInvalid) << "no register there";
  EXPECT_EQ(vmcall(abi::kVmcallWrmsr, 0x802, 5).regs.r10, kInvalid) << "the ID is read-only";
}

}  // namespace
}  // namespace tdsim::tdxtest
