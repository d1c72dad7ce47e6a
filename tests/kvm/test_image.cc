#include "test_image.h"

#include <cstring>
#include <stdexcept>

namespace tdsim::kvmtest {

namespace {

constexpr uint64_t kPdptGpa = kPml4Gpa + 0x1000;
constexpr uint64_t kPd0Gpa = kPml4Gpa + 0x2000;  // 0 .. 1 GiB
constexpr uint64_t kPd3Gpa = kPml4Gpa + 0x3000;  // 3 .. 4 GiB
constexpr uint64_t kPoolSize = 0x20000;

void put64(std::vector<uint8_t>& b, uint64_t off, uint64_t v) { std::memcpy(&b[off], &v, 8); }

Region region(std::string name, RegionKind kind, uint64_t gpa, uint64_t size, bool shared) {
  return make_region(std::move(name), kind, gpa, size, std::vector<uint8_t>(size), !shared, shared);
}

}  // namespace

TdImage make_test_image(const unsigned char* stub, unsigned long stub_size, uint32_t nr_vcpus) {
  if (stub_size != 4096) throw std::invalid_argument("test stub must be one 4 KiB page");
  TdImage img;
  img.gpaw = 48;
  img.shared_bit = kSharedBit;
  img.nr_vcpus = nr_vcpus;
  img.init_rcx = 0x1234abcd5678ull;
  img.ucall_mmio_gpa = kUcallMmio;
  img.ucall_pool_gpa = kPoolGpa;

  Region gdt = region("gdt", RegionKind::kDescriptors, kGdtGpa, 0x1000, false);
  put64(gdt.bytes, 8, 0x00af9b000000ffffull);   // 0x08: 64-bit code
  put64(gdt.bytes, 16, 0x00cf93000000ffffull);  // 0x10: flat data

  Region pt = region("page-tables", RegionKind::kPageTables, kPml4Gpa, 0x4000, false);
  constexpr uint64_t kTable = 0x3, kLarge = 0x83;  // present|rw, + PS
  put64(pt.bytes, 0, kPdptGpa | kTable);
  put64(pt.bytes, 0x1000 + 0 * 8, kPd0Gpa | kTable);
  put64(pt.bytes, 0x1000 + 3 * 8, kPd3Gpa | kTable);
  for (uint64_t i = 0; i < 512; ++i) {
    uint64_t pa = i << 21;
    if (pa == kPoolGpa) pa |= kSharedBit;  // GPA = GVA | S-bit for the shared pool
    put64(pt.bytes, 0x2000 + i * 8, pa | kLarge);
    put64(pt.bytes, 0x3000 + i * 8, ((3ull << 30) + (i << 21)) | kLarge);
  }

  Region pool = region("ucall-pool", RegionKind::kUcallPool, kPoolGpa, kPoolSize, true);
  for (unsigned s = 0; s < abi::kUcallPoolSlots; ++s) {
    uint64_t self = kSlot0 + s * sizeof(abi::Ucall);
    put64(pool.bytes, self - kPoolGpa + offsetof(abi::Ucall, self), self);
    put64(pool.bytes, self - kPoolGpa, abi::kUcallDone);
  }

  Region st = region("stub", RegionKind::kBootStub, 0xfffff000, 0x1000, false);
  std::memcpy(st.bytes.data(), stub, stub_size);

  img.regions = {gdt, pt, pool, st};
  img.stub_gpa = 0xfffff000;
  img.stub_size = 0xff0;
  return img;
}

void set_slot(TdImage& image, unsigned slot, abi::UcallCmd cmd, const std::string& text) {
  for (Region& r : image.regions) {
    if (r.kind != RegionKind::kUcallPool) continue;
    uint64_t off = 8 + slot * sizeof(abi::Ucall);
    put64(r.bytes, off, cmd);
    std::memset(&r.bytes[off + offsetof(abi::Ucall, buffer)], 0, abi::kUcallBufferLen);
    std::memcpy(&r.bytes[off + offsetof(abi::Ucall, buffer)], text.data(),
                std::min<size_t>(text.size(), abi::kUcallBufferLen - 1));
    return;
  }
  throw std::logic_error("image has no ucall pool");
}

}  // namespace tdsim::kvmtest
