#include "catalogue.h"

#include <fmt/format.h>

namespace tdsim::conformance {

namespace {

// One block of checks as the guest runs it (conformance/guest/*.cc): the checks each
// vCPU runs, or vCPU 0 alone, and the guest's block skip outside a TD, if any.
struct Block {
  const char* group;
  bool every_vcpu;
  const char* skip_block;
  std::vector<const char*> checks;
};

const std::vector<Block>& blocks() {
  static const std::vector<Block> b = {
      {"boot", true, "",
       {"guest_config", "cr0_from_params", "cr3_from_params", "cr4_from_params", "cr4_tdx_fixed_bits",
        "efer_long_mode", "efer_sce_nxe", "cs_selector", "rflags_if_clear", "gdtr_from_params",
        "idtr_from_params", "entry_rsp_abi_aligned", "rsi_is_vcpu_index_in_range"}},
      {"vp_info", true, "tdx_leaves",
       {"status", "gpaw", "vcpu_index", "num_vcpus", "max_vcpus_ge_num", "r11_reserved_zero"}},
      {"mr_report", false, "tdx_leaves",
       {"status", "reporttype_tdx", "reportdata_copied", "mrtd_nonzero", "mrtd_matches_host_prediction",
        "unaligned_report_gpa", "shared_report_gpa", "unaligned_reportdata_gpa"}},
      {"rtmr_extend", false, "tdx_leaves", {"status", "changes_only_rtmr2", "bad_index", "unaligned_gpa"}},
      {"veinfo_get", false, "tdx_leaves", {"no_ve_pending"}},
      {"page_accept", false, "tdx_leaves", {"already_accepted", "reserved_bits", "bad_level", "shared_gpa"}},
      {"tdcall", false, "tdx_leaves", {"unknown_leaf"}},
      // The plain-VM MMIO check runs outside a TD only; inside, the guest skips it.
      {"mmio", false, "", {"plain_vm_write_read_1_2_4_8"}},
      {"mmio", false, "vmcall", {"write_read_1_2_4_8", "bad_size", "bad_direction", "private_gpa"}},
      {"cpuid", false, "vmcall", {"status", "80000008_gpaw", "leaf0_vendor"}},
      {"io", false, "vmcall", {"write_port80", "read_2_bytes", "bad_size", "bad_direction"}},
      {"msr", false, "vmcall", {"rdmsr_apic_base", "rdmsr_unknown", "wrmsr_pat", "wrmsr_unknown"}},
      {"map_gpa", false, "vmcall", {"to_shared", "unaligned", "beyond_gpaw"}},
      {"get_quote", false, "vmcall", {"shared_buffer", "private_buffer"}},
      {"setup_event_notify", false, "vmcall", {"vector_64", "vector_5"}},
      {"get_tdvmcall_info", false, "vmcall", {"leaf0", "bad_leaf"}},
      {"vmcall", false, "vmcall",
       {"unexposed_outputs_untouched", "unknown_subfn", "kvm_hypercall_vapic_poll",
        "kvm_hypercall_unknown_enosys", "forbidden_expose_bit", "unexposed_inputs_read_zero"}},
  };
  return b;
}

// The guest suffixes what vCPUs other than 0 report (runner.cc does, from the ucall).
std::string on_vcpu(const std::string& name, uint32_t vcpu) {
  return vcpu == 0 || name.empty() ? name : fmt::format("{}[vcpu{}]", name, vcpu);
}

}  // namespace

std::vector<CatalogueEntry> catalogue(uint32_t nr_vcpus) {
  std::vector<CatalogueEntry> out;
  for (const Block& b : blocks()) {
    const uint32_t vcpus = b.every_vcpu ? nr_vcpus : 1;
    for (uint32_t v = 0; v < vcpus; ++v)
      for (const char* c : b.checks)
        out.push_back({b.group, on_vcpu(fmt::format("{}.{}", b.group, c), v), v, on_vcpu(b.skip_block, v)});
  }
  for (uint32_t v = 0; v < nr_vcpus; ++v)
    out.push_back({"run", fmt::format("run.vcpu{}_completed", v), v, ""});
  return out;
}

}  // namespace tdsim::conformance
