// kvm-tdx's userspace exits without /dev/kvm or TDX hardware: kvm_run structures built in
// memory the way KVM fills them (docs/tdx-abi.md, "KVM's userspace exits for a TD"), run
// through kvm/tdx_exits.cc and the platform's VMM layer; the events and the bytes written
// back for the next KVM_RUN are checked, and malformed exits must end in a FaultEvent.
// The agreement tests put the same request through the emulated path (TdxModule::tdcall
// with TDG.VP.VMCALL registers, as Unicorn and plain KVM do) and through the exit path,
// and demand the same event and the same answer for the guest.
#include <gtest/gtest.h>
#include <linux/kvm.h>

#include <cstddef>
#include <cstring>
#include <random>
#include <vector>

#include "core/guest_memory.h"
#include "kvm/exit_events.h"
#include "kvm/tdx_exits.h"
#include "kvm/tdx_uapi.h"
#include "tdsim/abi/tdx.h"
#include "tdsim/abi/ucall.h"
#include "tdx/tdx_module.h"
#include "tdx/vmm.h"

namespace tdsim::kvm {
namespace {

namespace platform = ::tdsim::tdx;

constexpr uint64_t kShared = 1ull << 47;
constexpr uint64_t kPoolGpa = 0x10000;
constexpr uint64_t kSlotGpa = kPoolGpa + 8;  // slot 0 of the ucall pool
constexpr uint64_t kUcallMmio = 0x8000000;
constexpr uint64_t kDeviceGpa = 0x9000000;
constexpr uint64_t kRip = 0x401234;
constexpr size_t kPage = 4096;
// KVM_GET_VCPU_MMAP_SIZE on x86: kvm_run, the PIO data page, the coalesced-MMIO ring.
constexpr size_t kRunSize = 3 * kPage;
constexpr uint64_t kPioOffset = tdx::kPioPageOffset * kPage;

TdImage tiny_image() {
  TdImage im;
  im.gpaw = 48;
  im.shared_bit = kShared;
  im.nr_vcpus = 1;
  im.regions.push_back(make_region("ram", RegionKind::kRam, 0, 0x10000));
  im.regions.push_back(make_region("ucall-pool", RegionKind::kUcallPool, kPoolGpa, 0x12000, {}, false, true));
  im.ucall_pool_gpa = kPoolGpa;
  im.ucall_mmio_gpa = kUcallMmio;
  return im;
}

// A page-aligned, zeroed vCPU mapping, as KVM maps it.
struct RunBuffer {
  std::vector<uint8_t> bytes;
  size_t size;
  explicit RunBuffer(size_t n = kRunSize) : bytes(n + kPage, 0), size(n) {}
  uint8_t* base() {
    auto p = reinterpret_cast<uintptr_t>(bytes.data());
    return reinterpret_cast<uint8_t*>((p + kPage - 1) & ~(kPage - 1));
  }
  kvm_run& run() { return *reinterpret_cast<kvm_run*>(base()); }
};

// The device and port models a test observes; the same config feeds both paths.
struct Devices {
  std::vector<std::tuple<uint16_t, uint32_t, uint64_t>> writes;  // port, size, value
  platform::TdxConfig config() {
    platform::TdxConfig c;
    c.hooks.mmio_read = [](uint32_t, uint64_t gpa, uint32_t len) -> std::optional<uint64_t> {
      return gpa == kDeviceGpa ? std::optional<uint64_t>(0x1122334455667788ull >> (8 * (8 - len))) : std::nullopt;
    };
    c.hooks.io_read = [](uint32_t, uint16_t port, uint32_t) -> std::optional<uint64_t> {
      return port == 0x71 ? std::optional<uint64_t>(0xa5c3f00d) : std::nullopt;
    };
    c.hooks.io_write = [this](uint32_t, uint16_t port, uint32_t size, uint64_t v) { writes.emplace_back(port, size, v); };
    return c;
  }
};

class TdxExitsTest : public ::testing::Test {
 protected:
  TdxExitsTest() : cfg_(dev_.config()), vmm_(image_, mem_, cfg_) {}

  TdxExitOutcome handle(RunBuffer& b) { return handle_vmm_exit(b.run(), b.size, 0, vmm_, kRip); }
  void put_ucall(uint64_t cmd) {
    abi::Ucall uc{};
    uc.cmd = cmd;
    uc.self = kSlotGpa | kShared;
    ASSERT_TRUE(mem_.write(kSlotGpa, &uc, sizeof uc));
  }
  static FaultEvent fault_of(const TdxExitOutcome& o) {
    EXPECT_TRUE(o.handled);
    EXPECT_TRUE(o.stop);
    EXPECT_TRUE(o.event.has_value());
    const auto* f = o.event ? std::get_if<FaultEvent>(&*o.event) : nullptr;
    EXPECT_NE(f, nullptr) << (o.event ? describe(*o.event) : "no event");
    return f ? *f : FaultEvent{};
  }

  TdImage image_ = tiny_image();
  GuestMemory mem_{image_};
  Devices dev_;
  platform::TdxConfig cfg_;
  platform::Vmm vmm_;
};

// --- kvm_run builders: what KVM writes for each exit ---------------------------------

void mmio_exit(kvm_run& r, uint64_t gpa, uint32_t len, bool write, uint64_t data = 0) {
  r.exit_reason = KVM_EXIT_MMIO;
  r.mmio.phys_addr = gpa;
  r.mmio.len = len;
  r.mmio.is_write = write;
  std::memset(r.mmio.data, 0, sizeof r.mmio.data);
  if (write) std::memcpy(r.mmio.data, &data, len <= 8 ? len : 8);
}

void io_exit(RunBuffer& b, uint16_t port, uint8_t size, bool out, uint32_t count, uint64_t offset = kPioOffset) {
  kvm_run& r = b.run();
  r.exit_reason = KVM_EXIT_IO;
  r.io.direction = out ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN;
  r.io.size = size;
  r.io.port = port;
  r.io.count = count;
  r.io.data_offset = offset;
}

void map_gpa_exit(kvm_run& r, uint64_t gpa, uint64_t npages, uint64_t attrs) {
  r.exit_reason = KVM_EXIT_HYPERCALL;
  r.hypercall.nr = platform::kKvmHcMapGpaRange;
  r.hypercall.args[0] = gpa;
  r.hypercall.args[1] = npages;
  r.hypercall.args[2] = attrs;
  r.hypercall.ret = 0;
}

void tdx_exit(kvm_run& r, uint64_t nr, uint64_t a0, uint64_t a1 = 0) {
  r.exit_reason = tdx::kExitTdx;
  tdx::TdxExit t{};
  t.nr = nr;
  t.ret = abi::kVmcallSubfnUnsupported;  // KVM's preset for GetQuote, SetupEventNotifyInterrupt
  t.a[0] = a0;
  t.a[1] = a1;
  tdx::set_tdx_exit(r, t);
}

// KVM dumps the 16 GPRs (VCPU_REGS order) of a ReportFatalError.
void fatal_exit(kvm_run& r, const ucall::TdcallRegs& g, uint32_t ndata = 16) {
  r.exit_reason = KVM_EXIT_SYSTEM_EVENT;
  r.system_event.type = tdx::kSystemEventTdxFatal;
  r.system_event.ndata = ndata;
  const uint64_t gprs[16] = {0, g.rcx, g.rdx, g.rbx, 0, 0, g.rsi, g.rdi,
                             g.r8, g.r9, g.r10, g.r11, g.r12, g.r13, g.r14, g.r15};
  std::memcpy(r.system_event.data, gprs, sizeof gprs);
}

// --- each exit kind ------------------------------------------------------------------

TEST_F(TdxExitsTest, MmioReadIsAnsweredByTheDeviceIntoMmioData) {
  RunBuffer b;
  mmio_exit(b.run(), kDeviceGpa, 4, false);
  std::memset(b.run().mmio.data, 0xee, sizeof b.run().mmio.data);  // stale bytes KVM left
  const TdxExitOutcome o = handle(b);
  ASSERT_TRUE(o.handled);
  EXPECT_FALSE(o.stop);
  const auto& m = std::get<MmioEvent>(*o.event);
  EXPECT_EQ(m.gpa, kDeviceGpa);
  EXPECT_EQ(m.len, 4u);
  EXPECT_FALSE(m.is_write);
  EXPECT_EQ(m.data, 0x11223344u);
  const uint8_t want[8] = {0x44, 0x33, 0x22, 0x11, 0, 0, 0, 0};
  EXPECT_EQ(std::memcmp(b.run().mmio.data, want, 8), 0);
}

TEST_F(TdxExitsTest, MmioWriteToTheUcallGpaIsAUcall) {
  put_ucall(abi::kUcallDone);
  RunBuffer b;
  mmio_exit(b.run(), kUcallMmio, 8, true, kSlotGpa | kShared);
  const TdxExitOutcome o = handle(b);
  ASSERT_TRUE(o.handled);
  const auto& u = std::get<UcallEvent>(*o.event);
  EXPECT_EQ(u.cmd, abi::kUcallDone);
  EXPECT_EQ(u.slot_gpa, kSlotGpa);
  EXPECT_TRUE(o.stop);  // DONE ends the vCPU
}

TEST_F(TdxExitsTest, PlainMmioWriteIsAnMmioEventAndResumes) {
  RunBuffer b;
  mmio_exit(b.run(), kDeviceGpa, 2, true, 0xbeef);
  const TdxExitOutcome o = handle(b);
  const auto& m = std::get<MmioEvent>(*o.event);
  EXPECT_TRUE(m.is_write);
  EXPECT_EQ(m.data, 0xbeefu);
  EXPECT_FALSE(o.stop);
}

TEST_F(TdxExitsTest, PortInWritesEveryElementIntoTheIoDataPage) {
  RunBuffer b;
  io_exit(b, 0x71, 2, false, 3);
  std::memset(b.base() + kPioOffset, 0xee, 16);
  const TdxExitOutcome o = handle(b);
  ASSERT_TRUE(o.handled);
  EXPECT_FALSE(o.event.has_value());  // devices are the hooks' business: no event
  EXPECT_FALSE(o.stop);
  const uint8_t want[8] = {0x0d, 0xf0, 0x0d, 0xf0, 0x0d, 0xf0, 0xee, 0xee};
  EXPECT_EQ(std::memcmp(b.base() + kPioOffset, want, 8), 0);
}

TEST_F(TdxExitsTest, PortInNobodyAnswersReadsAllOnes) {
  RunBuffer b;
  io_exit(b, 0x80, 4, false, 1);
  handle(b);
  uint32_t v = 0;
  std::memcpy(&v, b.base() + kPioOffset, 4);
  EXPECT_EQ(v, 0xffffffffu);
}

TEST_F(TdxExitsTest, PortOutHandsEachElementToTheHostHook) {
  RunBuffer b;
  io_exit(b, 0x3f8, 1, true, 2);
  b.base()[kPioOffset] = 'h';
  b.base()[kPioOffset + 1] = 'i';
  const TdxExitOutcome o = handle(b);
  ASSERT_TRUE(o.handled);
  EXPECT_FALSE(o.stop);
  ASSERT_EQ(dev_.writes.size(), 2u);
  EXPECT_EQ(dev_.writes[0], std::make_tuple(uint16_t{0x3f8}, 1u, uint64_t{'h'}));
  EXPECT_EQ(dev_.writes[1], std::make_tuple(uint16_t{0x3f8}, 1u, uint64_t{'i'}));
}

TEST_F(TdxExitsTest, MapGpaToSharedNamesTheRangeWithTheSharedBitAndReturnsZero) {
  RunBuffer b;
  map_gpa_exit(b.run(), 0x200000, 512, platform::kMapGpaDecrypted);
  b.run().hypercall.ret = 0x55;  // stale: the VMM must write its answer
  const TdxExitOutcome o = handle(b);
  ASSERT_TRUE(o.handled);
  const auto& x = std::get<VmcallExitEvent>(*o.event);
  EXPECT_EQ(x.subfn, abi::kVmcallMapGpa);
  EXPECT_EQ(x.gpa, kShared | 0x200000);
  EXPECT_EQ(x.size, 0x200000u);
  EXPECT_EQ(x.status, abi::kVmcallSuccess);
  EXPECT_EQ(b.run().hypercall.ret, 0u);
}

TEST_F(TdxExitsTest, MapGpaToPrivateKeepsTheGpa) {
  RunBuffer b;
  map_gpa_exit(b.run(), 0x400000, 1, platform::kMapGpaEncrypted);
  const TdxExitOutcome o = handle(b);
  const auto& x = std::get<VmcallExitEvent>(*o.event);
  EXPECT_EQ(x.gpa, 0x400000u);
  EXPECT_EQ(x.size, 0x1000u);
}

TEST_F(TdxExitsTest, GetQuoteWritesSuccessIntoTheTdxExitRet) {
  RunBuffer b;
  tdx_exit(b.run(), abi::kVmcallGetQuote, 0x11000, 0x2000);
  const TdxExitOutcome o = handle(b);
  const auto& x = std::get<VmcallExitEvent>(*o.event);
  EXPECT_EQ(x.subfn, abi::kVmcallGetQuote);
  EXPECT_EQ(x.gpa, kShared | 0x11000);
  EXPECT_EQ(x.size, 0x2000u);
  EXPECT_EQ(tdx::tdx_exit(b.run()).ret, abi::kVmcallSuccess);
  EXPECT_EQ(tdx::tdx_exit(b.run()).a[0], 0x11000u);  // operands left alone
  EXPECT_FALSE(o.stop);
}

TEST_F(TdxExitsTest, SetupEventNotifyInterruptWritesSuccess) {
  RunBuffer b;
  tdx_exit(b.run(), abi::kVmcallSetupEventNotifyInterrupt, 0xf3);
  const TdxExitOutcome o = handle(b);
  const auto& x = std::get<VmcallExitEvent>(*o.event);
  EXPECT_EQ(x.subfn, abi::kVmcallSetupEventNotifyInterrupt);
  EXPECT_EQ(x.arg, 0xf3u);
  EXPECT_EQ(tdx::tdx_exit(b.run()).ret, abi::kVmcallSuccess);
}

TEST_F(TdxExitsTest, GetTdVmCallInfoLeaf1ZeroesR11ToR14) {
  RunBuffer b;
  tdx_exit(b.run(), abi::kVmcallGetTdVmCallInfo, 1);
  tdx::TdxExit t = tdx::tdx_exit(b.run());
  for (int i = 1; i < 5; ++i) t.a[i] = 0xdead;  // KVM presets them to 0; stale here
  tdx::set_tdx_exit(b.run(), t);
  const TdxExitOutcome o = handle(b);
  const auto& x = std::get<VmcallExitEvent>(*o.event);
  EXPECT_EQ(x.arg, 1u);
  t = tdx::tdx_exit(b.run());
  EXPECT_EQ(t.ret, abi::kVmcallSuccess);
  for (int i = 1; i < 5; ++i) EXPECT_EQ(t.a[i], 0u) << i;
}

TEST_F(TdxExitsTest, ReportFatalErrorIsATerminalFaultWithCodeGpaAndMessage) {
  ucall::TdcallRegs g;
  g.r12 = (1ull << 63) | 0x42;
  g.r13 = 0x5000;
  std::memcpy(&g.r14, "dead TD!", 8);
  std::memcpy(&g.r15, "bye", 4);
  RunBuffer b;
  fatal_exit(b.run(), g);
  const TdxExitOutcome o = handle(b);
  ASSERT_TRUE(o.handled);
  EXPECT_TRUE(o.stop);
  const auto& f = std::get<FaultEvent>(*o.event);
  EXPECT_EQ(f.error_code, g.r12);
  EXPECT_EQ(f.detail,
            "TDG.VP.VMCALL<ReportFatalError> error code 0x8000000000000042, extra info at GPA 0x5000: "
            "\"dead TD!bye\"");
}

// --- malformed exits: a clear FaultEvent, the vCPU stops, nothing is written ----------

TEST_F(TdxExitsTest, IoSizeThreeIsMalformed) {
  RunBuffer b;
  io_exit(b, 0x71, 3, false, 1);
  const FaultEvent f = fault_of(handle(b));
  EXPECT_NE(f.detail.find("malformed KVM exit: KVM_EXIT_IO port 0x71 size 3"), std::string::npos) << f.detail;
  EXPECT_EQ(b.base()[kPioOffset], 0);
}

TEST_F(TdxExitsTest, IoCountOverflowingTheMappingIsMalformed) {
  RunBuffer b;
  io_exit(b, 0x71, 4, false, (kRunSize - kPioOffset) / 4 + 1);
  const FaultEvent f = fault_of(handle(b));
  EXPECT_NE(f.detail.find("outside the 0x3000-byte vCPU mapping"), std::string::npos) << f.detail;
  // A count whose product with the size wraps 32 bits is caught too.
  io_exit(b, 0x71, 4, false, 0x40000001u);
  fault_of(handle(b));
}

TEST_F(TdxExitsTest, IoDataOverlappingKvmRunIsMalformed) {
  RunBuffer b;
  io_exit(b, 0x71, 1, false, 1, /*offset=*/8);
  const FaultEvent f = fault_of(handle(b));
  EXPECT_NE(f.detail.find("after kvm_run"), std::string::npos) << f.detail;
  EXPECT_EQ(b.run().exit_reason, uint32_t{KVM_EXIT_IO});  // not overwritten
  io_exit(b, 0x71, 1, false, 1, ~0ull);  // offset + bytes wraps
  fault_of(handle(b));
}

TEST_F(TdxExitsTest, IoInAOnePageMappingHasNoDataPage) {
  RunBuffer b(kPage);
  io_exit(b, 0x71, 1, false, 1);
  fault_of(handle(b));
}

TEST_F(TdxExitsTest, IoBadDirectionAndZeroCountAreMalformed) {
  RunBuffer b;
  io_exit(b, 0x71, 1, false, 1);
  b.run().io.direction = 2;
  fault_of(handle(b));
  io_exit(b, 0x71, 1, false, 0);
  fault_of(handle(b));
}

TEST_F(TdxExitsTest, MmioLengthsOutsideOneToEightAreMalformed) {
  for (uint32_t len : {0u, 3u, 9u, 0xffffffffu}) {
    RunBuffer b;
    mmio_exit(b.run(), kDeviceGpa, 1, false);
    b.run().mmio.len = len;
    const FaultEvent f = fault_of(handle(b));
    EXPECT_NE(f.detail.find("length"), std::string::npos) << len << ": " << f.detail;
  }
}

TEST_F(TdxExitsTest, UnknownTdxSubfunctionIsMalformed) {
  RunBuffer b;
  tdx_exit(b.run(), 0x10005, 0);
  const FaultEvent f = fault_of(handle(b));
  EXPECT_NE(f.detail.find("unknown TDG.VP.VMCALL sub-function 0x10005"), std::string::npos) << f.detail;
  EXPECT_EQ(tdx::tdx_exit(b.run()).ret, abi::kVmcallSubfnUnsupported);  // untouched
}

TEST_F(TdxExitsTest, TdxExitFlagsAndGetTdVmCallInfoLeaf0AreMalformed) {
  RunBuffer b;
  tdx_exit(b.run(), abi::kVmcallGetQuote, 0x11000, 0x1000);
  tdx::TdxExit t = tdx::tdx_exit(b.run());
  t.flags = 1;
  tdx::set_tdx_exit(b.run(), t);
  fault_of(handle(b));
  tdx_exit(b.run(), abi::kVmcallGetTdVmCallInfo, 0);  // KVM answers leaf 0 itself
  fault_of(handle(b));
}

TEST_F(TdxExitsTest, HypercallOtherThanMapGpaRangeIsMalformed) {
  RunBuffer b;
  map_gpa_exit(b.run(), 0, 1, 0);
  b.run().hypercall.nr = 1;
  const FaultEvent f = fault_of(handle(b));
  EXPECT_NE(f.detail.find("KVM_EXIT_HYPERCALL 1"), std::string::npos) << f.detail;
}

TEST_F(TdxExitsTest, MapGpaWithUnknownAttributesOrAWrappingRangeIsMalformed) {
  RunBuffer b;
  map_gpa_exit(b.run(), 0x200000, 1, 1ull << 9);
  fault_of(handle(b));
  map_gpa_exit(b.run(), 0x200000, 0, 0);
  fault_of(handle(b));
  map_gpa_exit(b.run(), ~0ull & ~0xfffull, 2, 0);
  fault_of(handle(b));
}

TEST_F(TdxExitsTest, FatalErrorWithoutTheErrorCodeWordsIsMalformed) {
  RunBuffer b;
  fatal_exit(b.run(), ucall::TdcallRegs{}, 2);  // the earlier 10-word layout
  fault_of(handle(b));
  b.run().system_event.ndata = 17;
  fault_of(handle(b));
}

TEST_F(TdxExitsTest, ExitsTheVmmDoesNotTakeAreLeftToTheCaller) {
  RunBuffer b;
  b.run().exit_reason = KVM_EXIT_HLT;
  EXPECT_FALSE(handle(b).handled);
  b.run().exit_reason = KVM_EXIT_SYSTEM_EVENT;
  b.run().system_event.type = KVM_SYSTEM_EVENT_SHUTDOWN;
  EXPECT_FALSE(handle(b).handled);
}

// --- hostile kvm_run contents: many seeded random exits ------------------------------

// Where a completion may write for the exit in `r` (byte ranges of the mapping); empty
// when nothing may change.
std::vector<std::pair<size_t, size_t>> writable(const kvm_run& r) {
  const size_t u = offsetof(kvm_run, mmio);  // the exit union
  switch (r.exit_reason) {
    case KVM_EXIT_MMIO: return {{offsetof(kvm_run, mmio.data), offsetof(kvm_run, mmio.data) + 8}};
    case KVM_EXIT_IO: return {{r.io.data_offset, r.io.data_offset + uint64_t{r.io.count} * r.io.size}};
    case KVM_EXIT_HYPERCALL: return {{offsetof(kvm_run, hypercall.ret), offsetof(kvm_run, hypercall.ret) + 8}};
    default:
      if (r.exit_reason == tdx::kExitTdx)
        return {{u + offsetof(tdx::TdxExit, ret), u + offsetof(tdx::TdxExit, ret) + 8},
                {u + offsetof(tdx::TdxExit, a) + 8, u + sizeof(tdx::TdxExit)}};
      return {};
  }
}

// Whatever KVM (or a corruption of the shared page) leaves in kvm_run: no crash, no
// exception, no write outside the completion fields of that exit kind, and a malformed
// exit changes nothing and stops the vCPU. Biased to the exit kinds and the values that
// matter (sizes, counts near the page, data offsets around kvm_run and the mapping end).
TEST_F(TdxExitsTest, RandomKvmRunContentsNeverWriteOutsideTheCompletion) {
  std::mt19937_64 rng(0x7d5c0ffee);
  auto pick = [&](std::initializer_list<uint64_t> v) { return *(v.begin() + rng() % v.size()); };
  const uint32_t reasons[] = {KVM_EXIT_MMIO, KVM_EXIT_IO, KVM_EXIT_HYPERCALL, tdx::kExitTdx, KVM_EXIT_SYSTEM_EVENT,
                              KVM_EXIT_HLT, 0xffffffffu};
  int handled = 0, faults = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    RunBuffer b;
    for (size_t i = 0; i + 8 <= sizeof(kvm_run) + 64; i += 8) {  // kvm_run and the start of the data page
      const uint64_t v = rng();
      std::memcpy(b.base() + (i < sizeof(kvm_run) ? i : kPioOffset + i - sizeof(kvm_run)), &v, 8);
    }
    kvm_run& r = b.run();
    r.exit_reason = reasons[rng() % std::size(reasons)];
    switch (r.exit_reason) {
      case KVM_EXIT_MMIO:
        r.mmio.len = static_cast<uint32_t>(pick({1, 2, 4, 8, 0, 3, 9, rng()}));
        r.mmio.is_write = static_cast<uint8_t>(pick({0, 1, rng()}));
        r.mmio.phys_addr = pick({kUcallMmio, kDeviceGpa, rng()});
        if (rng() % 2) {
          const uint64_t slot = pick({kSlotGpa | kShared, kSlotGpa, rng(), 0});
          std::memcpy(r.mmio.data, &slot, 8);
        }
        break;
      case KVM_EXIT_IO:
        r.io.direction = static_cast<uint8_t>(pick({0, 1, rng()}));
        r.io.size = static_cast<uint8_t>(pick({1, 2, 4, 0, 3, rng()}));
        r.io.count = static_cast<uint32_t>(pick({1, 2, 1024, 1025, 4096, 0, rng()}));
        r.io.data_offset = pick({kPioOffset, kPioOffset + kPage, kRunSize - 1, kRunSize, sizeof(kvm_run) - 1, 0,
                                 ~0ull - 1, rng()});
        break;
      case KVM_EXIT_HYPERCALL:
        r.hypercall.nr = pick({platform::kKvmHcMapGpaRange, rng()});
        r.hypercall.args[1] = pick({1, 512, 0, ~0ull, rng()});
        r.hypercall.args[2] = pick({platform::kMapGpaEncrypted, platform::kMapGpaDecrypted, rng()});
        break;
      case KVM_EXIT_SYSTEM_EVENT:
        r.system_event.type = static_cast<uint32_t>(pick({tdx::kSystemEventTdxFatal, rng()}));
        r.system_event.ndata = static_cast<uint32_t>(pick({16, 14, 13, 10, 17, rng()}));
        break;
      default:
        if (r.exit_reason == tdx::kExitTdx) {
          tdx::TdxExit t = tdx::tdx_exit(r);
          t.flags = pick({0, 0, 0, rng()});
          t.nr = pick({abi::kVmcallGetQuote, abi::kVmcallSetupEventNotifyInterrupt, abi::kVmcallGetTdVmCallInfo,
                       abi::kVmcallMapGpa, rng()});
          if (t.nr == abi::kVmcallGetTdVmCallInfo) t.a[0] = pick({1, 0, rng()});
          tdx::set_tdx_exit(r, t);
        }
    }
    const std::vector<uint8_t> before(b.base(), b.base() + b.size);
    const auto allowed = writable(r);
    const std::string what = describe_exit(r);
    TdxExitOutcome o;
    ASSERT_NO_THROW(o = handle(b)) << "iteration " << iter;
    const FaultEvent* f = o.event ? std::get_if<FaultEvent>(&*o.event) : nullptr;
    const bool malformed = f && f->detail.rfind("malformed KVM exit: ", 0) == 0;
    handled += o.handled;
    faults += malformed;
    if (malformed) {
      EXPECT_TRUE(o.stop) << f->detail;
    }
    for (size_t i = 0; i < b.size; ++i) {
      if (b.base()[i] == before[i]) continue;
      bool ok = o.handled && !malformed;
      if (ok) {
        ok = false;
        for (auto [lo, hi] : allowed) ok = ok || (i >= lo && i < hi);
      }
      ASSERT_TRUE(ok) << "iteration " << iter << ": " << what << " changed byte " << i
                      << (f ? " (" + f->detail + ")" : "");
    }
  }
  // The generator reaches both sides: exits answered and exits refused.
  EXPECT_GT(handled - faults, 400);
  EXPECT_GT(faults, 400);
}

// --- agreement: the emulated path and the kvm-tdx exit path ---------------------------

// What the guest finds in its registers after the next KVM_RUN, by KVM's completion
// rules (docs/tdx-abi.md): R10 status, R11..R14 outputs.
struct GuestAnswer {
  uint64_t r10 = 0, r11 = 0, r12 = 0, r13 = 0, r14 = 0;
  bool operator==(const GuestAnswer& o) const {
    return r10 == o.r10 && r11 == o.r11 && r12 == o.r12 && r13 == o.r13 && r14 == o.r14;
  }
};
std::ostream& operator<<(std::ostream& os, const GuestAnswer& a) {
  return os << "R10=" << a.r10 << " R11=" << a.r11 << " R12=" << a.r12 << " R13=" << a.r13 << " R14=" << a.r14;
}

// Starts from the registers the guest passed: KVM changes only what the completion says.
GuestAnswer kvm_completes(RunBuffer& b, const ucall::TdcallRegs& in, uint32_t size) {
  GuestAnswer a{abi::kVmcallSuccess, in.r11, in.r12, in.r13, in.r14};
  kvm_run& r = b.run();
  switch (r.exit_reason) {
    case KVM_EXIT_MMIO:
      if (!r.mmio.is_write) {
        a.r11 = 0;
        std::memcpy(&a.r11, r.mmio.data, r.mmio.len);
      }
      break;
    case KVM_EXIT_IO:
      if (r.io.direction == KVM_EXIT_IO_IN) {
        a.r11 = 0;
        std::memcpy(&a.r11, b.base() + r.io.data_offset, size);
      }
      break;
    case KVM_EXIT_HYPERCALL:
      if (r.hypercall.ret) a = {abi::kVmcallInvalidOperand, in.r12, in.r12, in.r13, in.r14};
      break;
    default:
      if (r.exit_reason == tdx::kExitTdx) {
        const tdx::TdxExit t = tdx::tdx_exit(r);
        a.r10 = t.ret;
        if (t.nr == abi::kVmcallGetTdVmCallInfo) {
          a.r11 = t.a[1];
          a.r12 = t.a[2];
          a.r13 = t.a[3];
          a.r14 = t.a[4];
        }
      }
  }
  return a;
}

class AgreementTest : public TdxExitsTest {
 protected:
  AgreementTest() : module_(image_, mem_, cfg_) {}

  ucall::TdcallRegs regs(uint64_t subfn, uint64_t r12, uint64_t r13 = 0, uint64_t r14 = 0, uint64_t r15 = 0) {
    ucall::TdcallRegs r;
    r.rax = abi::kTdgVpVmcall;
    r.rcx = abi::kVmcallExposeR10toR15;
    r.r10 = abi::kVmcallStandard;
    r.r11 = subfn;
    r.r12 = r12;
    r.r13 = r13;
    r.r14 = r14;
    r.r15 = r15;
    return r;
  }

  // Both paths: the emulated TDCALL, then the exit KVM makes for it through the VMM.
  void agree(const ucall::TdcallRegs& in, RunBuffer& b, uint32_t io_size = 0) {
    const auto writes_before = dev_.writes;
    const platform::TdcallResult emulated = module_.tdcall(0, kRip, in);
    const auto emulated_writes = dev_.writes;
    dev_.writes = writes_before;
    const TdxExitOutcome exit = handle(b);
    ASSERT_TRUE(exit.handled);

    ASSERT_EQ(emulated.event.has_value(), exit.event.has_value());
    if (emulated.event) {
      EXPECT_EQ(emulated.event->index(), exit.event->index());
      EXPECT_EQ(describe(*emulated.event), describe(*exit.event));
    }
    EXPECT_EQ(emulated.stop, exit.stop);
    EXPECT_EQ(emulated_writes, dev_.writes) << "host hooks saw different port writes";
    if (emulated.stop) return;  // the guest does not resume: no answer to compare
    const GuestAnswer e{emulated.regs.r10, emulated.regs.r11, emulated.regs.r12, emulated.regs.r13,
                        emulated.regs.r14};
    EXPECT_EQ(e, kvm_completes(b, in, io_size));
  }

  platform::TdxModule module_;
};

TEST_F(AgreementTest, PortIn) {
  RunBuffer b;
  io_exit(b, 0x71, 2, false, 1);
  agree(regs(abi::kVmcallIo, 2, 0, 0x71), b, 2);
}

TEST_F(AgreementTest, PortOut) {
  RunBuffer b;
  io_exit(b, 0x3f8, 4, true, 1);
  const uint32_t v = 0xcafef00d;
  std::memcpy(b.base() + kPioOffset, &v, 4);
  agree(regs(abi::kVmcallIo, 4, 1, 0x3f8, 0xffffffff00000000ull | v), b, 4);
  EXPECT_EQ(dev_.writes.size(), 1u);
}

TEST_F(AgreementTest, MmioRead) {
  RunBuffer b;
  mmio_exit(b.run(), kDeviceGpa, 8, false);
  agree(regs(abi::kVmcallRequestMmio, 8, abi::kMmioRead, kShared | kDeviceGpa), b);
}

TEST_F(AgreementTest, MmioWritePlainAndUcall) {
  RunBuffer b;
  mmio_exit(b.run(), kDeviceGpa, 4, true, 0x12345678);
  agree(regs(abi::kVmcallRequestMmio, 4, abi::kMmioWrite, kShared | kDeviceGpa, 0x12345678), b);
  put_ucall(abi::kUcallSync);
  mmio_exit(b.run(), kUcallMmio, 8, true, kSlotGpa | kShared);
  agree(regs(abi::kVmcallRequestMmio, 8, abi::kMmioWrite, kShared | kUcallMmio, kSlotGpa | kShared), b);
}

TEST_F(AgreementTest, MapGpa) {
  // Within one 2 MiB chunk: KVM makes exactly one KVM_EXIT_HYPERCALL for it.
  RunBuffer b;
  map_gpa_exit(b.run(), 0x200000, 0x200, platform::kMapGpaDecrypted);
  agree(regs(abi::kVmcallMapGpa, kShared | 0x200000, 0x200000), b);
  map_gpa_exit(b.run(), 0x3000, 2, platform::kMapGpaEncrypted);
  agree(regs(abi::kVmcallMapGpa, 0x3000, 0x2000), b);
}

TEST_F(AgreementTest, GetQuote) {
  RunBuffer b;
  tdx_exit(b.run(), abi::kVmcallGetQuote, 0x11000, 0x1000);
  agree(regs(abi::kVmcallGetQuote, kShared | 0x11000, 0x1000), b);
}

TEST_F(AgreementTest, SetupEventNotifyInterrupt) {
  RunBuffer b;
  tdx_exit(b.run(), abi::kVmcallSetupEventNotifyInterrupt, 0x40);
  agree(regs(abi::kVmcallSetupEventNotifyInterrupt, 0x40), b);
}

TEST_F(AgreementTest, GetTdVmCallInfoLeaf1) {
  RunBuffer b;
  tdx_exit(b.run(), abi::kVmcallGetTdVmCallInfo, 1);
  agree(regs(abi::kVmcallGetTdVmCallInfo, 1, 0x77, 0x88), b);
}

TEST_F(AgreementTest, ReportFatalError) {
  ucall::TdcallRegs in = regs(abi::kVmcallReportFatalError, 7, 0);
  std::memcpy(&in.r14, "oops", 5);
  RunBuffer b;
  fatal_exit(b.run(), ucall::vmm_view(in));
  agree(in, b);
}

}  // namespace
}  // namespace tdsim::kvm
