#include "hand_image.h"

#include <cstring>
#include <stdexcept>

#include "tdsim/abi/ucall.h"

namespace tdsim::simtest {

namespace {

void put64(std::vector<uint8_t>& b, uint64_t off, uint64_t v) { std::memcpy(&b[off], &v, 8); }

Region region(std::string name, RegionKind kind, uint64_t gpa, uint64_t size) {
  return make_region(std::move(name), kind, gpa, size, std::vector<uint8_t>(size));
}

Region& find(TdImage& image, RegionKind kind) {
  for (Region& r : image.regions)
    if (r.kind == kind) return r;
  throw std::logic_error("hand image lacks a region");
}

}  // namespace

uint64_t slot_gpa(int slot) { return kPool + offsetof(abi::UcallPool, slots) + slot * sizeof(abi::Ucall); }

TdImage make_image(const Blob& stub32, const Blob& code64, uint32_t nr_vcpus) {
  TdImage im;
  im.gpaw = 48;
  im.shared_bit = kSharedBit;
  im.nr_vcpus = nr_vcpus;
  im.init_rcx = 0xabcdef0012345678ull;
  im.ucall_mmio_gpa = kUcallMmio;
  im.ucall_pool_gpa = kPool;

  Region pt = region("page-tables", RegionKind::kPageTables, kPageTables, 0x4000);
  put64(pt.bytes, 0x0000, (kPageTables + 0x1000) | 3);             // PML4[0] -> PDPT
  put64(pt.bytes, 0x1000 + 0 * 8, (kPageTables + 0x2000) | 3);     // PDPT[0] -> PD 0-1 GiB
  put64(pt.bytes, 0x1000 + 3 * 8, (kPageTables + 0x3000) | 3);     // PDPT[3] -> PD 3-4 GiB
  for (uint64_t i = 0; i < 512; ++i) {
    uint64_t pde = (i << 21) | 0x83;                               // 2 MiB, present, RW
    if (i << 21 == kPool) pde |= kSharedBit;                       // shared: S-bit in the leaf
    put64(pt.bytes, 0x2000 + i * 8, pde);
  }
  put64(pt.bytes, 0x3000 + 511 * 8, 0xffe00000ull | 0x83);
  im.regions.push_back(std::move(pt));

  Region data = region("data", RegionKind::kRam, kData, 0x1000);
  put64(data.bytes, kCellUcallGpa, kUcallMmio | kSharedBit);
  put64(data.bytes, kCellOtherGpa, kOtherMmio | kSharedBit);
  put64(data.bytes, kCellPrivateGpa, kUcallMmio);
  const uint16_t gdt_limit = 0x17;
  const uint32_t gdt_base = kGdt;
  std::memcpy(&data.bytes[kCellGdtr], &gdt_limit, 2);
  std::memcpy(&data.bytes[kCellGdtr + 2], &gdt_base, 4);
  im.regions.push_back(std::move(data));

  Region gdt = region("gdt", RegionKind::kDescriptors, kGdt, 0x1000);
  put64(gdt.bytes, 0x08, 0x00af9b000000ffffull);  // 64-bit code
  put64(gdt.bytes, 0x10, 0x00cf93000000ffffull);  // data
  im.regions.push_back(std::move(gdt));

  im.regions.push_back(region("stacks", RegionKind::kStack, kStacks, 0x4000));

  Region code = region("code", RegionKind::kGuestElf, kCode, 0x10000);
  if (code64.size()) std::memcpy(code.bytes.data(), code64.begin, code64.size());
  im.regions.push_back(std::move(code));

  Region pool = region("ucall-pool", RegionKind::kUcallPool, kPool, 0x12000);
  pool.shared = true;  // the host reads ucall slots only in shared memory
  pool.shared = true;
  for (size_t i = 0; i < abi::kUcallPoolSlots; ++i)
    put64(pool.bytes, offsetof(abi::UcallPool, slots) + i * sizeof(abi::Ucall) +
                          offsetof(abi::Ucall, self),
          slot_gpa(static_cast<int>(i)));
  im.regions.push_back(std::move(pool));

  Region stub = region("stub", RegionKind::kBootStub, kStub, 0x1000);
  if (stub32.size() > 0xff0) throw std::logic_error("stub blob too large");
  std::memcpy(stub.bytes.data(), stub32.begin, stub32.size());
  // Reset vector: JMP rel32 back to the start of the page (the hand stub is larger than
  // a real one, so no rel8), then INT3.
  const int32_t rel = static_cast<int32_t>(kStub - (abi::kResetVector + 5));
  stub.bytes[0xff0] = 0xe9;
  std::memcpy(&stub.bytes[0xff1], &rel, 4);
  stub.bytes[0xff5] = abi::kInt3Opcode;
  im.regions.push_back(std::move(stub));

  im.stub_gpa = kStub;
  im.stub_size = static_cast<uint32_t>(stub32.size());
  im.guest_entry = kCode;
  im.boot.cr0 = 0x80000021;
  im.boot.cr3 = kPageTables;
  im.boot.cr4 = 0x60;
  im.boot.gdtr = {0x17, static_cast<uint32_t>(kGdt)};
  for (uint32_t i = 0; i < nr_vcpus; ++i)
    im.per_vcpu.push_back({static_cast<uint32_t>(kStacks + i * 0x1000 + 0xff8), 0, kCode});
  return im;
}

TdImage make_boot_image(const Blob& code64, uint32_t nr_vcpus) {
  return make_image(boot32(), code64, nr_vcpus);
}

void set_slot(TdImage& image, int slot, abi::UcallCmd cmd, const std::string& text,
              std::vector<uint64_t> args) {
  Region& pool = find(image, RegionKind::kUcallPool);
  const uint64_t base = slot_gpa(slot) - kPool;
  put64(pool.bytes, base + offsetof(abi::Ucall, cmd), cmd);
  for (size_t i = 0; i < args.size() && i < abi::kUcallMaxArgs; ++i)
    put64(pool.bytes, base + offsetof(abi::Ucall, args) + 8 * i, args[i]);
  std::memcpy(&pool.bytes[base + offsetof(abi::Ucall, buffer)], text.c_str(), text.size() + 1);
}

void set_bench_count(TdImage& image, uint64_t n) {
  put64(find(image, RegionKind::kRam).bytes, kCellBenchCount, n);
}

uint64_t read_u64(const std::vector<uint8_t>& page, uint64_t off) {
  uint64_t v;
  std::memcpy(&v, &page.at(off), 8);
  return v;
}

std::vector<std::string> describe_all(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const Event& e : events) out.push_back(describe(e));
  return out;
}

}  // namespace tdsim::simtest
