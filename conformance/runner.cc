#include "runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "bootstub/host/image_builder.h"
#include "bootstub/measure/mrtd.h"
#include "conformance/catalogue.h"
#include "conformance/conformance_abi.h"
#include "core/outcome.h"
#include "core/text_escape.h"

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
  spec.stub = opts.stub;
  spec.stub_name = opts.stub_name;
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

  // What the guest reported, by name (first report wins; a repeat is a failure), its
  // block skips, and how each vCPU ended.
  std::map<std::string, CheckResult> reported;
  std::map<std::string, std::string> block_skips;  // "tdx_leaves[vcpu1]" -> reason
  std::vector<std::string> unknown;                // reported names the catalogue lacks, in order
  std::vector<bool> done(image.nr_vcpus, false);
  std::vector<std::string> trouble(image.nr_vcpus);
  std::string run_trouble;
  for (const Event& e : events) {
    if (const auto* u = std::get_if<UcallEvent>(&e)) {
      CheckResult c;
      if (u->cmd == abi::kUcallPrintf && parse_check_line(u->text, c)) {
        if (u->vcpu != 0) c.name += fmt::format("[vcpu{}]", u->vcpu);
        if (c.status == Status::kSkip && c.name.find('.') == std::string::npos) {
          block_skips.emplace(c.name, c.detail);
        } else if (auto [it, fresh] = reported.emplace(c.name, c); !fresh) {
          it->second = {Status::kFail, c.name, "reported more than once", {}};
        } else {
          unknown.push_back(c.name);  // pruned below to those the catalogue lacks
        }
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
  const auto why_vcpu_stopped = [&](uint32_t v) {
    return !trouble[v].empty() ? trouble[v] : !run_trouble.empty() ? run_trouble : "no DONE ucall";
  };

  std::set<std::string> known_blocks;
  for (const CatalogueEntry& entry : catalogue(image.nr_vcpus)) {
    known_blocks.insert(entry.skip_block);
    CheckResult c{Status::kFail, entry.name, {}, entry.group};
    if (entry.group == "run") {
      c.status = done[entry.vcpu] ? Status::kPass : Status::kFail;
      if (!done[entry.vcpu]) c.detail = why_vcpu_stopped(entry.vcpu);
    } else if (auto it = reported.find(entry.name); it != reported.end()) {
      c.status = it->second.status, c.detail = it->second.detail;
      std::erase(unknown, entry.name);
    } else if (auto sk = block_skips.find(entry.skip_block); !entry.skip_block.empty() && sk != block_skips.end()) {
      c.status = Status::kSkip, c.detail = sk->second;
    } else {
      c.detail = done[entry.vcpu] ? "the guest never reported this check"
                                  : "not reported: vCPU stopped first: " + why_vcpu_stopped(entry.vcpu);
    }
    res.checks.push_back(std::move(c));
  }
  for (const std::string& name : unknown)
    res.checks.push_back({Status::kFail, name, "reported by the guest but not in the host's catalogue "
                          "(conformance/catalogue.cc)", "uncatalogued"});
  for (const auto& [block, reason] : block_skips)
    if (!known_blocks.count(block))
      res.checks.push_back({Status::kFail, block, "a block skip no catalogue entry refers to", "uncatalogued"});
  return res;
}

SuiteResult skipped_suite(const std::string& backend, uint32_t nr_vcpus, const std::string& reason) {
  SuiteResult res;
  res.backend = backend;
  for (const CatalogueEntry& e : catalogue(nr_vcpus)) res.checks.push_back({Status::kSkip, e.name, reason, e.group});
  return res;
}

namespace {

// One group as a nested KTAP subtest, then its own result line at the top level; every
// line starts with `in` (the indentation of the top level).
void print_group(std::FILE* out, const std::string& in, size_t number, const std::string& group,
                 const CheckResult* first, const CheckResult* last) {
  fmt::print(out, "{0}  KTAP version 1\n{0}  # Subtest: {1}\n{0}  1..{2}\n", in, group, last - first);
  bool failed = false, all_skipped = true;
  std::string skip_reason;
  for (const CheckResult* c = first; c != last; ++c) {
    const size_t n = static_cast<size_t>(c - first) + 1;
    // The check's own name after "<group>." (the whole name where it has another prefix,
    // as an uncatalogued one may); '#' escaped too: a description cannot hold one.
    const std::string prefix = group + ".";
    const std::string name =
        escape_text(c->name.rfind(prefix, 0) == 0 ? c->name.substr(prefix.size()) : c->name, '#');
    const std::string detail = escape_text(c->detail);
    switch (c->status) {
      case Status::kPass: fmt::print(out, "{}  ok {} {}\n", in, n, name); break;
      case Status::kFail:
        fmt::print(out, "{0}  # {1}: {2}\n{0}  not ok {3} {1}\n", in, name, detail.empty() ? "failed" : detail, n);
        break;
      case Status::kSkip: fmt::print(out, "{}  ok {} {} # SKIP {}\n", in, n, name, detail); break;
    }
    failed = failed || c->status == Status::kFail;
    all_skipped = all_skipped && c->status == Status::kSkip;
    if (c->status == Status::kSkip && skip_reason.empty()) skip_reason = detail;
  }
  const std::string gname = escape_text(group, '#');
  if (failed)
    fmt::print(out, "{}not ok {} {}\n", in, number, gname);
  else if (all_skipped)
    fmt::print(out, "{}ok {} {} # SKIP {}\n", in, number, gname, skip_reason);
  else
    fmt::print(out, "{}ok {} {}\n", in, number, gname);
}

}  // namespace

void print_ktap(std::FILE* out, const SuiteResult& r) {
  fmt::print(out, "KTAP version 1\n# tdsim conformance on backend {}\n", escape_text(r.backend));
  print_ktap_body(out, r);
}

void print_ktap_body(std::FILE* out, const SuiteResult& r, size_t indent) {
  const std::string in(indent, ' ');
  // Groups are runs of consecutive checks with the same group (catalogue order).
  std::vector<std::pair<size_t, size_t>> groups;
  for (size_t i = 0; i < r.checks.size(); ++i)
    if (i == 0 || r.checks[i].group != r.checks[i - 1].group) groups.push_back({i, i + 1});
    else groups.back().second = i + 1;
  fmt::print(out, "{}1..{}\n", in, groups.size());
  for (size_t g = 0; g < groups.size(); ++g)
    print_group(out, in, g + 1, r.checks[groups[g].first].group, r.checks.data() + groups[g].first,
                r.checks.data() + groups[g].second);
  fmt::print(out, "{}# Totals: pass:{} fail:{} skip:{}\n", in, r.count(Status::kPass), r.count(Status::kFail),
             r.count(Status::kSkip));
}

int exit_code(const SuiteResult& r) {
  if (r.failures() > 0) return kExitGuestAssert;  // kselftest's plain failure
  if (r.count(Status::kSkip) == static_cast<int>(r.checks.size())) return kExitSkip;
  return kExitDone;
}

}  // namespace tdsim::conformance
