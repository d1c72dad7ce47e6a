// Boots the example guest with the example stub on each backend this host offers and
// checks what the guest said: the greeting, SYNC 42, the device value it read, DONE.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "bootstub/host/image_builder.h"
#include "core/backend.h"
#include "core/outcome.h"
#include "kvm/kvm_backend.h"
#include "kvm/probe.h"
#include "sim/unicorn_backend.h"
#include "tdsim/abi/ucall.h"

namespace {

std::vector<uint8_t> read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string("cannot read ") + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

constexpr uint64_t kDeviceValue = 0x5eed;

// Builds the image (guest ELF + our stub), answers the guest's device read, runs it.
std::vector<tdsim::Event> boot(tdsim::Backend& backend, uint32_t vcpus) {
  tdsim::LayoutSpec spec;
  spec.guest_elf = read_file(EXAMPLE_GUEST_ELF);
  spec.guest_elf_name = EXAMPLE_GUEST_ELF;
  spec.stub = read_file(EXAMPLE_STUB_BIN);
  spec.stub_name = EXAMPLE_STUB_BIN;
  spec.nr_vcpus = vcpus;
  const tdsim::TdImage image = tdsim::build_image(spec);
  const uint64_t device = image.ucall_mmio_gpa + 0x100;
  backend.set_mmio_read([device](uint32_t, uint64_t gpa, uint32_t) -> std::optional<uint64_t> {
    if (gpa == device) return kDeviceValue;
    return std::nullopt;
  });
  tdsim::RunLimits limits;
  limits.max_insns = 50'000'000;
  limits.timeout = std::chrono::seconds(20);
  return tdsim::run_collect(backend, image, limits);
}

std::string dump(const std::vector<tdsim::Event>& events) {
  std::string s;
  for (const auto& e : events) s += "  " + tdsim::describe(e) + "\n";
  return s;
}

void expect_example_ran(const std::vector<tdsim::Event>& events, uint32_t vcpus) {
  SCOPED_TRACE(dump(events));
  ASSERT_EQ(tdsim::classify(events, vcpus), tdsim::Outcome::kDone);
  for (uint32_t v = 0; v < vcpus; ++v) {
    std::vector<tdsim::UcallEvent> u;
    for (const auto& e : events)
      if (const auto* p = std::get_if<tdsim::UcallEvent>(&e); p && p->vcpu == v) u.push_back(*p);
    ASSERT_EQ(u.size(), 4u) << "vCPU " << v;
    EXPECT_EQ(u[0].cmd, tdsim::abi::kUcallPrintf);
    EXPECT_EQ(u[0].text, "hello from C on vCPU " + std::to_string(v) + " of " + std::to_string(vcpus));
    EXPECT_EQ(u[1].cmd, tdsim::abi::kUcallSync);
    EXPECT_EQ(u[1].args[1], 42u);
    EXPECT_EQ(u[2].cmd, tdsim::abi::kUcallSync);
    EXPECT_EQ(u[2].args[0], 7u);
    EXPECT_EQ(u[2].args[1], kDeviceValue);
    EXPECT_EQ(u[2].args[2], v);
    EXPECT_EQ(u[3].cmd, tdsim::abi::kUcallDone);
  }
}

TEST(SdkExample, RunsOnUnicorn) {
  tdsim::UnicornBackend backend;
  expect_example_ran(boot(backend, 2), 2);
}

TEST(SdkExample, RunsOnPlainKvm) {
  const tdsim::kvm::HostProbe probe = tdsim::kvm::probe_host();
  if (!probe.kvm_usable) GTEST_SKIP() << "plain KVM unusable here: " << probe.backend("kvm")->reason;
  tdsim::KvmBackend backend;
  expect_example_ran(boot(backend, 2), 2);
}

}  // namespace
