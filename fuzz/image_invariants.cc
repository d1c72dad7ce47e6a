#include "fuzz/image_invariants.h"

#include <cstdio>
#include <cstring>

#include "tdsim/abi/td_boot.h"

namespace tdsim::fuzz {

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
  __builtin_trap();
}

void check_image_invariants(const TdImage& img, const LayoutSpec& spec) {
  require(!img.regions.empty(), "image has regions");
  for (size_t i = 0; i < img.regions.size(); ++i) {
    const Region& r = img.regions[i];
    require(r.gpa % 4096 == 0 && r.size % 4096 == 0 && r.size > 0, "region page aligned, non-empty");
    require(r.gpa + r.size > r.gpa || r.gpa + r.size == 0, "region does not wrap");
    require(r.bytes.size() <= r.size, "region bytes fit its size");
    if (i) require(img.regions[i - 1].end() <= r.gpa, "regions sorted and disjoint");
  }
  require(img.nr_vcpus == spec.nr_vcpus && img.per_vcpu.size() == spec.nr_vcpus, "one per_vcpu entry per vCPU");
  require(img.region_at(img.ucall_mmio_gpa) == nullptr, "ucall MMIO GPA is unbacked");
  require(img.ucall_mmio_gpa % 8 == 0 && img.ucall_mmio_gpa < img.shared_bit, "ucall MMIO GPA aligned, private range");
  const Region* pool = img.region_at(img.ucall_pool_gpa);
  require(pool && pool->kind == RegionKind::kUcallPool && pool->shared, "pool region is shared");
  const Region* pt = img.region_at(img.boot.cr3);
  require(pt && pt->kind == RegionKind::kPageTables && pt->gpa == img.boot.cr3, "cr3 -> page tables");
  for (const abi::TdPerVcpuParams& v : img.per_vcpu) {
    const Region* st = img.region_at(v.esp_gva);
    require(st && st->kind == RegionKind::kStack, "esp_gva inside a stack region");
    require(v.esp_gva + 8 <= st->end(), "esp_gva + 8 inside the stack");
  }
  const Region* entry = img.region_at(img.guest_entry);
  require(entry && entry->kind == RegionKind::kGuestElf, "entry inside the guest ELF");

  // The stub ends exactly at the reset vector, which is EB rel8 CC jumping to its start.
  const Region* stub = img.region_at(abi::kResetVector);
  require(stub && stub->kind == RegionKind::kBootStub && stub->bytes.size() == stub->size, "stub page present");
  require(img.stub_size > 0 && img.stub_size + 2 <= 128, "stub size in range");
  require(img.stub_gpa + img.stub_size == abi::kResetVector, "stub ends at the reset vector");
  const uint8_t* page = stub->bytes.data();
  const uint64_t rv = abi::kResetVector - stub->gpa;
  require(page[rv] == 0xeb && page[rv + 2] == 0xcc, "reset vector is EB rel8 CC");
  const auto rel8 = static_cast<int8_t>(page[rv + 1]);
  require(abi::kResetVector + 2 + rel8 == img.stub_gpa, "rel8 lands on the stub");
  if (!spec.stub.empty())
    require(std::memcmp(page + (img.stub_gpa - stub->gpa), spec.stub.data(), spec.stub.size()) == 0,
            "user stub bytes copied verbatim");
}

}  // namespace tdsim::fuzz
