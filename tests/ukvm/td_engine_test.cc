// The user-space KVM's engine (ukvm/td_engine.h) on its own: a TD built the way a KVM TDX
// program builds one — memory in the program's own pages, launch pages listed with their
// MEASURE flag — from tdsim's layout, run to each exit KVM_RUN would return with, and
// answered the way the program answers in kvm_run.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <variant>

#include "bootstub/host/image_builder.h"
#include "bootstub/measure/mrtd.h"
#include "core/launch_order.h"
#include "gdbstub/following_run_control.h"
#include "tdsim/abi/td_boot.h"
#include "tdsim/abi/ucall.h"
#include "tests/guests/test_assets.h"
#include "ukvm/td_engine.h"

namespace tdsim::ukvm {
namespace {

// Page-aligned memory the "program" owns.
struct Pages {
  explicit Pages(uint64_t size) : size(size) {
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    host = static_cast<uint8_t*>(p);
  }
  ~Pages() { munmap(host, size); }
  uint64_t size;
  uint8_t* host;
};

// What a program would have after building `image` through the uAPI: private pages
// copied in by INIT_MEM_REGION (guest_memfd), shared pages in its own memory.
struct ProgramTd {
  TdImage image;
  std::vector<std::unique_ptr<Pages>> pages;
  TdSetup setup;

  explicit ProgramTd(TdImage im) : image(std::move(im)) {
    setup.gpaw = image.gpaw;
    setup.nr_vcpus = image.nr_vcpus;
    for (const Region& r : image.regions) {
      pages.push_back(std::make_unique<Pages>(r.size));
      if (!r.bytes.empty()) std::memcpy(pages.back()->host, r.bytes.data(), r.bytes.size());
      setup.memory.push_back(GuestRange{r.gpa, r.size, pages.back()->host, r.shared});
    }
    for (PageAdd p : launch_page_order(image)) setup.pages.push_back(PageAdd{p.gpa, p.measured, nullptr});
  }
  uint8_t* host(uint64_t gpa) {
    for (size_t i = 0; i < image.regions.size(); ++i)
      if (image.regions[i].contains(gpa)) return pages[i]->host + (gpa - image.regions[i].gpa);
    return nullptr;
  }
};

TdImage image_of(const char* elf, uint32_t nr_vcpus = 1) {
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(elf);
  spec.guest_elf_name = elf;
  spec.nr_vcpus = nr_vcpus;
  return build_image(spec);
}
TdImage hello(uint32_t nr_vcpus = 1) { return image_of(TDSIM_GUEST_HELLO_ELF, nr_vcpus); }

// The ucall command behind an MMIO exit at the image's ucall GPA, read from the
// program's own copy of the shared pool (as get_ucall() does).
abi::Ucall read_ucall(ProgramTd& td, const tdx::MmioExit& m) {
  abi::Ucall u{};
  EXPECT_EQ(m.gpa, td.image.ucall_mmio_gpa);
  const uint8_t* slot = td.host(m.data & ~td.image.shared_bit);
  if (slot) std::memcpy(&u, slot, sizeof u);
  else ADD_FAILURE() << "ucall slot " << std::hex << m.data << " outside the program's memory";
  return u;
}

uint64_t ucall_cmd(ProgramTd& td, const tdx::MmioExit& m) {
  EXPECT_EQ(m.gpa, td.image.ucall_mmio_gpa);
  EXPECT_TRUE(m.is_write);
  EXPECT_EQ(m.len, 8u);
  const uint8_t* slot = td.host(m.data & ~td.image.shared_bit);
  if (!slot) {
    ADD_FAILURE() << "ucall slot " << std::hex << m.data << " outside the program's memory";
    return abi::kUcallNone;
  }
  abi::Ucall u;
  std::memcpy(&u, slot, sizeof u);
  return u.cmd;
}

TEST(UkvmEngine, HelloRunsExitByExitToDone) {
  ProgramTd td(hello());
  std::unique_ptr<TdEngine> e = TdEngine::create(td.setup);
  std::vector<uint64_t> cmds;
  const tdx::VmmCompletion* answer = nullptr;
  tdx::VmmCompletion done_with_it;
  for (int i = 0; i < 64 && (cmds.empty() || cmds.back() != abi::kUcallDone); ++i) {
    RunExit x = e->run(0, answer);
    auto* u = std::get_if<tdx::UserspaceExit>(&x);
    ASSERT_NE(u, nullptr) << "exit " << x.index() << (std::holds_alternative<Shutdown>(x) ? ": " + std::get<Shutdown>(x).reason : "");
    auto* m = std::get_if<tdx::MmioExit>(&u->kind);
    ASSERT_NE(m, nullptr) << "exit kind " << u->kind.index();
    cmds.push_back(ucall_cmd(td, *m));
    answer = &done_with_it;
  }
  ASSERT_FALSE(cmds.empty());
  EXPECT_EQ(cmds.back(), abi::kUcallDone);
  EXPECT_GE(cmds.size(), 2u) << "hello prints before it is done";
}

// Port I/O through the guest's #VE handler: every access is a KVM_EXIT_IO; the program's
// IN data reaches the guest's register through the replayed TDCALL.
TEST(UkvmEngine, PortIoExitsCarryTheProgramsInData) {
  ProgramTd td(image_of(TDSIM_GUEST_VE_PORT_IO_ELF));
  std::unique_ptr<TdEngine> e = TdEngine::create(td.setup);
  struct Io { uint16_t port; uint32_t size; bool out; };
  const Io want[] = {{0x80, 1, true}, {0xcf8, 4, true}, {0x71, 1, false}, {0x1f0, 2, false}, {0xcfc, 4, false}};
  const std::vector<uint8_t> in_data[] = {{}, {}, {0x42}, {0x34, 0x12}, {0x78, 0x56, 0x34, 0x12}};
  tdx::VmmCompletion answer;
  const tdx::VmmCompletion* prev = nullptr;
  for (size_t i = 0; i < std::size(want); ++i) {
    RunExit x = e->run(0, prev);
    auto* u = std::get_if<tdx::UserspaceExit>(&x);
    ASSERT_NE(u, nullptr) << "access " << i;
    auto* io = std::get_if<tdx::PortIoExit>(&u->kind);
    ASSERT_NE(io, nullptr) << "access " << i << " exit kind " << u->kind.index();
    EXPECT_EQ(io->port, want[i].port) << i;
    EXPECT_EQ(io->size, want[i].size) << i;
    EXPECT_EQ(io->is_out, want[i].out) << i;
    if (i == 0) {
      EXPECT_EQ(io->data, std::vector<uint8_t>{0x5a});
    }
    answer = tdx::VmmCompletion{};
    answer.io_data = in_data[i];
    prev = &answer;
  }
  RunExit x = e->run(0, prev);
  auto* u = std::get_if<tdx::UserspaceExit>(&x);
  ASSERT_NE(u, nullptr);
  auto* m = std::get_if<tdx::MmioExit>(&u->kind);
  ASSERT_NE(m, nullptr);
  const abi::Ucall uc = read_ucall(td, *m);
  EXPECT_EQ(uc.cmd, abi::kUcallSync);
  EXPECT_EQ(uc.args[1], 0x42u);
  EXPECT_EQ(uc.args[2], 0xaaaabbbbcccc1234ull) << "IN AX keeps RAX's upper bytes";
  EXPECT_EQ(uc.args[3], 0x12345678ull) << "IN EAX zero-extends";
}

TEST(UkvmEngine, TracesBootStepsAndTdcalls) {
  ProgramTd td(hello());
  std::vector<std::string> lines;
  td.setup.trace.boot = td.setup.trace.tdcall = true;
  td.setup.trace.sink = [&](const std::string& l) { lines.push_back(l); };
  std::unique_ptr<TdEngine> e = TdEngine::create(td.setup);
  tdx::VmmCompletion none;
  ASSERT_TRUE(std::holds_alternative<tdx::UserspaceExit>(e->run(0, nullptr)));
  ASSERT_TRUE(std::holds_alternative<tdx::UserspaceExit>(e->run(0, &none)));
  std::string all;
  for (const std::string& l : lines) all += l + "\n";
  EXPECT_NE(all.find("LGDT"), std::string::npos) << all;
  // The first ucall's TDCALL is traced once, when the program's answer completed it.
  EXPECT_NE(all.find("TDG.VP.VMCALL"), std::string::npos) << all;
  td.setup.trace.sink = nullptr;
  EXPECT_THROW(TdEngine::create(td.setup), std::runtime_error);
}

TEST(UkvmEngine, MrtdIsThePredictionForTheSamePages) {
  ProgramTd td(hello());
  std::unique_ptr<TdEngine> e = TdEngine::create(td.setup);
  const measure::Mrtd want = measure::predict_mrtd(td.image);
  EXPECT_EQ(e->mrtd(), std::vector<uint8_t>(want.digest.begin(), want.digest.end()));
}

TEST(UkvmEngine, GuestWritesLandInTheProgramsMemoryWithoutACopy) {
  ProgramTd td(hello());
  std::unique_ptr<TdEngine> e = TdEngine::create(td.setup);
  RunExit x = e->run(0, nullptr);
  auto* u = std::get_if<tdx::UserspaceExit>(&x);
  ASSERT_NE(u, nullptr);
  auto* m = std::get_if<tdx::MmioExit>(&u->kind);
  ASSERT_NE(m, nullptr);
  // The guest filled the ucall slot in the shared pool; the program reads its own page.
  EXPECT_NE(ucall_cmd(td, *m), abi::kUcallNone);
}

// A conversion moves the memory the guest reaches at a GPA range to other pages (the
// program's KVM_SET_MEMORY_ATTRIBUTES after MapGPA): the guest's next accesses land there.
TEST(UkvmEngine, SetMemoryMovesARangeToOtherPages) {
  ProgramTd td(hello());
  std::unique_ptr<TdEngine> e = TdEngine::create(td.setup);
  RunExit x = e->run(0, nullptr);
  ASSERT_TRUE(std::holds_alternative<tdx::UserspaceExit>(x));
  const Region* pool = td.image.find(RegionKind::kUcallPool);
  ASSERT_NE(pool, nullptr);
  Pages moved(pool->size);
  std::memcpy(moved.host, td.host(pool->gpa), pool->size);
  e->set_memory(GuestRange{pool->gpa, pool->size, moved.host, true});
  std::memset(td.host(pool->gpa), 0, pool->size);  // the old pages are nobody's now
  tdx::VmmCompletion none;
  x = e->run(0, &none);
  auto* u = std::get_if<tdx::UserspaceExit>(&x);
  ASSERT_NE(u, nullptr);
  auto* m = std::get_if<tdx::MmioExit>(&u->kind);
  ASSERT_NE(m, nullptr);
  const uint64_t slot = m->data & ~td.image.shared_bit;
  ASSERT_TRUE(pool->contains(slot));
  abi::Ucall uc;
  std::memcpy(&uc, moved.host + (slot - pool->gpa), sizeof uc);
  EXPECT_NE(uc.cmd, abi::kUcallNone) << "the guest wrote the ucall into the new pages";
  EXPECT_THROW(e->set_memory(GuestRange{pool->gpa + 1, 0x1000, moved.host, true}), std::runtime_error);
  EXPECT_THROW(e->add_memory(GuestRange{pool->gpa, 0x1000, moved.host, true}), std::runtime_error) << "overlap";
}

TEST(UkvmEngine, KickBeforeRunInterrupts) {
  ProgramTd td(hello());
  std::unique_ptr<TdEngine> e = TdEngine::create(td.setup);
  e->kick(0);
  EXPECT_TRUE(std::holds_alternative<Interrupted>(e->run(0, nullptr)));
  // The kick is consumed: the next run goes on to the first exit.
  EXPECT_TRUE(std::holds_alternative<tdx::UserspaceExit>(e->run(0, nullptr)));
}

TEST(UkvmEngine, InstructionBudgetEndsTheRun) {
  ProgramTd td(hello());
  td.setup.max_insns = 50;
  std::unique_ptr<TdEngine> e = TdEngine::create(td.setup);
  RunExit x = e->run(0, nullptr);
  ASSERT_TRUE(std::holds_alternative<BudgetExceeded>(x)) << x.index();
  EXPECT_GE(std::get<BudgetExceeded>(x).executed, 50u);
}

TEST(UkvmEngine, BadSetupIsRefusedByName) {
  ProgramTd td(hello());
  td.setup.gpaw = 40;
  EXPECT_THROW(
      {
        try {
          TdEngine::create(td.setup);
        } catch (const std::runtime_error& err) {
          EXPECT_NE(std::string(err.what()).find("address width 40"), std::string::npos) << err.what();
          throw;
        }
      },
      std::runtime_error);
  ProgramTd twice(hello());
  twice.setup.pages.push_back(twice.setup.pages.front());  // the same page added twice
  EXPECT_THROW(TdEngine::create(twice.setup), std::runtime_error);
}

TEST(UkvmEngine, EveryVcpuRunsOnItsOwn) {
  ProgramTd td(hello(2));
  std::unique_ptr<TdEngine> e = TdEngine::create(td.setup);
  for (uint32_t v = 0; v < 2; ++v) {
    RunExit x = e->run(v, nullptr);
    ASSERT_TRUE(std::holds_alternative<tdx::UserspaceExit>(x)) << "vCPU " << v;
    EXPECT_EQ(std::get<tdx::UserspaceExit>(x).vcpu, v);
  }
  EXPECT_THROW(e->run(2, nullptr), std::out_of_range);
}

// A "program thread" in KVM_RUN on one vCPU: run() on a thread of its own.
class ProgramThread {
 public:
  ProgramThread(TdEngine& e, uint32_t v, const tdx::VmmCompletion* answer = nullptr)
      : t_([this, &e, v, answer] {
          exit_ = e.run(v, answer);
          done_ = true;
        }) {}
  ~ProgramThread() {
    if (t_.joinable()) t_.join();
  }
  // Still inside run() after `wait`.
  bool blocked(std::chrono::milliseconds wait) {
    std::this_thread::sleep_for(wait);
    return !done_;
  }
  RunExit join() {
    t_.join();
    return exit_;
  }

 private:
  RunExit exit_;
  std::atomic<bool> done_{false};
  std::thread t_;
};

// tdsim exec --gdb: the engine's vCPUs run only inside the program's run() calls, and
// only in the turns the following run control grants: held at the reset vector, a stop
// of whichever vCPU a thread ran, a step, Ctrl-C; a kick still ends a held run().
TEST(UkvmEngine, UnderGdbVcpusRunOnlyInTheTurnsGdbGrants) {
  using Stop = gdbstub::RunControl::Stop;
  using namespace std::chrono_literals;
  ProgramTd td(hello(2));
  std::unique_ptr<TdEngine> e = TdEngine::create(td.setup);
  gdbstub::FollowingRunControl* gdb = e->follow_debugger();
  ASSERT_NE(gdb, nullptr);
  EXPECT_EQ(gdb, e->follow_debugger()) << "made once";
  DebugTarget& t = gdb->target();
  EXPECT_EQ(gdbstub::rip_of(t, 1), abi::kResetVector);
  {
    ProgramThread held(*e, 1);
    EXPECT_TRUE(held.blocked(100ms)) << "held at the reset vector";
    e->kick(1);  // a signal on the program's thread
    EXPECT_TRUE(std::holds_alternative<Interrupted>(held.join()));
    EXPECT_EQ(gdbstub::rip_of(t, 1), abi::kResetVector) << "nothing ran";
  }
  // vCPU 1's thread takes the continue; its breakpoint stop is reported as vCPU 1's.
  t.add_breakpoint(td.image.stub_gpa);
  ProgramThread one(*e, 1);
  auto s = gdb->resume(0, nullptr);
  EXPECT_EQ(s.why, Stop::kBreakpoint);
  EXPECT_EQ(s.vcpu, 1u);
  EXPECT_EQ(gdbstub::rip_of(t, 1), td.image.stub_gpa);
  EXPECT_EQ(gdbstub::rip_of(t, 0), abi::kResetVector) << "no thread ran vCPU 0";
  EXPECT_TRUE(one.blocked(50ms)) << "held at the breakpoint";
  s = gdb->step(1);
  EXPECT_EQ(s.why, Stop::kStepped);
  EXPECT_EQ(t.executed(1), 2u) << "the reset vector's jump and the step";
  // Ctrl-C while vCPU 1 may run: held again.
  t.remove_breakpoint(td.image.stub_gpa);
  s = gdb->resume(0, [] { return true; });
  EXPECT_EQ(s.why, Stop::kInterrupted);
  // Held now: the thread is blocked (a kick ends it) or came back with the first ucall
  // before the interrupt (a kick would then be left for its next run, as a signal is not).
  if (one.blocked(50ms)) e->kick(1);
  const RunExit x = one.join();
  const tdx::VmmCompletion none;
  const bool exited = std::holds_alternative<tdx::UserspaceExit>(x);
  EXPECT_TRUE(exited || std::holds_alternative<Interrupted>(x)) << x.index();
  const uint64_t ran = t.executed(1);
  ProgramThread again(*e, 1, exited ? &none : nullptr);
  EXPECT_TRUE(again.blocked(100ms)) << "held after Ctrl-C";
  EXPECT_EQ(t.executed(1), ran);
  // gdb gone: the vCPUs run free.
  gdb->detach();
  const RunExit free = again.join();
  EXPECT_TRUE(std::holds_alternative<tdx::UserspaceExit>(free)) << free.index();
}

}  // namespace
}  // namespace tdsim::ukvm
