// The same guest built as C and as C++ (twin_body.inc) must tell the host the same
// things on every backend this host can run: what each ucall says (command, arguments,
// text, assert location), and every MMIO access. Guest addresses of string literals
// (GUEST_SYNC's "hello", an assert's expression and file) differ between the two ELFs
// and are compared through what they point to, which the host decodes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bootstub/host/image_builder.h"
#include "core/backend.h"
#include "core/outcome.h"
#include "kvm/kvm_backend.h"
#include "kvm/plain_machine.h"
#include "kvm/probe.h"
#include "sim/unicorn_backend.h"
#include "tdsim/abi/ucall.h"
#include "tests/guests/test_assets.h"
#include "tests/guests/twin_guest.h"

namespace tdsim {
namespace {

std::vector<Event> run_on(Backend& backend, const char* elf) {
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(elf);
  spec.guest_elf_name = elf;
  const TdImage image = build_image(spec);
  const uint64_t scratch = image.ucall_mmio_gpa + TWIN_SCRATCH_OFFSET;
  backend.set_mmio_read([scratch](uint32_t, uint64_t gpa, uint32_t) -> std::optional<uint64_t> {
    if (gpa == scratch) return TWIN_DEVICE_VALUE;
    return std::nullopt;
  });
  RunLimits limits;
  limits.max_insns = 50'000'000;
  limits.timeout = std::chrono::seconds(20);
  return run_collect(backend, image, limits);
}

// One line per event, with guest addresses of strings left out: ucalls by command,
// arguments and decoded text, MMIO accesses by address, size, direction and data.
std::vector<std::string> comparable(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const Event& e : events) {
    if (const auto* u = std::get_if<UcallEvent>(&e)) {
      UcallEvent c = *u;
      c.slot_gpa = 0;
      if (c.cmd == abi::kUcallSync && c.args[1] == 1) c.args[0] = 0;  // GUEST_SYNC's "hello"
      std::string s = "vcpu " + std::to_string(c.vcpu) + " cmd " + std::to_string(c.cmd);
      if (c.assertion) {
        c.args[abi::kAssertArgExpr] = c.args[abi::kAssertArgFile] = 0;
        // The file's last component: how the compiler spells the directory (absolute, or
        // relative under a compiler launcher) may differ between the C and C++ builds.
        s += " assert " + c.assertion->expr + " @ " +
             c.assertion->file.substr(c.assertion->file.find_last_of('/') + 1) + ":" +
             std::to_string(c.assertion->line);
      }
      for (uint64_t a : c.args) s += " " + std::to_string(a);
      out.push_back(s + " text '" + c.text + "'");
    } else {
      out.push_back(describe(e));
    }
  }
  return out;
}

std::string dump(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += "  " + l + "\n";
  return s;
}

const UcallEvent* nth_ucall(const std::vector<Event>& events, size_t n) {
  for (const Event& e : events) {
    if (const auto* u = std::get_if<UcallEvent>(&e); u && n-- == 0) return u;
  }
  return nullptr;
}

// What the twin must have said on any backend, checked on the C build (the C++ one is
// then compared to it line by line).
void expect_twin_said(const std::vector<Event>& ev, bool in_td, bool fails) {
  const UcallEvent* first = nth_ucall(ev, 0);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->text, std::string("twin: vcpu 0 of 1, in_td=") + (in_td ? "1" : "0"));
  const UcallEvent* sync = nth_ucall(ev, 1);
  ASSERT_NE(sync, nullptr);
  EXPECT_EQ(sync->cmd, abi::kUcallSync);
  EXPECT_NE(sync->args[0], 0u);
  EXPECT_EQ(sync->args[1], 1u);
  const UcallEvent* args = nth_ucall(ev, 2);
  ASSERT_NE(args, nullptr);
  const std::array<uint64_t, abi::kUcallMaxArgs> want{2, 0, ~0ull, 0xfeedfaceull, 0xabcd, 'x', ~1ull};
  EXPECT_EQ(args->args, want);
  const UcallEvent* mmio = nth_ucall(ev, 3);
  ASSERT_NE(mmio, nullptr);
  EXPECT_EQ(mmio->args[0], 3u);
  EXPECT_EQ(mmio->args[1], 0u) << "MMIO read status";
  EXPECT_EQ(mmio->args[2], TWIN_DEVICE_VALUE);
  bool saw_write = false;
  for (const Event& e : ev) {
    if (const auto* m = std::get_if<MmioEvent>(&e); m && m->is_write)
      saw_write = m->len == 4 && m->data == 0x11223344u;
  }
  EXPECT_TRUE(saw_write) << "no 4-byte MMIO write of 0x11223344";
  const UcallEvent* last = nullptr;
  for (const Event& e : ev)
    if (const auto* u = std::get_if<UcallEvent>(&e)) last = u;
  ASSERT_NE(last, nullptr);
  if (fails) {
    EXPECT_EQ(last->cmd, abi::kUcallAbort);
    ASSERT_TRUE(last->assertion.has_value());
    EXPECT_EQ(last->assertion->expr, "vcpu + 1 == 3u");
    EXPECT_NE(last->assertion->file.find("twin_body.inc"), std::string::npos);
    EXPECT_EQ(last->text, "0x1 != 0x3 (vcpu + 1 != 3u)");
  } else {
    EXPECT_EQ(last->cmd, abi::kUcallDone);
    EXPECT_EQ(classify(ev, 1), Outcome::kDone);
  }
  bool saw_snprintf = false;
  for (const Event& e : ev) {
    if (const auto* u = std::get_if<UcallEvent>(&e))
      saw_snprintf = saw_snprintf || u->text == "snprintf 16: 00042|ab |0xff|z";
  }
  EXPECT_TRUE(saw_snprintf);
}

void check_twins(Backend& c_backend, Backend& cxx_backend, bool in_td, const char* c_elf, const char* cxx_elf,
                 bool fails) {
  const auto c = run_on(c_backend, c_elf);
  const auto cxx = run_on(cxx_backend, cxx_elf);
  SCOPED_TRACE("C:\n" + dump(comparable(c)) + "C++:\n" + dump(comparable(cxx)));
  expect_twin_said(c, in_td, fails);
  EXPECT_EQ(comparable(c), comparable(cxx));
}

TEST(CAndCxxTwins, SameEventsOnUnicorn) {
  UnicornBackend c_backend, cxx_backend;
  check_twins(c_backend, cxx_backend, true, TDSIM_GUEST_C_TWIN_ELF, TDSIM_GUEST_CXX_TWIN_ELF, false);
}

TEST(CAndCxxTwins, SameFailedAssertOnUnicorn) {
  UnicornBackend c_backend, cxx_backend;
  check_twins(c_backend, cxx_backend, true, TDSIM_GUEST_C_TWIN_ASSERT_ELF, TDSIM_GUEST_CXX_TWIN_ASSERT_ELF, true);
}

TEST(CAndCxxTwins, SameEventsOnPlainKvm) {
  const kvm::HostProbe probe = kvm::probe_host();
  if (!probe.kvm_usable) GTEST_SKIP() << "plain KVM unusable here: " << probe.backend("kvm")->reason;
  // The guest finds itself in a TD by CPUID leaf 0x21: plain KVM shows it where this
  // host's KVM takes the TD CPUID model (KVM_SET_CPUID2), and the twins say so.
  const CpuidFidelity& f = kvm::plain_kvm_cpuid_fidelity();
  const bool in_td = f.shows_leaf(0) && f.shows_leaf(0x21);
  KvmBackend c_backend, cxx_backend;
  check_twins(c_backend, cxx_backend, in_td, TDSIM_GUEST_C_TWIN_ELF, TDSIM_GUEST_CXX_TWIN_ELF, false);
  check_twins(c_backend, cxx_backend, in_td, TDSIM_GUEST_C_TWIN_ASSERT_ELF, TDSIM_GUEST_CXX_TWIN_ASSERT_ELF, true);
}

}  // namespace
}  // namespace tdsim
