// Whether this host's plain KVM shows the guest LA57 in CPUID 7.0 ECX (so it can run a
// 5-level image), asked of the backend registry's CPUID fidelity. Apart from the CLI
// tests' sources because their `tdsim()` helper hides the tdsim namespace.
#pragma once

namespace tdsim_test {
bool plain_kvm_shows_la57();
}
