// The TD's configuration as `tdsim run` takes it (--td-attributes, --xfam, --max-vcpus,
// --mrconfigid, --mrowner, --mrownerconfig): what a VMM passes to KVM_TDX_INIT_VM, and
// what TDG.VP.INFO, TDREPORT and the TD's CPUID show the guest.
#pragma once
#include <boost/program_options.hpp>
#include <string>

#include "tdx/host_hooks.h"

namespace tdsim::cli {

struct TdConfigOptions {
  std::string attributes = "0";
  std::string xfam = "0x3";
  std::string max_vcpus;  // empty = the number of vCPUs
  std::string mrconfigid, mrowner, mrownerconfig;  // empty = zeros
};

boost::program_options::options_description td_config_description(TdConfigOptions& o);

// Checks every value; throws UsageError naming the option. `nr_vcpus` is the TD's
// vCPU count (--vcpus), which --max-vcpus may not be below.
tdx::TdxConfig to_td_config(const TdConfigOptions& o, uint32_t nr_vcpus);

}  // namespace tdsim::cli
