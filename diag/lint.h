// Static checks of a TdImage against the TDX boot ABI, before anything runs: the boot
// parameters, GDT, per-vCPU entries, page tables, stub and reset vector. Reads only the
// image's region bytes (through a GuestMemory built from them), so an image edited after
// build_image() is judged as it is. Knows no backend.
#pragma once
#include <string>
#include <vector>

#include "core/td_image.h"

namespace tdsim::diag {

enum class Severity { kError, kWarning };

struct LintFinding {
  Severity severity = Severity::kError;
  std::string field;    // "boot_params.cr4", "boot_params.per_vcpu[3].esp_gva", "gdt[1]", ...
  std::string message;
};

std::vector<LintFinding> lint_image(const TdImage& image);

// "error: boot_params.cr4: CR4.VMXE set: TDX fixes VMXE to 0"
std::string format_finding(const LintFinding& f);
size_t count_errors(const std::vector<LintFinding>& findings);

}  // namespace tdsim::diag
