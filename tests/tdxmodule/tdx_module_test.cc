// The TDX module's own leaves: TDG.VP.INFO, MR.REPORT, RTMR.EXTEND, VEINFO.GET,
// PAGE.ACCEPT, unknown leaves, and that host hooks cannot change them.
#include <openssl/sha.h>

#include <cstring>
#include <map>
#include <tuple>

#include "bootstub/measure/mrtd.h"
#include "module_fixture.h"
#include "tdx/td_msr_virtual.h"

namespace tdsim::tdxtest {
namespace {

TEST_F(ModuleTest, VpInfoReportsGpawVcpusIndexAndAttributes) {
  tdx::TdxConfig cfg;
  cfg.attributes = 1ull << 28;
  cfg.max_vcpus = 8;
  make(cfg);
  ucall::TdcallRegs r;
  r.rax = abi::kTdgVpInfo;
  r.r12 = 0x77;
  const auto res = call(r, 1);
  EXPECT_EQ(res.regs.rax, abi::kTdxSuccess);
  EXPECT_EQ(res.regs.rcx, 48u);
  EXPECT_EQ(res.regs.rdx, 1ull << 28);
  EXPECT_EQ(res.regs.r8, uint64_t{image_.nr_vcpus} | (8ull << 32));
  EXPECT_EQ(res.regs.r9, 1u);
  EXPECT_EQ(res.regs.r10, 0u);
  EXPECT_EQ(res.regs.r11, 0u);
  EXPECT_EQ(res.regs.r12, 0x77u) << "not an output";
  EXPECT_FALSE(res.event);
}

TEST_F(ModuleTest, VpInfoMaxVcpusDefaultsToKvmsLimitAndGpaw52) {
  opts_.gpaw = 52;
  image_ = conformance::build_suite_image(opts_);
  make();
  ucall::TdcallRegs r;
  r.rax = abi::kTdgVpInfo;
  const auto res = call(r);
  EXPECT_EQ(res.regs.rcx, 52u);
  EXPECT_EQ(res.regs.r8 >> 32, tdx::kKvmMaxVcpus) << "KVM_TDX_INIT_VM leaves MAX_VCPUS at KVM_CAP_MAX_VCPUS";
  EXPECT_EQ(res.regs.r8 & 0xffffffff, image_.nr_vcpus) << "NUM_VCPUS";
}

TEST_F(ModuleTest, MrReportWritesTdreportWithBuiltMrtdAndReportData) {
  const uint64_t rep = elf_gpa() + 0x2000, data = elf_gpa() + 0x1040;
  uint8_t rd[64];
  for (int i = 0; i < 64; ++i) rd[i] = static_cast<uint8_t>(i * 3);
  ASSERT_TRUE(mem_->write(data, rd, 64));
  tdx::TdxConfig cfg;
  cfg.attributes = 0x10000000;
  cfg.xfam = 0xe7;
  make(cfg);
  ASSERT_TRUE(mem_->write(data, rd, 64));
  ucall::TdcallRegs r;
  r.rax = abi::kTdgMrReport;
  r.rcx = rep;
  r.rdx = data;
  const auto res = call(r);
  ASSERT_EQ(res.regs.rax, abi::kTdxSuccess) << (res.event ? describe(*res.event) : "");
  std::vector<uint8_t> out(1024);
  ASSERT_TRUE(mem_->read(rep, out.data(), out.size()));
  EXPECT_EQ(out[0], 0x81);
  EXPECT_EQ(0, std::memcmp(&out[128], rd, 64));
  EXPECT_EQ(measure::Mrtd::from_tdreport(out), module_->mrtd());  // what build_td() accumulated
  EXPECT_EQ(measure::Mrtd::from_tdreport(out), measure::predict_mrtd(image_));
  uint64_t attr, xfam;
  std::memcpy(&attr, &out[512], 8);
  std::memcpy(&xfam, &out[520], 8);
  EXPECT_EQ(attr, 0x10000000u);
  EXPECT_EQ(xfam, 0xe7u);
  for (int i = 224; i < 256; ++i) EXPECT_EQ(out[i], tdx::kFakeMacByte) << "MAC byte " << i;
  for (int i = 720; i < 720 + 192; ++i) EXPECT_EQ(out[i], 0) << "RTMRs start zero";
}

TEST_F(ModuleTest, MrReportOperandErrors) {
  const uint64_t rep = elf_gpa() + 0x2000, data = elf_gpa() + 0x1040;
  struct Case { uint64_t rcx, rdx, r8, status; };
  const uint64_t inv = abi::kTdxOperandInvalid;
  const Case cases[] = {
      {rep + 512, data, 0, inv | 1},                                  // unaligned report
      {rep | shared(), data, 0, inv | 1},                             // shared report GPA
      {1ull << 46, data, 0, abi::kTdxOperandAddrRangeError | 1},      // no memory there
      {image_.ucall_pool_gpa, data, 0, abi::kTdxOperandAddrRangeError | 1},  // shared region
      {rep, data + 4, 0, inv | 2},                                    // unaligned REPORTDATA
      {rep, data | shared(), 0, inv | 2},
      {rep, data, 1, inv | 8},                                        // subtype
  };
  for (const Case& c : cases) {
    ucall::TdcallRegs r;
    r.rax = abi::kTdgMrReport;
    r.rcx = c.rcx;
    r.rdx = c.rdx;
    r.r8 = c.r8;
    const auto res = call(r);
    EXPECT_EQ(res.regs.rax, c.status) << std::hex << c.rcx << " " << c.rdx;
    EXPECT_EQ(ev<TdcallRejectedEvent>(res).status, c.status);
    EXPECT_FALSE(res.stop);
  }
}

TEST_F(ModuleTest, RtmrExtendIsSha384OfOldValueAndData) {
  const uint64_t gpa = elf_gpa() + 0x1080;
  uint8_t data[48];
  for (int i = 0; i < 48; ++i) data[i] = static_cast<uint8_t>(0x30 + i);
  ASSERT_TRUE(mem_->write(gpa, data, 48));
  ucall::TdcallRegs r;
  r.rax = abi::kTdgMrRtmrExtend;
  r.rcx = gpa;
  r.rdx = 3;
  EXPECT_EQ(call(r).regs.rax, 0u);
  EXPECT_EQ(call(r).regs.rax, 0u);
  uint8_t buf[96] = {}, once[48], twice[48];
  std::memcpy(buf + 48, data, 48);
  SHA384(buf, 96, once);
  std::memcpy(buf, once, 48);
  SHA384(buf, 96, twice);
  EXPECT_EQ(0, std::memcmp(module_->rtmrs()[3].data(), twice, 48));
  EXPECT_EQ(module_->rtmrs()[0], tdx::Digest48{});
  module_->reset();
  EXPECT_EQ(module_->rtmrs()[3], tdx::Digest48{}) << "reset clears RTMRs";
  r.rdx = 4;
  EXPECT_EQ(call(r).regs.rax, abi::kTdxOperandInvalid | 2);
  r.rdx = 0;
  r.rcx = gpa + 16;
  EXPECT_EQ(call(r).regs.rax, abi::kTdxOperandInvalid | 1);
  r.rcx = gpa | shared();
  EXPECT_EQ(call(r).regs.rax, abi::kTdxOperandInvalid | 1);
}

TEST_F(ModuleTest, VeinfoGetHasNothingPending) {
  ucall::TdcallRegs r;
  r.rax = abi::kTdgVpVeinfoGet;
  const auto res = call(r);
  EXPECT_EQ(res.regs.rax, abi::kTdxNoVeInfo);
  EXPECT_EQ(ev<TdcallRejectedEvent>(res).leaf, abi::kTdgVpVeinfoGet);
}

TEST_F(ModuleTest, PageAcceptOfAddedPagesAndErrors) {
  const uint64_t page = elf_gpa();
  struct Case { uint64_t rcx, status; bool event; };
  const uint64_t inv = abi::kTdxOperandInvalid | 1;
  const Case cases[] = {
      {page, abi::kTdxPageAlreadyAccepted, false},   // warning: no event
      {page | 1, abi::kTdxPageSizeMismatch, true},   // 2M level on 4K-added pages (0x400000 is 2M aligned)
      {page | 3, inv, true},
      {page | 0x10, inv, true},
      {(page + 0x1000) | 1, inv, true},              // not 2M aligned
      {page | shared(), inv, true},
      {1ull << 46, abi::kTdxOperandAddrRangeError | 1, true},
  };
  for (const Case& c : cases) {
    ucall::TdcallRegs r;
    r.rax = abi::kTdgMemPageAccept;
    r.rcx = c.rcx;
    const auto res = call(r);
    EXPECT_EQ(res.regs.rax, c.status) << std::hex << c.rcx;
    EXPECT_EQ(res.event.has_value(), c.event) << std::hex << c.rcx;
  }
}

TEST_F(ModuleTest, UnknownLeafIsOperandInvalidOnRax) {
  for (uint64_t leaf : {5ull, 7ull, 8ull, 0x7full, 1ull << 40}) {
    ucall::TdcallRegs r;
    r.rax = leaf;
    const auto res = call(r);
    EXPECT_EQ(res.regs.rax, abi::kTdxOperandInvalid | abi::kTdxOperandIdRax) << leaf;
    EXPECT_EQ(ev<TdcallRejectedEvent>(res).leaf, leaf);
  }
}

TEST_F(ModuleTest, HostHookCannotAnswerModuleLeaves) {
  tdx::TdxConfig cfg;
  int calls = 0;
  cfg.hooks.vmcall = [&](const tdx::VmcallRequest&) {
    ++calls;
    return std::optional<tdx::VmcallReply>(tdx::VmcallReply{abi::kVmcallInvalidOperand});
  };
  make(cfg);
  ucall::TdcallRegs r;
  r.rax = abi::kTdgVpInfo;
  EXPECT_EQ(call(r).regs.rax, 0u);
  EXPECT_EQ(calls, 0);
}

TEST_F(ModuleTest, CpuidInstructionLeaf21IsTheModulesOwn) {
  EXPECT_EQ(module_->instruction_cpuid(0x21, 0, {}).value, tdx::kTdxSignatureLeaf);
  // Sub-leaf 1 is not in the module's table: a #VE, as for any leaf it does not list.
  const tdx::InstructionCpuid c = module_->instruction_cpuid(0x21, 1, {});
  EXPECT_FALSE(c.value);
  EXPECT_EQ(c.ve.exit_reason, abi::kExitReasonCpuid);
  EXPECT_EQ(c.ve.insn_length, 2u);
  // A hostile VMM's CPUID answers (VMCALL<CPUID>) do not reach the instruction.
  tdx::TdxConfig cfg;
  cfg.cpuid = tdx::CpuidModel{};
  make(cfg);
  EXPECT_EQ(module_->instruction_cpuid(0x21, 0, {}).value, tdx::kTdxSignatureLeaf);
  EXPECT_EQ(module_->instruction_cpuid(1, 0, {}).value->ecx & 1, 1u) << "SSE3";
}

TEST_F(ModuleTest, CpuidInstructionPresentsTheTdCpu) {
  tdx::CpuidVcpuState st;
  st.vcpu_index = 3;
  const auto v0 = *module_->instruction_cpuid(0, 0, st).value;
  EXPECT_GE(v0.eax, 0x21u);
  EXPECT_EQ(v0.ebx, 0x756e6547u);
  const auto v1 = *module_->instruction_cpuid(1, 0, st).value;
  EXPECT_EQ(v1.eax, 0x000806f8u) << "Sapphire Rapids family/model/stepping";
  for (int b : {0, 9, 19, 20, 21, 26, 31}) EXPECT_TRUE((v1.ecx >> b) & 1) << "CPUID.1:ECX bit " << b;
  for (int b : {3, 5, 6, 27}) EXPECT_FALSE((v1.ecx >> b) & 1) << "CPUID.1:ECX bit " << b;
  EXPECT_FALSE((v1.ecx >> 28) & 1) << "AVX off: the default XFAM is x87 | SSE";
  EXPECT_EQ(v1.ebx >> 24, 3u) << "initial APIC ID = vCPU index";
  st.cr4 = 1u << 18;
  EXPECT_TRUE((module_->instruction_cpuid(1, 0, st).value->ecx >> 27) & 1) << "OSXSAVE follows CR4";
  const auto e1 = *module_->instruction_cpuid(0x80000001, 0, st).value;
  EXPECT_TRUE((e1.edx >> 20) & 1) << "NX";
  EXPECT_TRUE((e1.edx >> 29) & 1) << "LM";
  EXPECT_FALSE((e1.edx >> 11) & 1) << "SYSCALL outside 64-bit mode";
  st.long_mode = true;
  EXPECT_TRUE((module_->instruction_cpuid(0x80000001, 0, st).value->edx >> 11) & 1);
  EXPECT_EQ((module_->instruction_cpuid(0x80000008, 0, st).value->eax >> 16) & 0xff, image_.gpaw);
  // #VE leaves: the hypervisor range, the leaves needing REDUCE_VE or topology, unlisted ones.
  for (uint32_t leaf : {0x40000000u, 0x4fffffffu, 0x2u, 0xbu, 0x1fu, 0x80000002u, 0x3u})
    EXPECT_FALSE(module_->instruction_cpuid(leaf, 0, st).value) << std::hex << leaf;
  // Above the maximum: the maximum basic leaf (0x21) is answered.
  EXPECT_EQ(module_->instruction_cpuid(0x80000009, 0, st).value, tdx::kTdxSignatureLeaf);
}

TEST_F(ModuleTest, CpuidFollowsXfamAttributesAndConfiguration) {
  auto leaf = [&](uint32_t l, uint32_t s, uint64_t xcr0 = 3) {
    tdx::CpuidVcpuState st;
    st.xcr0 = xcr0;
    return *module_->instruction_cpuid(l, s, st).value;
  };
  EXPECT_EQ(leaf(0xd, 0).eax, 3u);
  EXPECT_EQ(leaf(0xd, 0).ecx, 576u);
  EXPECT_EQ(leaf(0xd, 2).eax, 0u) << "AVX component absent without XFAM AVX";
  EXPECT_FALSE((leaf(7, 0).ecx >> 31) & 1) << "PKS without the attribute";
  tdx::TdxConfig cfg;
  cfg.xfam = 0x2e7;  // x87, SSE, AVX, AVX-512, PKRU
  cfg.attributes = tdx::kAttrPks;
  tdx::CpuidModel vmm;
  vmm.set(1, tdx::CpuidModel::kAnySubleaf, {0, 0x00100000, 0, 0});  // 16 logical IDs, no TSC deadline
  cfg.cpuid_config = vmm;
  make(cfg);
  EXPECT_EQ(leaf(0xd, 0).eax, 0x2e7u);
  EXPECT_EQ(leaf(0xd, 0).ecx, 2696u) << "up to PKRU's end";
  EXPECT_EQ(leaf(0xd, 0, 0x7).ebx, 832u) << "EBX follows XCR0";
  EXPECT_EQ(leaf(0xd, 2).eax, 256u);
  EXPECT_TRUE((leaf(1, 0).ecx >> 28) & 1) << "AVX";
  EXPECT_TRUE((leaf(7, 0).ebx >> 16) & 1) << "AVX512F";
  EXPECT_TRUE((leaf(7, 0).ecx >> 31) & 1) << "PKS";
  EXPECT_TRUE((leaf(7, 0).ecx >> 3) & 1) << "PKU";
  EXPECT_EQ((leaf(1, 0).ebx >> 16) & 0xff, 0x10u) << "configured logical IDs";
  EXPECT_FALSE((leaf(1, 0).ecx >> 24) & 1) << "TSC deadline not configured";
  EXPECT_TRUE((leaf(1, 0).ecx >> 31) & 1) << "hypervisor bit is fixed-1 whatever the VMM says";
}

TEST(TdMsrRules, ClassesOfTheMsrsATdGuestTouches) {
  using tdx::MsrAccess;
  // The decision for a TD with these ATTRIBUTES and XFAM: its features come from its own
  // virtual CPUID, as the module's do.
  auto decide = [](uint32_t msr, bool write, uint64_t attributes = 0, uint64_t xfam = tdx::kXfamX87Sse) {
    const tdx::CpuidModel td = tdx::td_cpuid_values(tdx::sapphire_rapids_native(),
                                                    tdx::TdCpuidConfig{attributes, xfam, 48, {}});
    return tdx::td_msr_access(msr, write, tdx::MsrTdConfig{attributes, xfam, td});
  };
  auto access = [&](uint32_t msr, bool write, uint64_t attributes = 0, uint64_t xfam = tdx::kXfamX87Sse) {
    return decide(msr, write, attributes, xfam).access;
  };
  for (uint32_t msr : {0x277u, 0xc0000080u, 0xc0000082u, 0xc0000100u, 0xc0000102u, 0xc0000103u})
    EXPECT_EQ(access(msr, false), MsrAccess::kNative) << std::hex << msr;
  for (uint32_t msr : {0x1bu, 0x1fcu, 0x2ffu, 0x200u, 0x802u, 0x830u, 0x83eu, 0x6e0u, 0x3au, 0xceu, 0xcfu})
    EXPECT_EQ(access(msr, true), MsrAccess::kVe) << std::hex << msr;
  // The module's own handlers: MISC_ENABLE, ARCH_CAPABILITIES, PERF_CAPABILITIES reads,
  // DEBUGCTL both ways, EFER writes; MISC_ENABLE writes are a #VE, the read-only
  // capability MSRs' writes a #GP.
  for (uint32_t msr : {0x1a0u, 0x10au, 0x345u, 0x1d9u})
    EXPECT_EQ(access(msr, false), MsrAccess::kModule) << std::hex << msr;
  for (uint32_t msr : {0x1d9u, 0xc0000080u}) EXPECT_EQ(access(msr, true), MsrAccess::kModule) << std::hex << msr;
  EXPECT_EQ(access(0x1a0, true), MsrAccess::kVe);
  EXPECT_EQ(access(0x10a, true), MsrAccess::kGp);
  EXPECT_EQ(access(0x345, true), MsrAccess::kGp);
  // FIXED_1_GP_AT_EXIT rows: the VMX capability MSRs, SMBASE, SGX, TSX_CTRL, the
  // reserved x2APIC offsets.
  for (uint32_t msr : {0x480u, 0x485u, 0x48bu, 0x491u, 0x492u, 0x9eu, 0x9bu, 0x8cu, 0x122u, 0x276u, 0x500u, 0xd90u,
                       0x800u, 0x801u, 0x804u, 0x829u, 0x831u, 0x840u, 0x8ffu}) {
    EXPECT_EQ(access(msr, false), MsrAccess::kGp) << std::hex << msr;
    EXPECT_EQ(access(msr, true), MsrAccess::kGp) << std::hex << msr;
  }
  // XFAM-enabled MSRs: CET with XFAM bits 12:11, LBR with bit 15, PT with bit 8.
  EXPECT_EQ(access(0x6a2, false), MsrAccess::kGp) << "IA32_S_CET without XFAM.CET";
  EXPECT_EQ(access(0x6a2, false, 0, tdx::kXfamX87Sse | (3ull << 11)), MsrAccess::kNative);
  EXPECT_EQ(access(0x14ce, true), MsrAccess::kGp) << "IA32_LBR_CTL without XFAM.LBR";
  EXPECT_EQ(access(0x570, true), MsrAccess::kGp) << "IA32_RTIT_CTL without XFAM.PT";
  EXPECT_EQ(access(0xc0000083, false), MsrAccess::kVe) << "CSTAR: not in the module's table";
  EXPECT_EQ(access(0xc0000084, true), MsrAccess::kNative) << "FMASK";
  EXPECT_EQ(access(0xc80, false), MsrAccess::kNative) << "DEBUG_INTERFACE read";
  EXPECT_EQ(access(0xc80, true), MsrAccess::kVe) << "DEBUG_INTERFACE write";
  EXPECT_EQ(access(0xda0, false), MsrAccess::kNative) << "XSS read";
  EXPECT_EQ(access(0xda0, true), MsrAccess::kModule) << "XSS write: checked";
  EXPECT_EQ(access(0x10, false), MsrAccess::kNative) << "TSC read";
  EXPECT_EQ(access(0x10, true), MsrAccess::kVe) << "TSC write";
  for (uint32_t msr : {0xc1u, 0x186u, 0x309u, 0x38fu}) {
    EXPECT_EQ(access(msr, false), MsrAccess::kGp) << std::hex << msr << ": perfmon MSR without PERFMON";
    EXPECT_EQ(access(msr, true, tdx::kAttrPerfmon), MsrAccess::kNative) << std::hex << msr;
  }
  EXPECT_EQ(access(0x1c4, false), MsrAccess::kGp) << "IA32_XFD without XFAM AMX (no XFD in the TD CPUID)";
  EXPECT_EQ(access(0x1c5, true), MsrAccess::kGp) << "IA32_XFD_ERR";
  EXPECT_EQ(access(0x1c4, true, 0, tdx::kXfamX87Sse | tdx::kXfamAmx), MsrAccess::kNative) << "XFD with AMX";
  EXPECT_EQ(access(0x6e1, true), MsrAccess::kGp) << "IA32_PKRS without ATTRIBUTES.PKS";
  EXPECT_EQ(access(0x6e1, true, tdx::kAttrPks), MsrAccess::kNative);
  EXPECT_EQ(access(0xe1, false), MsrAccess::kGp) << "IA32_UMWAIT_CONTROL: no WAITPKG in the TD CPUID";
  EXPECT_NE(decide(0xe1, false).why.find("WAITPKG"), std::string::npos);
  EXPECT_EQ(access(0x4b564d00, false), MsrAccess::kVe) << "outside the bitmap";
  EXPECT_EQ(access(0x1100, false), MsrAccess::kVe) << "not in the table: the module's default";
  EXPECT_NE(decide(0x830, true).why.find("x2APIC"), std::string::npos);
  for (uint32_t msr : {0x1f8u, 0x1fau, 0x981u, 0x982u, 0x984u}) {
    EXPECT_EQ(access(msr, false), MsrAccess::kGp) << std::hex << msr << ": a feature the TD lacks";
    EXPECT_EQ(access(msr, true), MsrAccess::kGp) << std::hex << msr;
  }
  EXPECT_NE(decide(0x982, false).why.find("TME"), std::string::npos);
  for (const tdx::MsrRule& r : tdx::td_msr_rules()) {
    EXPECT_LE(r.first, r.last);
    EXPECT_TRUE(r.source && *r.source);
  }
}

// The module's own handlers (td_msr_access.c): the virtual values a TD reads, the
// DEBUGCTL it keeps per vCPU and its checks, and the EFER rule (SCE only).
TEST(TdMsrRules, TheModulesOwnValuesAndCheckedWrites) {
  using tdx::MsrAccess;
  auto with = [](uint64_t attributes, uint64_t xfam, uint32_t msr, bool write, uint64_t value, uint64_t efer,
                 uint64_t* debugctl) {
    const tdx::CpuidModel td = tdx::td_cpuid_values(tdx::sapphire_rapids_native(),
                                                    tdx::TdCpuidConfig{attributes, xfam, 48, {}});
    return tdx::virtual_msr_access(msr, write, value, tdx::MsrTdConfig{attributes, xfam, td},
                                   tdx::MsrVcpuState{efer, debugctl});
  };
  uint64_t dbg = 0;
  auto rd = [&](uint32_t msr, uint64_t attributes = 0, uint64_t xfam = tdx::kXfamX87Sse) {
    const tdx::MsrDecision d = with(attributes, xfam, msr, false, 0, 0, &dbg);
    EXPECT_EQ(d.access, MsrAccess::kModule) << std::hex << msr << " " << d.why;
    return d.value;
  };
  // MISC_ENABLE: fast strings, BTS unavailable; PEBS unavailable without PERFMON, PERFMON
  // available with it; EST and the MONITOR FSM off (fixed-0 in the TD CPUID).
  EXPECT_EQ(rd(0x1a0), 0x1801u);
  EXPECT_EQ(rd(0x1a0, tdx::kAttrPerfmon), 0x881u);
  EXPECT_EQ(rd(0x10a), tdx::kModelArchCapabilities & ~(1ull << 7)) << "TSX_CTRL enumerated absent";
  const tdx::CpuidModel td =
      tdx::td_cpuid_values(tdx::sapphire_rapids_native(), tdx::TdCpuidConfig{0, tdx::kXfamX87Sse, 48, {}});
  EXPECT_EQ((td.answer(7, 0).edx >> 29) & 1, 1u) << "CPUID 7.0 EDX[29] (ARCH_CAPABILITIES) is fixed-1";
  EXPECT_EQ(rd(0x345), 0u) << "PERF_CAPABILITIES without PERFMON";
  EXPECT_EQ(rd(0x345, tdx::kAttrPerfmon), tdx::kModelPerfCapabilities & ~(1ull << 16)) << "PEBS output to PT cleared";
  // DEBUGCTL: kept per vCPU, bit 13 neither taken nor shown; reserved bits #GP; TR
  // without BTS #VE (nothing kept).
  EXPECT_EQ(with(0, tdx::kXfamX87Sse, 0x1d9, true, 0x2003, 0, &dbg).access, MsrAccess::kModule);
  EXPECT_EQ(dbg, 0x3u);
  EXPECT_EQ(rd(0x1d9), 0x3u);
  EXPECT_EQ(with(0, tdx::kXfamX87Sse, 0x1d9, true, 1ull << 16, 0, &dbg).access, MsrAccess::kGp);
  EXPECT_EQ(with(0, tdx::kXfamX87Sse, 0x1d9, true, 0x8, 0, &dbg).access, MsrAccess::kGp) << "bit 3 reserved";
  EXPECT_EQ(with(0, tdx::kXfamX87Sse, 0x1d9, true, 0x40, 0, &dbg).access, MsrAccess::kVe) << "TR without BTS";
  EXPECT_EQ(with(0, tdx::kXfamX87Sse, 0x1d9, true, 0xc0, 0, &dbg).access, MsrAccess::kModule) << "TR with BTS";
  EXPECT_EQ(dbg, 0xc0u);
  // EFER: SCE may change (the CPU does the write), LMA is ignored, anything else is a #VE.
  constexpr uint64_t efer = 0xd00;  // LME, LMA, NXE
  EXPECT_EQ(with(0, tdx::kXfamX87Sse, 0xc0000080, true, efer | 1, efer, &dbg).access, MsrAccess::kNative);
  EXPECT_EQ(with(0, tdx::kXfamX87Sse, 0xc0000080, true, (efer | 1) & ~0x400ull, efer, &dbg).access,
            MsrAccess::kNative)
      << "LMA is read-only: the old value stands";
  const tdx::MsrDecision nxe = with(0, tdx::kXfamX87Sse, 0xc0000080, true, efer & ~0x800ull, efer, &dbg);
  EXPECT_EQ(nxe.access, MsrAccess::kVe);
  EXPECT_NE(nxe.why.find("0x800"), std::string::npos) << nxe.why;
  // XSS: a write within the platform's components and XFAM is the CPU's, else #GP(0).
  EXPECT_EQ(with(0, tdx::kXfamX87Sse, 0xda0, true, 0, 0, &dbg).access, MsrAccess::kNative);
  EXPECT_EQ(with(0, tdx::kXfamX87Sse, 0xda0, true, 1ull << 11, 0, &dbg).access, MsrAccess::kGp) << "CET_U, no XFAM.CET";
  EXPECT_EQ(with(0, tdx::kXfamX87Sse | (3ull << 11), 0xda0, true, 3ull << 11, 0, &dbg).access, MsrAccess::kNative);
  EXPECT_EQ(with(0, ~0ull, 0xda0, true, 1ull << 13, 0, &dbg).access, MsrAccess::kGp) << "HDC: not on the platform";
}

// The module's VM-exit dispatcher rows, from the bytes: #VE for INVD, WBINVD and VMCALL
// with their exit reasons and lengths, #UD for MONITOR, MWAIT, the VMX instructions,
// GETSEC, ENCLS and SEAMCALL; the neighbours in the same opcode groups (TDCALL, RDRAND,
// XGETBV, SWAPGS, PCONFIG) are none of them.
TEST(TdInstructionRules, TheDispatchersRowsFromTheBytes) {
  auto at = [](std::initializer_list<uint8_t> b) {
    const std::vector<uint8_t> v(b);
    return tdx::td_instruction_at(v);
  };
  struct Want {
    std::vector<uint8_t> bytes;
    const char* name;
    uint32_t reason, length;
    bool ud;
  };
  const std::vector<Want> rows{
      {{0x0f, 0x08}, "INVD", 13, 2, false},          {{0x0f, 0x09}, "WBINVD", 54, 2, false},
      {{0xf3, 0x0f, 0x09}, "WBNOINVD", 54, 3, false}, {{0x0f, 0x01, 0xc1}, "VMCALL", 18, 3, false},
      {{0x0f, 0x01, 0xc8}, "MONITOR", 39, 3, true},  {{0x0f, 0x01, 0xc9}, "MWAIT", 36, 3, true},
      {{0x0f, 0x01, 0xc4}, "VMXOFF", 26, 3, true},   {{0x0f, 0x37}, "GETSEC", 11, 2, true},
      {{0x0f, 0x01, 0xcf}, "ENCLS", 60, 3, true},    {{0x66, 0x0f, 0x01, 0xcf}, "SEAMCALL", 76, 4, true},
      {{0xf3, 0x0f, 0xc7, 0x30}, "VMXON", 27, 0, true}, {{0x66, 0x0f, 0xc7, 0x30}, "VMCLEAR", 19, 0, true},
      {{0x0f, 0xc7, 0x30}, "VMPTRLD", 21, 0, true},  {{0x48, 0x0f, 0x78, 0xc1}, "VMREAD", 23, 0, true},
      {{0x66, 0x0f, 0x38, 0x80, 0x00}, "INVEPT", 50, 0, true},
  };
  for (const Want& w : rows) {
    const std::optional<tdx::TdInstruction> t = tdx::td_instruction_at(w.bytes);
    ASSERT_TRUE(t) << w.name;
    EXPECT_STREQ(t->name, w.name);
    EXPECT_EQ(t->exit_reason, w.reason) << w.name;
    EXPECT_EQ(t->ud, w.ud) << w.name;
    if (!w.ud) {
      EXPECT_EQ(t->length, w.length) << w.name;
    }
  }
  EXPECT_FALSE(at({0x66, 0x0f, 0x01, 0xcc})) << "TDCALL";
  EXPECT_FALSE(at({0x0f, 0xc7, 0xf0})) << "RDRAND (register form of 0F C7 /6)";
  EXPECT_FALSE(at({0x0f, 0x01, 0xd0})) << "XGETBV";
  EXPECT_FALSE(at({0x0f, 0x01, 0xf8})) << "SWAPGS";
  EXPECT_FALSE(at({0x0f, 0x01, 0xc5})) << "PCONFIG: the CPU's own #UD (fixed-0 in the TD CPUID)";
  EXPECT_FALSE(at({0x0f})) << "truncated";
  EXPECT_EQ(tdx::instruction_ve(*at({0x0f, 0x09})).insn_length, 2u);
}

TEST(TdCpuidRules, EveryRowNamesItsSourceAndRowsOfALeafDoNotOverlap) {
  std::map<std::tuple<uint32_t, uint32_t, uint8_t>, uint32_t> seen;
  for (const tdx::CpuidRule& r : tdx::td_cpuid_rules()) {
    EXPECT_TRUE(r.source && *r.source) << std::hex << r.leaf;
    EXPECT_TRUE(r.what && *r.what) << std::hex << r.leaf;
    uint32_t& covered = seen[{r.leaf, r.subleaf, r.reg}];
    EXPECT_EQ(covered & r.mask, 0u) << std::hex << "leaf " << r.leaf << " sub " << r.subleaf << " reg " << int(r.reg);
    covered |= r.mask;
  }
}

}  // namespace
}  // namespace tdsim::tdxtest
