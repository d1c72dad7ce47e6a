#include "tdvf_image.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "fv_catalog.h"
#include "td_hob.h"
#include "tdsim/abi/td_boot.h"
#include "tdsim/abi/tdx.h"

namespace tdsim::firmware {

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kFourGiB = 1ull << 32;

// q35's split of a TD's RAM: all of it below 4 GiB up to 2.75 GiB, else 2 GiB below and
// the rest from 4 GiB.
std::vector<RamRange> q35_ram(uint64_t mem) {
  const uint64_t below = mem >= 0xb0000000ull ? 0x80000000ull : mem;
  std::vector<RamRange> ram{{0, below, false}};
  if (mem > below) ram.push_back({kFourGiB, mem - below, false});
  return ram;
}

// Marks [gpa, gpa+size) added, splitting the RAM range that holds it, as QEMU accepts a
// TempMem or TD_HOB section; false when no single range holds it.
bool accept(std::vector<RamRange>& ram, uint64_t gpa, uint64_t size) {
  for (size_t i = 0; i < ram.size(); ++i) {
    RamRange r = ram[i];
    if (r.added || gpa < r.gpa || gpa + size > r.gpa + r.size) continue;
    ram.erase(ram.begin() + static_cast<long>(i));
    if (gpa > r.gpa) ram.push_back({r.gpa, gpa - r.gpa, false});
    ram.push_back({gpa, size, true});
    if (gpa + size < r.gpa + r.size) ram.push_back({gpa + size, r.gpa + r.size - gpa - size, false});
    return true;
  }
  return false;
}

std::string section_name(size_t i, const TdvfSection& s) {
  return fmt::format("section[{}] ({} at {:#x}, {:#x} bytes)", i, to_string(s.type), s.gpa, s.size);
}

}  // namespace

std::vector<std::pair<uint64_t, uint64_t>> q35_ram_map(uint64_t mem_size) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const RamRange& r : q35_ram(mem_size)) out.emplace_back(r.gpa, r.gpa + r.size);
  return out;
}

TdImage tdvf_image(std::span<const uint8_t> fw, const TdvfLayout& layout) {
  if (layout.mem_size == 0 || layout.mem_size % kPage || layout.mem_size > kMaxTdvfMem)
    throw FirmwareError(fmt::format("--mem {:#x}: the TD's RAM must be a non-zero multiple of 4 KiB up to {} GiB",
                                    layout.mem_size, kMaxTdvfMem >> 30));
  if (layout.nr_vcpus == 0 || layout.nr_vcpus > kMaxTdvfVcpus)
    throw FirmwareError(fmt::format("vCPUs {}: between 1 and {}", layout.nr_vcpus, kMaxTdvfVcpus));
  if (layout.gpaw != 48 && layout.gpaw != 52)
    throw FirmwareError(fmt::format("GPAW {}: a TD's is 48 or 52", layout.gpaw));
  const TdvfMetadata md = parse_tdvf(fw);

  std::vector<RamRange> ram = q35_ram(layout.mem_size);
  const auto in_ram = [&](uint64_t gpa, uint64_t size) {
    for (const RamRange& r : q35_ram(layout.mem_size))
      if (gpa < r.gpa + r.size && r.gpa < gpa + size) return true;
    return false;
  };
  TdImage im;
  im.gpaw = layout.gpaw;
  im.shared_bit = abi::shared_bit_for_gpaw(layout.gpaw);
  im.nr_vcpus = layout.nr_vcpus;
  std::optional<uint64_t> hob_gpa;
  uint64_t hob_size = 0;
  for (size_t i = 0; i < md.sections.size(); ++i) {
    const TdvfSection& s = md.sections[i];
    const bool ram_backed = s.type == SectionType::kTempMem || s.type == SectionType::kTdHob;
    if (ram_backed && !accept(ram, s.gpa, s.size))
      throw FirmwareError(fmt::format("{} is not inside the TD's RAM (--mem {:#x}): the VMM adds it there",
                                      section_name(i, s), layout.mem_size));
    if (!ram_backed && in_ram(s.gpa, s.size))
      throw FirmwareError(fmt::format("{} overlaps the TD's RAM (--mem {:#x}): a firmware volume needs its own "
                                      "address range",
                                      section_name(i, s), layout.mem_size));
    if (s.type == SectionType::kTdHob) {
      if (hob_gpa) throw FirmwareError(fmt::format("{}: a second TD_HOB section", section_name(i, s)));
      hob_gpa = s.gpa;
      hob_size = s.size;
    }
    std::vector<uint8_t> bytes;
    if (s.raw_size) bytes.assign(fw.begin() + s.data_offset, fw.begin() + s.data_offset + s.raw_size);
    im.regions.push_back(make_region(to_string(s.type), RegionKind::kFirmware, s.gpa, s.size, std::move(bytes),
                                     s.measured()));
    im.add_order.push_back(s.gpa);
  }
  if (!hob_gpa) throw FirmwareError("TDVF metadata: no TD_HOB section: the firmware has nowhere to find its memory map");

  for (Region& r : im.regions)
    if (r.gpa == *hob_gpa) r.bytes = build_td_hob(*hob_gpa, hob_size, ram);
  for (const RamRange& r : ram) {
    if (r.added) continue;  // a section's region holds it
    Region reg = make_region("ram", RegionKind::kRam, r.gpa, r.size);
    reg.unaccepted = true;
    im.regions.push_back(std::move(reg));
  }
  std::sort(im.regions.begin(), im.regions.end(), [](const Region& a, const Region& b) { return a.gpa < b.gpa; });
  // Names for the modules the firmware will decompress into RAM (fault explanations,
  // milestones: `entered DxeCore`).
  im.module_names = firmware_module_catalog(fw);
  im.init_rcx = *hob_gpa;
  im.tdvf = true;
  // The reset vector's page: where tdsim's control-register checks and boot trace look.
  im.stub_gpa = abi::kResetVector & ~(kPage - 1);
  im.stub_size = static_cast<uint32_t>(kFourGiB - im.stub_gpa);
  return im;
}

}  // namespace tdsim::firmware
