// KTAP output for `tdsim run --format ktap`, so a run reads like a kselftest: one test
// case per vCPU ("ok"/"not ok" by how that vCPU ended), every event as a diagnostic
// line as it arrives. Knows events and outcomes, not backends.
#pragma once
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "event_printer.h"

namespace tdsim::cli {

class KtapPrinter : public EventPrinter {
 public:
  KtapPrinter(std::FILE* out, uint32_t nr_vcpus);
  void event(const Event& e) override;
  void summary(const RunSummary& s) override;

 private:
  std::FILE* out_;
  uint32_t nr_vcpus_;
  std::map<uint32_t, std::string> failure_;  // vCPU -> why it did not end in DONE
  std::map<uint32_t, bool> done_;
  std::string run_failure_;                  // a budget event ends every vCPU
};

}  // namespace tdsim::cli
