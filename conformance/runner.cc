#include "runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "bootstub/host/image_builder.h"
#include "bootstub/measure/mrtd.h"
#include "conformance/conformance_abi.h"

extern const unsigned char tdsim_conformance_guest_elf[];
extern const unsigned long tdsim_conformance_guest_elf_size;

namespace tdsim::conformance {

namespace {

using Status = CheckResult::Status;

// One 8-byte register of the MRTD device: the magic, then the digest (conformance_abi.h).
std::optional<uint64_t> mrtd_register(const measure::Mrtd& mrtd, uint64_t base, uint64_t gpa, uint32_t len) {
  if (len != 8 || gpa < base || gpa >= base + 56 || (gpa - base) % 8) return std::nullopt;
  if (gpa == base) return kMrtdMagic;
  uint64_t v = 0;
  const size_t off = gpa - base - 8;
  for (int i = 7; i >= 0; --i) v = (v << 8) | mrtd.digest[off + i];
  return v;
}

}  // namespace

int SuiteResult::count(Status s) const {
  return static_cast<int>(std::count_if(checks.begin(), checks.end(),
                                        [&](const CheckResult& c) { return c.status == s; }));
}
int SuiteResult::failures() const { return count(Status::kFail); }

bool parse_check_line(const std::string& text, CheckResult& out) {
  const std::string prefix = kLinePrefix;
  if (text.rfind(prefix, 0) != 0) return false;
  std::string rest = text.substr(prefix.size());
  if (!rest.empty() && rest.back() == '\n') rest.pop_back();
  static const std::pair<const char*, Status> kinds[] = {
      {"ok ", Status::kPass}, {"not ok ", Status::kFail}, {"skip ", Status::kSkip}};
  for (const auto& [word, st] : kinds) {
    if (rest.rfind(word, 0) != 0) continue;
    rest = rest.substr(std::string(word).size());
    const size_t hash = rest.find(" # ");
    out.status = st;
    out.name = rest.substr(0, hash);
    out.detail = hash == std::string::npos ? "" : rest.substr(hash + 3);
    return true;
  }
  return false;
}

TdImage build_suite_image(const SuiteOptions& opts) {
  LayoutSpec spec;
  spec.nr_vcpus = opts.nr_vcpus;
  spec.gpaw = opts.gpaw;
  spec.guest_elf.assign(tdsim_conformance_guest_elf,
                        tdsim_conformance_guest_elf + tdsim_conformance_guest_elf_size);
  spec.guest_elf_name = "builtin:conformance";
  return build_image(spec);
}

MmioReadHandler mrtd_device(const TdImage& image) {
  // Predicted the way a real VMM would (bootstub/measure); on a TD the guest's TDREPORT
  // holds what the TDX module measured, so the check compares two independent results.
  const measure::Mrtd predicted = measure::predict_mrtd(image);
  const uint64_t base = image.ucall_mmio_gpa + kMrtdDeviceOffset;
  return [predicted, base](uint32_t, uint64_t gpa, uint32_t len) { return mrtd_register(predicted, base, gpa, len); };
}

SuiteResult run_suite(Backend& backend, const SuiteOptions& opts) {
  const TdImage image = build_suite_image(opts);
  backend.set_mmio_read(mrtd_device(image));
  return run_suite(backend, image, opts.limits);
}

SuiteResult run_suite(Backend& backend, const TdImage& image, const RunLimits& limits) {
  SuiteResult res;
  res.backend = backend.name();
  std::vector<Event> events;
  backend.run(image, limits, [&](const Event& e) { events.push_back(e); });

  std::vector<bool> done(image.nr_vcpus, false);
  std::vector<std::string> trouble(image.nr_vcpus);
  std::string run_trouble;
  for (const Event& e : events) {
    if (const auto* u = std::get_if<UcallEvent>(&e)) {
      CheckResult c;
      if (u->cmd == abi::kUcallPrintf && parse_check_line(u->text, c)) {
        if (u->vcpu != 0) c.name += fmt::format("[vcpu{}]", u->vcpu);
        res.checks.push_back(std::move(c));
        continue;
      }
      if (u->cmd == abi::kUcallDone && u->vcpu < done.size()) {
        done[u->vcpu] = true;
        continue;
      }
    }
    if (std::holds_alternative<BudgetExceededEvent>(e)) {
      run_trouble = describe(e);
      continue;
    }
    const auto v = vcpu_of(e);
    if (v && *v < trouble.size() && is_terminal(e) && trouble[*v].empty()) trouble[*v] = describe(e);
  }
  for (uint32_t v = 0; v < image.nr_vcpus; ++v) {
    CheckResult c{done[v] ? Status::kPass : Status::kFail, fmt::format("run.vcpu{}_completed", v), {}};
    if (!done[v])
      c.detail = !trouble[v].empty() ? trouble[v] : !run_trouble.empty() ? run_trouble : "no DONE ucall";
    res.checks.push_back(std::move(c));
  }
  return res;
}

void print_ktap(std::FILE* out, const SuiteResult& r) {
  fmt::print(out, "KTAP version 1\n# tdsim conformance on backend {}\n1..{}\n", r.backend, r.checks.size());
  for (size_t i = 0; i < r.checks.size(); ++i) {
    const CheckResult& c = r.checks[i];
    switch (c.status) {
      case Status::kPass: fmt::print(out, "ok {} {}\n", i + 1, c.name); break;
      case Status::kFail:
        fmt::print(out, "not ok {} {}{}\n", i + 1, c.name, c.detail.empty() ? "" : " # " + c.detail);
        break;
      case Status::kSkip: fmt::print(out, "ok {} {} # SKIP {}\n", i + 1, c.name, c.detail); break;
    }
  }
  fmt::print(out, "# Totals: pass:{} fail:{} skip:{}\n", r.count(Status::kPass), r.count(Status::kFail),
             r.count(Status::kSkip));
}

int exit_code(const SuiteResult& r) { return std::min(r.failures(), 125); }

}  // namespace tdsim::conformance
