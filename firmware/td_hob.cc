#include "td_hob.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "tdvf_metadata.h"

namespace tdsim::firmware {

namespace {

#pragma pack(push, 1)
struct HobHeader {
  uint16_t type;
  uint16_t length;
  uint32_t reserved;
};
struct HandoffInfoTable {
  HobHeader header;
  uint32_t version;
  uint32_t boot_mode;
  uint64_t memory_top, memory_bottom, free_memory_top, free_memory_bottom;
  uint64_t end_of_hob_list;
};
struct ResourceDescriptor {
  HobHeader header;
  uint8_t owner[16];
  uint32_t resource_type;
  uint32_t resource_attribute;
  uint64_t physical_start;
  uint64_t resource_length;
};
#pragma pack(pop)
static_assert(sizeof(HobHeader) == 8);
static_assert(sizeof(HandoffInfoTable) == 56);
static_assert(sizeof(ResourceDescriptor) == 48);

template <class T>
void append(std::vector<uint8_t>& out, const T& v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  out.insert(out.end(), p, p + sizeof v);
  out.resize((out.size() + 7) & ~size_t{7}, 0);  // each HOB starts 8-byte aligned
}

}  // namespace

std::vector<uint8_t> build_td_hob(uint64_t hob_gpa, uint64_t capacity, std::vector<RamRange> ranges) {
  std::sort(ranges.begin(), ranges.end(), [](const RamRange& a, const RamRange& b) { return a.gpa < b.gpa; });
  std::vector<uint8_t> out;
  HandoffInfoTable phit{};
  phit.header = {kHobTypeHandoff, sizeof(HandoffInfoTable), 0};
  phit.version = kHandoffTableVersion;
  append(out, phit);  // EfiEndOfHobList is filled in below; the memory fields stay 0
  for (const RamRange& r : ranges) {
    ResourceDescriptor d{};
    d.header = {kHobTypeResourceDescriptor, sizeof(ResourceDescriptor), 0};
    d.resource_type = r.added ? kResourceSystemMemory : kResourceMemoryUnaccepted;
    d.resource_attribute = kResourceAttributesTdvf;
    d.physical_start = r.gpa;
    d.resource_length = r.size;
    append(out, d);
  }
  append(out, HobHeader{kHobTypeEndOfHobList, sizeof(HobHeader), 0});
  if (out.size() > capacity)
    throw FirmwareError(fmt::format("TD HOB: {} bytes for {} RAM ranges do not fit the TD_HOB section ({:#x} bytes)",
                                    out.size(), ranges.size(), capacity));
  const uint64_t end = hob_gpa + out.size();
  std::memcpy(out.data() + offsetof(HandoffInfoTable, end_of_hob_list), &end, sizeof end);
  return out;
}

}  // namespace tdsim::firmware
