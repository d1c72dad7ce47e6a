#include "broken_image.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <regex>

#include "bootstub/host/image_builder.h"
#include "kvm/kvm_backend.h"
#include "kvm/probe.h"
#include "sim/unicorn_backend.h"
#include "tdsim/abi/td_boot.h"
#include "tests/guests/test_assets.h"

namespace tdsim::broken {

namespace {

Region& region_at(TdImage& im, uint64_t gpa) {
  for (Region& r : im.regions)
    if (r.contains(gpa)) return r;
  throw std::runtime_error(fmt::format("no region at {:#x}", gpa));
}

}  // namespace

void poke(TdImage& im, uint64_t gpa, const void* src, size_t len) {
  Region& r = region_at(im, gpa);
  const uint64_t off = gpa - r.gpa;
  if (r.bytes.size() < off + len) r.bytes.resize(off + len, 0);
  std::memcpy(r.bytes.data() + off, src, len);
}

namespace {

void sync_copy(TdImage& im) {
  const Region& r = region_at(im, abi::kTdBootParamsGpa);
  std::memcpy(&im.boot, r.bytes.data(), sizeof im.boot);
  for (uint32_t i = 0; i < im.per_vcpu.size(); ++i)
    std::memcpy(&im.per_vcpu[i], r.bytes.data() + abi::kTdPerVcpuOffset + i * sizeof(abi::TdPerVcpuParams),
                sizeof(abi::TdPerVcpuParams));
}

}  // namespace

TdImage image(const char* guest_elf, const char* stub_bin) {
  LayoutSpec spec;
  spec.guest_elf = test::read_asset(guest_elf);
  spec.guest_elf_name = guest_elf;
  if (stub_bin) {
    spec.stub = test::read_asset(stub_bin);
    spec.stub_name = "user_stub";
  }
  return build_image(spec);
}

void set_param32(TdImage& im, uint64_t offset, uint32_t v) {
  poke(im, abi::kTdBootParamsGpa + offset, &v, 4);
  sync_copy(im);
}

void set_guest_code(TdImage& im, uint32_t vcpu, uint64_t gva) {
  poke(im, abi::kTdBootParamsGpa + abi::kTdPerVcpuOffset + vcpu * sizeof(abi::TdPerVcpuParams) + 8, &gva, 8);
  sync_copy(im);
}

void set_idtr_limit(TdImage& im, uint16_t limit) {
  poke(im, abi::kTdBootParamsGpa + offsetof(abi::TdBootParams, idtr), &limit, 2);
  sync_copy(im);
}

void set_gdt_entry(TdImage& im, uint16_t selector, uint64_t descriptor) {
  poke(im, im.boot.gdtr.base + (selector & ~7u), &descriptor, 8);
}

uint64_t zero_page(const TdImage& im) {
  for (const Region& r : im.regions)
    if (r.kind == RegionKind::kRam && r.gpa != 0 && r.bytes.empty() && r.size >= 4096) return r.gpa;
  ADD_FAILURE() << "the image has no filler RAM";
  return 0;
}

uint64_t stub_label(const TdImage& im, const char* symbols_inc, const std::string& label) {
  std::ifstream in(symbols_inc);
  EXPECT_TRUE(in) << "cannot read " << symbols_inc;
  std::string line;
  const std::regex re(R"re(^\{"([^"]+)", (0x[0-9a-fA-F]+)\},$)re");
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_match(line, m, re) && m[1] == label) return im.stub_gpa + std::stoull(m[2].str(), nullptr, 16);
  ADD_FAILURE() << "no label " << label << " in " << symbols_inc;
  return 0;
}

uint64_t symbol(const TdImage& im, const std::string& name) {
  for (const Symbol& s : im.symbols)
    if (s.name == name) return s.addr;
  ADD_FAILURE() << "no symbol " << name;
  return 0;
}

std::vector<Event> run_unicorn(const TdImage& im, uint64_t max_insns) {
  UnicornBackend b;
  return run_collect(b, im, RunLimits{max_insns, std::chrono::milliseconds(20'000)});
}

std::string kvm_unusable_reason() {
  static const std::string reason = [] {
    const kvm::HostProbe p = kvm::probe_host();
    const auto* b = p.backend("kvm");
    return b && b->can_run ? std::string() : std::string(b ? b->reason : "no kvm entry in the probe");
  }();
  return reason;
}

std::vector<Event> run_kvm(const TdImage& im) {
  KvmBackend b;
  return run_collect(b, im, RunLimits{~0ull, std::chrono::milliseconds(5'000)});
}

const FaultEvent* only_fault(const std::vector<Event>& ev) {
  const FaultEvent* f = nullptr;
  for (const Event& e : ev)
    if (const auto* x = std::get_if<FaultEvent>(&e)) {
      if (f) return nullptr;
      f = x;
    }
  return f;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const std::string& l : lines) s += l + "\n";
  return s;
}

std::string dump(const std::vector<Event>& ev) {
  std::string s;
  for (const Event& e : ev) {
    s += describe(e) + "\n";
    if (const auto* f = std::get_if<FaultEvent>(&e)) s += joined(f->explanation);
    if (const auto* b = std::get_if<BudgetExceededEvent>(&e)) s += joined(b->explanation);
  }
  return s;
}

}  // namespace tdsim::broken
