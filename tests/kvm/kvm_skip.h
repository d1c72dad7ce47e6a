// Skip a KVM test, saying what is missing, when this host cannot run plain KVM VMs.
#pragma once
#include <gtest/gtest.h>

#include "kvm/probe.h"

namespace tdsim::kvmtest {

// The probe result, computed once per test program.
inline const kvm::HostProbe& host_probe() {
  static const kvm::HostProbe p = kvm::probe_host();
  return p;
}

}  // namespace tdsim::kvmtest

#define TDSIM_REQUIRE_PLAIN_KVM()                                             \
  do {                                                                        \
    const auto* b_ = ::tdsim::kvmtest::host_probe().backend("kvm");           \
    if (!b_->can_run) GTEST_SKIP() << "plain KVM unusable: " << b_->reason;   \
  } while (0)
