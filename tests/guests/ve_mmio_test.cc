// MMIO, HLT and #GP MSRs as a TD does them, on every backend that runs here. A plain MOV on the
// layout's shared MMIO window is an EPT violation the TD takes as a #VE: the runtime's
// #VE handler decodes the instruction and asks the VMM with TDG.VP.VMCALL<#VE.RequestMMIO>,
// so the host sees each access as an MmioEvent and answers the reads; VEINFO carries exit
// reason 48, the qualification, GLA and the GPA with the shared bit. HLT is a #VE too and
// becomes TDG.VP.VMCALL<Instruction.HLT>. An MSR the TDX module refuses outright is a
// #GP(0) through the guest's IDT. Unicorn, plain KVM and kvm-tdx (on TDX hardware or under
// `tdsim exec`) give the same events. A read of a
// private page the TD never accepted is the EPT-violation #VE of a PENDING page (or, with
// ATTRIBUTES.SEPT_VE_DISABLE, the end of the VM) where the backend catches the touch.
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "bootstub/host/image_builder.h"
#include "core/event_diff.h"
#include "host/registry.h"
#include "tdsim/abi/guest_config.h"
#include "tdsim/abi/tdx.h"
#include "tdsim/abi/ucall.h"
#include "tests/guests/test_assets.h"
#include "tests/host/backend_params.h"
#include "tests/guests/ve_pending_pages.h"
#include "tdx/td_cpuid.h"
#include "tdx/td_msr_virtual.h"

namespace tdsim {
namespace {

std::string dump(const std::vector<Event>& events) {
  std::string s;
  for (const Event& e : events) {
    s += "  " + describe(e);
    if (const auto* u = std::get_if<UcallEvent>(&e))
      for (uint64_t a : u->args) s += " " + std::to_string(a);
    s += "\n";
  }
  return s;
}

TdImage image_of(const char* elf, uint32_t shared_mmio_pages = 0) {
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(elf);
  spec.shared_mmio_pages = shared_mmio_pages;
  return build_image(spec);
}

using Runs = std::vector<std::pair<std::string, std::vector<Event>>>;

// `image` on every runnable backend with a 20 s budget, apart from those lacking the
// capability `need` (named in `skipped` with `lacking`).
Runs run_on_each(const TdImage& image, std::string& skipped, bool host::BackendCaps::*need = nullptr,
                 const char* lacking = "") {
  Runs runs;
  for (const host::BackendInfo* b : test::runnable_backends(skipped)) {
    if (need && !(b->caps.*need)) {
      skipped += b->name + ": " + lacking + "; ";
      continue;
    }
    RunLimits limits;
    limits.timeout = std::chrono::seconds(20);
    runs.emplace_back(b->name, run_collect(*b->make_backend({}), image, limits));
  }
  return runs;
}

// Every backend that ran saw what the first one saw; with only one, the test is a skip
// (nothing was compared) naming why the others could not run.
void expect_backends_agree(const Runs& runs, const TdImage& image, const std::string& skipped) {
  for (size_t i = 1; i < runs.size(); ++i) {
    const auto d = first_divergence(runs[0].second, runs[i].second, image.nr_vcpus);
    EXPECT_FALSE(d.has_value()) << runs[0].first << " vs " << runs[i].first << "\n"
                                << dump(runs[0].second) << dump(runs[i].second);
  }
  if (runs.size() == 1) GTEST_SKIP() << "only " << runs[0].first << " could run: " << skipped;
}

// The device behind the window: a distinct value per offset, so a read of the wrong width
// or address shows.
std::optional<uint64_t> device(uint64_t window, uint64_t gpa, uint32_t len) {
  switch (gpa - window) {
    case 0x40: return len == 1 ? std::optional<uint64_t>(0x81) : std::nullopt;
    case 0x48: return len == 2 ? std::optional<uint64_t>(0x8182) : std::nullopt;
    case 0x50: return len == 4 ? std::optional<uint64_t>(0x81828384) : std::nullopt;
    case 0x58: return len == 8 ? std::optional<uint64_t>(0x8182838485868788ull) : std::nullopt;
    case 0x60: return len == 2 ? std::optional<uint64_t>(0xfedc) : std::nullopt;
    case 0x68: return len == 1 ? std::optional<uint64_t>(0x80) : std::nullopt;
    default: return std::nullopt;
  }
}

TEST(VeMmio, EveryBackendTurnsMovOnSharedMmioIntoVmcallsThroughTheVeHandler) {
  const TdImage image = image_of(TDSIM_GUEST_VE_MMIO_ELF, 1);
  const uint64_t w = image.shared_mmio_gpa;
  std::string skipped;
  Runs runs;
  for (const host::BackendInfo* b : test::runnable_backends(skipped)) {
    auto backend = b->make_backend({});
    backend->set_mmio_read([w](uint32_t, uint64_t gpa, uint32_t len) { return device(w, gpa, len); });
    RunLimits limits;
    limits.timeout = std::chrono::seconds(20);
    runs.emplace_back(b->name, run_collect(*backend, image, limits));
  }
  ASSERT_FALSE(runs.empty()) << skipped;
  struct Access {
    uint64_t offset;
    uint32_t len;
    bool write;
    uint64_t data;
  };
  const std::vector<Access> expected{
      {0x00, 1, true, 0x11}, {0x02, 2, true, 0x2222}, {0x04, 4, true, 0x33333333},
      {0x08, 8, true, 0x4444444444444444ull}, {0x10, 1, true, 0x99} /* AH */, {0x11, 1, true, 0x77} /* R9B */,
      {0x18, 1, true, 0x55}, {0x1a, 2, true, 0x6666}, {0x1c, 4, true, 0x77777777},
      {0x20, 8, true, 0xfffffffffffffffeull} /* imm32 sign-extended */,
      {0x40, 1, false, 0x81}, {0x48, 2, false, 0x8182}, {0x50, 4, false, 0x81828384},
      {0x58, 8, false, 0x8182838485868788ull}, {0x60, 2, false, 0xfedc}, {0x68, 1, false, 0x80}};
  for (const auto& [name, events] : runs) {
    SCOPED_TRACE(name + "\n" + dump(events));
    ASSERT_EQ(events.size(), expected.size() + 3);
    for (size_t i = 0; i < expected.size(); ++i) {
      const auto* m = std::get_if<MmioEvent>(&events[i]);
      ASSERT_NE(m, nullptr) << "event " << i;
      EXPECT_EQ(m->gpa, w + expected[i].offset) << "event " << i;
      EXPECT_EQ(m->len, expected[i].len) << "event " << i;
      EXPECT_EQ(m->is_write, expected[i].write) << "event " << i;
      EXPECT_EQ(m->data, expected[i].data) << "event " << i;
    }
    const auto* reads = std::get_if<UcallEvent>(&events[expected.size()]);
    ASSERT_NE(reads, nullptr);
    EXPECT_EQ(reads->args[1], 0xaaaaaaaaaaaaaa81ull) << "movb: the rest of the register kept";
    EXPECT_EQ(reads->args[2], 0xaaaaaaaaaaaa8182ull) << "movw: the rest of the register kept";
    EXPECT_EQ(reads->args[3], 0x81828384ull) << "movl: zero-extended";
    EXPECT_EQ(reads->args[4], 0x8182838485868788ull);
    EXPECT_EQ(reads->args[5], 0xfedcull) << "movzwq";
    EXPECT_EQ(reads->args[6], 0xffffffffffffff80ull) << "movsbq";
    const auto* ve = std::get_if<UcallEvent>(&events[expected.size() + 1]);
    ASSERT_NE(ve, nullptr);
    EXPECT_EQ(ve->args[1], expected.size()) << "one #VE per access";
    EXPECT_EQ(ve->args[2], abi::kExitReasonEptViolation);
    EXPECT_EQ(ve->args[3], abi::kEptQualRead | abi::kEptQualGlaValid | abi::kEptQualFinalTranslation);
    EXPECT_EQ(ve->args[4], w + 0x68) << "GLA: the window is identity mapped";
    EXPECT_EQ(ve->args[5], (w + 0x68) | image.shared_bit) << "GPA with the shared bit";
    const auto* unhandled = std::get_if<UcallEvent>(&events.back());
    ASSERT_NE(unhandled, nullptr);
    EXPECT_EQ(unhandled->cmd, abi::kUcallUnhandled);
    EXPECT_EQ(unhandled->args[abi::kUnhandledArgVector], abi::kVeVector);
  }
  expect_backends_agree(runs, image, skipped);
}

TEST(VeHlt, HltIsAVeTheHandlerTurnsIntoVmcallHltAndTheHostResumes) {
  const TdImage image = image_of(TDSIM_GUEST_VE_HLT_ELF);
  std::string skipped;
  Runs runs;
  for (const host::BackendInfo* b : test::runnable_backends(skipped)) {
    if (!b->caps.stepping) {
      skipped += b->name + ": no host API stepping; ";
      continue;
    }
    if (b->caps.real_td) {
      skipped += b->name + ": a real TD's memory is private, the host cannot read the halted instruction back; ";
      continue;
    }
    SCOPED_TRACE(b->name);
    VmOptions o;
    o.limits.timeout = std::chrono::seconds(20);
    auto vm = b->make_vm(image, o, {});
    Vcpu& v = vm->vcpu(0);
    std::vector<Event> events{v.run()};
    const auto* halt = std::get_if<HaltEvent>(&events[0]);
    ASSERT_NE(halt, nullptr) << describe(events[0]);
    uint8_t insn[4] = {};
    ASSERT_TRUE(vm->read(halt->rip, insn, sizeof insn));
    EXPECT_EQ(std::vector<uint8_t>(insn, insn + 4), std::vector<uint8_t>(abi::kTdcallBytes, abi::kTdcallBytes + 4))
        << "the halt is the handler's TDG.VP.VMCALL<HLT>, not the HLT";
    ASSERT_TRUE(v.resume());
    events.push_back(v.run());
    const auto* sync = std::get_if<UcallEvent>(&events[1]);
    ASSERT_NE(sync, nullptr) << describe(events[1]);
    EXPECT_EQ(sync->cmd, abi::kUcallSync);
    EXPECT_EQ(sync->args[1], abi::kExitReasonHlt);
    EXPECT_EQ(sync->args[2], 0u) << "qualification";
    EXPECT_EQ(sync->args[3], 1u) << "instruction length";
    events.push_back(v.run());
    const auto* done = std::get_if<UcallEvent>(&events[2]);
    ASSERT_NE(done, nullptr) << describe(events[2]);
    EXPECT_EQ(done->cmd, abi::kUcallDone);
    runs.emplace_back(b->name, std::move(events));
  }
  ASSERT_FALSE(runs.empty()) << skipped;
  expect_backends_agree(runs, image, skipped);
}

TEST(MsrGp, MsrsOfTheModulesGpClassRaiseGpThroughTheGuestIdt) {
  const TdImage image = image_of(TDSIM_GUEST_MSR_GP_ELF);
  std::string skipped;
  const Runs runs = run_on_each(image, skipped);
  ASSERT_FALSE(runs.empty()) << skipped;
  for (const auto& [name, events] : runs) {
    SCOPED_TRACE(name + "\n" + dump(events));
    ASSERT_EQ(events.size(), 2u);
    const auto* sync = std::get_if<UcallEvent>(&events[0]);
    ASSERT_NE(sync, nullptr);
    EXPECT_EQ(sync->args[1], 7u)
        << "TME_ACTIVATE, PLATFORM_DCA_CAP, UMWAIT_CONTROL, XFD, PKRS, PMC0, VMX_BASIC: one #GP each";
    EXPECT_EQ(sync->args[2], 0u) << "#GP(0)";
    EXPECT_EQ(sync->args[3], 7u) << "each #GP on its MSR instruction";
    EXPECT_EQ(sync->args[5], 0xfeu) << "the seven MSR instructions, in order";
    EXPECT_EQ(sync->args[4], 0x0000567800001234ull) << "the refused RDMSR wrote nothing";
  }
  expect_backends_agree(runs, image, skipped);
}

// The MSRs the TDX module answers itself (td_msr_virtual.h): the same values on every
// backend that routes MSR exits through the module (caps.msr_ve), no #VE for them, EFER's
// SCE changed natively, and a change of EFER.NXE a #VE that KVM refuses (an event where
// tdsim models KVM, nothing the host sees on a real TD).
TEST(MsrModule, TheModulesOwnMsrsAndTheEferRuleOnEveryBackend) {
  const TdImage image = image_of(TDSIM_GUEST_MSR_MODULE_ELF);
  std::string skipped;
  const Runs runs = run_on_each(image, skipped, &host::BackendCaps::msr_ve,
                                "its MSR accesses do not reach the TDX module (caps.msr_ve)");
  ASSERT_FALSE(runs.empty()) << skipped;
  for (const auto& [name, events] : runs) {
    SCOPED_TRACE(name + "\n" + dump(events));
    // On a real TD KVM refuses the EFER write in the kernel (TDVMCALL status
    // INVALID_OPERAND, no exit): the host sees no event for it, only the guest's end.
    const host::BackendInfo* b = host::find_backend(name);
    ASSERT_NE(b, nullptr);
    const bool refusal_seen = !b->caps.real_td;
    ASSERT_EQ(events.size(), refusal_seen ? 4u : 3u);
    const auto* one = std::get_if<UcallEvent>(&events[0]);
    const auto* two = std::get_if<UcallEvent>(&events[1]);
    const auto* end = std::get_if<UcallEvent>(&events.back());
    ASSERT_TRUE(one && two && end);
    if (refusal_seen) {
      const auto* refused = std::get_if<TdcallRejectedEvent>(&events[2]);
      ASSERT_NE(refused, nullptr);
      EXPECT_NE(refused->reason.find("WRMSR 0xc0000080"), std::string::npos) << "KVM refuses the EFER write";
    }
    ASSERT_EQ(one->cmd, abi::kUcallSync);
    EXPECT_EQ(one->args[1], 0u) << "no #VE for the module's own MSRs";
    EXPECT_EQ(one->args[2], 0x1801u) << "MISC_ENABLE: fast strings, BTS and PEBS unavailable (no PERFMON)";
    EXPECT_EQ(one->args[3], tdx::kModelArchCapabilities & ~(1ull << 7)) << "ARCH_CAPABILITIES without TSX_CTRL";
    EXPECT_EQ(one->args[4], 0u) << "PERF_CAPABILITIES without ATTRIBUTES.PERFMON";
    ASSERT_EQ(two->cmd, abi::kUcallSync);
    EXPECT_EQ(two->args[1], 0x3u) << "DEBUGCTL as written, bit 13 dropped";
    const uint64_t efer = two->args[2];
    EXPECT_EQ(efer & 0x500, 0x500u) << "LME and LMA in 64-bit mode";
    EXPECT_EQ(two->args[3], efer ^ 1) << "SCE toggled";
    EXPECT_EQ(two->args[4], efer) << "and back";
    EXPECT_EQ(two->args[5], 0u) << "still no #VE";
    ASSERT_EQ(end->cmd, abi::kUcallUnhandled) << "EFER.NXE: the #VE, then KVM's refusal";
    EXPECT_EQ(end->args[abi::kUnhandledArgVector], 13u);
    EXPECT_EQ(end->args[1], uint64_t{abi::kExitReasonWrmsr});
  }
  expect_backends_agree(runs, image, skipped);
}

// The ve_pending guest's image: the two pages of ve_pending_pages.h carved out of the
// low-RAM region holding them and left unaccepted, as a VMM leaves a TD's RAM.
TdImage pending_image() {
  TdImage image = image_of(TDSIM_GUEST_VE_PENDING_ELF);
  constexpr uint64_t a = TDSIM_VE_PENDING_ACCEPTED_GPA, size = 0x2000;
  const Region* r = image.region_at(a);
  if (!r || r->shared || r->unaccepted || !r->contains(a + size - 1) || r->bytes.size() > a - r->gpa)
    throw std::logic_error("ve_pending: its pages are not in unused private RAM of the layout");
  const Region old = *r;
  std::vector<Region> out;
  for (const Region& x : image.regions)
    if (x.gpa != old.gpa) out.push_back(x);
  out.push_back(make_region(old.name, old.kind, old.gpa, a - old.gpa, old.bytes, old.measured));
  Region pending = make_region("pending", RegionKind::kRam, a, size);
  pending.unaccepted = true;
  out.push_back(pending);
  if (old.end() > a + size)
    out.push_back(make_region(old.name + "-after-pending", old.kind, a + size, old.end() - a - size, {}, old.measured));
  std::sort(out.begin(), out.end(), [](const Region& l, const Region& r) { return l.gpa < r.gpa; });
  image.regions = std::move(out);
  return image;
}

TEST(VePending, TouchingAPageBeforeAcceptingItIsAVeOrTheVmsEnd) {
  const TdImage image = pending_image();
  constexpr uint64_t touched = TDSIM_VE_PENDING_TOUCHED_GPA + 0x18;
  std::string skipped;
  Runs runs;
  for (const host::BackendInfo* b : test::runnable_backends(skipped)) {
    if (!b->caps.pending_page_ve) {
      skipped += b->name + ": does not catch a touch of a pending page (plain KVM maps it like any RAM); ";
      continue;
    }
    if (b->caps.real_td) {
      // KVM adds such a page with TDH.MEM.PAGE.AUG at its first touch, PENDING until the
      // TD accepts it; tdsim exec's user-space KVM maps a guest_memfd page the program
      // never added as accepted memory, and no TDX hardware here has run this.
      skipped += b->name + ": the user-space KVM does not leave a never-added private page PENDING (no "
                           "TDH.MEM.PAGE.AUG model); ";
      continue;
    }
    SCOPED_TRACE(b->name);
    RunLimits limits;
    limits.timeout = std::chrono::seconds(20);
    // SEPT_VE_DISABLE clear: the #VE, which the runtime reports and stops on.
    const std::vector<Event> events = run_collect(*b->make_backend({}), image, limits);
    SCOPED_TRACE(dump(events));
    ASSERT_EQ(events.size(), 2u);
    const auto* sync = std::get_if<UcallEvent>(&events[0]);
    ASSERT_NE(sync, nullptr);
    EXPECT_EQ(sync->args[1], 0u) << "TDG.MEM.PAGE.ACCEPT of the first page: SUCCESS";
    EXPECT_EQ(sync->args[2], 0u) << "the accepted page reads as zeros";
    EXPECT_EQ(sync->args[3], 0x5a5au) << "and keeps what is written";
    const auto* ve = std::get_if<UcallEvent>(&events[1]);
    ASSERT_NE(ve, nullptr);
    EXPECT_EQ(ve->cmd, abi::kUcallUnhandled);
    EXPECT_EQ(ve->args[abi::kUnhandledArgVector], abi::kVeVector);
    EXPECT_EQ(ve->args[abi::kUnhandledArgErrorCode], abi::kExitReasonEptViolation);
    EXPECT_EQ(ve->args[abi::kUnhandledArgVeGpa], touched) << "the private GPA: no shared bit";
    EXPECT_EQ(ve->args[abi::kUnhandledArgVeGla], touched) << "low RAM is identity mapped";
    EXPECT_EQ(ve->args[abi::kUnhandledArgVeQualification],
              abi::kEptQualRead | abi::kEptQualGlaValid | abi::kEptQualFinalTranslation);
    runs.emplace_back(b->name, events);

    // SEPT_VE_DISABLE set: the TD exits to KVM, which ends the VM at the read.
    host::BackendSetup setup;
    setup.config.attributes = tdx::kAttrSeptVeDisable;
    const std::vector<Event> dead = run_collect(*b->make_backend(setup), image, limits);
    SCOPED_TRACE(dump(dead));
    ASSERT_EQ(dead.size(), 2u);
    const auto* f = std::get_if<FaultEvent>(&dead[1]);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->vector, -1) << "no exception reaches the guest";
    EXPECT_NE(f->detail.find("SEPT_VE_DISABLE"), std::string::npos) << f->detail;
    EXPECT_NE(f->detail.find("KVM marks the VM dead"), std::string::npos) << f->detail;
    EXPECT_EQ(f->rip, ve->args[abi::kUnhandledArgRip]) << "the same instruction";
  }
  ASSERT_FALSE(runs.empty()) << skipped;
  expect_backends_agree(runs, image, skipped);
}

// The TDX module's dispatcher (tdx/td_instructions.h): MONITOR, MWAIT, VMXOFF and GETSEC
// are #UD on every backend; INVD, WBINVD and VMCALL are #VE where the backend raises it.
TEST(TdInstructions, TheModulesUdInstructionsAreUdAndItsVeInstructionsAreVes) {
  const TdImage ud_image = image_of(TDSIM_GUEST_TD_INSNS_UD_ELF);
  const TdImage ve_image = image_of(TDSIM_GUEST_TD_INSNS_VE_ELF);
  std::string skipped;
  Runs runs;
  bool ve_checked = false;
  for (const host::BackendInfo* b : test::runnable_backends(skipped)) {
    RunLimits limits;
    limits.timeout = std::chrono::seconds(20);
    const std::vector<Event> ud = run_collect(*b->make_backend({}), ud_image, limits);
    SCOPED_TRACE(b->name + "\n" + dump(ud));
    ASSERT_EQ(ud.size(), 2u);
    const auto* sync = std::get_if<UcallEvent>(&ud[0]);
    ASSERT_NE(sync, nullptr);
    EXPECT_EQ(sync->args[1], 4u) << "MONITOR, MWAIT, VMXOFF, GETSEC: one #UD each";
    runs.emplace_back(b->name, ud);
    if (!b->caps.insn_ve) {
      skipped += b->name + ": INVD, WBINVD and VMCALL run in the kernel without a #VE (this host's KVM never "
                           "returns from KVM_RUN on the VMCALL); ";
      continue;
    }
    const std::vector<Event> ve = run_collect(*b->make_backend({}), ve_image, limits);
    SCOPED_TRACE(dump(ve));
    ASSERT_EQ(ve.size(), 2u);
    const auto* v = std::get_if<UcallEvent>(&ve[0]);
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->args[1], 3u) << "WBINVD, INVD, VMCALL: one #VE each";
    EXPECT_EQ(v->args[2], 54u | (13u << 8) | (18u << 16)) << "exit reasons WBINVD 54, INVD 13, VMCALL 18";
    EXPECT_EQ(v->args[3], 0u) << "qualification 0";
    EXPECT_EQ(v->args[4], 2u | (2u << 8) | (3u << 16)) << "instruction lengths";
    ve_checked = true;
  }
  ASSERT_FALSE(runs.empty()) << skipped;
  if (!ve_checked) GTEST_SKIP() << "no backend raised the #VEs: " << skipped;
  expect_backends_agree(runs, ud_image, skipped);
}

}  // namespace
}  // namespace tdsim
