// TdImage: everything a backend needs to start a TD, as a plain value. Built by the
// layout module (bootstub/host), consumed by backends; it knows neither side.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tdsim/abi/td_boot.h"

namespace tdsim {

enum class RegionKind {
  kRam,         // zero-filled or ELF-loaded private memory
  kPageTables,  // 4-level page tables; CR3 points at the first page
  kDescriptors, // GDT and IDT
  kGuestElf,    // the guest program's PT_LOAD segments
  kStack,       // per-vCPU stacks
  kUcallPool,   // shared: ucall slots
  kBootParams,  // 0xffff0000: struct TdBootParams + per-vCPU entries
  kBootStub,    // page holding the stub and the reset vector, ends at 4 GiB
  kFirmware,    // a TDVF section of a firmware image (BFV, CFV, TD_HOB, TempMem)
};

const char* to_string(RegionKind kind);

struct Region {
  std::string name;
  RegionKind kind = RegionKind::kRam;
  uint64_t gpa = 0;            // untagged; 4 KiB aligned
  uint64_t size = 0;           // multiple of 4 KiB
  std::vector<uint8_t> bytes;  // initial contents from gpa on; at most size, rest zero
  // Private regions are added to the TD at launch (TDH.MEM.PAGE.ADD); shared ones are
  // host memory the guest reaches through gpa | shared_bit and are never measured.
  bool shared = false;
  bool measured = false;       // private and extended into MRTD (TDH.MR.EXTEND)
  // Private memory the VMM does not add at launch: the guest accepts it page by page
  // (TDG.MEM.PAGE.ACCEPT after TDH.MEM.PAGE.AUG), as TDVF does with the TD's RAM.
  bool unaccepted = false;

  uint64_t end() const { return gpa + size; }
  bool contains(uint64_t a) const { return a >= gpa && a - gpa < size; }
};

// Every field in one call, for the layout module, test images and fuzzers alike.
Region make_region(std::string name, RegionKind kind, uint64_t gpa, uint64_t size, std::vector<uint8_t> bytes = {},
                   bool measured = false, bool shared = false);

struct Symbol {
  std::string name;
  uint64_t addr = 0;
  uint64_t size = 0;
};

struct TdImage {
  uint32_t gpaw = 48;          // guest physical address width: 48 or 52
  uint64_t shared_bit = 0;     // 1 << (gpaw - 1)
  uint32_t nr_vcpus = 1;
  uint32_t paging_levels = 4;  // of the page tables the layout built (CR4.LA57 = 5)
  uint64_t init_rcx = 0;       // KVM_TDX_INIT_VCPU data: initial RCX and R8

  std::vector<Region> regions;  // sorted by gpa, non-overlapping
  // The order in which the VMM adds the private regions at launch, by start GPA; empty:
  // ascending GPA (tdsim's own layout). A firmware image uses its metadata's order,
  // which the MRTD depends on (core/launch_order.h).
  std::vector<uint64_t> add_order;
  // Booted from TDVF firmware (firmware/tdvf_image.h): no boot-parameters block, no
  // guest ELF, no ucall pool; what there is to fix is the firmware.
  bool tdvf = false;

  // A copy of what the params region holds, for checks and reports.
  abi::TdBootParams boot{};
  std::vector<abi::TdPerVcpuParams> per_vcpu;

  uint64_t ucall_mmio_gpa = 0;  // untagged: what the host sees in an MMIO exit
  uint64_t ucall_pool_gpa = 0;  // untagged; identity mapped (GVA == GPA)
  // The shared MMIO window (LayoutSpec::shared_mmio_pages): untagged start and size, GVA ==
  // untagged GPA, mapped with the shared bit; no memory behind it. Size 0: none.
  uint64_t shared_mmio_gpa = 0, shared_mmio_size = 0;
  bool in_shared_mmio(uint64_t untagged_gpa) const {
    return untagged_gpa - shared_mmio_gpa < shared_mmio_size;
  }
  uint64_t stub_gpa = 0;        // first byte of the stub; it ends at kResetVector
  uint32_t stub_size = 0;
  uint64_t guest_entry = 0;     // the ELF entry point every vCPU jumps to

  std::vector<Symbol> symbols;  // stub labels and guest ELF symbols, for reports
  // Firmware modules by the fingerprint of their PE headers (diag/pe_module.h,
  // pe_fingerprint), for naming images a firmware decompressed and loaded into RAM without
  // their names (firmware/fv_catalog.h). Empty for tdsim's own images.
  std::map<std::string, std::string> module_names;

  const Region* region_at(uint64_t gpa) const;
  const Region* find(RegionKind kind) const;
  // The symbol containing addr (or the nearest one below it), or nullptr.
  const Symbol* symbol_for(uint64_t addr) const;
};

}  // namespace tdsim
