// ucall_decoder: decoding from a GuestMemory built from a hand TdImage, and every way a
// guest pointer can be bad.
#include "ucall/host/ucall_decoder.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tdsim/abi/ucall.h"

namespace tdsim::ucall {
namespace {

constexpr uint64_t kS = 1ull << 47;
constexpr uint64_t kRam = 0x100000;     // 2 pages of RAM; strings live here
constexpr uint64_t kPool = 0x200000;    // 20 pages: the pool
constexpr uint64_t kMmio = 0x8000000;

uint64_t slot(int i) { return kPool + offsetof(abi::UcallPool, slots) + i * sizeof(abi::Ucall); }

class Decoder : public ::testing::Test {
 protected:
  void SetUp() override {
    Region ram{"ram", RegionKind::kRam, kRam, 0x2000, {}, false, false};
    ram.bytes.assign(0x2000, 0);
    put_string(ram, 0x10, "x == 1");
    put_string(ram, 0x40, "tests/guests/assert.cc");
    // 0x2000 - 3: "abc" running into the end of guest memory with no NUL.
    std::memcpy(&ram.bytes[0x2000 - 3], "abc", 3);
    image_.regions.push_back(ram);
    Region pool{"pool", RegionKind::kUcallPool, kPool, 0x14000, {}, true, false};
    pool.bytes.assign(0x14000, 0);
    image_.regions.push_back(pool);
    image_.shared_bit = kS;
    image_.ucall_mmio_gpa = kMmio;
  }
  static void put_string(Region& r, uint64_t off, const char* s) {
    std::memcpy(&r.bytes[off], s, std::strlen(s) + 1);
  }
  abi::Ucall& uc(int i) {
    return *reinterpret_cast<abi::Ucall*>(&image_.regions[1].bytes[slot(i) - kPool]);
  }
  MmioEvent exit_for(uint64_t data) { return MmioEvent{2, kMmio, 8, true, data}; }
  Event decode(uint64_t data) {
    GuestMemory mem(image_);
    return decode_mmio(mem, exit_for(data), kMmio, kS);
  }
  TdImage image_;
};

TEST_F(Decoder, SyncWithArgs) {
  uc(0).cmd = abi::kUcallSync;
  uc(0).args[0] = 7;
  uc(0).args[1] = 9;
  const Event e = decode(slot(0) | kS);
  const auto& u = std::get<UcallEvent>(e);
  EXPECT_EQ(u.vcpu, 2u);
  EXPECT_EQ(u.cmd, abi::kUcallSync);
  EXPECT_EQ(u.args[0], 7u);
  EXPECT_EQ(u.args[1], 9u);
  EXPECT_EQ(u.slot_gpa, slot(0));
  EXPECT_FALSE(u.assertion);
}

// A real TD's host reads only shared memory: a slot in a private region is refused with
// its GPA and the word "private", whatever bytes happen to be there.
TEST_F(Decoder, SlotInPrivateMemoryIsRefusedNamingTheGpa) {
  abi::Ucall fake{};
  fake.cmd = abi::kUcallDone;
  std::memcpy(&image_.regions[0].bytes[0x100], &fake, sizeof fake);
  const Event e = decode(kRam + 0x100);
  const auto* m = std::get_if<GuestMemoryErrorEvent>(&e);
  ASSERT_NE(m, nullptr) << describe(e);
  EXPECT_EQ(m->gpa, kRam + 0x100);
  EXPECT_NE(m->what.find("private"), std::string::npos) << m->what;
  EXPECT_NE(m->what.find("0x100100"), std::string::npos) << m->what;
}

// 0 is "no ucall" (the selftests' host reads it so): an MMIO write, not a read of 0.
TEST_F(Decoder, DatumZeroIsNoUcall) {
  const Event e = decode(0);
  const auto* m = std::get_if<MmioEvent>(&e);
  ASSERT_NE(m, nullptr) << describe(e);
  EXPECT_EQ(m->data, 0u);
  EXPECT_TRUE(m->is_write);
}

TEST_F(Decoder, PrintfText) {
  uc(5).cmd = abi::kUcallPrintf;
  std::strcpy(uc(5).buffer, "value = 42\n");
  const Event e_u = decode(slot(5));
  const auto& u = std::get<UcallEvent>(e_u);
  EXPECT_EQ(u.text, "value = 42\n");
}

TEST_F(Decoder, AbortWithAssertion) {
  uc(1).cmd = abi::kUcallAbort;
  uc(1).args[abi::kAssertArgExpr] = kRam + 0x10;
  uc(1).args[abi::kAssertArgFile] = (kRam + 0x40) | kS;  // a set S-bit is ignored
  uc(1).args[abi::kAssertArgLine] = 33;
  std::strcpy(uc(1).buffer, "x was 2");
  const Event e_u = decode(slot(1));
  const auto& u = std::get<UcallEvent>(e_u);
  ASSERT_TRUE(u.assertion);
  EXPECT_EQ(u.assertion->expr, "x == 1");
  EXPECT_EQ(u.assertion->file, "tests/guests/assert.cc");
  EXPECT_EQ(u.assertion->line, 33u);
  EXPECT_EQ(u.text, "x was 2");
}

TEST_F(Decoder, SlotOutsideGuestMemory) {
  const Event e_g = decode(0x7000000);
  const auto& g = std::get<GuestMemoryErrorEvent>(e_g);
  EXPECT_EQ(g.gpa, 0x7000000u);
  EXPECT_EQ(g.size, sizeof(abi::Ucall));
}

TEST_F(Decoder, SlotRunningPastTheEndOfMemory) {
  const uint64_t last = kPool + 0x14000 - 100;
  const Event e_g = decode(last);
  const auto& g = std::get<GuestMemoryErrorEvent>(e_g);
  EXPECT_EQ(g.gpa, last);
}

TEST_F(Decoder, BufferWithoutNul) {
  uc(0).cmd = abi::kUcallPrintf;
  std::memset(uc(0).buffer, 'A', sizeof uc(0).buffer);
  const Event e_g = decode(slot(0));
  const auto& g = std::get<GuestMemoryErrorEvent>(e_g);
  EXPECT_EQ(g.gpa, slot(0) + offsetof(abi::Ucall, buffer));
  EXPECT_NE(g.what.find("NUL"), std::string::npos);
}

TEST_F(Decoder, WildAssertFilePointer) {
  uc(0).cmd = abi::kUcallAbort;
  uc(0).args[abi::kAssertArgExpr] = kRam + 0x10;
  uc(0).args[abi::kAssertArgFile] = 0xdead0000;
  const Event e_g = decode(slot(0));
  const auto& g = std::get<GuestMemoryErrorEvent>(e_g);
  EXPECT_EQ(g.gpa, 0xdead0000u);
  EXPECT_NE(g.what.find("file name"), std::string::npos) << g.what;
}

TEST_F(Decoder, ExpressionWithoutNulAtEndOfMemory) {
  uc(0).cmd = abi::kUcallAbort;
  uc(0).args[abi::kAssertArgExpr] = kRam + 0x2000 - 3;
  uc(0).args[abi::kAssertArgFile] = kRam + 0x40;
  const Event e_g = decode(slot(0));
  const auto& g = std::get<GuestMemoryErrorEvent>(e_g);
  EXPECT_EQ(g.gpa, kRam + 0x2000 - 3);
  EXPECT_NE(g.what.find("expression"), std::string::npos) << g.what;
}

TEST_F(Decoder, UcallFailedSentinel) {
  const Event e_g = decode(abi::kUcallFailed);
  const auto& g = std::get<GuestMemoryErrorEvent>(e_g);
  EXPECT_NE(g.what.find("slot"), std::string::npos) << g.what;
}

TEST_F(Decoder, UnknownCommand) {
  uc(0).cmd = 99;
  const Event e_g = decode(slot(0));
  const auto& g = std::get<GuestMemoryErrorEvent>(e_g);
  EXPECT_NE(g.what.find("99"), std::string::npos) << g.what;
}

TEST_F(Decoder, NonUcallMmioPassesThrough) {
  GuestMemory mem(image_);
  for (const MmioEvent& m : {MmioEvent{0, kMmio + 8, 8, true, slot(0)},  // other GPA
                             MmioEvent{0, kMmio, 4, true, slot(0)},      // other size
                             MmioEvent{0, kMmio, 8, false, 0}}) {        // a read
    const Event e = decode_mmio(mem, m, kMmio, kS);
    const auto& out = std::get<MmioEvent>(e);
    EXPECT_EQ(out.gpa, m.gpa);
    EXPECT_EQ(out.len, m.len);
    EXPECT_EQ(out.is_write, m.is_write);
  }
}

}  // namespace
}  // namespace tdsim::ucall
