// fw_cfg's DMA interface (devices/fw_cfg.h): each control bit, the record and buffer
// checks (out of RAM, crossing its end, private memory), lengths past an item's end, and
// the VMM passing MapGPA conversions and guest memory to the model.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "devices/firmware_platform.h"
#include "tdx/vmm.h"

namespace tdsim::devices {
namespace {

constexpr uint64_t kRamEnd = 0x10000;
constexpr uint64_t kSharedBit = 1ull << 47;
constexpr uint64_t kShared = 0x4000;  // [0x4000, 0x8000) converted to shared
constexpr uint64_t kRecord = 0x4000, kBuffer = 0x5000;

uint32_t bswap(uint32_t v) { return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24); }

struct FirmwareDevicesDma : ::testing::Test {
  FirmwareDevicesDma() : image(make_image()), mem(image), p(MachineDesc{1, {{0, kRamEnd}}, kSharedBit}) {
    p.convert(kShared, 0x4000, true);
    std::vector<uint8_t> fill(kRamEnd, 0xaa);
    EXPECT_TRUE(mem.write(0, fill.data(), fill.size()));
  }
  static TdImage make_image() {
    TdImage im;
    im.shared_bit = kSharedBit;
    im.regions = {make_region("ram", RegionKind::kRam, 0, kRamEnd)};
    return im;
  }
  // A port access with guest memory behind it, as the VMM makes it.
  tdx::PortReply port(uint16_t port, uint32_t size, bool out, uint32_t value = 0) {
    std::vector<uint8_t> data;
    for (uint32_t b = 0; b < size; ++b) data.push_back(static_cast<uint8_t>(value >> (8 * b)));
    auto r = p.access(tdx::PortRequest{0, port, size, out, 1, out ? &data : nullptr, &mem});
    EXPECT_TRUE(r);
    return r.value_or(tdx::PortReply{});
  }
  void put_record(uint64_t at, uint32_t control, uint32_t length, uint64_t address) {
    uint8_t rec[16];
    const uint64_t fields[3] = {control, length, address};
    for (int i = 0; i < 4; ++i) rec[i] = static_cast<uint8_t>(control >> (24 - 8 * i));
    for (int i = 0; i < 4; ++i) rec[4 + i] = static_cast<uint8_t>(length >> (24 - 8 * i));
    for (int i = 0; i < 8; ++i) rec[8 + i] = static_cast<uint8_t>(fields[2] >> (56 - 8 * i));
    ASSERT_TRUE(mem.write(at, rec, sizeof rec));
  }
  // The firmware's sequence: high half to 0x514, low half to 0x518, each byte-swapped.
  std::string start(uint64_t record) {
    port(kFwCfgDmaPort, 4, true, bswap(static_cast<uint32_t>(record >> 32)));
    tdx::PortReply r = port(kFwCfgDmaLowPort, 4, true, bswap(static_cast<uint32_t>(record)));
    EXPECT_TRUE(r.event && std::holds_alternative<DeviceEvent>(*r.event));
    return r.event && std::holds_alternative<DeviceEvent>(*r.event) ? std::get<DeviceEvent>(*r.event).request : "";
  }
  uint32_t control(uint64_t record = kRecord) {
    uint8_t b[4];
    EXPECT_TRUE(mem.read(record, b, 4));
    return (uint32_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
  }
  std::string bytes(uint64_t at, size_t n) {
    std::string s(n, '\0');
    EXPECT_TRUE(mem.read(at, s.data(), n));
    return s;
  }
  TdImage image;
  GuestMemory mem;
  FirmwarePlatform p;
};

uint32_t select(uint16_t key) { return kDmaSelect | (uint32_t{key} << 16); }

TEST_F(FirmwareDevicesDma, RegistersReadTheSignatureAndIdOffersDma) {
  std::string sig;
  for (uint16_t i = 0; i < 8; ++i) sig.push_back(static_cast<char>(port(kFwCfgDmaPort + i, 1, false).in_data.at(0)));
  EXPECT_EQ(sig, "QEMU CFG");
  tdx::PortReply r = port(kFwCfgDmaPort, 4, false);
  EXPECT_EQ(std::string(r.in_data.begin(), r.in_data.end()), "QEMU") << "a 4-byte read: the bytes in bus order";
  port(kFwCfgSelectorPort, 2, true, FwCfg::kId);
  r = port(kFwCfgDataPort, 4, false);
  EXPECT_EQ(r.in_data, (std::vector<uint8_t>{3, 0, 0, 0})) << "FW_CFG_ID: traditional (bit 0) and DMA (bit 1)";
}

TEST_F(FirmwareDevicesDma, SelectAndReadCopiesTheItemAndClearsControl) {
  put_record(kRecord, select(FwCfg::kSignature) | kDmaRead, 4, kBuffer);
  const std::string ev = start(kRecord);
  EXPECT_EQ(bytes(kBuffer, 4), "QEMU");
  EXPECT_EQ(control(), 0u) << "success: control 0";
  EXPECT_NE(ev.find("DMA record at 0x4000"), std::string::npos) << ev;
  EXPECT_NE(ev.find("select 0x0000 (signature"), std::string::npos) << ev;
  EXPECT_NE(ev.find("read 4 bytes at 0x5000"), std::string::npos) << ev;
  EXPECT_EQ(bytes(kBuffer + 4, 1), "\xaa") << "nothing past the length";
}

TEST_F(FirmwareDevicesDma, SelectAloneThenSkipThenReadFollowTheItemOffset) {
  // The directory: 4-byte count, then entries; skip the count, read the first entry's size.
  put_record(kRecord, select(FwCfg::kFileDir), 0, 0);
  start(kRecord);
  EXPECT_EQ(control(), 0u);
  put_record(kRecord, kDmaSkip, 4, 0);
  start(kRecord);
  EXPECT_EQ(control(), 0u);
  put_record(kRecord, kDmaRead, 4, kBuffer);
  start(kRecord);
  EXPECT_EQ(control(), 0u);
  const std::string size = bytes(kBuffer, 4);
  EXPECT_EQ(size, std::string("\0\0\0\x14", 4)) << "etc/e820's size, one 20-byte entry, big-endian";
  // The port interface continues where DMA left off: the select key comes next.
  EXPECT_EQ(port(kFwCfgDataPort, 2, false).in_data, (std::vector<uint8_t>{0x00, 0x20}));
}

TEST_F(FirmwareDevicesDma, ControlWithoutAnOperationTransfersNothing) {
  put_record(kRecord, 0, 16, kBuffer);
  start(kRecord);
  EXPECT_EQ(control(), 0u);
  EXPECT_EQ(bytes(kBuffer, 1), "\xaa");
}

TEST_F(FirmwareDevicesDma, AReadPastTheItemsEndIsZeroFilled) {
  put_record(kRecord, select(FwCfg::kSignature) | kDmaRead, 8, kBuffer);
  const std::string ev = start(kRecord);
  EXPECT_EQ(bytes(kBuffer, 9), std::string("QEMU\0\0\0\0\xaa", 9));
  EXPECT_EQ(control(), 0u) << "QEMU fills, no error";
  EXPECT_NE(ev.find("4 past the item's end, zero-filled"), std::string::npos) << ev;
}

TEST_F(FirmwareDevicesDma, AWriteToAReadOnlyItemSetsError) {
  put_record(kRecord, select(FwCfg::kNbCpus) | kDmaWrite, 2, kBuffer);
  const std::string ev = start(kRecord);
  EXPECT_EQ(control(), kDmaError);
  EXPECT_NE(ev.find("not writable"), std::string::npos) << ev;
}

TEST_F(FirmwareDevicesDma, ABufferInPrivateMemoryIsRefusedWithError) {
  put_record(kRecord, select(FwCfg::kSignature) | kDmaRead, 4, 0x1000);
  const std::string ev = start(kRecord);
  EXPECT_EQ(control(), kDmaError);
  EXPECT_EQ(bytes(0x1000, 4), "\xaa\xaa\xaa\xaa") << "private memory is never written";
  EXPECT_NE(ev.find("private memory"), std::string::npos) << ev;
  // A buffer that starts shared and runs into private memory is private too.
  put_record(kRecord, select(FwCfg::kSignature) | kDmaRead, 4, 0x7ffe);
  start(kRecord);
  EXPECT_EQ(control(), kDmaError);
  EXPECT_EQ(bytes(0x7ffe, 2), "\xaa\xaa");
}

TEST_F(FirmwareDevicesDma, ARecordInPrivateMemoryIsNotTouched) {
  put_record(0x2000, select(FwCfg::kSignature) | kDmaRead, 4, kBuffer);
  const std::string ev = start(0x2000);
  EXPECT_NE(ev.find("the record is unreachable"), std::string::npos) << ev;
  EXPECT_NE(ev.find("private memory"), std::string::npos) << ev;
  EXPECT_EQ(control(0x2000), select(FwCfg::kSignature) | kDmaRead) << "no write-back into private memory";
  EXPECT_EQ(bytes(kBuffer, 1), "\xaa");
}

TEST_F(FirmwareDevicesDma, AddressesOutsideRamOrCrossingItsEndAreRefused) {
  p.convert(0x8000, 0x8000, true);  // up to the end of RAM
  put_record(kRecord, select(FwCfg::kSignature) | kDmaRead, 4, 0x100000);
  std::string ev = start(kRecord);
  EXPECT_EQ(control(), kDmaError);
  EXPECT_NE(ev.find("outside guest memory"), std::string::npos) << ev;
  put_record(kRecord, select(FwCfg::kSignature) | kDmaRead, 4, kRamEnd - 2);
  ev = start(kRecord);
  EXPECT_EQ(control(), kDmaError);
  EXPECT_NE(ev.find("runs past the end of guest memory"), std::string::npos) << ev;
  EXPECT_EQ(bytes(kRamEnd - 2, 2), "\xaa\xaa");
  put_record(kRecord, select(FwCfg::kSignature) | kDmaRead, 4, ~0ull - 1);
  ev = start(kRecord);
  EXPECT_EQ(control(), kDmaError);
  // The record itself outside RAM: only the event can say so.
  ev = start(0x200000);
  EXPECT_NE(ev.find("outside guest memory"), std::string::npos) << ev;
}

TEST_F(FirmwareDevicesDma, SharedBitInAnAddressIsTheSamePage) {
  put_record(kRecord, select(FwCfg::kSignature) | kDmaRead, 4, kBuffer | kSharedBit);
  start(kRecord | kSharedBit);
  EXPECT_EQ(control(), 0u);
  EXPECT_EQ(bytes(kBuffer, 4), "QEMU");
}

TEST_F(FirmwareDevicesDma, OtherRegisterWritesAreReportedAndIgnored) {
  tdx::PortReply r = port(kFwCfgDmaPort + 1, 1, true, 0x12);
  ASSERT_TRUE(r.event);
  EXPECT_NE(std::get<DeviceEvent>(*r.event).request.find("only 4-byte writes"), std::string::npos);
}

TEST(FirmwareDevicesDmaWindow, ConversionsSplitAndMergeRanges) {
  DmaWindow w(kSharedBit);
  EXPECT_FALSE(w.shared(0x1000, 1));
  w.convert(0x1000, 0x3000, true);
  w.convert(0x4000 | kSharedBit, 0x1000, true);  // adjacent, tagged: merges
  EXPECT_TRUE(w.shared(0x1000, 0x4000));
  w.convert(0x2000, 0x1000, false);  // a hole in the middle
  EXPECT_TRUE(w.shared(0x1000, 0x1000));
  EXPECT_FALSE(w.shared(0x1000, 0x1001));
  EXPECT_FALSE(w.shared(0x2000, 1));
  EXPECT_TRUE(w.shared(0x3000, 0x2000));
  EXPECT_FALSE(w.shared(0x3000, 0x2001));
  w.convert(0, 0x10000, false);
  EXPECT_FALSE(w.shared(0x1000, 1));
  EXPECT_FALSE(w.shared(0x4000, 1));
}

// The VMM hands MapGPA on to the model and lets its port devices reach guest memory.
TEST_F(FirmwareDevicesDma, TheVmmPassesConversionsAndMemoryToTheModel) {
  FirmwarePlatform fresh(MachineDesc{1, {{0, kRamEnd}}, kSharedBit});
  tdx::TdxConfig cfg;
  cfg.hooks.port_device = [&](const tdx::PortRequest& r) { return fresh.access(r); };
  cfg.hooks.memory_conversion = [&](uint64_t gpa, uint64_t size, bool shared) { fresh.convert(gpa, size, shared); };
  tdx::Vmm vmm(image, mem, cfg);
  put_record(kRecord, select(FwCfg::kSignature) | kDmaRead, 4, kBuffer);
  auto go = [&] {
    auto le = [](uint32_t v) {
      return std::vector<uint8_t>{static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
                                  static_cast<uint8_t>(v >> 24)};
    };
    vmm.handle(tdx::UserspaceExit{0, 0, tdx::PortIoExit{kFwCfgDmaPort, 4, true, 1, le(0)}});
    return vmm.handle(tdx::UserspaceExit{0, 0, tdx::PortIoExit{kFwCfgDmaLowPort, 4, true, 1, le(bswap(kRecord))}});
  };
  go();
  EXPECT_EQ(control(), select(FwCfg::kSignature) | kDmaRead) << "still private: untouched";
  vmm.handle(tdx::UserspaceExit{0, 0, tdx::MapGpaExit{kShared, 4, tdx::kMapGpaDecrypted}});
  go();
  EXPECT_EQ(control(), 0u);
  EXPECT_EQ(bytes(kBuffer, 4), "QEMU");
}

}  // namespace
}  // namespace tdsim::devices
