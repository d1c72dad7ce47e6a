// The one place that knows every backend: its name, whether it can run on this host and
// why not, what it can do (BackendCaps), and how to make it — as a Backend that runs an
// image to the end, or as a Vm the host steps (core/vm.h). Callers ask for capabilities;
// none compares backend names.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/backend.h"
#include "core/cpuid_fidelity.h"
#include "core/vm.h"
#include "sim/trace.h"
#include "tdx/host_hooks.h"

namespace tdsim::host {

struct BackendCaps {
  bool instruction_budget = false;  // RunLimits::max_insns is enforced (else wall clock only)
  bool register_access = false;     // diagnostics read vCPU registers (a real TD has none)
  bool tracing = false;             // instruction/boot/TDCALL trace lines and stub coverage
  bool debug_target = false;        // the gdb stub can drive it
  bool stepping = false;            // make_vm: the host API
  bool real_td = false;             // a real TD: TDREPORT and MRTD come from the TDX module
  bool in_process_engines = false;  // one emulator engine per vCPU in this process's address space
  bool cpuid_ve = false;            // CPUID of a leaf the TDX module does not answer raises #VE
  bool msr_ve = false;              // RDMSR/WRMSR of an MSR the TDX module does not run natively raises #VE
  // A touch of a private page before TDG.MEM.PAGE.ACCEPT is caught: the EPT-violation #VE,
  // or with ATTRIBUTES.SEPT_VE_DISABLE the VM's end (plain KVM maps the pending RAM in
  // its memslot like any other, so nothing there sees the first touch).
  bool pending_page_ve = false;
  // INVD, WBINVD and VMCALL raise #VE (the TDX module's generic #VE path); plain KVM
  // handles them in the kernel, with no exit to raise it from.
  bool insn_ve = false;
};

// What a backend is made with. The TD configuration and host hooks reach the platform
// of backends that emulate it; a real TD takes the configuration only.
struct BackendSetup {
  tdx::TdxConfig config;
  const sim::TraceOptions* trace = nullptr;  // only where caps.tracing
};

struct BackendInfo {
  std::string name;
  std::string summary;
  BackendCaps caps;
  // Empty when the backend can run on this host, else why not (a sentence).
  std::function<std::string()> unavailable;
  std::function<std::unique_ptr<Backend>(const BackendSetup&)> make_backend;
  // Set where caps.stepping. `image` must outlive the VM.
  std::function<std::unique_ptr<Vm>(const TdImage& image, const VmOptions&, const BackendSetup&)> make_vm;
  // How the guest's CPUID instruction shows the TD CPUID model (tdx/td_cpuid.h) on this
  // host; unset where the backend answers CPUID from the model itself (exact).
  std::function<CpuidFidelity()> cpuid_fidelity;
};

// Every backend, in a fixed order ("unicorn", "kvm", "kvm-tdx").
const std::vector<BackendInfo>& backends();
// nullptr for an unknown name.
const BackendInfo* find_backend(std::string_view name);
// "kvm-tdx" where this host runs TDs, else "unicorn": what "auto" means.
const BackendInfo& auto_backend();

}  // namespace tdsim::host
