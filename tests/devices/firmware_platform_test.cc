// The VMM's device models for firmware (devices/): what each port answers, what the host
// sees, and that nothing is answered silently.
#include "devices/firmware_platform.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tdx/vmm.h"

namespace tdsim::devices {
namespace {

MachineDesc machine() { return MachineDesc{2, {{0, 0x80000000}, {0x100000000, 0x140000000}}}; }

tdx::PortReply io(FirmwarePlatform& p, uint16_t port, uint32_t size, bool out, uint64_t value = 0,
                  uint32_t count = 1) {
  std::vector<uint8_t> data;
  for (uint32_t i = 0; i < count; ++i)
    for (uint32_t b = 0; b < size; ++b) data.push_back(static_cast<uint8_t>(value >> (8 * b)));
  auto r = p.access(tdx::PortRequest{0, port, size, out, count, out ? &data : nullptr});
  EXPECT_TRUE(r.has_value());
  return r.value_or(tdx::PortReply{});
}

uint64_t in(FirmwarePlatform& p, uint16_t port, uint32_t size) {
  const tdx::PortReply r = io(p, port, size, false);
  EXPECT_EQ(r.in_data.size(), size);
  uint64_t v = 0;
  for (size_t b = 0; b < r.in_data.size(); ++b) v |= uint64_t{r.in_data[b]} << (8 * b);
  return v;
}

const DeviceEvent& device(const tdx::PortReply& r) {
  static const DeviceEvent none{};
  EXPECT_TRUE(r.event && std::holds_alternative<DeviceEvent>(*r.event));
  return r.event && std::holds_alternative<DeviceEvent>(*r.event) ? std::get<DeviceEvent>(*r.event) : none;
}

TEST(FirmwareDevices, DebugConsoleCollectsLinesAndAnswersE9) {
  FirmwarePlatform p(machine());
  EXPECT_EQ(in(p, kDebugConsolePort, 1), 0xe9u);
  for (char c : std::string("SEC\r")) EXPECT_FALSE(io(p, kDebugConsolePort, 1, true, uint8_t(c)).event);
  tdx::PortReply r = io(p, kDebugConsolePort, 1, true, '\n');
  ASSERT_TRUE(r.event);
  const auto& c = std::get<ConsoleEvent>(*r.event);
  EXPECT_EQ(c.text, "SEC");
  EXPECT_EQ(c.port, kDebugConsolePort);
  io(p, kDebugConsolePort, 1, true, 'x');
  const std::vector<Event> rest = p.flush();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(std::get<ConsoleEvent>(rest[0]).text, "x") << "an unfinished line is not lost";
  EXPECT_TRUE(p.flush().empty());
}

TEST(FirmwareDevices, StringOutputOfSeveralLinesIsOneEvent) {
  FirmwarePlatform p(machine());
  std::vector<uint8_t> text{'a', '\n', 'b', '\n'};
  auto r = p.access(tdx::PortRequest{0, kCom1Base, 1, true, 4, &text});
  ASSERT_TRUE(r && r->event);
  EXPECT_EQ(std::get<ConsoleEvent>(*r->event).text, "a\nb");
}

TEST(FirmwareDevices, UartTransmitterIsAlwaysEmpty) {
  FirmwarePlatform p(machine());
  EXPECT_EQ(in(p, kCom1Base + 5, 1), 0x60u) << "LSR: THRE | TEMT";
  EXPECT_EQ(in(p, kCom1Base + 2, 1), 0x01u) << "IIR: no interrupt pending";
  EXPECT_EQ(in(p, kCom1Base + 1, 1), 0u);
}

TEST(FirmwareDevices, FwCfgSignatureIdAndFileDirectory) {
  FirmwarePlatform p(machine());
  tdx::PortReply sel = io(p, kFwCfgSelectorPort, 2, true, FwCfg::kSignature);
  EXPECT_NE(device(sel).request.find("signature"), std::string::npos) << device(sel).request;
  std::string sig;
  for (int i = 0; i < 4; ++i) sig.push_back(static_cast<char>(in(p, kFwCfgDataPort, 1)));
  EXPECT_EQ(sig, "QEMU");
  EXPECT_EQ(in(p, kFwCfgDataPort, 1), 0u) << "past the end: zeros";
  io(p, kFwCfgSelectorPort, 2, true, FwCfg::kId);
  EXPECT_EQ(in(p, kFwCfgDataPort, 4), 3u) << "the traditional interface and DMA";
  io(p, kFwCfgSelectorPort, 2, true, FwCfg::kNbCpus);
  EXPECT_EQ(in(p, kFwCfgDataPort, 2), 2u);
  io(p, kFwCfgSelectorPort, 2, true, FwCfg::kRamSize);
  uint64_t ram = in(p, kFwCfgDataPort, 4) | (in(p, kFwCfgDataPort, 4) << 32);
  EXPECT_EQ(ram, 0xc0000000u);
  // The directory: one file, etc/e820, big-endian count/size/select.
  io(p, kFwCfgSelectorPort, 2, true, FwCfg::kFileDir);
  std::vector<uint8_t> dir(4 + 64);
  for (uint8_t& b : dir) b = static_cast<uint8_t>(in(p, kFwCfgDataPort, 1));
  EXPECT_EQ(dir[3], 1u);
  EXPECT_EQ((dir[4] << 24) | (dir[5] << 16) | (dir[6] << 8) | dir[7], 2 * 20);
  const uint16_t key = static_cast<uint16_t>((dir[8] << 8) | dir[9]);
  EXPECT_EQ(key, FwCfg::kFirstFile);
  EXPECT_STREQ(reinterpret_cast<const char*>(&dir[12]), "etc/e820");
  io(p, kFwCfgSelectorPort, 2, true, key);
  uint64_t e[2];
  for (uint64_t& v : e) v = in(p, kFwCfgDataPort, 4) | (in(p, kFwCfgDataPort, 4) << 32);
  EXPECT_EQ(e[0], 0u);
  EXPECT_EQ(e[1], 0x80000000u);
  EXPECT_EQ(in(p, kFwCfgDataPort, 4), 1u) << "type RAM";
}

TEST(FirmwareDevices, FwCfgUnknownItemIsReported) {
  FirmwarePlatform p(machine());
  EXPECT_NE(device(io(p, kFwCfgSelectorPort, 2, true, 0x1234)).request.find("no such item"), std::string::npos);
  EXPECT_EQ(in(p, kFwCfgDataPort, 1), 0u);
}

// CONFIG_ADDRESS for bus 0, `dev`.`fn`, register `reg`.
uint32_t cf8(uint32_t dev, uint32_t fn, uint32_t reg) { return 0x80000000u | (dev << 11) | (fn << 8) | reg; }

TEST(FirmwareDevices, PciConfigHasQ35sHostBridgeAndNothingWhereNoFunctionIs) {
  FirmwarePlatform p(machine());
  EXPECT_FALSE(io(p, kPciConfigAddressPort, 4, true, cf8(0, 0, 0)).event) << "selecting is not a request";
  EXPECT_EQ(in(p, kPciConfigAddressPort, 4), 0x80000000u);
  tdx::PortReply r = io(p, kPciConfigDataPort + 2, 2, false);
  EXPECT_EQ(r.in_data, (std::vector<uint8_t>{0xc0, 0x29})) << "q35's MCH: the ID OVMF's PlatformPei checks";
  EXPECT_NE(device(r).request.find("config read 00:00.0 reg 0x02 size 2: 0x29c0"), std::string::npos)
      << device(r).request;
  EXPECT_EQ(in(p, kPciConfigDataPort, 2), 0x8086u);
  io(p, kPciConfigAddressPort, 4, true, cf8(0, 0, 0x08));
  EXPECT_EQ(in(p, kPciConfigDataPort + 3, 1), 0x06u) << "class: bridge";
  io(p, kPciConfigAddressPort, 4, true, cf8(0, 0, 0));
  // IDs are read-only; chipset registers hold what is written (PCIEXBAR at 0x60).
  io(p, kPciConfigDataPort, 4, true, 0x12345678);
  EXPECT_EQ(in(p, kPciConfigDataPort, 4), 0x29c08086u);
  io(p, kPciConfigAddressPort, 4, true, cf8(0, 0, 0x60));
  io(p, kPciConfigDataPort, 4, true, 0xb0000001);
  EXPECT_EQ(in(p, kPciConfigDataPort, 4), 0xb0000001u);
  io(p, kPciConfigAddressPort, 4, true, cf8(1, 0, 0));
  r = io(p, kPciConfigDataPort, 2, false);
  EXPECT_EQ(r.in_data, (std::vector<uint8_t>{0xff, 0xff}));
  EXPECT_NE(device(r).request.find("config read 00:01.0 reg 0x00 size 2: no device (all-ones)"), std::string::npos)
      << device(r).request;
}

// OVMF programs the LPC bridge's PMBASE and sets ACPI_EN; the PM timer then counts at
// PMBASE + 8, advancing by a fixed step per read.
TEST(FirmwareDevices, Ich9LpcPlacesTheAcpiPmTimer) {
  FirmwarePlatform p(machine());
  io(p, kPciConfigAddressPort, 4, true, cf8(0x1f, 0, 0));
  EXPECT_EQ(in(p, kPciConfigDataPort, 4), 0x29188086u);
  EXPECT_EQ(in(p, 0x608, 4), 0xffffffffu) << "not decoded before ACPI_EN";
  io(p, kPciConfigAddressPort, 4, true, cf8(0x1f, 0, kIch9Pmbase));
  EXPECT_EQ(in(p, kPciConfigDataPort, 4), 1u) << "reset: base 0, I/O space";
  io(p, kPciConfigDataPort, 4, true, 0x600);
  EXPECT_EQ(in(p, kPciConfigDataPort, 4), 0x601u);
  io(p, kPciConfigAddressPort, 4, true, cf8(0x1f, 0, kIch9AcpiCntl));
  io(p, kPciConfigDataPort, 1, true, kIch9AcpiEn);
  const uint64_t t1 = in(p, 0x608, 4), t2 = in(p, 0x608, 4);
  EXPECT_EQ(t2 - t1, AcpiPmTimer::kTicksPerRead);
  EXPECT_FALSE(io(p, 0x608, 4, false).event) << "delay loops read it constantly";
  AcpiPmTimer t;
  uint32_t last = 0;
  bool wrapped = false;
  for (uint32_t i = 0; i < (AcpiPmTimer::kMask / AcpiPmTimer::kTicksPerRead) + 2; ++i) {
    const uint32_t v = t.read();
    EXPECT_LE(v, AcpiPmTimer::kMask);
    wrapped = wrapped || v < last;
    last = v;
  }
  EXPECT_TRUE(wrapped) << "24 bits, as QEMU's ICH9 timer";
}

TEST(FirmwareDevices, EveryOtherPortIsReportedAndReadsAllOnes) {
  FirmwarePlatform p(machine());
  tdx::PortReply r = io(p, 0x80, 1, true, 0x42);
  EXPECT_EQ(device(r).device, "port");
  EXPECT_NE(device(r).request.find("0x0080"), std::string::npos);
  EXPECT_EQ(in(p, 0x70, 1), 0xffu);
}

// The platform's VMM asks the device model before its defaults.
TEST(FirmwareDevices, TheVmmAnswersPortExitsThroughTheModel) {
  FirmwarePlatform p(machine());
  TdImage image;
  image.regions = {Region{"ram", RegionKind::kRam, 0, 0x1000, {}}};
  GuestMemory mem(image);
  tdx::TdxConfig cfg;
  cfg.hooks.port_device = [&](const tdx::PortRequest& r) { return p.access(r); };
  tdx::Vmm vmm(image, mem, cfg);
  tdx::VmmCompletion c = vmm.handle(tdx::UserspaceExit{0, 0, tdx::PortIoExit{kDebugConsolePort, 1, false, 1, {}}});
  EXPECT_EQ(c.io_data, std::vector<uint8_t>{0xe9});
  c = vmm.handle(tdx::UserspaceExit{0, 0, tdx::PortIoExit{0x60, 1, false, 1, {}}});
  EXPECT_EQ(c.io_data, std::vector<uint8_t>{0xff});
  ASSERT_TRUE(c.event);
  EXPECT_TRUE(std::holds_alternative<DeviceEvent>(*c.event));
}

}  // namespace
}  // namespace tdsim::devices
