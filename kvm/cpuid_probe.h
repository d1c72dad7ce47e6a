// Whether a plain KVM VM's CPUID instruction answers from the table KVM_SET_CPUID2 was
// given. KVM is meant to (it intercepts every CPUID and looks the leaf up), but a KVM may
// take the table and still answer some leaves otherwise: this project's nested KVM does
// (docs/engine-quirks.md, "This host's KVM"). The ioctl's success says nothing about
// that, so the probe runs CPUID for every entry in a scratch VM and compares. Knows no
// TD image.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/cpuid_fidelity.h"
#include "tdx_uapi.h"

namespace tdsim::kvm {

// What a guest in the probe's state (vCPU 0 in the TD's initial state: 32-bit flat
// protected mode, paging off, CR4.OSXSAVE and CR4.PKE clear, XCR0 1)
// should read for one table entry; the entry itself where unset. KVM computes some
// fields from that state itself (OSXSAVE, the XSAVE area size), as the TDX module does.
using CpuidExpectation = std::function<tdx::CpuidEntry2(const tdx::CpuidEntry2& entry)>;

// KVM_SET_CPUID2 with `table` on vCPU 0 of a scratch plain VM, then CPUID of each entry
// (sub-leaf 0 where the entry's index is not significant), each register compared with
// `expect`'s; bounded by `budget` of wall-clock time in KVM_RUN.
CpuidFidelity probe_plain_cpuid(const std::vector<tdx::CpuidEntry2>& table, const CpuidExpectation& expect = {},
                                std::chrono::milliseconds budget = std::chrono::milliseconds(2000));

}  // namespace tdsim::kvm
