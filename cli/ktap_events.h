// KTAP v1 output for `tdsim run --format ktap`, so a run reads like a kselftest: one
// test case per vCPU ("ok"/"not ok" by how that vCPU ended; "# TIMEOUT" when the budget
// ran out first; "# SKIP" for every vCPU when the backend cannot run here), every event
// and its report as diagnostic lines as it arrives, escaped (core/text_escape.h).
// Knows events and outcomes, not backends.
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
  std::map<uint32_t, std::string> failure_;  // vCPU -> the (escaped) event that ended it badly
  std::map<uint32_t, bool> done_;
  std::string budget_;                       // the (escaped) budget event that ended the run
};

}  // namespace tdsim::cli
