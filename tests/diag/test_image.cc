#include "test_image.h"

#include <cstring>
#include <stdexcept>

#include "tdsim/abi/td_boot.h"

namespace tdsim::diag::test {
namespace {

constexpr uint64_t P = 1, RW = 2, PS = 0x80, XD = 1ull << 63;

// The instruction sequence of bootstub/stub/td_boot.S, assembled with GNU as for a
// start address of 0xffffffba (ljmp target 0xffffffed).
constexpr uint8_t kStub[] = {
    0xfa, 0xbb, 0x00, 0x00, 0xff, 0xff, 0xb8, 0x10, 0x00, 0x00, 0x00, 0xf7, 0xe6, 0x8d,
    0x44, 0x03, 0x18, 0x8b, 0x20, 0x0f, 0x01, 0x53, 0x0c, 0x0f, 0x01, 0x5b, 0x12, 0x8b,
    0x7b, 0x08, 0x0f, 0x22, 0xe7, 0x8b, 0x7b, 0x04, 0x0f, 0x22, 0xdf, 0x8b, 0x3b, 0x0f,
    0x22, 0xc7, 0xea, 0xed, 0xff, 0xff, 0xff, 0x08, 0x00, 0xff, 0x60, 0x08};
static_assert(sizeof(kStub) == 54);

Region region(const char* name, RegionKind kind, uint64_t gpa, uint64_t size) {
  return make_region(name, kind, gpa, size, std::vector<uint8_t>(size));
}

}  // namespace

void poke(TdImage& image, uint64_t gpa, const void* src, uint64_t len) {
  for (Region& r : image.regions) {
    if (!r.contains(gpa)) continue;
    if (gpa + len > r.end()) break;
    if (r.bytes.size() < r.size) r.bytes.resize(r.size);
    std::memcpy(r.bytes.data() + (gpa - r.gpa), src, len);
    return;
  }
  throw std::out_of_range("poke outside the test image");
}

void poke64(TdImage& image, uint64_t gpa, uint64_t value) { poke(image, gpa, &value, 8); }
void poke32(TdImage& image, uint64_t gpa, uint32_t value) { poke(image, gpa, &value, 4); }

uint64_t peek64(const TdImage& image, uint64_t gpa) {
  const Region* r = image.region_at(gpa);
  if (!r) throw std::out_of_range("peek outside the test image");
  uint64_t v = 0;
  std::memcpy(&v, r->bytes.data() + (gpa - r->gpa), 8);
  return v;
}

void sync_boot_copy(TdImage& image) {
  const Region* r = image.region_at(abi::kTdBootParamsGpa);
  std::memcpy(&image.boot, r->bytes.data(), sizeof image.boot);
}

TdImage make_valid_image(uint32_t nr_vcpus) {
  TdImage im;
  im.gpaw = 48;
  im.shared_bit = kSharedBit;
  im.nr_vcpus = nr_vcpus;
  im.regions.push_back(region("page-tables", RegionKind::kPageTables, 0x1000, 0x6000));
  im.regions.push_back(region("gdt-idt", RegionKind::kDescriptors, kGdt, 0x2000));
  im.regions.push_back(region("stacks", RegionKind::kStack, kStackBase, kStackSize * nr_vcpus));
  im.regions.push_back(region("guest", RegionKind::kGuestElf, kGuestCode, 0x1000));
  im.regions.push_back(region("ucall-pool", RegionKind::kUcallPool, kPool, 0x1000));
  im.regions.back().shared = true;
  im.regions.push_back(region("boot-params", RegionKind::kBootParams, abi::kTdBootParamsGpa, 0x1000));
  im.regions.push_back(region("stub", RegionKind::kBootStub, 0xfffff000, 0x1000));

  poke64(im, kPml4, kPdpt | P | RW);
  poke64(im, kPdpt + 0 * 8, kPdLow | P | RW);
  poke64(im, kPdpt + 3 * 8, kPdHigh | P | RW);
  poke64(im, kPdLow + 0 * 8, kPtLow | P | RW);
  poke64(im, kPdLow + 1 * 8, kStackBase | P | RW | PS | XD);       // 2 MiB, stacks
  poke64(im, kPdLow + 2 * 8, kGuestCode | P | RW | PS);            // 2 MiB, code
  poke64(im, kPdLow + 3 * 8, kPool | kSharedBit | P | RW | PS | XD);  // 2 MiB, shared pool
  poke64(im, kPdHigh + 511 * 8, kPtHigh | P | RW);
  for (uint64_t a = 0x1000; a < 0xa000; a += 0x1000)  // tables + descriptors; page 0 unmapped
    if (a != 0x7000) poke64(im, kPtLow + (a >> 12) * 8, a | P | RW | XD);
  poke64(im, kPtHigh + 0x1f0 * 8, 0xffff0000 | P | RW | XD);
  poke64(im, kPtHigh + 0x1ff * 8, 0xfffff000 | P | RW);

  poke64(im, kGdt + 0x08, kGdtCode64);
  poke64(im, kGdt + 0x10, kGdtData);

  const uint8_t guest[] = {0xf4, 0xeb, 0xfd};  // hlt; jmp back
  poke(im, kGuestCode, guest, sizeof guest);

  abi::TdBootParams bp{};
  bp.cr0 = 0x80000021;
  bp.cr3 = kPml4;
  bp.cr4 = 0x40260;
  bp.gdtr = {0xfff, uint32_t(kGdt)};
  bp.idtr = {0xfff, uint32_t(kIdt)};
  poke(im, abi::kTdBootParamsGpa, &bp, sizeof bp);
  im.boot = bp;
  for (uint32_t i = 0; i < nr_vcpus; ++i) {
    abi::TdPerVcpuParams v{};
    v.esp_gva = uint32_t(kStackBase + kStackSize * (i + 1) - 8);
    v.guest_code = kGuestCode;
    poke(im, abi::kTdBootParamsGpa + abi::kTdPerVcpuOffset + 16 * i, &v, sizeof v);
    im.per_vcpu.push_back(v);
  }

  poke(im, kStubGpa, kStub, sizeof kStub);
  const uint8_t reset[] = {0xeb, uint8_t(256 - 2 - sizeof kStub), 0xcc};
  poke(im, abi::kResetVector, reset, sizeof reset);

  im.stub_gpa = kStubGpa;
  im.stub_size = sizeof kStub;
  im.ucall_pool_gpa = kPool;
  im.ucall_mmio_gpa = 32ull << 20;
  im.guest_entry = kGuestCode;
  im.symbols = {{"td_boot_start", kStubGpa, 0x33},
                {"td_boot_long64", kStubLong64, 3},
                {"guest_main", kGuestCode, 3}};
  return im;
}

}  // namespace tdsim::diag::test
